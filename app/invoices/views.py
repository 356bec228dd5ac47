"""Invoice downloads: a customer's from their order, a guest's through the order's link."""

from flask import Blueprint
from flask_security import auth_required, current_user

from app.invoices.pdf import download
from app.orders import guest, queries

bp = Blueprint("invoices", __name__)


@bp.get("/orders/<number>/invoice.pdf")
@auth_required()
def for_customer(number):
    return download(queries.get_order_for_user(current_user.id, number))


@bp.get("/orders/view/<token>/invoice.pdf")
def for_guest(token):
    return download(guest.order_from_token(token))
