"""Flask-Security's e-mails (welcome and confirmation, password reset, sign-in codes...) as
jobs (app/jobs/): each message, rendered in the request, is queued and sent once."""

import uuid

from flask import has_request_context, request, url_for
from flask_mailman import EmailMultiAlternatives

from app.jobs.mail import send_once
from app.jobs.queue import enqueue, job

SECURITY_MAIL = "accounts.mail"


def queue_mail(template, subject, recipient, sender, body, html, **_context) -> None:
    """Queue the message Flask-Security rendered (its MailUtil.send_mail's arguments).

    Flask-Security commits its own changes after it asks for the mail (a registration's user,
    in the view's last step): the message is queued when asked, and it carries everything it
    says (links and codes are in the text), so it never reads what may not be committed yet.
    """
    if isinstance(sender, tuple) and len(sender) == 2:
        sender = f"{sender[0]} <{sender[1]}>"
    name = template.rsplit("/", 1)[-1]  # "security/email/reset_instructions"
    key = f"security:{name}:{uuid.uuid4().hex}"  # one per message: sent once
    enqueue(SECURITY_MAIL, key, str(subject), str(recipient), str(sender), body, html)


def mail_context() -> dict:
    """What Flask-Security's e-mail templates get besides their own (templates/security/email)."""
    return {"app_reset_link": app_reset_link}


def app_reset_link(token: str) -> str | None:
    """The React storefront's reset page (/app/reset/<token>) when the reset was asked for in
    JSON, as the storefront asks; None for the HTML site's form, whose link is Flask-Security's
    own /reset/<token>. The link opens where the customer asked."""
    if not (has_request_context() and request.is_json):
        return None
    return url_for("spa.app_page", path=f"reset/{token}", _external=True)


@job(SECURITY_MAIL, describe=lambda key, subject, recipient, *_: f"“{subject}” to {recipient}")
def send_security_mail(
    key: str, subject: str, recipient: str, sender: str, body: str | None, html: str | None
) -> bool:
    def message() -> EmailMultiAlternatives:
        mail = EmailMultiAlternatives(subject, body=body, from_email=sender, to=[recipient])
        if html:
            mail.attach_alternative(html, "text/html")
        return mail

    return send_once(key, message)
