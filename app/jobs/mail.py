"""E-mails sent once, whatever runs their job how many times."""

from collections.abc import Callable
from datetime import datetime, timedelta

from flask_mailman import EmailMessage
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.jobs.models import SentMail
from app.timestamps import utcnow
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


PURGE_BATCH_SIZE = 1000


def purge_sent_mail(older_than: timedelta) -> int:
    """Forget the keys of e-mails sent longer ago than ``older_than`` (far beyond any retry),
    in batches; how many."""
    purged = 0
    while batch := _purge_batch(utcnow() - older_than):
        purged += batch
    return purged


@atomic
def _purge_batch(cutoff: datetime) -> int:
    keys = db.session.scalars(
        select(SentMail.key).where(SentMail.sent_at < cutoff).limit(PURGE_BATCH_SIZE)
    ).all()
    if not keys:
        return 0
    result = db.session.execute(
        delete(SentMail).where(SentMail.key.in_(keys)),
        execution_options={"synchronize_session": False},
    )
    return result.rowcount  # type: ignore[attr-defined]  # DML: a CursorResult
