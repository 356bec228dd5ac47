"""The JSON API blueprint, /api/v1. Each domain's API module hangs under it as a nested
blueprint; flask-smorest documents them all in /api/v1/openapi.json."""

from flask import current_app, request
from flask_security import current_user, get_request_attr

from app.api import addresses, admin, auth, cart, catalog, docs, meta, orders
from app.api.common import requires_authentication
from app.api.spec import Blueprint
from app.extensions import csrf
from app.i18n import current_locale

bp = Blueprint("api", __name__, url_prefix="/api/v1")
for module in (meta, auth, catalog, cart, orders, addresses, admin, docs):
    bp.register_blueprint(module.bp)

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
# Takes credentials in its body and sets no cookie: nothing ambient to forge with.
CSRF_FREE_ENDPOINTS = {"api.auth.token"}


@bp.before_request
def check_csrf():
    """CSRF guards credentials that a browser sends by itself (cookies), decided in this order:

    1. Safe methods and the token endpoint: no check.
    2. Authenticated by the ``Authentication-Token`` header: no check. No other site can
       make a browser send that header (no CORS here).
    3. Authenticated by the session or remember-me cookie: the ``X-CSRF-Token`` header is
       required (400 in the API's error shape).
    4. Anonymous, on an endpoint that needs a login (``api_auth_required``): no check, so
       the guard answers 401. Nothing runs for an anonymous caller there.
    5. Anonymous, on a public endpoint (the cart), carrying any cookie (the cart cookie is
       an ambient credential; a session or stale remember-me cookie may be one): required.
    6. Anonymous with no cookie at all: no check. There is no credential to ride on; a
       cookie-less ``POST /cart/items`` only starts a new cart that nobody else holds.

    Flask-Security's ``SECURITY_CSRF_IGNORE_UNAUTH_ENDPOINTS`` is not used: it covers only
    Flask-Security's own views, and would drop CSRF from anonymous form posts (/login) too.
    """
    if request.method in SAFE_METHODS or request.endpoint in CSRF_FREE_ENDPOINTS:
        return
    if current_user.is_authenticated:
        if get_request_attr("fs_authn_via") != "token":
            csrf.protect()
        return
    if requires_authentication(current_app.view_functions.get(request.endpoint or "")):
        return
    if request.cookies:
        csrf.protect()


@bp.after_request
def content_language(response):
    """The language of the texts in the answer (names, descriptions, error messages): the
    best match of Accept-Language (app/i18n.py)."""
    response.headers["Content-Language"] = current_locale().replace("_", "-")
    return response
