"""The JSON API blueprint, /api/v1. Each domain's API module hangs under it."""

from flask import Blueprint

from app.api import auth, meta

bp = Blueprint("api", __name__, url_prefix="/api/v1")
bp.register_blueprint(meta.bp)
bp.register_blueprint(auth.bp)
# CSRF: token clients need none; session-authenticated calls are checked by
# auth_required (SECURITY_CSRF_PROTECT_MECHANISMS), which reads the X-CSRF-Token header.
