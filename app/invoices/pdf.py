"""An invoice as a PDF: an HTML template and its stylesheet, laid out by WeasyPrint."""

from collections import defaultdict
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

from flask import Response, current_app, render_template
from flask_babel import format_percent
from flask_babel import gettext as _

from app.errors import NotFound
from app.i18n import in_locale
from app.invoices.models import CreditNote, Invoice
from app.orders import refunds
from app.orders.models import Order
from app.payments.providers import PROVIDERS

STYLESHEET = Path(__file__).with_name("invoice.css")


def tax_by_rate(order: Order) -> list[tuple[Decimal, int]]:
    """The lines' tax summed per rate (percent, cents), highest rate first, as the order's
    totals calculation (app/totals.py) worked it out when the order was placed."""
    taxes: dict[Decimal, int] = defaultdict(int)
    for line in order.lines:
        taxes[Decimal(line.tax_rate)] += line.tax_cents
    return sorted(taxes.items(), reverse=True)


def rate(percent: Decimal) -> str:
    """A tax rate as the language writes it: "19%", "19 %", "7.5%"."""
    return format_percent(Decimal(percent) / 100, "#,##0.##%")


@cache
def _weasyprint() -> Any:
    """WeasyPrint, imported on first use: it costs a process 40 MB and a second, and only a
    download or a confirmation e-mail needs it. Its import turns on Pillow's
    LOAD_TRUNCATED_IMAGES for the whole process: turned off again, so that a truncated upload
    is still refused (app/media/processing.py)."""
    import weasyprint
    from PIL import ImageFile

    ImageFile.LOAD_TRUNCATED_IMAGES = False
    return weasyprint


def _pdf(template: str, order: Order, **context) -> bytes:
    """A document of the order, in the language it was placed in."""
    weasyprint = _weasyprint()
    with in_locale(order.locale):
        html = render_template(
            template,
            order=order,
            rate=rate,
            payment_method=PROVIDERS[order.payment_method].label
            if order.payment_method in PROVIDERS
            else order.payment_method,
            seller=current_app.config["SHOP_ADDRESS"].strip().splitlines(),
            vat_id=current_app.config["SHOP_VAT_ID"],
            **context,
        )
    stylesheet = weasyprint.CSS(filename=STYLESHEET)
    return weasyprint.HTML(string=html).write_pdf(stylesheets=[stylesheet])


def invoice_pdf(invoice: Invoice) -> bytes:
    order = invoice.order
    return _pdf("invoices/invoice.html", order, invoice=invoice, taxes=tax_by_rate(order))


def credit_note_pdf(credit_note: CreditNote) -> bytes:
    refund = credit_note.refund
    order = refund.payment.order
    taxes, shipping_tax = refunds.taxes(refund)
    return _pdf(
        "invoices/credit_note.html",
        order,
        credit_note=credit_note,
        refund=refund,
        taxes=taxes,
        shipping_tax=shipping_tax,
    )


def _attachment(pdf: bytes, label: str) -> Response:
    response = Response(pdf, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'attachment; filename="{label}.pdf"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


def download(order: Order) -> Response:
    """The order's invoice as a PDF file (the customer's, the guest's, an admin's download);
    404 before the order is paid."""
    if order.invoice is None:
        raise NotFound(_("This order has no invoice yet: it is issued once the order is paid."))
    return _attachment(invoice_pdf(order.invoice), order.invoice.label)


def download_credit_note(order: Order, number: int) -> Response:
    """One of the order's credit notes, by its number, as a PDF file; 404 if it has none."""
    for credit_note in credit_notes(order):
        if credit_note.number == number:
            return _attachment(credit_note_pdf(credit_note), credit_note.label)
    raise NotFound(_("This order has no such credit note."))


def credit_notes(order: Order) -> list[CreditNote]:
    """The order's credit notes, oldest first."""
    return [refund.credit_note for refund in order.refunds if refund.credit_note is not None]
