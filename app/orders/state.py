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
from sqlalchemy import select, update
from sqlalchemy.orm import contains_eager, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from app import logs, metrics
from app.catalog import stock
from app.errors import Conflict, DomainError, InvalidTransition, NotFound, ValidationFailed
from app.extensions import db
from app.invoices import services as invoices
from app.money import format_money
from app.orders import emails, refunds
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
    # Refunds (``refund``) move an order here, never a status change by hand. A partly refunded
    # order goes on to be shipped and delivered: allowed_next() offers what its fulfilment
    # still lacks.
    OrderStatus.PARTIALLY_REFUNDED: {OrderStatus.SHIPPED, OrderStatus.DELIVERED},
    OrderStatus.REFUNDED: set(),
}

# The statuses of an order that took money and may give some back.
REFUNDABLE = (
    OrderStatus.PAID,
    OrderStatus.SHIPPED,
    OrderStatus.DELIVERED,
    OrderStatus.PARTIALLY_REFUNDED,
)
_FULFILMENT = (OrderStatus.PAID, OrderStatus.SHIPPED, OrderStatus.DELIVERED)


def allowed_next(order: Order) -> set[str]:
    """The statuses the order may be moved to by hand. A partly refunded one: those after how
    far it was fulfilled (its last paid, shipped or delivered event), cancelling aside."""
    if order.status != OrderStatus.PARTIALLY_REFUNDED:
        return TRANSITIONS[order.status]
    return TRANSITIONS[_stage(order)] - {OrderStatus.CANCELLED}


def cancellable(order: Order) -> bool:
    """Whether the order may still be cancelled, by its customer too (``cancel_own_order``):
    while it waits for its payment or is paid, before it ships."""
    return OrderStatus.CANCELLED in TRANSITIONS[order.status]


def _stage(order: Order) -> str:
    """How far the order was fulfilled: its last paid, shipped or delivered event."""
    return next(
        (e.to_status for e in reversed(order.events) if e.to_status in _FULFILMENT),
        OrderStatus.PAID,
    )


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
    logs.bind(order=order.number)
    payment = order.payments[-1]
    recorded = db.session.execute(  # type: ignore[attr-defined]  # DML: a CursorResult
        update(Payment)
        .where(Payment.id == payment.id, Payment.status.in_(_RECORDABLE[result.status]))
        .values(status=result.status, reference=result.reference, checkout_url=result.redirect_url)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not recorded:
        return order  # recorded before (a retry, a webhook, the expiry job): as it is
    provider_name = payment.provider
    on_commit(lambda: _recorded(provider_name, result.status))
    order = locked_order(id=order_id)  # re-read after our write: the current status
    if result.status == PaymentStatus.SUCCEEDED:
        provider = provider_for(payment.provider)
        if order.status == OrderStatus.PENDING_PAYMENT:
            _change_status(order, OrderStatus.PAID, None, f"Paid by {provider.label.lower()}.")
        elif order.status == OrderStatus.CANCELLED:
            whole = refunds.build_whole(order, payment, "Paid after the order was cancelled.")
            _send_after_commit([whole.id])
    if order.status != OrderStatus.CANCELLED and not result.redirect_url:
        emails.queue_confirmation(order)
    return order


def _recorded(provider: str, status: str) -> None:
    log.info("Payment by %s recorded: %s", provider, status)
    metrics.payment(status)


@dataclass(frozen=True)
class PaymentReturn:
    """What the customer's return from the hosted payment page found out (``settle_return``)."""

    asked: bool = False  # the return named the order's payment: the provider was asked
    paid: bool = False  # it says paid: the order is now
    waiting: bool = False  # it has no outcome yet: its webhook will tell
    unanswered: str | None = None  # it did not answer (why, in words): its webhook will tell


def settle_return(order: Order, session_id: str | None) -> PaymentReturn:
    """The customer is back from the provider's hosted page, whose ``?session_id=`` should name
    the order's last payment: only then is the provider asked (``settle_hosted_payment``) now,
    rather than its webhook awaited. The HTML order page and the API's both call this."""
    payment = order.payments[-1] if order.payments else None
    if not session_id or payment is None or payment.reference != session_id:
        return PaymentReturn()
    try:
        settled = settle_hosted_payment(order.number)
    except DomainError as error:
        return PaymentReturn(asked=True, unanswered=error.message)
    return PaymentReturn(
        asked=True,
        paid=settled is not None and settled.status == OrderStatus.PAID,
        waiting=settled is None,
    )


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


def _allowed(order: Order, to_status: str) -> None:
    allowed_now = allowed_next(order)
    if to_status not in allowed_now:
        allowed = ", ".join(sorted(allowed_now)) or "none"
        how = " (refunds set it)" if to_status in _BY_REFUNDS else ""
        raise InvalidTransition(
            f"An order that is {OrderStatus(order.status).label.lower()} cannot become "
            f"{OrderStatus(to_status).label.lower()}{how} (allowed: {allowed})."
        )


_BY_REFUNDS = (OrderStatus.PARTIALLY_REFUNDED, OrderStatus.REFUNDED)


def _change_status(
    order: Order, to_status: str, actor_id: int | None, note: str = "", only_from=None
) -> None:
    """Move the order from the status it has now in the database, or raise _Stale.

    ``only_from`` narrows the statuses it may leave (e.g. expiry cancels unpaid orders only).
    """
    seen = order.status
    if only_from is not None and seen not in only_from:
        raise InvalidTransition(f"The order is {OrderStatus(seen).label.lower()} now.")
    _allowed(order, to_status)
    _write_status(order, to_status, actor_id, note)
    if to_status == OrderStatus.PAID:  # numbered in this transaction: no gap, no duplicate
        invoices.issue_invoice(order)


def _write_status(order: Order, to_status: str, actor_id: int | None, note: str) -> None:
    """Write the order's new status and its event, if the status is still the one read."""
    seen = order.status
    changed = db.session.execute(  # type: ignore[attr-defined]  # DML: a CursorResult
        update(Order)
        .where(Order.id == order.id, Order.status == seen)
        .values(status=to_status, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount
    if changed != 1:
        raise _Stale
    set_committed_value(order, "status", to_status)
    on_commit(lambda: log.info("Order status %s -> %s", seen, to_status))
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
    logs.bind(order=order_number)
    _change_status(locked_order(number=order_number), to_status, actor_id, note, only_from)
    order = locked_order(number=order_number)  # payments as they are now, after our write
    refund_ids = []
    if to_status == OrderStatus.PAID:
        for payment in order.payments:
            if payment.status in (PaymentStatus.PENDING, PaymentStatus.PROCESSING):
                payment.status = PaymentStatus.SUCCEEDED
    elif to_status == OrderStatus.CANCELLED:
        stock.give_back(order.quantities())
        vouchers.give_back(order.voucher_id)  # once: only one change can cancel the order
        for payment in order.payments:
            if payment.status == PaymentStatus.SUCCEEDED:
                refund_ids.append(refunds.build_whole(order, payment, note, actor_id).id)
            elif payment.status in (PaymentStatus.PENDING, PaymentStatus.PROCESSING):
                if payment.status == PaymentStatus.PENDING and payment.checkout_url:
                    _abandon_after_commit(payment.provider, payment.reference)
                payment.status = PaymentStatus.VOIDED
    _send_after_commit(refund_ids)
    if to_status == OrderStatus.SHIPPED:
        emails.queue_shipped(order)
    return order


@atomic
def refund(order_number: str, asked: refunds.RefundRequest, actor_id: int | None) -> Refund:
    """Pay back part (or the rest) of a paid, shipped or delivered order: one commit, then the
    provider is asked (pending until it answers, sent again by ``resolve_unpaid_orders``); once
    it paid back, the credit note is numbered and e-mailed (``paid_back``). The order becomes
    partially refunded, or refunded once refunds cover its total.

    Two admins refunding at once: the first write below takes the order's row (on SQLite the
    database's write lock), so the second reads what the first refunded once it committed.
    Lock order as in ``_transition``: the order's row, then its variants by ascending id.
    """
    logs.bind(order=order_number)
    db.session.execute(
        update(Order)
        .where(Order.number == order_number)
        .values(updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    order = locked_order(number=order_number)
    if order.status not in REFUNDABLE:
        raise InvalidTransition(
            f"An order that is {order.status_label.lower()} cannot be refunded "
            "(paid, shipped, delivered or partially refunded ones can)."
        )
    refund = refunds.build(order, asked, actor_id)
    if asked.restock:
        returned: dict[int, int] = {}
        for line in refund.lines:
            if line.order_line.variant_id is not None:
                variant_id = line.order_line.variant_id
                returned[variant_id] = returned.get(variant_id, 0) + line.quantity
        stock.give_back(returned)
    show_refunded(order, actor_id, refunds.describe(refund, order.currency))
    _send_after_commit([refund.id])
    log.info("Refund of %s requested", format_money(refund.amount_cents, order.currency))
    return refund


def show_refunded(order: Order, actor_id: int | None, note: str) -> None:
    """After a refund of a paid, shipped or delivered order (locked): it is partially
    refunded, or refunded once refunds cover its total; an event says what went back."""
    if order.status in REFUNDABLE:
        covered = order.refunded_cents >= order.total_cents
        to_status = OrderStatus.REFUNDED if covered else OrderStatus.PARTIALLY_REFUNDED
        _write_status(order, to_status, actor_id, note)


def paid_back(order: Order, refund: Refund) -> None:
    """A refund the provider paid back: its credit note (an invoiced order's), numbered now,
    and the customer's e-mail with it once this commits."""
    if order.invoice is not None:
        invoices.issue_credit_note(refund)
    emails.queue_refund(refund)


def _abandon_after_commit(provider_name: str, reference: str) -> None:
    """The hosted page of a payment voided by cancelling is closed once the cancel commits."""
    on_commit(lambda: provider_for(provider_name).abandon(reference))


def _send_after_commit(refund_ids: list[int]) -> None:
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
        _record(refund_id, result)
        answered += 1
    return answered


@atomic
def _record(refund_id: int, result: RefundResult) -> None:
    """The provider's answer to a refund; the payment is refunded once refunds cover it. A
    refund the provider refused gives its amount and units back, to be refunded again."""
    order_id = db.session.execute(
        select(Payment.order_id).join(Refund.payment).where(Refund.id == refund_id)
    ).scalar_one()
    order = locked_order(id=order_id)  # as refund() locks it: the amounts are decided on it
    refund = next(r for p in order.payments for r in p.refunds if r.id == refund_id)
    if refund.status != RefundStatus.PENDING:
        return  # answered before (a retry of `orders expire`, a webhook)
    refund.status, refund.reference = result.status, result.reference
    if result.status == RefundStatus.SUCCEEDED:
        paid_back(order, refund)
    elif result.status == RefundStatus.FAILED:
        order.refunded_cents -= refund.amount_cents
        for line in refund.lines:
            line.order_line.refunded_quantity -= line.quantity
        log.warning("Refund %s of order %s was refused by the provider", refund.id, order.number)
        if order.status in _BY_REFUNDS:
            to_status = OrderStatus.PARTIALLY_REFUNDED if order.refunded_cents else _stage(order)
            amount = format_money(refund.amount_cents, order.currency)
            _write_status(order, to_status, None, f"The provider refused the refund of {amount}.")
    refunds.refunded_if_covered(refund.payment)


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
