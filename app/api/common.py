"""Helpers every API module shares: JSON body parsing against a schema, the auth guard."""

from functools import wraps

from flask import request
from flask_security import auth_required
from marshmallow import Schema, ValidationError

from app.errors import ValidationFailed


def load_json(schema: Schema) -> dict:
    """Parse the request body as JSON and validate it; 400 if not JSON, 422 if invalid."""
    data = request.get_json(silent=False)  # malformed JSON raises 400 BadRequest
    if not isinstance(data, dict):
        raise ValidationFailed("The request body must be a JSON object.")
    try:
        return schema.load(data)
    except ValidationError as error:
        fields = {name: _messages(msgs) for name, msgs in error.normalized_messages().items()}
        raise ValidationFailed("Some fields are invalid.", fields) from error


def _messages(messages) -> list[str]:
    if isinstance(messages, dict):
        return [f"{key}: {msg}" for key, sub in messages.items() for msg in _messages(sub)]
    return [str(m) for m in messages]


def api_auth_required(view):
    """Token or session auth; 401 JSON when neither (see app_factory's unauthn handler)."""
    return wraps(view)(auth_required("token", "session")(view))
