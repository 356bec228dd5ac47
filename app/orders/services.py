"""Checkout and the order state machine.

Every status change is decided on the row's current status in the database (a conditional
UPDATE whose rowcount says who won), so concurrent changes of one order have exactly one
winner on MariaDB and SQLite alike. Payment providers are called between transactions, never
while a transaction holds stock, cart or order locks.
"""

import dataclasses
import hashlib
import hmac
import json
import logging
import secrets
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer
from itsdangerous.encoding import want_bytes
from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.exc import StaleDataError

from app.cart.models import Cart, CartItem
from app.catalog.models import Product
from app.countries import countries
from app.errors import Conflict, InvalidTransition, NotFound, OutOfStock, ValidationFailed
from app.extensions import db
from app.orders import emails
from app.orders.models import (
    Order,
    OrderEvent,
    OrderLine,
    OrderStatus,
    Payment,
    PaymentStatus,
    Refund,
)
from app.payments.providers import (
    PaymentDeclined,
    PaymentResult,
    get_provider,
    provider_for,
)
from app.timestamps import utcnow

log = logging.getLogger(__name__)

S = OrderStatus
TRANSITIONS: dict[str, set[str]] = {
    S.PENDING_PAYMENT: {S.PAID, S.CANCELLED},
    S.PAID: {S.SHIPPED, S.CANCELLED},
    S.SHIPPED: {S.DELIVERED},
    S.DELIVERED: set(),
    S.CANCELLED: set(),
}
ADDRESS_FIELDS = {
    "name": 120,
    "line1": 200,
    "line2": 200,
    "city": 100,
    "postcode": 20,
    "country": 2,
}
NUMBER_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I


@dataclass
class Address:
    name: str
    line1: str
    city: str
    postcode: str
    country: str
    line2: str = ""


def validate_address(data: dict) -> Address:
    """Check a shipping address; 422 with per-field messages."""
    errors: dict[str, list[str]] = {}
    clean = {}
    for field, max_length in ADDRESS_FIELDS.items():
        value = data.get(field) or ""
        if not isinstance(value, str):
            errors[field] = ["Must be text."]
            continue
        value = value.strip()
        if not value and field != "line2":
            errors[field] = ["This field is required."]
        elif len(value) > max_length:
            errors[field] = [f"At most {max_length} characters."]
        clean[field] = value
    country = clean.get("country", "").upper()
    if "country" not in errors and country not in dict(countries()):
        errors["country"] = ["Use an ISO 3166 two-letter country code, e.g. DE or FR."]
    if errors:
        raise ValidationFailed("Check the shipping address.", errors)
    clean["country"] = country
    return Address(**clean)


CHECKOUT_KEY_MAX = 100  # characters of a signed checkout key from the form


def fingerprint(shipping: Address, payment_method: str) -> str:
    """A keyed hash of what a checkout asks for (never card data), to tell a retry from a
    different request made with the same key."""
    message = json.dumps([shipping.__dict__, payment_method], sort_keys=True).encode()
    return hmac.new(
        want_bytes(current_app.config["SECRET_KEY"]), message, hashlib.sha256
    ).hexdigest()


def _checkout_key_serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="storefront-checkout-key")


def issue_checkout_key(user_id: int) -> str:
    """A key for one checkout form, signed and bound to the user who loads the form."""
    return _checkout_key_serializer().dumps([user_id, secrets.token_urlsafe(16)])


def checkout_key_from_form(user_id: int, signed: str | None) -> str:
    """The checkout key of a submitted form, if this server issued it to this user."""
    refused = ValidationFailed(
        "This checkout form has expired: check your order and submit it again.",
        {"checkout_key": ["Reload the checkout page."]},
    )
    if not signed or len(signed) > CHECKOUT_KEY_MAX:
        raise refused
    try:
        owner, nonce = _checkout_key_serializer().loads(signed)
    except (BadSignature, TypeError, ValueError):
        raise refused from None
    if owner != user_id or not isinstance(nonce, str) or len(nonce) > 32:
        raise refused
    return f"web:{user_id}:{nonce}"


def _fresh_transaction() -> None:
    """End the session's transaction, refusing to drop the caller's unsaved work.

    Checkout and status changes must start a new transaction: on MariaDB (REPEATABLE READ) a
    read view opened earlier in the request would hide rows other requests committed since.
    """
    if db.session.new or db.session.dirty or db.session.deleted:
        raise RuntimeError("This service starts its own transaction: commit your changes first.")
    db.session.commit()


def place_order(
    user_id: int,
    checkout_key: str,
    address: dict,
    payment_method: str,
    payment_details: dict | None = None,
) -> Order:
    """Turn the user's cart into an order, then charge it.

    1. One transaction takes the stock (conditional UPDATEs, never below zero), writes the
       order (pending payment) with a snapshot of its lines, empties the cart and commits.
    2. The provider is charged with an idempotency key derived from the order.
    3. A second short transaction records the outcome. A decline removes the order again,
       returns the stock and refills the cart. A lost reply leaves the order pending: a retry
       with the same ``checkout_key`` charges with the same key again (never twice), and
       ``resolve_unpaid_orders`` settles it otherwise.
    The same ``checkout_key`` with the same request returns the order it made before.
    """
    details = payment_details or {}
    shipping = validate_address(address)
    provider = get_provider(payment_method)
    provider.validate(details)
    order = _reserve(user_id, checkout_key, shipping, provider.name)
    payment = order.payments[-1]
    if payment.status != PaymentStatus.PROCESSING:
        return order  # a retry of a checkout that is settled already
    try:
        result = provider.charge(
            order.total_cents, order.currency, details, idempotency_key=payment.charge_key
        )
    except PaymentDeclined:
        _discard_declined(order.id)
        raise
    return _record_charge(order.id, result)


def _reserve(user_id: int, checkout_key: str, shipping: Address, method: str) -> Order:
    """Step 1 of checkout: stock, order and lines in one transaction (or the key's order)."""
    request_fingerprint = fingerprint(shipping, method)
    _fresh_transaction()
    # The first statement locks the user's cart: a second submit of the same checkout waits
    # here, then finds the order the first one made.
    db.session.execute(select(Cart.id).where(Cart.user_id == user_id).with_for_update())
    existing = _order_for_key(user_id, checkout_key, request_fingerprint)
    if existing:
        return existing
    cart = db.session.scalar(
        select(Cart)
        .options(selectinload(Cart.items).joinedload(CartItem.product))
        .where(Cart.user_id == user_id)
        .execution_options(populate_existing=True)
    )
    items = sorted(cart.items if cart else [], key=lambda i: i.product_id)  # lock order
    if not items:
        raise ValidationFailed("Your cart is empty.")
    try:
        order = _build_order(user_id, checkout_key, shipping, method, items)
        order.checkout_fingerprint = request_fingerprint
        order.payments.append(
            Payment(
                provider=method,
                status=PaymentStatus.PROCESSING,
                amount_cents=order.total_cents,
                currency=order.currency,
            )
        )
        for item in items:
            db.session.delete(item)
        db.session.commit()
    except (IntegrityError, StaleDataError):
        db.session.rollback()
        existing = _order_for_key(user_id, checkout_key, request_fingerprint)
        if existing:
            return existing
        raise
    except Exception:
        db.session.rollback()
        raise
    return order


def _record_charge(order_id: int, result: PaymentResult) -> Order:
    """Step 3 of checkout (and of resolving a lost reply): record the provider's answer.

    Only the first recording wins (conditional UPDATE of the payment); it sends the
    confirmation e-mail. A charge that succeeds for an order cancelled meanwhile is refunded.
    """
    _fresh_transaction()
    order = _locked_order(id=order_id)
    payment = order.payments[-1]
    recorded = db.session.execute(  # type: ignore[attr-defined]  # DML: a CursorResult
        update(Payment)
        .where(
            Payment.id == payment.id,
            Payment.status.in_([PaymentStatus.PROCESSING, PaymentStatus.VOIDED]),
        )
        .values(status=result.status, reference=result.reference)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not recorded:
        db.session.rollback()
        return _locked_order(id=order_id)
    order = _locked_order(id=order_id)  # re-read after our write: the current status
    refunds = []
    if result.status == PaymentStatus.SUCCEEDED:
        provider = provider_for(payment.provider)
        if order.status == OrderStatus.PENDING_PAYMENT:
            _change_status(order, S.PAID, None, f"Paid by {provider.label.lower()}.")
        elif order.status == OrderStatus.CANCELLED:
            refunds.append(_request_refund(payment, payment.amount_cents))
    db.session.commit()
    _send_refunds(refunds)
    if order.status != OrderStatus.CANCELLED:
        emails.send_order_confirmation(order)
    return order


def _discard_declined(order_id: int) -> None:
    """A declined charge: the order goes (conditional DELETE), the stock and cart come back."""
    _fresh_transaction()
    order = _locked_order(id=order_id)
    removed = db.session.execute(  # type: ignore[attr-defined]  # DML: a CursorResult
        delete(Order)
        .where(Order.id == order_id, Order.status == OrderStatus.PENDING_PAYMENT)
        .execution_options(synchronize_session=False)
    ).rowcount
    if removed:
        _return_stock(order)
        _refill_cart(order)
    db.session.expunge(order)  # its rows are gone (with its lines and payment, by cascade)
    db.session.commit()


def _refill_cart(order: Order) -> None:
    cart = db.session.scalar(
        select(Cart).where(Cart.user_id == order.user_id).options(selectinload(Cart.items))
    )
    if cart is None:
        cart = Cart(user_id=order.user_id)
        db.session.add(cart)
    items = {item.product_id: item for item in cart.items}
    for line in order.lines:
        if line.product_id is None:
            continue
        if line.product_id in items:
            items[line.product_id].quantity += line.quantity
        else:
            cart.items.append(CartItem(product_id=line.product_id, quantity=line.quantity))


def _order_for_key(user_id: int, checkout_key: str, request_fingerprint: str) -> Order | None:
    order = db.session.scalar(
        _order_query()
        .where(Order.checkout_key == checkout_key)
        .execution_options(populate_existing=True)
    )
    if order is None:
        return None
    if order.user_id != user_id:
        raise Conflict("This checkout key belongs to another order.")
    if order.checkout_fingerprint != request_fingerprint:
        raise ValidationFailed(
            "This Idempotency-Key was used with a different request.",
            {"Idempotency-Key": ["Use a new key for a different order."]},
        )
    return order


def _build_order(user_id, checkout_key, shipping: Address, method: str, items) -> Order:
    currencies = {item.product.currency for item in items}
    if len(currencies) != 1:
        raise ValidationFailed("The cart mixes currencies; remove items to check out.")
    for item in items:
        taken = db.session.execute(  # type: ignore[attr-defined]  # DML: a CursorResult
            update(Product)
            .where(
                Product.id == item.product_id,
                Product.stock >= item.quantity,
                Product.is_active.is_(True),
            )
            .values(stock=Product.stock - item.quantity)
            .execution_options(synchronize_session=False)
        ).rowcount
        if taken != 1:
            raise OutOfStock(
                f"Sorry, {item.product.name} is out of stock (or fewer are left than you asked "
                "for). Your cart is unchanged: update it and try again."
            )
    # Prices as they are in the database at this moment (the rows are now locked).
    products = {
        p.id: p
        for p in db.session.scalars(
            select(Product)
            .where(Product.id.in_([i.product_id for i in items]))
            .execution_options(populate_existing=True)
        )
    }
    order = Order(
        number=_new_number(),
        user_id=user_id,
        status=S.PENDING_PAYMENT,
        currency=currencies.pop(),
        payment_method=method,
        checkout_key=checkout_key,
        ship_name=shipping.name,
        ship_line1=shipping.line1,
        ship_line2=shipping.line2,
        ship_city=shipping.city,
        ship_postcode=shipping.postcode,
        ship_country=shipping.country,
        shipping_cents=0,
    )
    for item in items:
        product = products[item.product_id]
        order.lines.append(
            OrderLine(
                product_id=product.id,
                sku=product.sku,
                name=product.name,
                unit_price_cents=product.price_cents,
                currency=product.currency,
                quantity=item.quantity,
            )
        )
    order.subtotal_cents = sum(line.line_total_cents for line in order.lines)
    order.total_cents = order.subtotal_cents + order.shipping_cents
    order.events.append(OrderEvent(from_status=None, to_status=S.PENDING_PAYMENT, actor_id=user_id))
    db.session.add(order)
    return order


def _new_number() -> str:
    return "SF-" + "".join(secrets.choice(NUMBER_ALPHABET) for _ in range(10))


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
    db.session.add(
        OrderEvent(
            order_id=order.id, from_status=seen, to_status=to_status, actor_id=actor_id, note=note
        )
    )


def _locked_order(**where) -> Order:
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


def _return_stock(order: Order) -> None:
    for line in sorted(order.lines, key=lambda line: line.product_id or 0):
        if line.product_id is not None:
            db.session.execute(
                update(Product)
                .where(Product.id == line.product_id)
                .values(stock=Product.stock + line.quantity)
                .execution_options(synchronize_session=False)
            )


def _request_refund(payment: Payment, amount_cents: int) -> int:
    refund = Refund(payment=payment, amount_cents=amount_cents, status="pending")
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
        _fresh_transaction()
        order = _locked_order(number=order_number)
        try:
            _change_status(order, to_status, actor_id, note, only_from)
            break
        except _Stale:  # SQLite only: no row locks, so we lost a race; decide again
            db.session.rollback()
        except InvalidTransition:
            db.session.rollback()  # release the row lock now, not at the end of the request
            raise
    else:
        raise Conflict("The order changed at the same time: reload it and try again.")
    order = _locked_order(number=order_number)  # payments as they are now, after our write
    refunds = []
    if to_status == S.PAID:
        for payment in order.payments:
            if payment.status in (PaymentStatus.PENDING, PaymentStatus.PROCESSING):
                payment.status = PaymentStatus.SUCCEEDED
    elif to_status == S.CANCELLED:
        _return_stock(order)
        for payment in order.payments:
            if payment.status == PaymentStatus.SUCCEEDED:
                refunds.append(_request_refund(payment, payment.amount_cents))
            elif payment.status in (PaymentStatus.PENDING, PaymentStatus.PROCESSING):
                payment.status = PaymentStatus.VOIDED
    db.session.commit()
    _send_refunds(refunds)
    if to_status == S.SHIPPED:
        emails.send_order_shipped(order)
    return order


def _send_refunds(refund_ids: list[int]) -> int:
    """Ask each refund's provider to pay it back; record the answers (one commit each).

    Called after the commit that created them. A provider that fails leaves the refund
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
            db.session.rollback()
            continue
        db.session.execute(
            update(Refund)
            .where(Refund.id == refund_id, Refund.status == "pending")
            .values(status=result.status, reference=result.reference)
            .execution_options(synchronize_session=False)
        )
        refunded = db.session.execute(
            select(func.coalesce(func.sum(Refund.amount_cents), 0)).where(
                Refund.payment_id == payment.id, Refund.status == "succeeded"
            )
        ).scalar_one()
        if refunded >= payment.amount_cents:
            db.session.execute(
                update(Payment)
                .where(Payment.id == payment.id)
                .values(status=PaymentStatus.REFUNDED)
                .execution_options(synchronize_session=False)
            )
        db.session.commit()
        db.session.expire_all()
        answered += 1
    return answered


def cancel_own_order(user_id: int, order_number: str) -> Order:
    """A customer cancels their own order (while pending payment or paid)."""
    get_order_for_user(user_id, order_number)
    return transition(order_number, S.CANCELLED, user_id, "Cancelled by the customer.")


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
    Each order is its own transaction through the state machine, so a customer paying at the
    same moment either wins (the order stays paid) or loses cleanly.
    """
    config = current_app.config
    now = now or utcnow()
    outcome = Resolution()
    payment_cutoff = now - timedelta(seconds=config["ORDER_PAYMENT_TIMEOUT"])
    charge_cutoff = now - timedelta(seconds=config["ORDER_CHARGE_TIMEOUT"])
    waiting = db.session.execute(
        select(Order.id, Order.number, Order.created_at, Payment.status, Payment.provider)
        .join(Payment, Payment.order_id == Order.id)
        .where(
            Order.status == OrderStatus.PENDING_PAYMENT,
            Payment.status.in_([PaymentStatus.PENDING, PaymentStatus.PROCESSING]),
            Order.created_at < max(payment_cutoff, charge_cutoff),
        )
        .order_by(Order.id)
    ).all()
    for order_id, number, created_at, payment_status, provider_name in waiting:
        if payment_status == PaymentStatus.PROCESSING:
            if created_at >= charge_cutoff:
                continue
            result = provider_for(provider_name).lookup(f"{number}:charge")
            if result is not None and result.status == PaymentStatus.SUCCEEDED:
                if _record_charge(order_id, result).status == OrderStatus.PAID:
                    outcome.paid.append(number)
                continue
            note = "The card payment never completed."
        else:
            if created_at >= payment_cutoff:
                continue
            hours = config["ORDER_PAYMENT_TIMEOUT"] // 3600
            note = f"No payment received within {hours} hours."
        try:
            transition(number, S.CANCELLED, None, note, only_from={S.PENDING_PAYMENT})
        except InvalidTransition:
            continue  # paid (or cancelled) meanwhile: nothing to expire
        outcome.cancelled.append(number)
    pending_refunds = db.session.scalars(
        select(Refund.id).where(Refund.status == "pending").order_by(Refund.id)
    ).all()
    outcome.refunds_sent = _send_refunds(list(pending_refunds))
    return outcome


def _order_query():
    return select(Order).options(
        selectinload(Order.lines),
        selectinload(Order.events).joinedload(OrderEvent.actor),
        selectinload(Order.payments).selectinload(Payment.refunds),
    )


def get_order_for_user(user_id: int, order_number: str) -> Order:
    """The user's own order; anybody else's is 404 (it does not exist for them)."""
    order = db.session.scalar(
        _order_query().where(Order.number == order_number, Order.user_id == user_id)
    )
    if order is None:
        raise NotFound("No such order.")
    return order


def get_order(order_number: str) -> Order:
    """Any order (back office)."""
    order = db.session.scalar(_order_query().where(Order.number == order_number))
    if order is None:
        raise NotFound("No such order.")
    return order


def list_orders_for_user(user_id: int, page: int = 1, per_page: int = 20):
    """The user's orders, newest first, with lines and events loaded; returns (orders, total)."""
    query = select(Order).where(Order.user_id == user_id)
    total = db.session.scalar(select(func.count()).select_from(query.subquery()))
    orders = db.session.scalars(
        query.options(selectinload(Order.lines), selectinload(Order.events))
        .order_by(Order.created_at.desc(), Order.id.desc())
        .limit(per_page)
        .offset((max(page, 1) - 1) * per_page)
    ).all()
    return list(orders), total


def dashboard() -> dict:
    """Orders and revenue today and over the last 7 days; products low on stock."""
    now = utcnow()
    today = now.replace(hour=0, minute=0, second=0, microsecond=0)

    def stats(since):
        count, revenue = db.session.execute(
            select(func.count(Order.id), func.coalesce(func.sum(Order.total_cents), 0)).where(
                Order.created_at >= since, Order.status != S.CANCELLED
            )
        ).one()
        return {"orders": count, "revenue_cents": int(revenue)}

    low_stock = db.session.scalars(
        select(Product)
        .where(
            Product.is_active.is_(True),
            Product.stock <= current_app.config["LOW_STOCK_THRESHOLD"],
        )
        .order_by(Product.stock, Product.name)
        .limit(50)
    ).all()
    return {
        "today": stats(today),
        "week": stats(today - timedelta(days=6)),
        "currency": current_app.config["SHOP_CURRENCY"],
        "low_stock": list(low_stock),
    }
