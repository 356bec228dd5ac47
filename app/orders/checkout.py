"""Checkout: the shipping address, the checkout keys, and placing an order (stock, order, charge).

Payment providers are called between transactions, never while a transaction holds stock,
cart or order locks; the outcome is recorded through the state machine (app.orders.state).
"""

import hashlib
import hmac
import json
import logging
import secrets
from dataclasses import dataclass
from datetime import UTC

from flask import current_app
from flask_babel import gettext as _
from flask_security import EmailValidateException
from itsdangerous import BadSignature, URLSafeSerializer
from itsdangerous.encoding import want_bytes
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload, selectinload
from sqlalchemy.orm.exc import StaleDataError

from app import logs, metrics
from app.accounts.models import User
from app.cart import services as cart_services
from app.cart.models import Cart, CartItem
from app.cart.services import CartOwner
from app.catalog import stock
from app.catalog.models import Product, Variant
from app.countries import countries
from app.errors import Conflict, OutOfStock, ValidationFailed
from app.extensions import db, security
from app.i18n import current_locale
from app.orders import emails, pricing
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
from app.payments.providers import PaymentDeclined, PaymentUnavailable, get_provider
from app.payments.statuses import PaymentStatus
from app.transactions import atomic, on_commit
from app.vouchers import services as vouchers

log = logging.getLogger(__name__)

OPTIONAL_ADDRESS_FIELDS = frozenset({"line2"})


NUMBER_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I


@dataclass(frozen=True)
class Buyer:
    """Who places an order: a customer (by user id), or a guest (the anonymous cart's token,
    and the e-mail address the guest gave: checked by ``guest``)."""

    user_id: int | None = None
    cart_token: str | None = None
    email: str = ""

    @classmethod
    def guest(cls, cart_token: str | None, email) -> "Buyer":
        return cls(cart_token=cart_token, email=validate_email(email))

    @property
    def cart(self) -> CartOwner:
        if self.user_id is not None:
            return CartOwner(user_id=self.user_id)
        return CartOwner(token=self.cart_token)

    @property
    def key_owner(self) -> str:
        """Whose checkout keys these are: the user id, or a hash of the guest's cart token."""
        if self.user_id is not None:
            return str(self.user_id)
        return "g" + self.cart_digest[:9]  # as long as a user id may be (API keys: 64)

    @property
    def cart_digest(self) -> str:
        return hashlib.sha256((self.cart_token or "").encode()).hexdigest()


EMAIL_MAX = 255  # the order's e-mail column


def validate_email(value) -> str:
    """A guest's e-mail address as Flask-Security checks and normalizes an account's, lower-cased
    (so that the account registered with it later finds the order); 422 naming ``email``."""
    message = _("Enter the e-mail address the order confirmation should go to.")
    if not isinstance(value, str) or not value.strip() or len(value) > EMAIL_MAX:
        raise ValidationFailed(message, {"email": [message]})
    try:
        return security.mail_util.validate(value.strip()).lower()
    except EmailValidateException:
        raise ValidationFailed(
            message, {"email": [_("That is not a valid e-mail address.")]}
        ) from None


@dataclass
class Address:
    name: str
    line1: str
    city: str
    postcode: str
    country: str
    line2: str = ""


def validate_address(data: dict, what: str = "", prefix: str = "") -> Address:
    """Check an address (shipping, billing, one for the address book); 422 with per-field
    messages, the fields named ``prefix`` + field; ``what`` the address is in the message
    ("Check the billing address."; by default the shipping address)."""
    errors: dict[str, list[str]] = {}
    clean = {}
    for field, max_length in ADDRESS_FIELDS.items():
        value = data.get(field) or ""
        if not isinstance(value, str):
            errors[field] = [_("Must be text.")]
            continue
        value = value.strip()
        if not value and field not in OPTIONAL_ADDRESS_FIELDS:
            errors[field] = [_("This field is required.")]
        elif len(value) > max_length:
            errors[field] = [_("At most %(count)d characters.", count=max_length)]
        clean[field] = value
    country = clean.get("country", "").upper()
    if "country" not in errors and country not in dict(countries()):
        errors["country"] = [_("Use an ISO 3166 two-letter country code, e.g. DE or FR.")]
    if errors:
        message = what or _("Check the shipping address.")
        raise ValidationFailed(message, {prefix + k: v for k, v in errors.items()})
    clean["country"] = country
    return Address(**clean)


CHECKOUT_KEY_MAX = 100  # characters of a signed checkout key from the form


def fingerprint(buyer: Buyer, reservation: "Reservation") -> str:
    """A keyed hash of what a checkout asks for (never card data), to tell a retry from a
    different request made with the same key."""
    asked = [
        buyer.email,
        reservation.shipping.__dict__,
        reservation.billing.__dict__,
        reservation.method,
        str(reservation.shipping_method or ""),
        reservation.voucher_code,
    ]
    if buyer.user_id is None:
        asked.append(buyer.cart_digest)  # a guest's key is theirs even if key_owner collides
    message = json.dumps(asked, sort_keys=True).encode()
    return hmac.new(
        want_bytes(current_app.config["SECRET_KEY"]), message, hashlib.sha256
    ).hexdigest()


def _checkout_key_serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="storefront-checkout-key")


def issue_checkout_key(buyer: Buyer) -> str:
    """A key for one checkout form, signed and bound to the user (or guest cart) loading it."""
    return _checkout_key_serializer().dumps([buyer.key_owner, secrets.token_urlsafe(16)])


def checkout_key_from_form(buyer: Buyer, signed: str | None) -> str:
    """The checkout key of a submitted form, if this server issued it to this buyer."""
    refused = ValidationFailed(
        _("This checkout form has expired: check your order and submit it again."),
        {"checkout_key": [_("Reload the checkout page.")]},
    )
    if not signed or len(signed) > CHECKOUT_KEY_MAX:
        raise refused
    try:
        owner, nonce = _checkout_key_serializer().loads(signed)
    except (BadSignature, TypeError, ValueError):
        raise refused from None
    if owner != buyer.key_owner or not isinstance(nonce, str) or len(nonce) > 32:
        raise refused
    return f"web:{buyer.key_owner}:{nonce}"


def place_order(
    buyer: Buyer | int,
    checkout_key: str,
    address: dict,
    payment_method: str,
    payment_details: dict | None = None,
    billing_address: dict | None = None,
    shipping_method=None,
    voucher_code: str = "",
    back_to_app: bool = False,
) -> Order:
    """Turn the buyer's cart (a user id: a customer's) into an order, then charge it.

    The billing address is the shipping one unless ``billing_address`` is given; the
    shipping method is the first one offered for the address unless ``shipping_method`` (an
    id) is given. A ``voucher_code`` takes its discount, or the order is refused (422 saying
    why, 409 when its last use went to another order meanwhile). The totals are
    app.orders.pricing's, worked out with the stock taken.

    1. One transaction takes the stock (conditional UPDATEs, never below zero), writes the
       order (pending payment) with a snapshot of its lines, empties the cart and commits.
    2. The provider is charged with an idempotency key derived from the order.
    3. A second short transaction records the outcome. A decline removes the order again,
       returns the stock and refills the cart. A lost reply leaves the order pending: a retry
       with the same ``checkout_key`` charges with the same key again (never twice), and
       ``resolve_unpaid_orders`` settles it otherwise.
    The same ``checkout_key`` with the same request returns the order it made before.
    A hosted payment page sends the customer back to the order's page, the React
    storefront's when ``back_to_app``.
    """
    if not isinstance(buyer, Buyer):
        buyer = Buyer(user_id=buyer)
    details = payment_details or {}
    shipping = validate_address(address)
    billing = shipping
    if billing_address is not None:
        billing = validate_address(
            billing_address, _("Check the billing address."), prefix="billing_"
        )
    provider = get_provider(payment_method)
    provider.validate(details)
    asked = Reservation(
        shipping, billing, provider.name, shipping_method, vouchers.normalize(voucher_code)
    )
    order = _reserve(buyer, checkout_key, asked)
    logs.bind(order=order.number)
    payment = order.payments[-1]
    if payment.status != PaymentStatus.PROCESSING:
        return order  # a retry of a checkout that is settled already
    if provider.hosted:
        details = hosted_page_details(order, back_to_app)
    try:
        result = provider.charge(
            order.total_cents, order.currency, details, idempotency_key=payment.charge_key
        )
    except PaymentDeclined:
        log.info("Payment declined by %s: the order is withdrawn", provider.name)
        metrics.payment("declined")
        _discard_declined(order.id, buyer.cart)
        raise
    except PaymentUnavailable:
        log.warning("Payment provider %s did not answer: the order waits", provider.name)
        metrics.payment("failed")
        raise
    return record_charge(order.id, result)


def hosted_page_details(order: Order, back_to_app: bool = False) -> dict:
    """What a hosted payment page is opened with: all of it derived from the order (and where
    the request asks to come back), so that a retry with the same idempotency key and request
    asks for exactly the same page."""
    link = emails.order_link(order, in_app=back_to_app)
    return {
        "order_number": order.number,
        "email": order.email,
        "success_url": f"{link}?session_id={{CHECKOUT_SESSION_ID}}",
        "cancel_url": link,
        "expires_at": int(
            order.created_at.replace(tzinfo=UTC).timestamp()
            + current_app.config["PAYMENT_PAGE_TIMEOUT"]
        ),
    }


@dataclass(frozen=True)
class Reservation:
    """What an order is placed with: its addresses and payment method."""

    shipping: Address
    billing: Address
    method: str  # the payment method
    shipping_method: int | str | None = None
    voucher_code: str = ""


def _reserve(buyer: Buyer, checkout_key: str, asked: Reservation) -> Order:
    """Step 1 of checkout: stock, order and lines in one transaction (or the key's order)."""
    request_fingerprint = fingerprint(buyer, asked)
    try:
        return _reserve_unit(buyer, checkout_key, asked, request_fingerprint)
    except (IntegrityError, StaleDataError):
        # A concurrent request with the same key made the order first (the unique key).
        existing = _existing_order(buyer, checkout_key, request_fingerprint)
        if existing:
            return existing
        raise


def _cart_of(buyer: Buyer):
    """The buyer's cart: the customer's, or the guest's (no token: no cart)."""
    if buyer.user_id is not None:
        return Cart.user_id == buyer.user_id
    return Cart.token == (buyer.cart_token or "")


@atomic
def _reserve_unit(
    buyer: Buyer, checkout_key: str, asked: Reservation, request_fingerprint: str
) -> Order:
    """Lock order (every writer follows it, so that they wait rather than deadlock): the
    buyer's cart row, then variants by ascending id (app.catalog.stock), then the new order."""
    # The first statement locks the buyer's cart: a second submit of the same checkout waits
    # here, then finds the order the first one made.
    db.session.execute(select(Cart.id).where(_cart_of(buyer)).with_for_update())
    existing = _order_for_key(buyer, checkout_key, request_fingerprint)
    if existing:
        return existing
    cart = db.session.scalar(
        select(Cart)
        .options(selectinload(Cart.items).joinedload(CartItem.variant).joinedload(Variant.product))
        .where(_cart_of(buyer))
        .execution_options(populate_existing=True)
    )
    items = sorted(cart.items if cart else [], key=lambda i: i.variant_id)
    if not items:
        raise ValidationFailed(_("Your cart is empty."))
    currencies = {item.product.currency for item in items}
    if len(currencies) != 1:
        raise ValidationFailed(_("The cart mixes currencies; remove items to check out."))
    order = _build_order(buyer, checkout_key, asked, items, currencies.pop())
    order.checkout_fingerprint = request_fingerprint
    order.payments.append(
        Payment(
            provider=asked.method,
            status=PaymentStatus.PROCESSING,
            amount_cents=order.total_cents,
            currency=order.currency,
        )
    )
    for item in items:
        db.session.delete(item)
    if cart is not None:
        cart.voucher_code = None  # used (the order keeps it)
    on_commit(metrics.order_placed)
    return order


@atomic
def _existing_order(buyer: Buyer, checkout_key: str, request_fingerprint: str) -> Order | None:
    return _order_for_key(buyer, checkout_key, request_fingerprint)


@atomic
def _discard_declined(order_id: int, cart: CartOwner) -> None:
    """A declined charge: the order goes (conditional DELETE); the stock, the cart and its
    voucher code come back.

    The cart is refilled (and so locked) before the stock comes back: the lock order."""
    order = locked_order(id=order_id)
    removed = db.session.execute(  # type: ignore[attr-defined]  # DML: a CursorResult
        delete(Order)
        .where(Order.id == order_id, Order.status == OrderStatus.PENDING_PAYMENT)
        .execution_options(synchronize_session=False)
    ).rowcount
    if removed:
        quantities = order.quantities()
        cart_services.restore_to_cart(cart, quantities, order.voucher_code)
        stock.give_back(quantities)
        vouchers.give_back(order.voucher_id)
    db.session.expunge(order)  # its rows are gone (with its lines and payment, by cascade)


def _order_for_key(buyer: Buyer, checkout_key: str, request_fingerprint: str) -> Order | None:
    order = db.session.scalar(
        order_query()
        .where(Order.checkout_key == checkout_key)
        .execution_options(populate_existing=True)
    )
    if order is None:
        return None
    if order.user_id != buyer.user_id:
        raise Conflict("This checkout key belongs to another order.")
    if order.checkout_fingerprint != request_fingerprint:
        raise ValidationFailed(
            "This Idempotency-Key was used with a different request.",
            {"Idempotency-Key": ["Use a new key for a different order."]},
        )
    return order


def _build_order(
    buyer: Buyer, checkout_key: str, asked: Reservation, items, currency: str
) -> Order:
    """Take the stock (OutOfStock when a variant is short) and add the order, its lines a
    snapshot of the variants (SKU, product name, option values, price) as they are now."""
    short = stock.take({item.variant_id: item.quantity for item in items})
    if short is not None:
        name = next(item.variant.title for item in items if item.variant_id == short)
        raise OutOfStock(
            _(
                "Sorry, %(item)s is out of stock (or fewer are left than you asked for). "
                "Your cart is unchanged: update it and try again.",
                item=name,
            )
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
    email = buyer.email
    if buyer.user_id is not None:
        email = db.session.scalars(select(User.email).where(User.id == buyer.user_id)).one()
    lines = [(variants[item.variant_id], item.quantity) for item in items]
    applied = None
    if asked.voucher_code:
        applied = pricing.applied_voucher(asked.voucher_code, lines, email)
        vouchers.take_use(applied.voucher_id, email)  # lock order: after the variants
    quote = pricing.quote(lines, asked.shipping.country, asked.shipping_method, applied)
    totals = quote.totals
    order = Order(
        number=_new_number(),
        user_id=buyer.user_id,
        email=email.lower(),
        status=OrderStatus.PENDING_PAYMENT,
        currency=currency,
        payment_method=asked.method,
        locale=current_locale(),
        checkout_key=checkout_key,
        subtotal_cents=totals.subtotal_cents,
        discount_cents=totals.discount_cents,
        shipping_cents=totals.shipping_cents,
        shipping_tax_cents=totals.shipping.tax_cents,
        tax_cents=totals.tax_cents,
        total_cents=totals.total_cents,
        prices_include_tax=totals.prices_include_tax,
        shipping_method=quote.shipping.name if quote.shipping else "",
        voucher_id=applied.voucher_id if applied else None,
        voucher_code=applied.code if applied else "",
        **{f"ship_{field}": getattr(asked.shipping, field) for field in ADDRESS_FIELDS},
        **{f"bill_{field}": getattr(asked.billing, field) for field in ADDRESS_FIELDS},
    )
    for item, taxed, unit_price in zip(items, totals.lines, quote.unit_prices, strict=True):
        variant = variants[item.variant_id]
        order.lines.append(
            OrderLine(
                product_id=variant.product_id,
                variant_id=variant.id,
                sku=variant.sku,
                name=variant.product.translated.name,  # as the buyer read it
                options=variant.options_label,
                unit_price_cents=unit_price,
                regular_price_cents=(
                    variant.unit_price_cents if unit_price != variant.unit_price_cents else None
                ),
                currency=variant.product.currency,
                quantity=item.quantity,
                tax_rate=taxed.rate,
                tax_cents=taxed.tax_cents,
                discount_cents=taxed.discount_cents,
            )
        )
    order.events.append(
        OrderEvent(from_status=None, to_status=OrderStatus.PENDING_PAYMENT, actor_id=buyer.user_id)
    )
    db.session.add(order)
    return order


def _new_number() -> str:
    return "SF-" + "".join(secrets.choice(NUMBER_ALPHABET) for _ in range(10))
