"""What jobs leave behind to be run once: the e-mails sent."""

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import Model
from app.timestamps import utcnow


class SentMail(Model):
    """An e-mail sent, by its key ("order:42:confirmation"): inserted in the transaction that
    sends it, so a job run twice (a retry, a second worker) finds it and sends nothing."""

    __tablename__ = "sent_mail"

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    sent_at: Mapped[datetime] = mapped_column(default=utcnow)
