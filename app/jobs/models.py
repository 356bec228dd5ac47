"""What jobs leave behind: the e-mails sent (each once) and the jobs that failed for good."""

import json
from datetime import datetime

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import Model
from app.timestamps import utcnow


class SentMail(Model):
    """An e-mail sent, by its key ("order:42:confirmation"): inserted in the transaction that
    sends it, so a job run twice (a retry, a second worker) finds it and sends nothing."""

    __tablename__ = "sent_mail"

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    sent_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class FailedJob(Model):
    """A job that failed on its last attempt, kept until an admin retries or discards it."""

    __tablename__ = "failed_job"

    SUMMARY_MAX = 200
    ERROR_MAX = 1000

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    # What the back office shows: the job's own description (never a reset link or a token).
    summary: Mapped[str] = mapped_column(String(SUMMARY_MAX))
    arguments: Mapped[str] = mapped_column(Text)  # JSON, as the queue carries them
    error: Mapped[str] = mapped_column(String(ERROR_MAX))
    attempts: Mapped[int]
    failed_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)

    @property
    def args(self) -> list:
        return json.loads(self.arguments)
