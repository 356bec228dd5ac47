"""Order queries: one order (the customer's own, or any for the back office), a customer's pages."""

from flask_babel import gettext as _
from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.errors import NotFound
from app.extensions import db
from app.orders.models import Order, OrderEvent, Payment, Refund


def _documents():
    """An order's payments and refunds, their lines and credit notes, and its invoice, loaded
    with it (what its page and the API show)."""
    refunds = selectinload(Order.payments).selectinload(Payment.refunds)
    return (
        refunds.selectinload(Refund.lines),
        refunds.selectinload(Refund.credit_note),  # type: ignore[arg-type]  # a backref, typed as its value
        selectinload(Order.invoice),  # type: ignore[arg-type]  # a backref, typed as its value
    )


def order_query():
    """Orders with their lines, events (and actors), payments, refunds and documents loaded."""
    return select(Order).options(
        selectinload(Order.lines),
        selectinload(Order.events).joinedload(OrderEvent.actor),
        *_documents(),
    )


def get_order_for_user(user_id: int, order_number: str) -> Order:
    """The user's own order; anybody else's is 404 (it does not exist for them)."""
    order = db.session.scalar(
        order_query().where(Order.number == order_number, Order.user_id == user_id)
    )
    if order is None:
        raise NotFound(_("No such order."))
    return order


def get_order(order_number: str) -> Order:
    """Any order (back office)."""
    order = db.session.scalar(order_query().where(Order.number == order_number))
    if order is None:
        raise NotFound(_("No such order."))
    return order


def list_orders_for_user(user_id: int, page: int = 1, per_page: int = 20) -> Pagination:
    """One page of the user's orders, newest first, with what the API shows of each loaded."""
    return db.paginate(
        select(Order)
        .where(Order.user_id == user_id)
        .options(selectinload(Order.lines), selectinload(Order.events), *_documents())
        .order_by(Order.created_at.desc(), Order.id.desc()),
        page=page,
        per_page=per_page,
        error_out=False,
    )
