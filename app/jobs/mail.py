"""E-mails sent once, whatever runs their job how many times."""

from collections.abc import Callable

from flask_mailman import EmailMessage
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.jobs.models import SentMail
from app.transactions import atomic


def send_once(key: str, message: Callable[[], EmailMessage]) -> bool:
    """Send ``message()`` unless the e-mail ``key`` was sent; True if it was sent now.

    The key's row is inserted, the message sent, then the row committed: a second run of the
    job at the same moment waits on the row and then finds it; a run that fails before the
    commit (SMTP refused, the worker died) leaves no row, and its retry sends. Only a worker
    dying between the SMTP server's acceptance and the commit (a few milliseconds) can send
    twice.
    """
    try:
        return _send_once(key, message)
    except IntegrityError:
        return False  # another run sent it and committed while we waited on its row


@atomic
def _send_once(key: str, message: Callable[[], EmailMessage]) -> bool:
    if db.session.get(SentMail, key) is not None:
        return False
    db.session.add(SentMail(key=key))
    db.session.flush()  # the row taken: another run of the same key waits here
    message().send()
    return True
