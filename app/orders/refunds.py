"""What a refund pays back, and sending it through the payment's provider.

A refund is made of order lines' units, the shipping, and an amount the admin chooses that is
tied to neither. Each line's units cost what the buyer paid for them: the line's total less its
share of the discount (plus its tax when prices exclude tax), shared over its units so that
refunding every unit, however many refunds it takes, pays back the line exactly.

The caller holds the order's row (app.orders.state.refund): what may still be paid back is read
under that lock, and the database's CHECK constraints refuse the rest (``refunded_cents`` never
above ``total_cents``, a line's ``refunded_quantity`` never above its quantity).
"""

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from flask_babel import gettext as _
from sqlalchemy import func, select, update

from app.errors import Conflict, ValidationFailed
from app.extensions import db
from app.money import format_money
from app.orders.models import Order, OrderLine, Payment, Refund, RefundLine
from app.payments.statuses import PaymentStatus, RefundStatus

NOTE_MAX = 500  # a refund's reason, in the order's history and on its credit note


@dataclass(frozen=True)
class RefundRequest:
    """What an admin asks to pay back."""

    lines: Mapping[int, int] = field(default_factory=dict)  # order line id -> units
    shipping: bool = False
    amount_cents: int = 0  # more, tied to no line (a goodwill refund, a price adjustment)
    restock: bool = False  # the units' stock goes back (they were returned unused)
    note: str = ""


def _share(total: int, quantity: int, done: int, now: int) -> int:
    """The part of ``total`` (over ``quantity`` units) that units done+1 .. done+now cost."""
    return total * (done + now) // quantity - total * done // quantity


def shipping_paid(order: Order) -> int:
    """What the buyer paid for shipping."""
    return order.shipping_cents + (0 if order.prices_include_tax else order.shipping_tax_cents)


def shipping_refunded(order: Order) -> bool:
    return any(
        refund.shipping_cents and refund.status != RefundStatus.FAILED
        for payment in order.payments
        for refund in payment.refunds
    )


def refunding_payment(order: Order) -> Payment | None:
    """The payment that took the order's money, which refunds go back through (None: it has
    gone back whole already, or was never taken)."""
    for payment in reversed(order.payments):
        if payment.status == PaymentStatus.SUCCEEDED:
            return payment
    return None


def build(order: Order, asked: RefundRequest, actor_id: int | None) -> Refund:
    """The refund ``asked`` for, added to the session with its lines; the lines' refunded
    units and the order's refunded amount counted. The order must be locked.

    :raises ValidationFailed: what cannot be refunded."""
    payment = refunding_payment(order)
    if payment is None:
        raise Conflict(_("This order has no payment to refund."))
    lines = {line.id: line for line in order.lines}
    refund = Refund(  # joins the session (and its payment) once it is whole: _count
        status=RefundStatus.PENDING,
        shipping_cents=0,
        restocked=asked.restock,
        note=asked.note.strip(),
        actor_id=actor_id,
        amount_cents=0,
    )
    errors: dict[str, list[str]] = {}
    for line_id, units in sorted(asked.lines.items()):
        line = lines.get(line_id)
        if units == 0:
            continue
        if line is None:
            errors.setdefault("lines", []).append(_("The order has no line %(id)s.", id=line_id))
        elif not 0 < units <= line.refundable_quantity:
            errors.setdefault("lines", []).append(
                _(
                    "%(sku)s: choose up to %(left)s units to refund.",
                    sku=line.sku,
                    left=line.refundable_quantity,
                )
            )
        else:
            refund.lines.append(_units(line, units))
    if asked.shipping:
        if shipping_refunded(order) or not shipping_paid(order):
            errors["shipping"] = [_("There is no shipping left to refund.")]
        refund.shipping_cents = shipping_paid(order)
    if asked.amount_cents < 0:
        errors["amount_cents"] = [_("Enter an amount of zero or more.")]
    if len(asked.note) > NOTE_MAX:
        errors["note"] = [_("Keep the reason under %(max)s characters.", max=NOTE_MAX + 1)]
    if errors:
        raise ValidationFailed(_("Nothing was refunded."), errors)
    amount = refund.shipping_cents + asked.amount_cents
    amount += sum(line.amount_cents for line in refund.lines)
    left = order.total_cents - order.refunded_cents
    if amount <= 0:
        raise ValidationFailed(
            _("Choose units, shipping or an amount to refund."),
            {"lines": [_("Choose units, shipping or an amount to refund.")]},
        )
    if amount > left:
        message = _(
            "%(amount)s is more than is left to refund: %(left)s.",
            amount=format_money(amount, order.currency),
            left=format_money(left, order.currency),
        )
        raise ValidationFailed(message, {"amount_cents": [message]})
    refund.amount_cents = amount
    _count(order, payment, refund)
    return refund


def _units(line: OrderLine, units: int) -> RefundLine:
    """Refund ``units`` of the line: what they cost, counted as refunded on the line."""
    done = line.refunded_quantity
    refund_line = RefundLine(
        order_line=line,
        quantity=units,
        amount_cents=_share(line.paid_cents, line.quantity, done, units),
        tax_cents=_share(line.tax_cents, line.quantity, done, units),
    )
    line.refunded_quantity = done + units
    return refund_line


def build_whole(order: Order, payment: Payment, note: str, actor_id: int | None = None) -> Refund:
    """The refund of everything a payment paid that is not refunded yet, for a cancelled order
    (whose stock went back): every unit left, the shipping, and the rest as an amount."""
    refund = Refund(
        status=RefundStatus.PENDING,
        shipping_cents=0,
        note=note,
        actor_id=actor_id,
        restocked=True,
    )
    for line in order.lines:
        if line.refundable_quantity:
            refund.lines.append(_units(line, line.refundable_quantity))
    if not shipping_refunded(order):
        refund.shipping_cents = shipping_paid(order)
    refund.amount_cents = min(payment.amount_cents, order.total_cents - order.refunded_cents)
    _count(order, payment, refund)
    return refund


def record_outside(order: Order, payment: Payment, amount_cents: int, status: str, reference: str):
    """A refund made at the provider (its dashboard), recorded as an amount tied to no line."""
    refund = Refund(
        amount_cents=amount_cents,
        shipping_cents=0,
        status=status,
        reference=reference,
        note="Refunded at the payment provider.",
    )
    _count(order, payment, refund)
    return refund


def _count(order: Order, payment: Payment, refund: Refund) -> None:
    """Add the refund to the payment and count it on the order (the database refuses more than
    was paid)."""
    db.session.add(refund)
    refund.payment = payment
    order.refunded_cents = min(order.refunded_cents + refund.amount_cents, order.total_cents)
    db.session.flush()


def taxes(refund: Refund) -> tuple[list[tuple[Decimal, int]], int]:
    """The tax in what the refund pays back: per rate (percent, cents; highest rate first) and
    on shipping. Its lines' tax is theirs; shipping's is the order's; an amount tied to no line
    is shared over the order's rates and shipping in proportion to what each was paid."""
    order = refund.payment.order
    by_rate: dict[Decimal, int] = defaultdict(int)
    for line in refund.lines:
        by_rate[Decimal(line.order_line.tax_rate)] += line.tax_cents
    shipping_tax = order.shipping_tax_cents if refund.shipping_cents else 0
    other = refund.other_cents
    if other > 0:
        paid: dict[Decimal | None, list[int]] = defaultdict(lambda: [0, 0])  # gross, tax
        for order_line in order.lines:
            paid[Decimal(order_line.tax_rate)][0] += order_line.paid_cents
            paid[Decimal(order_line.tax_rate)][1] += order_line.tax_cents
        paid[None] = [shipping_paid(order), order.shipping_tax_cents]
        whole = sum(gross for gross, _tax in paid.values())
        for rate, (gross, tax) in paid.items():
            if whole and gross:
                part = _round(Decimal(other) * gross / whole * tax / gross)
                if rate is None:
                    shipping_tax += part
                else:
                    by_rate[rate] += part
    return sorted(((r, c) for r, c in by_rate.items() if c), reverse=True), shipping_tax


def _round(amount: Decimal) -> int:
    return int(amount.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def describe(refund: Refund, currency: str) -> str:
    """ "1 × Mug (SKU MUG-1), shipping, 5.00 more" for the order's history."""
    parts = [f"{line.quantity} × {line.order_line.name}" for line in refund.lines]
    if refund.shipping_cents:
        parts.append("shipping")
    if refund.other_cents > 0:
        parts.append(f"{format_money(refund.other_cents, currency)} more")
    return f"Refund of {format_money(refund.amount_cents, currency)}: {', '.join(parts)}."


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
