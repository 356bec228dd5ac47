"""The order state machine: status changes, cancelling, refunds, settling unpaid orders.

Every status change is decided on the row's current status in the database (a conditional
UPDATE whose rowcount says who won), so concurrent changes of one order have exactly one
winner on MariaDB and SQLite alike. Payment providers are called between transactions, never
while a transaction holds stock, cart or order locks.
"""

import dataclasses
import logging
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from sqlalchemy import func, select, update
from sqlalchemy.orm import contains_eager, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from app.catalog import stock
from app.errors import Conflict, InvalidTransition, NotFound, ValidationFailed
from app.extensions import db
from app.invoices import services as invoices
from app.orders import emails
from app.orders.models import Order, OrderEvent, OrderStatus, Payment, Refund
from app.orders.queries import get_order_for_user
from app.payments.providers import PaymentResult, RefundResult, provider_for
from app.payments.statuses import PaymentStatus, RefundStatus
from app.timestamps import utcnow
from app.transactions import atomic, on_commit
from app.vouchers import services as vouchers

log = logging.getLogger(__name__)


TRANSITIONS: dict[str, set[str]] = {
    OrderStatus.PENDING_PAYMENT: {OrderStatus.PAID, OrderStatus.CANCELLED},
    OrderStatus.PAID: {OrderStatus.SHIPPED, OrderStatus.CANCELLED},
    OrderStatus.SHIPPED: {OrderStatus.DELIVERED},
    OrderStatus.DELIVERED: set(),
    OrderStatus.CANCELLED: set(),
}


# The payment statuses a provider's answer may be recorded over. A payment that waits on the
# customer (PENDING: a hosted page) takes its final answer once; a bank transfer's PENDING
# payment is settled by an admin (``transition``), and its provider answers nothing later.
_RECORDABLE: dict[str, tuple[str, ...]] = {
    PaymentStatus.SUCCEEDED: (
        PaymentStatus.PROCESSING,
        PaymentStatus.PENDING,
        PaymentStatus.VOIDED,  # the order was cancelled meanwhile: refunded below
    ),
    PaymentStatus.PENDING: (PaymentStatus.PROCESSING, PaymentStatus.VOIDED),
}


@atomic
def record_charge(order_id: int, result: PaymentResult) -> Order:
    """Step 3 of checkout (and of resolving a lost reply, a webhook, a return from a hosted
    payment page): record the provider's answer.

    Only the first recording wins (conditional UPDATE of the payment). It sends the
    confirmation e-mail, except for a payment that waits on the provider's page (the e-mail
    goes when it succeeds). A charge that succeeds for an order cancelled meanwhile is refunded.
    """
    order = locked_order(id=order_id)
    payment = order.payments[-1]
    recorded = db.session.execute(  # type: ignore[attr-defined]  # DML: a CursorResult
        update(Payment)
        .where(Payment.id == payment.id, Payment.status.in_(_RECORDABLE[result.status]))
        .values(status=result.status, reference=result.reference, checkout_url=result.redirect_url)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not recorded:
        return order  # recorded before (a retry, a webhook, the expiry job): as it is
    order = locked_order(id=order_id)  # re-read after our write: the current status
    if result.status == PaymentStatus.SUCCEEDED:
        provider = provider_for(payment.provider)
        if order.status == OrderStatus.PENDING_PAYMENT:
            _change_status(order, OrderStatus.PAID, None, f"Paid by {provider.label.lower()}.")
        elif order.status == OrderStatus.CANCELLED:
            _refund_after_commit([_request_refund(payment, payment.amount_cents)])
    if order.status != OrderStatus.CANCELLED and not result.redirect_url:
        on_commit(lambda: emails.send_order_confirmation(order))
    return order


def settle_hosted_payment(order_number: str) -> Order | None:
    """Ask the provider about a payment waiting on its hosted page (the customer's return, the
    expiry job, a webhook) and record the answer: paid, or never paid (the order is cancelled
    and its stock released). The order's status decides, so racing callers apply it once.
    None: the order has no such payment, or the customer may still pay."""
    order = db.session.scalar(select(Order).where(Order.number == order_number))
    if order is None or order.status != OrderStatus.PENDING_PAYMENT:
        return None
    payment = order.payments[-1]
    provider = provider_for(payment.provider)
    if payment.status != PaymentStatus.PENDING or not provider.hosted:
        return None
    order_id, reference = order.id, payment.reference
    result = provider.outcome(reference)  # between transactions: never under a lock
    if result is None:
        return None
    if result.status == PaymentStatus.SUCCEEDED:
        return record_charge(order_id, result)
    return cancel_unpaid(order_number, f"The {provider.label.lower()} payment was not completed.")


def cancel_unpaid(order_number: str, note: str) -> Order | None:
    """Cancel an order that is still waiting for its payment (the stock goes back); None if it
    was paid or cancelled meanwhile."""
    try:
        return transition(
            order_number, OrderStatus.CANCELLED, None, note, only_from={OrderStatus.PENDING_PAYMENT}
        )
    except InvalidTransition:
        return None


class _Stale(Exception):
    """Another transaction changed the order's status between our read and our write."""


def _allowed(from_status: str, to_status: str) -> None:
    if to_status not in TRANSITIONS[from_status]:
        allowed = ", ".join(sorted(TRANSITIONS[from_status])) or "none"
        raise InvalidTransition(
            f"An order that is {OrderStatus(from_status).label.lower()} cannot become "
            f"{OrderStatus(to_status).label.lower()} (allowed: {allowed})."
        )


def _change_status(
    order: Order, to_status: str, actor_id: int | None, note: str = "", only_from=None
) -> None:
    """Move the order from the status it has now in the database, or raise _Stale.

    ``only_from`` narrows the statuses it may leave (e.g. expiry cancels unpaid orders only).
    """
    seen = order.status
    if only_from is not None and seen not in only_from:
        raise InvalidTransition(f"The order is {OrderStatus(seen).label.lower()} now.")
    _allowed(seen, to_status)
    changed = db.session.execute(  # type: ignore[attr-defined]  # DML: a CursorResult
        update(Order)
        .where(Order.id == order.id, Order.status == seen)
        .values(status=to_status, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount
    if changed != 1:
        raise _Stale
    set_committed_value(order, "status", to_status)
    if to_status == OrderStatus.PAID:  # numbered in this transaction: no gap, no duplicate
        invoices.issue_invoice(order)
    db.session.add(
        OrderEvent(
            order_id=order.id, from_status=seen, to_status=to_status, actor_id=actor_id, note=note
        )
    )


def locked_order(**where) -> Order:
    """The order (lines, payments) re-read and locked (FOR UPDATE; a no-op on SQLite)."""
    order = db.session.scalar(
        select(Order)
        .options(
            selectinload(Order.lines), selectinload(Order.payments).selectinload(Payment.refunds)
        )
        .filter_by(**where)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if order is None:
        raise NotFound("No such order.")
    return order


def _request_refund(payment: Payment, amount_cents: int) -> int:
    refund = Refund(payment=payment, amount_cents=amount_cents, status=RefundStatus.PENDING)
    db.session.add(refund)
    db.session.flush()
    return refund.id


def transition(
    order_number: str, to_status: str, actor_id: int | None, note: str = "", only_from=None
) -> Order:
    """Move an order through the state machine, deciding on its current status; one commit.

    Concurrent changes of one order: one wins, the others get InvalidTransition. Paying
    settles the pending payment; cancelling returns the stock, voids an unpaid payment and
    refunds a paid one through its provider (after the commit).
    """
    if to_status not in TRANSITIONS:
        raise ValidationFailed(
            "Unknown status.", {"status": [f"Use one of: {', '.join(TRANSITIONS)}."]}
        )
    for _attempt in range(5):
        try:
            return _transition(order_number, to_status, actor_id, note, only_from)
        except _Stale:  # SQLite only: no row locks, so we lost a race; decide again
            continue
    raise Conflict("The order changed at the same time: reload it and try again.")


@atomic
def _transition(
    order_number: str, to_status: str, actor_id: int | None, note: str, only_from
) -> Order:
    """Lock order: the order's row, then its variants by ascending id (app.catalog.stock),
    then its voucher's row."""
    _change_status(locked_order(number=order_number), to_status, actor_id, note, only_from)
    order = locked_order(number=order_number)  # payments as they are now, after our write
    refunds = []
    if to_status == OrderStatus.PAID:
        for payment in order.payments:
            if payment.status in (PaymentStatus.PENDING, PaymentStatus.PROCESSING):
                payment.status = PaymentStatus.SUCCEEDED
    elif to_status == OrderStatus.CANCELLED:
        stock.give_back(order.quantities())
        vouchers.give_back(order.voucher_id)  # once: only one change can cancel the order
        for payment in order.payments:
            if payment.status == PaymentStatus.SUCCEEDED:
                refunds.append(_request_refund(payment, payment.amount_cents))
            elif payment.status in (PaymentStatus.PENDING, PaymentStatus.PROCESSING):
                if payment.status == PaymentStatus.PENDING and payment.checkout_url:
                    _abandon_after_commit(payment.provider, payment.reference)
                payment.status = PaymentStatus.VOIDED
    _refund_after_commit(refunds)
    if to_status == OrderStatus.SHIPPED:
        on_commit(lambda: emails.send_order_shipped(order))
    return order


def _abandon_after_commit(provider_name: str, reference: str) -> None:
    """The hosted page of a payment voided by cancelling is closed once the cancel commits."""
    on_commit(lambda: provider_for(provider_name).abandon(reference))


def _refund_after_commit(refund_ids: list[int]) -> None:
    if refund_ids:
        on_commit(lambda: _send_refunds(refund_ids))


def _send_refunds(refund_ids: list[int]) -> int:
    """Ask each refund's provider to pay it back, then record its answer (a unit each).

    Runs after the commit that created them. A provider that fails leaves the refund
    pending, for ``resolve_unpaid_orders`` to send again. Returns how many were answered.
    """
    answered = 0
    for refund_id in refund_ids:
        refund = db.session.get_one(Refund, refund_id)
        payment = refund.payment
        try:
            result = provider_for(payment.provider).refund(
                payment.reference,
                refund.amount_cents,
                payment.currency,
                idempotency_key=refund.refund_key,
            )
        except Exception:  # any provider failure: keep it pending, try again later
            log.exception("Refund %s of order %s failed", refund.id, payment.order.number)
            continue
        _record_refund(refund_id, result)
        answered += 1
    return answered


@atomic
def _record_refund(refund_id: int, result: RefundResult) -> None:
    """The provider's answer to a refund; the payment is refunded once refunds cover it."""
    db.session.execute(
        update(Refund)
        .where(Refund.id == refund_id, Refund.status == RefundStatus.PENDING)
        .values(status=result.status, reference=result.reference)
        .execution_options(synchronize_session=False)
    )
    refunded_if_covered(db.session.get_one(Refund, refund_id).payment)


def refunded_if_covered(payment: Payment) -> None:
    """The payment becomes refunded once its succeeded refunds cover its amount."""
    db.session.flush()
    refunded = db.session.execute(
        select(func.coalesce(func.sum(Refund.amount_cents), 0)).where(
            Refund.payment_id == payment.id, Refund.status == RefundStatus.SUCCEEDED
        )
    ).scalar_one()
    if refunded >= payment.amount_cents:
        db.session.execute(
            update(Payment)
            .where(Payment.id == payment.id)
            .values(status=PaymentStatus.REFUNDED)
            .execution_options(synchronize_session=False)
        )


def cancel_own_order(user_id: int, order_number: str) -> Order:
    """A customer cancels their own order (while pending payment or paid)."""
    get_order_for_user(user_id, order_number)
    return transition(order_number, OrderStatus.CANCELLED, user_id, "Cancelled by the customer.")


@dataclass
class Resolution:
    """What ``resolve_unpaid_orders`` did, by order number."""

    paid: list[str] = dataclasses.field(default_factory=list)
    cancelled: list[str] = dataclasses.field(default_factory=list)
    refunds_sent: int = 0


def resolve_unpaid_orders(now=None) -> Resolution:
    """Settle orders that wait too long for their money, and resend pending refunds.

    - Unpaid bank transfers older than ORDER_PAYMENT_TIMEOUT are cancelled (stock released).
    - Card charges whose outcome was never recorded (a crash or a lost reply), older than
      ORDER_CHARGE_TIMEOUT: the provider is asked; paid ones become paid, others cancelled.
    - Payments on a provider's hosted page (Stripe Checkout) older than PAYMENT_PAGE_TIMEOUT,
      whose webhook never came: the provider is asked; paid ones become paid, expired ones
      cancelled.
    Each order is its own transaction through the state machine, so a customer paying at the
    same moment either wins (the order stays paid) or loses cleanly.
    """
    config = current_app.config
    now = now or utcnow()
    outcome = Resolution()
    payment_cutoff = now - timedelta(seconds=config["ORDER_PAYMENT_TIMEOUT"])
    charge_cutoff = now - timedelta(seconds=config["ORDER_CHARGE_TIMEOUT"])
    page_cutoff = now - timedelta(seconds=config["PAYMENT_PAGE_TIMEOUT"])
    waiting = db.session.scalars(
        select(Payment)
        .join(Payment.order)
        .options(contains_eager(Payment.order))
        .where(
            Order.status == OrderStatus.PENDING_PAYMENT,
            Payment.status.in_([PaymentStatus.PENDING, PaymentStatus.PROCESSING]),
            Order.created_at < max(payment_cutoff, charge_cutoff, page_cutoff),
        )
        .order_by(Order.id)
    ).all()
    # What each needs, read now: every order below is its own transaction, whose commit
    # expires what was loaded before.
    candidates = [
        (p.order.id, p.order.number, p.order.created_at, p.status, p.provider, p.charge_key)
        for p in waiting
    ]
    for order_id, number, created_at, payment_status, provider_name, charge_key in candidates:
        provider = provider_for(provider_name)
        if payment_status == PaymentStatus.PROCESSING:
            if created_at >= charge_cutoff:
                continue
            result = provider.lookup(charge_key)
            if result is not None and result.status == PaymentStatus.SUCCEEDED:
                if record_charge(order_id, result).status == OrderStatus.PAID:
                    outcome.paid.append(number)
                continue
            note = "The card payment never completed."
        elif provider.hosted:
            if created_at >= page_cutoff:
                continue
            settled = settle_hosted_payment(number)
            if settled is not None and settled.status == OrderStatus.PAID:
                outcome.paid.append(number)
            elif settled is not None and settled.status == OrderStatus.CANCELLED:
                outcome.cancelled.append(number)
            continue
        else:
            if created_at >= payment_cutoff:
                continue
            hours = config["ORDER_PAYMENT_TIMEOUT"] // 3600
            note = f"No payment received within {hours} hours."
        if cancel_unpaid(number, note) is not None:
            outcome.cancelled.append(number)
    pending_refunds = db.session.scalars(
        select(Refund.id).where(Refund.status == RefundStatus.PENDING).order_by(Refund.id)
    ).all()
    outcome.refunds_sent = _send_refunds(list(pending_refunds))
    return outcome
