"""An order's invoice and the counters that number documents without gaps."""

from datetime import datetime

from flask import current_app
from sqlalchemy import BigInteger, ForeignKey, String
from sqlalchemy.orm import Mapped, backref, mapped_column, relationship

from app.extensions import Model
from app.orders.models import Order, Refund
from app.timestamps import utcnow


class DocumentCounter(Model):
    """The last number given to a kind of document ("invoice"). The UPDATE that takes the
    next one locks the row until the transaction ends: numbers follow the commits, and a
    transaction rolled back gives its number back (no gap, no duplicate)."""

    __tablename__ = "document_counter"

    kind: Mapped[str] = mapped_column(String(20), primary_key=True)
    last_number: Mapped[int] = mapped_column(BigInteger, default=0)


class Invoice(Model):
    """The invoice of a paid order: a number and a date. What it shows is the order's own
    snapshot (lines, addresses, tax, totals), which never changes."""

    __tablename__ = "invoice"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), unique=True)
    number: Mapped[int] = mapped_column(BigInteger, unique=True)
    issued_at: Mapped[datetime] = mapped_column(default=utcnow)
    # order.invoice: None until the order is paid.
    order: Mapped[Order] = relationship(backref=backref("invoice", uselist=False))

    @property
    def label(self) -> str:
        """Its number as printed: ``INVOICE_PREFIX`` and six digits, "INV-000042"."""
        return f"{current_app.config['INVOICE_PREFIX']}{self.number:06d}"


class CreditNote(Model):
    """The credit note of a refund of an invoiced order, numbered like invoices (its own
    counter, "credit_note"). What it shows is the refund's lines, shipping and amount."""

    __tablename__ = "credit_note"

    id: Mapped[int] = mapped_column(primary_key=True)
    refund_id: Mapped[int] = mapped_column(ForeignKey("refund.id"), unique=True)
    number: Mapped[int] = mapped_column(BigInteger, unique=True)
    issued_at: Mapped[datetime] = mapped_column(default=utcnow)
    # refund.credit_note: None for a refund of an order that was never invoiced.
    refund: Mapped[Refund] = relationship(backref=backref("credit_note", uselist=False))

    @property
    def label(self) -> str:
        """Its number as printed: ``CREDIT_NOTE_PREFIX`` and six digits, "CN-000007"."""
        return f"{current_app.config['CREDIT_NOTE_PREFIX']}{self.number:06d}"
