"""Order e-mails: confirmation when placed, notice when shipped, a refund with its credit note.
Sent through Flask-Mailman."""

from flask import current_app, has_request_context, render_template, url_for
from flask_babel import LazyString
from flask_babel import lazy_gettext as _l
from flask_mailman import EmailMessage

from app.i18n import in_locale
from app.invoices.pdf import credit_note_pdf, invoice_pdf
from app.orders import guest
from app.orders.models import Order, Refund


def order_link(order: Order) -> str:
    """Absolute link to the order: from the request's host, else from ``SITE_URL``. A guest's
    is the signed link (app.orders.guest), which works without an account."""
    if order.is_guest:
        endpoint, values = "pages.orders.guest_detail", {"token": guest.order_token(order)}
    else:
        endpoint, values = "pages.orders.detail", {"number": order.number}
    if has_request_context():
        return url_for(endpoint, **values, _external=True)
    site = current_app.config["SITE_URL"].rstrip("/")
    with current_app.test_request_context(base_url=site):
        return url_for(endpoint, **values, _external=True)


def _send(
    order: Order,
    subject: LazyString,
    template: str,
    attach_invoice: bool = False,
    refund: Refund | None = None,
) -> None:
    """The e-mail in the language the customer ordered in, whoever sends it (the back office
    ships in its own language); with the order's invoice as a PDF, if asked and issued, or the
    refund's credit note (``ORDER_EMAIL_PDFS``)."""
    link = order_link(order)
    with in_locale(order.locale):
        body = render_template(template, order=order, link=link, refund=refund)
        message = EmailMessage(
            subject=str(subject),
            body=body,
            from_email=current_app.config["SECURITY_EMAIL_SENDER"],
            to=[order.recipient],
        )
    if current_app.config["ORDER_EMAIL_PDFS"]:
        invoice = order.invoice if attach_invoice else None
        if invoice is not None:
            message.attach(f"{invoice.label}.pdf", invoice_pdf(invoice), "application/pdf")
        credit_note = refund.credit_note if refund is not None else None
        if credit_note is not None:
            pdf = credit_note_pdf(credit_note)
            message.attach(f"{credit_note.label}.pdf", pdf, "application/pdf")
    message.send()


def send_order_confirmation(order: Order) -> None:
    subject = _l("Your order %(number)s", number=order.number)
    _send(order, subject, "orders/email/confirmation.txt", attach_invoice=True)


def send_order_shipped(order: Order) -> None:
    subject = _l("Your order %(number)s has shipped", number=order.number)
    _send(order, subject, "orders/email/shipped.txt")


def send_refund(refund: Refund) -> None:
    order = refund.payment.order
    subject = _l("A refund for your order %(number)s", number=order.number)
    _send(order, subject, "orders/email/refund.txt", refund=refund)
