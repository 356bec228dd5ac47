"""Invoice and credit note downloads: a customer's from their order, a guest's through the
order's link."""

from flask import Blueprint
from flask_security import auth_required, current_user

from app.invoices.pdf import download, download_credit_note
from app.orders import guest, queries

bp = Blueprint("invoices", __name__)


@bp.get("/orders/<number>/invoice.pdf")
@auth_required()
def for_customer(number):
    return download(queries.get_order_for_user(current_user.id, number))


@bp.get("/orders/view/<token>/invoice.pdf")
def for_guest(token):
    return download(guest.order_from_token(token))


@bp.get("/orders/<number>/credit-notes/<int:credit_note>.pdf")
@auth_required()
def credit_note_for_customer(number, credit_note):
    order = queries.get_order_for_user(current_user.id, number)
    return download_credit_note(order, credit_note)


@bp.get("/orders/view/<token>/credit-notes/<int:credit_note>.pdf")
def credit_note_for_guest(token, credit_note):
    return download_credit_note(guest.order_from_token(token), credit_note)
