"""Checkout: the shipping address, the checkout keys, and placing an order (stock, order, charge).

Payment providers are called between transactions, never while a transaction holds stock,
cart or order locks; the outcome is recorded through the state machine (app.orders.state).
"""

import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer
from itsdangerous.encoding import want_bytes
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload, selectinload
from sqlalchemy.orm.exc import StaleDataError

from app.cart import services as cart_services
from app.cart.models import Cart, CartItem
from app.catalog import stock
from app.catalog.models import Product, Variant
from app.countries import countries
from app.errors import Conflict, OutOfStock, ValidationFailed
from app.extensions import db
from app.orders.models import (
    ADDRESS_FIELDS,
    Order,
    OrderEvent,
    OrderLine,
    OrderStatus,
    Payment,
)
from app.orders.queries import order_query
from app.orders.state import locked_order, record_charge
from app.payments.providers import PaymentDeclined, get_provider
from app.payments.statuses import PaymentStatus
from app.transactions import atomic

OPTIONAL_ADDRESS_FIELDS = frozenset({"line2"})


NUMBER_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I


@dataclass
class Address:
    name: str
    line1: str
    city: str
    postcode: str
    country: str
    line2: str = ""


def validate_address(data: dict, what: str = "the shipping address") -> Address:
    """Check an address (a shipping address, one for the address book); 422 with per-field
    messages."""
    errors: dict[str, list[str]] = {}
    clean = {}
    for field, max_length in ADDRESS_FIELDS.items():
        value = data.get(field) or ""
        if not isinstance(value, str):
            errors[field] = ["Must be text."]
            continue
        value = value.strip()
        if not value and field not in OPTIONAL_ADDRESS_FIELDS:
            errors[field] = ["This field is required."]
        elif len(value) > max_length:
            errors[field] = [f"At most {max_length} characters."]
        clean[field] = value
    country = clean.get("country", "").upper()
    if "country" not in errors and country not in dict(countries()):
        errors["country"] = ["Use an ISO 3166 two-letter country code, e.g. DE or FR."]
    if errors:
        raise ValidationFailed(f"Check {what}.", errors)
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
    return record_charge(order.id, result)


def _reserve(user_id: int, checkout_key: str, shipping: Address, method: str) -> Order:
    """Step 1 of checkout: stock, order and lines in one transaction (or the key's order)."""
    request_fingerprint = fingerprint(shipping, method)
    try:
        return _reserve_unit(user_id, checkout_key, shipping, method, request_fingerprint)
    except (IntegrityError, StaleDataError):
        # A concurrent request with the same key made the order first (the unique key).
        existing = _existing_order(user_id, checkout_key, request_fingerprint)
        if existing:
            return existing
        raise


@atomic
def _reserve_unit(
    user_id: int, checkout_key: str, shipping: Address, method: str, request_fingerprint: str
) -> Order:
    """Lock order (every writer follows it, so that they wait rather than deadlock): the
    user's cart row, then variants by ascending id (app.catalog.stock), then the new order."""
    # The first statement locks the user's cart: a second submit of the same checkout waits
    # here, then finds the order the first one made.
    db.session.execute(select(Cart.id).where(Cart.user_id == user_id).with_for_update())
    existing = _order_for_key(user_id, checkout_key, request_fingerprint)
    if existing:
        return existing
    cart = db.session.scalar(
        select(Cart)
        .options(selectinload(Cart.items).joinedload(CartItem.variant).joinedload(Variant.product))
        .where(Cart.user_id == user_id)
        .execution_options(populate_existing=True)
    )
    items = sorted(cart.items if cart else [], key=lambda i: i.variant_id)
    if not items:
        raise ValidationFailed("Your cart is empty.")
    currencies = {item.product.currency for item in items}
    if len(currencies) != 1:
        raise ValidationFailed("The cart mixes currencies; remove items to check out.")
    order = _build_order(user_id, checkout_key, shipping, method, items, currencies.pop())
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
    return order


@atomic
def _existing_order(user_id: int, checkout_key: str, request_fingerprint: str) -> Order | None:
    return _order_for_key(user_id, checkout_key, request_fingerprint)


@atomic
def _discard_declined(order_id: int) -> None:
    """A declined charge: the order goes (conditional DELETE), the stock and cart come back.

    The cart is refilled (and so locked) before the stock comes back: the lock order."""
    order = locked_order(id=order_id)
    removed = db.session.execute(  # type: ignore[attr-defined]  # DML: a CursorResult
        delete(Order)
        .where(Order.id == order_id, Order.status == OrderStatus.PENDING_PAYMENT)
        .execution_options(synchronize_session=False)
    ).rowcount
    if removed:
        quantities = order.quantities()
        cart_services.restore_to_cart(order.user_id, quantities)
        stock.give_back(quantities)
    db.session.expunge(order)  # its rows are gone (with its lines and payment, by cascade)


def _order_for_key(user_id: int, checkout_key: str, request_fingerprint: str) -> Order | None:
    order = db.session.scalar(
        order_query()
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


def _build_order(
    user_id, checkout_key, shipping: Address, method: str, items, currency: str
) -> Order:
    """Take the stock (OutOfStock when a variant is short) and add the order, its lines a
    snapshot of the variants (SKU, product name, option values, price) as they are now."""
    short = stock.take({item.variant_id: item.quantity for item in items})
    if short is not None:
        name = next(str(item.variant) for item in items if item.variant_id == short)
        raise OutOfStock(
            f"Sorry, {name} is out of stock (or fewer are left than you asked "
            "for). Your cart is unchanged: update it and try again."
        )
    # Prices as they are in the database at this moment (the variants are now locked).
    variants = {
        variant.id: variant
        for variant in db.session.scalars(
            select(Variant)
            .where(Variant.id.in_([i.variant_id for i in items]))
            .options(
                joinedload(Variant.product).selectinload(Product.options),
                selectinload(Variant.values),
            )
            .execution_options(populate_existing=True)
        )
    }
    order = Order(
        number=_new_number(),
        user_id=user_id,
        status=OrderStatus.PENDING_PAYMENT,
        currency=currency,
        payment_method=method,
        checkout_key=checkout_key,
        shipping_cents=0,
        **{f"ship_{field}": getattr(shipping, field) for field in ADDRESS_FIELDS},
    )
    for item in items:
        variant = variants[item.variant_id]
        order.lines.append(
            OrderLine(
                product_id=variant.product_id,
                variant_id=variant.id,
                sku=variant.sku,
                name=variant.product.name,
                options=variant.options_label,
                unit_price_cents=variant.unit_price_cents,
                currency=variant.product.currency,
                quantity=item.quantity,
            )
        )
    order.subtotal_cents = sum(line.line_total_cents for line in order.lines)
    order.total_cents = order.subtotal_cents + order.shipping_cents
    order.events.append(
        OrderEvent(from_status=None, to_status=OrderStatus.PENDING_PAYMENT, actor_id=user_id)
    )
    db.session.add(order)
    return order


def _new_number() -> str:
    return "SF-" + "".join(secrets.choice(NUMBER_ALPHABET) for _ in range(10))
