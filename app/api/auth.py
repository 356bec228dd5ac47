"""API authentication: get a token, see who you are, revoke tokens."""

import marshmallow as ma
from flask import current_app, g
from flask_security import current_user

from app.accounts import services
from app.api.common import api_auth_required
from app.api.spec import AUTHENTICATED, Blueprint, error_responses
from app.errors import AuthenticationFailed
from app.extensions import limiter

bp = Blueprint("auth", __name__, description="Authentication")


class TokenRequest(ma.Schema):
    email = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=255))
    password = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=1024))
    code = ma.fields.String(
        load_default=None,
        validate=ma.validate.Length(max=16),
        metadata={"description": "The current TOTP code, when the account has 2FA."},
    )


class TokenResponse(ma.Schema):
    token = ma.fields.String(required=True)


class MeSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    email = ma.fields.String(required=True)
    roles = ma.fields.List(ma.fields.String(), required=True)
    confirmed = ma.fields.Boolean(required=True)
    two_factor = ma.fields.Boolean(required=True)


def _token_request_failed(_response) -> bool:
    return g.get("auth_failed", False)


@bp.post("/auth/token")
@limiter.shared_limit(
    lambda: current_app.config["RATELIMIT_LOGIN_FAILURES"],
    scope="token-failures",
    deduct_when=_token_request_failed,
)
@bp.arguments(TokenRequest)
@bp.response(200, TokenResponse)
@error_responses(bp, 400, 401, 422, 429)
def token(body):
    """Exchange e-mail, password (and TOTP code) for an Authentication-Token.

    No session cookie is set and no CSRF token is needed. Unconfirmed and disabled
    accounts get 401. Failed attempts are rate limited per client.
    """
    try:
        auth_token = services.issue_api_token(body["email"], body["password"], body["code"])
    except AuthenticationFailed:
        g.auth_failed = True
        raise
    return {"token": auth_token}


@bp.delete("/auth/tokens")
@api_auth_required
@bp.response(204)
@bp.doc(security=AUTHENTICATED)
@error_responses(bp, 400, 401)
def revoke_tokens():
    """Revoke all of the caller's tokens and sessions (log out everywhere)."""
    services.revoke_all_sessions(current_user)


@bp.get("/me")
@api_auth_required
@bp.response(200, MeSchema)
@bp.doc(security=AUTHENTICATED)
@error_responses(bp, 401)
def me():
    """The authenticated user."""
    return services.user_summary(current_user)
