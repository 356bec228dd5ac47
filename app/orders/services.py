"""Checkout and the order state machine. Each use case is one transaction, committed once."""

import hashlib
import json
import secrets
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.exc import StaleDataError

from app.cart.models import Cart, CartItem
from app.catalog.models import Product
from app.countries import countries
from app.errors import Conflict, InvalidTransition, NotFound, OutOfStock, ValidationFailed
from app.extensions import db
from app.models_base import utcnow
from app.orders import emails
from app.orders.models import Order, OrderEvent, OrderLine, OrderStatus, Payment
from app.payments.providers import get_provider

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


def fingerprint(*parts) -> str:
    """A stable hash of a checkout request, to tell a retry from a different request."""
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


def place_order(
    user_id: int,
    checkout_key: str,
    address: dict,
    payment_method: str,
    payment_details: dict | None = None,
    request_fingerprint: str = "",
) -> Order:
    """Turn the user's cart into an order in ONE transaction.

    Stock goes down by conditional UPDATEs (never below zero), lines snapshot the products,
    the cart empties and the payment is recorded. A declined payment or missing stock rolls
    everything back. The same ``checkout_key`` returns the order it made before.
    """
    shipping = validate_address(address)
    provider = get_provider(payment_method)
    # Start a fresh transaction whose first statement locks the user's cart: a second submit
    # of the same checkout waits here, then finds the order the first one made.
    db.session.rollback()
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
        order = _build_order(user_id, checkout_key, shipping, provider.name, items)
        order.checkout_fingerprint = request_fingerprint
        for item in items:
            db.session.delete(item)
        result = provider.charge(order.total_cents, order.currency, payment_details or {})
        order.payments.append(
            Payment(
                provider=provider.name,
                status=result.status,
                amount_cents=order.total_cents,
                currency=order.currency,
                reference=result.reference,
            )
        )
        if result.status == "succeeded":
            _record_transition(order, S.PAID, None, f"Paid by {provider.label.lower()}.")
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
    emails.send_order_confirmation(order)
    return order


def _order_for_key(user_id: int, checkout_key: str, request_fingerprint: str) -> Order | None:
    order = db.session.scalar(select(Order).where(Order.checkout_key == checkout_key))
    if order is None:
        return None
    if order.user_id != user_id:
        raise Conflict("This checkout key belongs to another order.")
    if request_fingerprint and order.checkout_fingerprint != request_fingerprint:
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
        taken = db.session.execute(
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


def _record_transition(order: Order, to_status: str, actor_id: int | None, note: str = ""):
    if to_status not in TRANSITIONS[order.status]:
        allowed = ", ".join(sorted(TRANSITIONS[order.status])) or "none"
        raise InvalidTransition(
            f"An order that is {OrderStatus(order.status).label.lower()} cannot become "
            f"{OrderStatus(to_status).label.lower()} (allowed: {allowed})."
        )
    order.events.append(
        OrderEvent(from_status=order.status, to_status=to_status, actor_id=actor_id, note=note)
    )
    order.status = to_status


def transition(order_number: str, to_status: str, actor_id: int | None, note: str = "") -> Order:
    """Move an order through the state machine; cancelling puts the stock back. One commit."""
    if to_status not in TRANSITIONS:
        raise ValidationFailed(
            "Unknown status.", {"status": [f"Use one of: {', '.join(TRANSITIONS)}."]}
        )
    order = db.session.scalar(
        select(Order)
        .options(selectinload(Order.lines))
        .where(Order.number == order_number)
        .with_for_update()
    )
    if order is None:
        raise NotFound("No such order.")
    _record_transition(order, to_status, actor_id, note)
    if to_status == S.CANCELLED:
        for line in sorted(order.lines, key=lambda line: line.product_id or 0):
            if line.product_id is not None:
                db.session.execute(
                    update(Product)
                    .where(Product.id == line.product_id)
                    .values(stock=Product.stock + line.quantity)
                    .execution_options(synchronize_session=False)
                )
    db.session.commit()
    if to_status == S.SHIPPED:
        emails.send_order_shipped(order)
    return order


def cancel_own_order(user_id: int, order_number: str) -> Order:
    """A customer cancels their own order (while pending payment or paid)."""
    get_order_for_user(user_id, order_number)
    return transition(order_number, S.CANCELLED, user_id, "Cancelled by the customer.")


def _order_query():
    return select(Order).options(
        selectinload(Order.lines),
        selectinload(Order.events).joinedload(OrderEvent.actor),
        selectinload(Order.payments),
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
