"""Invoice downloads: a customer's from their order, a guest's through the order's link."""

from flask import Blueprint, Response
from flask_babel import gettext as _
from flask_security import auth_required, current_user

from app.errors import NotFound
from app.invoices import pdf, services
from app.orders import guest, queries
from app.orders.models import Order

bp = Blueprint("invoices", __name__)


@bp.get("/orders/<number>/invoice.pdf")
@auth_required()
def for_customer(number):
    return download(queries.get_order_for_user(current_user.id, number))


@bp.get("/orders/view/<token>/invoice.pdf")
def for_guest(token):
    return download(guest.order_from_token(token))


def download(order: Order) -> Response:
    """The order's invoice as a PDF file; 404 before the order is paid."""
    invoice = services.invoice_of(order)
    if invoice is None:
        raise NotFound(_("This order has no invoice yet: it is issued once the order is paid."))
    response = Response(pdf.invoice_pdf(invoice), mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'attachment; filename="{invoice.label}.pdf"'
    response.headers["Cache-Control"] = "private, no-store"
    return response
