"""API authentication: get a token, see who you are."""

from flask import Blueprint, current_app, g
from flask_security import current_user
from marshmallow import Schema, fields, validate

from app.accounts import services
from app.api.common import api_auth_required, load_json
from app.errors import AuthenticationFailed
from app.extensions import limiter

bp = Blueprint("auth", __name__)


class TokenRequest(Schema):
    email = fields.String(required=True, validate=validate.Length(min=1, max=255))
    password = fields.String(required=True, validate=validate.Length(min=1, max=1024))
    code = fields.String(load_default=None, validate=validate.Length(max=16))


def _token_request_failed(_response) -> bool:
    return g.get("auth_failed", False)


@bp.post("/auth/token")
@limiter.shared_limit(
    lambda: current_app.config["RATELIMIT_LOGIN_FAILURES"],
    scope="token-failures",
    deduct_when=_token_request_failed,
)
def token():
    """Exchange e-mail, password (and TOTP code) for an Authentication-Token."""
    body = load_json(TokenRequest())
    try:
        auth_token = services.issue_api_token(body["email"], body["password"], body["code"])
    except AuthenticationFailed:
        g.auth_failed = True
        raise
    return {"token": auth_token}


@bp.delete("/auth/tokens")
@api_auth_required
def revoke_tokens():
    """Revoke all of the caller's tokens and sessions (log out everywhere)."""
    services.revoke_all_sessions(current_user)
    return "", 204


@bp.get("/me")
@api_auth_required
def me():
    """The authenticated user."""
    return services.user_summary(current_user)
