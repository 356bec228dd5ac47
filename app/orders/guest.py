"""Guests' orders: the signed link that shows one, and joining them to the account that
confirms their e-mail address."""

from flask import Flask, current_app, request
from flask_babel import gettext as _
from flask_security import current_user, user_authenticated, user_confirmed
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import update

from app.errors import DomainError, NotFound
from app.extensions import db, limiter, security
from app.orders.models import Order
from app.orders.queries import order_query
from app.transactions import atomic

LINK_MAX = 200  # characters of a link's token: longer ones are not ours


class LinkExpired(DomainError):
    status = 410
    code = "link_expired"


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="storefront-guest-order")


def order_token(order: Order) -> str:
    """The token of the order's link: its number, signed and dated (GUEST_ORDER_LINK_MAX_AGE)."""
    return _serializer().dumps(order.number)


def order_from_token(token: str) -> Order:
    """The order a link shows: 404 when the link was not made here, 410 when it is too old."""
    max_age = current_app.config["GUEST_ORDER_LINK_MAX_AGE"]
    invalid = NotFound(_("This order link is not valid: use the whole link from the e-mail."))
    if len(token) > LINK_MAX:
        raise invalid
    try:
        number = _serializer().loads(token, max_age=max_age)
    except SignatureExpired:
        days = max(1, max_age // 86400)
        raise LinkExpired(
            f"This order link has expired (links last {days} day{'s' if days > 1 else ''}). "
            "Register or log in with the e-mail address you ordered with to see all your "
            "orders, or write to us quoting the order number."
        ) from None
    except BadSignature:
        raise invalid from None
    order = db.session.scalar(order_query().where(Order.number == number))
    if order is None:
        raise invalid
    return order


def _guest_checkout_limit() -> str:
    return current_app.config["RATELIMIT_GUEST_CHECKOUT"]


def _customer() -> bool:
    return current_user.is_authenticated


def _email_key() -> str:
    """The e-mail address a guest checkout names (form or JSON body), as the service keeps it."""
    data = request.get_json(silent=True) if request.is_json else request.form
    email = data.get("email") if isinstance(data, dict) or data is request.form else None
    return "guest-email:" + (email.strip().lower()[:255] if isinstance(email, str) else "")


def checkout_limits(view):
    """Guest checkouts (every POST) are limited per client and per e-mail address, each to
    RATELIMIT_GUEST_CHECKOUT; customers are not (their own limits are the login's)."""
    per_client = limiter.limit(
        _guest_checkout_limit, methods=["POST"], exempt_when=_customer, scope="guest-checkout"
    )
    per_email = limiter.limit(
        _guest_checkout_limit,
        key_func=_email_key,
        methods=["POST"],
        exempt_when=_customer,
        scope="guest-checkout-email",
    )
    return per_client(per_email(view))


@atomic
def join_guest_orders(user_id: int, email: str) -> int:
    """Give a confirmed account the guest orders placed with its e-mail address; how many."""
    joined = db.session.execute(
        update(Order)
        .where(Order.user_id.is_(None), Order.email == email.lower())
        .values(user_id=user_id)
        .execution_options(synchronize_session=False)
    )
    return joined.rowcount  # type: ignore[attr-defined]  # DML: a CursorResult


def _join_when_confirmed(_sender, user, **_extra) -> None:
    """At confirmation, and at every login of a confirmed account (one indexed UPDATE): an
    unconfirmed account never gets a guest's orders."""
    if user.confirmed_at is None:
        return
    # Flask-Security commits its own writes after the signal; a unit of work starts clean.
    security.datastore.commit()
    join_guest_orders(user.id, user.email)


def init_app(app: Flask) -> None:
    user_confirmed.connect_via(app)(_join_when_confirmed)
    user_authenticated.connect_via(app)(_join_when_confirmed)
