"""The OpenAPI side of the API: flask-smorest generates /api/v1/openapi.json from the code."""

from http import HTTPStatus

import marshmallow as ma
from flask_smorest import Api


class ErrorDetail(ma.Schema):
    status = ma.fields.Integer(required=True, metadata={"example": 404})
    code = ma.fields.String(required=True, metadata={"example": "not_found"})
    message = ma.fields.String(required=True, metadata={"example": "No such product."})
    fields = ma.fields.Dict(
        keys=ma.fields.String(),
        values=ma.fields.List(ma.fields.String()),
        metadata={"description": "Per-field messages (422 only)."},
    )


class ErrorSchema(ma.Schema):
    """Every API error has this one shape."""

    error = ma.fields.Nested(ErrorDetail, required=True)


class StorefrontApi(Api):
    """flask-smorest's Api, leaving error handling to app.errors (one JSON shape app-wide)."""

    ERROR_SCHEMA = ErrorSchema

    def _register_error_handlers(self):
        """app.errors handles every HTTPException, for pages and the API alike."""


api = StorefrontApi(
    spec_kwargs={
        "info": {
            "description": (
                "Storefront's JSON API. Authenticate with a token from POST /auth/token in the "
                "Authentication-Token header, or (browsers) with the session cookie plus the "
                "X-CSRF-Token header on writes. Every error is "
                '{"error": {"status", "code", "message"[, "fields"]}}.'
            )
        },
        # Operations are public unless they declare otherwise (security=AUTHENTICATED):
        # said here once, so the document states it (tests/api/test_contract.py checks it).
        "security": [],
    }
)

SECURITY_SCHEMES = {
    "tokenAuth": {"type": "apiKey", "in": "header", "name": "Authentication-Token"},
    "sessionAuth": {"type": "apiKey", "in": "cookie", "name": "session"},
}
AUTHENTICATED = [{"tokenAuth": []}, {"sessionAuth": []}]


def register_security_schemes() -> None:
    for name, scheme in SECURITY_SCHEMES.items():
        api.spec.components.security_scheme(name, scheme)


def error_responses(blp, *statuses: int):
    """Document the error statuses a view can answer, with the shared error schema."""

    def decorator(view):
        for status in statuses:
            view = blp.alt_response(status, response=HTTPStatus(status).name)(view)
        return view

    return decorator
