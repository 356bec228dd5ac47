"""Whose cart a request is: the logged-in user's, or the anonymous one its signed cookie names;
the cookie itself, and the merge of an anonymous cart at login. Shared by the pages and the API."""

from flask import Flask, after_this_request, current_app, request
from flask_security import current_user, user_authenticated
from itsdangerous import BadSignature, URLSafeSerializer

from app.cart import services
from app.cart.services import CartOwner, CartSummary
from app.extensions import security


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="storefront-cart")


CART_TOKEN_HEADER = "X-Cart-Token"  # nosec B105  # a header's name, not a secret
CART_TOKEN_MAX = 200  # characters: longer ones are not ours


def anonymous_token() -> str | None:
    """The anonymous cart token from the signed cookie, else from the X-Cart-Token header (the
    same signed value, which a new cart's answer carries); a tampered one counts as none."""
    raw = request.cookies.get(current_app.config["CART_COOKIE_NAME"]) or request.headers.get(
        CART_TOKEN_HEADER
    )
    if not raw or len(raw) > CART_TOKEN_MAX:
        return None
    try:
        token = _serializer().loads(raw)
    except BadSignature:
        return None
    return token if isinstance(token, str) else None


def signed_token(token: str) -> str:
    """What the cookie (and the X-Cart-Token header) carries for an anonymous cart's token."""
    return _serializer().dumps(token)


def current_owner() -> CartOwner:
    if current_user.is_authenticated:
        return CartOwner(user_id=current_user.id)
    return CartOwner(token=anonymous_token())


def remember_cart(response, summary: CartSummary, owner: CartOwner):
    """Give an anonymous visitor the cookie for the cart the service just made, and the same
    signed token in the X-Cart-Token header (for API clients without cookies). ``owner`` is
    who the request's cart was for, known before the service committed: asking current_user
    now would read the user again (the commit expired it), after the request's last query."""
    if owner.user_id is None and summary.token and summary.token != anonymous_token():
        config = current_app.config
        signed = signed_token(summary.token)
        response.headers[CART_TOKEN_HEADER] = signed
        response.set_cookie(
            config["CART_COOKIE_NAME"],
            signed,
            max_age=config["CART_COOKIE_MAX_AGE"],
            httponly=True,
            samesite="Lax",
            secure=config["SESSION_COOKIE_SECURE"],
        )
    return response


def _merge_at_login(sender, user, **_extra) -> None:
    token = anonymous_token()
    if not token:
        return
    # The login has written the user's tracking columns (SECURITY_TRACKABLE), which
    # Flask-Security commits after the request; the merge is a unit of work of its own, which
    # starts from a clean session: commit the login's writes first, as Flask-Security would.
    security.datastore.commit()
    services.merge_anonymous_cart(token, user.id)

    @after_this_request
    def forget_cookie(response):
        response.delete_cookie(current_app.config["CART_COOKIE_NAME"])
        return response


def init_app(app: Flask) -> None:
    user_authenticated.connect_via(app)(_merge_at_login)
