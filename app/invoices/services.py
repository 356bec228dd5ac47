"""Issuing invoices and credit notes: a number taken in the transaction that marks the order
paid, or that makes the refund."""

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.invoices.models import CreditNote, DocumentCounter, Invoice
from app.orders.models import Order, Refund
from app.timestamps import utcnow

INVOICE = "invoice"
CREDIT_NOTE = "credit_note"


def next_number(kind: str) -> int:
    """The next number of ``kind``, taken in the caller's transaction: its counter row stays
    locked until that transaction ends (``DocumentCounter``)."""
    for _attempt in range(2):
        taken = db.session.execute(  # type: ignore[attr-defined]  # DML: a CursorResult
            update(DocumentCounter)
            .where(DocumentCounter.kind == kind)
            .values(last_number=DocumentCounter.last_number + 1)
            .execution_options(synchronize_session=False)
        ).rowcount
        if taken:
            return db.session.execute(
                select(DocumentCounter.last_number).where(DocumentCounter.kind == kind)
            ).scalar_one()
        try:  # the first document of its kind (the migration starts the counters)
            with db.session.begin_nested():
                db.session.add(DocumentCounter(kind=kind, last_number=0))
        except IntegrityError:
            pass  # another transaction started it first: take the next from it
    raise RuntimeError(f"no counter for {kind!r}")


def issue_invoice(order: Order) -> Invoice:
    """The order's invoice, numbered now: call it in the transaction that marks it paid."""
    invoice = Invoice(order=order, number=next_number(INVOICE), issued_at=utcnow())
    db.session.add(invoice)
    return invoice


def issue_credit_note(refund: Refund) -> CreditNote:
    """The refund's credit note, numbered now: call it in the transaction that makes it."""
    credit_note = CreditNote(refund=refund, number=next_number(CREDIT_NOTE), issued_at=utcnow())
    db.session.add(credit_note)
    return credit_note
