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
from app.invoices.models import Invoice
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


def invoice_pdf(invoice: Invoice) -> bytes:
    """The invoice in the language its order was placed in."""
    weasyprint = _weasyprint()
    order = invoice.order
    with in_locale(order.locale):
        html = render_template(
            "invoices/invoice.html",
            invoice=invoice,
            order=order,
            taxes=tax_by_rate(order),
            rate=rate,
            payment_method=PROVIDERS[order.payment_method].label
            if order.payment_method in PROVIDERS
            else order.payment_method,
            seller=current_app.config["SHOP_ADDRESS"].strip().splitlines(),
            vat_id=current_app.config["SHOP_VAT_ID"],
        )
    stylesheet = weasyprint.CSS(filename=STYLESHEET)
    return weasyprint.HTML(string=html).write_pdf(stylesheets=[stylesheet])


def download(order: Order) -> Response:
    """The order's invoice as a PDF file (the customer's, the guest's, an admin's download);
    404 before the order is paid."""
    if order.invoice is None:
        raise NotFound(_("This order has no invoice yet: it is issued once the order is paid."))
    response = Response(invoice_pdf(order.invoice), mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'attachment; filename="{order.invoice.label}.pdf"'
    response.headers["Cache-Control"] = "private, no-store"
    return response
