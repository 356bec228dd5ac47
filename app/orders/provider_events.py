"""What a payment provider's webhook events do to orders (Stripe's, for its hosted Checkout).

Each event is applied once: its id is recorded in the transaction that applies it, so a second
delivery (or a concurrent one) finds it and changes nothing. Events may come in any order and
race the customer's return and the expiry job: every change goes through the order state
machine, which decides on the order's and the payment's status in the database.
"""

import logging
from typing import cast

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.orders import refunds, state
from app.orders.models import Order, OrderStatus, Payment
from app.payments.models import WebhookEvent
from app.payments.providers import PaymentResult, provider_for
from app.payments.statuses import PaymentStatus, RefundStatus
from app.payments.stripe_provider import StripeProvider
from app.transactions import atomic

log = logging.getLogger(__name__)

PAID = {
    "checkout.session.completed",
    "checkout.session.async_payment_succeeded",
    "payment_intent.succeeded",
}
NOT_PAID = {
    "checkout.session.expired",
    "checkout.session.async_payment_failed",
    "payment_intent.canceled",
}
REFUNDED = "charge.refunded"
HANDLED = PAID | NOT_PAID | {REFUNDED}


def apply_stripe_event(event) -> str:
    """Apply a verified Stripe event; say what it did (for the log and the webhook's answer)."""
    kind, obj = event["type"], event["data"]["object"]
    if kind not in HANDLED:
        return "ignored"
    stripe = stripe_provider()
    if kind == REFUNDED:
        intent = obj["payment_intent"]
        number = _number_by_reference(intent) or stripe.order_number_of(intent)
        refunds = stripe.refunds_of(intent)  # asked before the transaction, never under a lock
    else:
        number = (obj.get("metadata") or {}).get("order") or obj.get("client_reference_id")
        refunds = []
    try:
        return _apply(event["id"], kind, obj, number or "", refunds)
    except IntegrityError:
        return "duplicate"  # its id was recorded by an earlier or a concurrent delivery


def stripe_provider() -> StripeProvider:
    return cast(StripeProvider, provider_for("stripe"))


def _number_by_reference(reference: str) -> str | None:
    return db.session.scalar(
        select(Order.number).join(Order.payments).where(Payment.reference == reference)
    )


@atomic
def _apply(event_id: str, kind: str, obj, number: str, refunds: list) -> str:
    db.session.add(
        WebhookEvent(provider="stripe", event_id=event_id, type=kind, order_number=number)
    )
    db.session.flush()  # a duplicate id fails here, before anything else is written
    order = db.session.scalar(select(Order).where(Order.number == number)) if number else None
    if order is None or not order.payments or order.payments[-1].provider != "stripe":
        log.warning("Stripe event %s (%s) names no order of ours: %r", event_id, kind, number)
        return "not ours"
    if kind in PAID:
        return _paid(order, kind, obj)
    if kind in NOT_PAID:
        cancelled = state.cancel_unpaid(number, "The card payment was not completed (Stripe).")
        return "cancelled" if cancelled is not None else "settled before"
    return _refunded(order, obj["payment_intent"], refunds)


def _paid(order: Order, kind: str, obj) -> str:
    if kind.startswith("checkout.session"):
        if obj.get("payment_status") != "paid":
            return "waiting"  # a delayed method (a bank debit): its async event follows
        intent, amount = obj.get("payment_intent"), obj.get("amount_total")
    else:
        intent, amount = obj["id"], obj.get("amount_received")
    payment = order.payments[-1]
    if amount != payment.amount_cents or str(obj.get("currency")).upper() != payment.currency:
        log.error(
            "Stripe reports %s %s paid for order %s, which is %s %s: not marked paid",
            amount,
            obj.get("currency"),
            order.number,
            payment.amount_cents,
            payment.currency,
        )
        return "amount differs"
    result = PaymentResult(PaymentStatus.SUCCEEDED, reference=intent or payment.reference)
    after = state.record_charge(order.id, result)
    return "paid" if after.status != OrderStatus.CANCELLED else "refunding"


def _refunded(order: Order, intent: str, at_provider: list) -> str:
    """Refunds made in Stripe's dashboard are recorded; ours (their refund key in Stripe's
    metadata) get Stripe's answer. A refund means the charge was paid: recorded first."""
    if order.payments[-1].status in (PaymentStatus.PENDING, PaymentStatus.PROCESSING):
        state.record_charge(order.id, PaymentResult(PaymentStatus.SUCCEEDED, reference=intent))
    order = state.locked_order(id=order.id)
    payment = order.payments[-1]
    by_reference = {r.reference: r for r in payment.refunds if r.reference}
    by_key = {r.refund_key: r for r in payment.refunds}
    added = 0
    for found in at_provider:
        ours = by_reference.get(found.reference) or by_key.get(found.key)
        if ours is None:
            outside = refunds.record_outside(
                order, payment, found.amount_cents, found.status, found.reference
            )
            state.show_refunded(order, None, refunds.describe(outside, order.currency))
            if outside.status == RefundStatus.SUCCEEDED:
                state.paid_back(order, outside)
            added += 1
        else:
            if ours.status != RefundStatus.SUCCEEDED == found.status:
                state.paid_back(order, ours)
            ours.reference, ours.status = found.reference, found.status
    refunds.refunded_if_covered(payment)
    return f"{added} dashboard refund(s) recorded"
