"""Order e-mails: confirmation when placed, notice when shipped, a refund with its credit note.
Each is a job (app/jobs/), queued by the unit that commits what it tells, sent once through
Flask-Mailman."""

from flask import current_app, has_request_context, render_template, url_for
from flask_babel import LazyString
from flask_babel import lazy_gettext as _l
from flask_mailman import EmailMessage

from app import logs
from app.extensions import db
from app.i18n import in_locale
from app.invoices.pdf import credit_note_pdf, invoice_pdf
from app.jobs.mail import send_once
from app.jobs.queue import enqueue, job
from app.orders import guest
from app.orders.models import Order, Refund


def order_link(order: Order, in_app: bool = False) -> str:
    """Absolute link to the order: from the request's host, else from ``SITE_URL``. A guest's
    is the signed link (app.orders.guest), which works without an account. ``in_app``: the
    React storefront's screen for it (under /app/), not the HTML site's page."""
    if in_app:
        path = (
            f"orders/guest/{guest.order_token(order)}"
            if order.is_guest
            else f"account/orders/{order.number}"
        )
        endpoint, values = "spa.app_page", {"path": path}
    elif order.is_guest:
        endpoint, values = "pages.orders.guest_detail", {"token": guest.order_token(order)}
    else:
        endpoint, values = "pages.orders.detail", {"number": order.number}
    if has_request_context():
        return url_for(endpoint, **values, _external=True)
    site = current_app.config["SITE_URL"].rstrip("/")
    with current_app.test_request_context(base_url=site):
        return url_for(endpoint, **values, _external=True)


def _message(
    order: Order,
    subject: LazyString,
    template: str,
    attach_invoice: bool = False,
    refund: Refund | None = None,
) -> EmailMessage:
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
    return message


ORDER_MAIL = "orders.mail"
CONFIRMATION, SHIPPED, REFUND = "confirmation", "shipped", "refund"


def queue_confirmation(order: Order) -> None:
    """The confirmation (with the invoice), sent once the current unit commits (a job)."""
    enqueue(ORDER_MAIL, CONFIRMATION, order.id)


def queue_shipped(order: Order) -> None:
    enqueue(ORDER_MAIL, SHIPPED, order.id)


def queue_refund(refund: Refund) -> None:
    """The refund's e-mail (with its credit note)."""
    enqueue(ORDER_MAIL, REFUND, refund.id)


def _describe(kind: str, record_id: int) -> str:
    """ "The confirmation of order 2026-000042", for the back office's failed jobs."""
    if kind == REFUND:
        refund = db.session.get(Refund, record_id)
        order = refund.payment.order if refund else None
    else:
        order = db.session.get(Order, record_id)
    return f"The {kind} e-mail of order {order.number if order else f'(gone, id {record_id})'}"


@job(ORDER_MAIL, describe=_describe)
def send_order_mail(kind: str, record_id: int) -> bool:
    """The job: the order's (``record_id``) confirmation or shipping notice, or the refund's
    (``record_id``) e-mail, sent once (app/jobs/mail.py). False: sent before, or its order or
    refund is gone."""
    if kind == REFUND:
        refund = db.session.get(Refund, record_id)
        if refund is None:
            return False
        refunded = refund.payment.order
        logs.bind(order=refunded.number)
        subject = _l("A refund for your order %(number)s", number=refunded.number)
        return send_once(
            f"refund:{record_id}",
            lambda: _message(refunded, subject, "orders/email/refund.txt", refund=refund),
        )
    order = db.session.get(Order, record_id)
    if order is None:
        return False
    logs.bind(order=order.number)
    if kind == CONFIRMATION:
        subject = _l("Your order %(number)s", number=order.number)
        template, attach_invoice = "orders/email/confirmation.txt", True
    else:
        subject = _l("Your order %(number)s has shipped", number=order.number)
        template, attach_invoice = "orders/email/shipped.txt", False
    return send_once(
        f"order:{record_id}:{kind}",
        lambda: _message(order, subject, template, attach_invoice=attach_invoice),
    )
