"""The OpenAPI side of the API: flask-smorest generates /api/v1/openapi.json from the code."""

from http import HTTPStatus

import flask_smorest
import marshmallow as ma
from flask import Response, request
from flask import abort as flask_abort
from flask_smorest import Api
from webargs import core
from webargs.flaskparser import FlaskParser, abort

from app import errors


class ErrorDetail(ma.Schema):
    status = ma.fields.Integer(required=True, metadata={"example": 404})
    code = ma.fields.String(required=True, metadata={"example": "not_found"})
    message = ma.fields.String(required=True, metadata={"example": "No such product."})
    # marshmallow takes declared fields off the class, so this does not shadow Schema.fields.
    fields = ma.fields.Dict(  # type: ignore[assignment]
        keys=ma.fields.String(),
        values=ma.fields.List(ma.fields.String()),
        metadata={"description": "Per-field messages (422 only)."},
    )


class ErrorSchema(ma.Schema):
    """Every API error has this one shape."""

    error = ma.fields.Nested(ErrorDetail, required=True)


class StorefrontApi(Api):
    """flask-smorest's Api, its errors in app.errors' one JSON shape (pages get HTML)."""

    ERROR_SCHEMA = ErrorSchema

    def handle_http_exception(self, error):
        """flask-smorest's documented hook for its HTTPException handler: app.errors answers,
        for pages and the API alike."""
        return errors.handle_http_exception(error)


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


class JsonBodyParser(FlaskParser):
    """webargs reads a missing (or non-JSON) body as ``{}``, so a PATCH whose fields are all
    optional answered 200 to no body at all. Every body the API declares is required (and
    documented so): without one it is 422, like a body that misses a required field."""

    def load_json(self, req, schema):
        data = super().load_json(req, schema)
        if data is core.missing:
            abort(422, messages={"json": {"_body": ["A JSON body is required."]}})
        return data


class Blueprint(flask_smorest.Blueprint):
    """The API modules' blueprint: flask-smorest's, whose JSON bodies are required."""

    ARGUMENTS_PARSER = JsonBodyParser()

    def _check_not_modified(self, etag):
        """flask-smorest's 304, with the ETag it answers to (it raises a bare NotModified)."""
        if request.method in self.METHODS_CHECKING_NOT_MODIFIED and etag in request.if_none_match:
            response = Response(status=304)
            response.set_etag(etag)
            response.cache_control.no_cache = True
            flask_abort(response)


SECURITY_SCHEMES = {
    "tokenAuth": {"type": "apiKey", "in": "header", "name": "Authentication-Token"},
    "sessionAuth": {"type": "apiKey", "in": "cookie", "name": "session"},
}
AUTHENTICATED: list[dict[str, list[str]]] = [{"tokenAuth": []}, {"sessionAuth": []}]


def register_security_schemes() -> None:
    for name, scheme in SECURITY_SCHEMES.items():
        api.spec.components.security_scheme(name, scheme)


def describe_body_limits(config) -> None:
    """The document states the body limits app/wrappers.py enforces, from their settings."""
    info = api.spec.options["info"]
    limits = (
        f" A request body over {config['MAX_CONTENT_LENGTH']:,} bytes is 413, whether it is"
        " sent with Content-Length or chunked; a JSON body nesting arrays and objects more"
        f" than {config['JSON_MAX_DEPTH']} deep (JSON_MAX_DEPTH) is 400."
    )
    api.spec.options["info"] = {**info, "description": info["description"] + limits}


API_PATH_PREFIX = "/api/v1"  # the API blueprint's url_prefix, as openapi.json's paths start


def link(method: str, path: str, description: str, **parameters: str) -> dict:
    """An OpenAPI link to the operation ``method path`` (path as in the document, less the
    prefix), its parameters taken from this request or response (runtime expressions)."""
    pointer = (API_PATH_PREFIX + path).replace("~", "~0").replace("/", "~1")
    return {
        "operationRef": f"#/paths/{pointer}/{method.lower()}",
        "parameters": parameters,
        "description": description,
    }


def links(status: int, **named_links: dict) -> dict:
    """``bp.doc(**links(201, GetOrder=link(...)))``: links on one response of an operation."""
    return {"responses": {status: {"links": named_links}}}


def error_responses(blp, *statuses: int, rules: dict[int, str] | None = None):
    """Document the error statuses a view can answer, with the shared error schema.

    ``rules`` describes the statuses that a request valid by the document can still get, from
    rules no JSON schema can state (an empty cart, a declined card, an unknown category), so
    that a generated client expects them."""

    rules = rules or {}

    def decorator(view):
        for status in sorted({*statuses, *rules}):
            if status in rules:
                description = f"{HTTPStatus(status).phrase}. {rules[status]}"
                view = blp.alt_response(status, schema=ErrorSchema, description=description)(view)
            else:
                view = blp.alt_response(status, response=HTTPStatus(status).name)(view)
        return view

    return decorator
