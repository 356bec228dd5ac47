"""The JSON API blueprint, /api/v1. Each domain's API module hangs under it as a nested
blueprint; flask-smorest documents them all in /api/v1/openapi.json."""

from flask import request
from flask_smorest import Blueprint

from app.api import admin, auth, cart, catalog, docs, meta, orders
from app.extensions import csrf

bp = Blueprint("api", __name__, url_prefix="/api/v1")
for module in (meta, auth, catalog, cart, orders, admin, docs):
    bp.register_blueprint(module.bp)

# Writes that ride on cookies (a browser session or the anonymous cart cookie) need the
# X-CSRF-Token header. Token clients send Authentication-Token, which no other site can set.
CSRF_FREE_ENDPOINTS = {"api.auth.token"}


@bp.before_request
def check_csrf():
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    if "Authentication-Token" in request.headers or request.endpoint in CSRF_FREE_ENDPOINTS:
        return
    csrf.protect()
