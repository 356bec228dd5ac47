"""Webhook events a provider delivered, by the provider's event id: each is applied once."""

from datetime import datetime

from sqlalchemy import String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import Model
from app.timestamps import utcnow


class WebhookEvent(Model):
    """An event applied (inserted in the transaction that applies it): a second delivery of
    the same id finds it and changes nothing."""

    __tablename__ = "webhook_event"
    __table_args__ = (UniqueConstraint("provider", "event_id", name="uq_webhook_event"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    provider: Mapped[str] = mapped_column(String(20))
    event_id: Mapped[str] = mapped_column(String(100))
    type: Mapped[str] = mapped_column(String(100))
    order_number: Mapped[str] = mapped_column(String(20), default="", index=True)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
