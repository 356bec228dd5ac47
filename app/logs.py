"""Logging: one handler on the root logger, text or JSON (LOG_FORMAT), every record with its
context and nothing secret.

The context: ``request_id`` (the request's X-Request-ID, or one made for it; echoed on the
response), ``user_id`` once a user is logged in, and what a service or job binds for the rest
of its app context (a request's, a job's, a command's): ``bind(order="SF-...")``. Outside
requests (commands, the worker) records carry whatever is bound, no request id.

Redaction happens on the formatted line, whatever logged it (a library's message, an
exception's text): card numbers, passwords, CSRF and API tokens, Authorization values, the
tokens of reset and confirmation links (any signed token), and the app's own secrets.
"""

import json
import logging
import re
import sys
import uuid
from collections.abc import Callable, Iterable, Mapping
from contextvars import ContextVar
from types import MappingProxyType
from typing import Any

from flask import Flask, g, has_app_context, has_request_context
from flask.logging import default_handler
from pythonjsonlogger.json import JsonFormatter
from sqlalchemy import inspect

HANDLER_NAME = "storefront"
G_FIELDS = "_log_fields"  # what is bound in an app context, on its g
REQUEST_ID_HEADER = "X-Request-ID"
REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
# The fields the text format shows, in this order (JSON has every bound field).
TEXT_FIELDS = ("request_id", "user_id", "order", "job")
REDACTED = "[REDACTED]"
# Settings whose values never appear in a log line.
SECRET_SETTINGS = (
    "SECRET_KEY",
    "SECURITY_PASSWORD_SALT",
    "SECURITY_TOTP_SECRETS",
    "SECURITY_MULTI_FACTOR_RECOVERY_CODES_KEYS",
    "STRIPE_SECRET_KEY",
    "STRIPE_WEBHOOK_SECRET",
    "MAIL_PASSWORD",
    "METRICS_TOKEN",
    "MEDIA_S3_SECRET_ACCESS_KEY",
)
SECRET_MIN_LENGTH = 8  # shorter values would redact ordinary words

_fields: ContextVar[MappingProxyType[str, Any]] = ContextVar(
    "log_fields", default=MappingProxyType({})
)

# A card number: 12-19 digits, single spaces or dashes between them, not part of a longer word
# (a uuid's digits are next to letters; a fraction's, to a point).
CARD_NUMBER = re.compile(r"(?<![\w-])(?<!\d\.)\d(?:[ -]?\d){11,18}(?![\w-]|\.\d)")
# key=value, key: value, "key": "value", 'key': 'value' (a dict's repr, JSON, a header, a query).
# The names of fields whose values are secret (a pattern, not a password).
SECRET_NAMES = "|".join(
    ("password", "passwd", "csrf_token", "csrf-token", "secret_key", "authorization", "token")
)
SECRET_NAME = re.compile(rf"(?i){SECRET_NAMES}")
SECRET_VALUE = re.compile(
    rf"(?i)([\w-]*(?:{SECRET_NAMES})[\w-]*\\?[\"']?\s*[:=]\s*)"
    r"(\\\"(?:[^\"\\]|\\[^\"])*\\\"|\"[^\"]*\"|'[^']*'|(?:(?:bearer|basic)\s+)?[^\s\"'&,;}\\]+)"
)
LINK_TOKEN = re.compile(r"(/(?:reset|confirm|us-signin|verify|tf-validate|guest)/)[^/\s\"'?#\\]+")
# itsdangerous's signed values (a reset, a confirmation, an API token, a guest's order link).
# Its signature is base64: capitals or digits, which a Python name (a traceback's) has not.
SIGNED = re.compile(r"[\w-]{8,}\.[\w-]{4,}\.(?=[\w-]*[A-Z0-9])[\w-]{20,}")


class bind:  # noqa: N801  (used as a function: bind(order=...), or `with bind(...):`)
    """Add ``fields`` to every record until the current app context ends (a request's, a
    job's, a command's), or the ``with`` block used as one."""

    def __init__(self, **fields: Any):
        self._in_app = has_app_context()
        self._previous = _bound()
        _set_bound(MappingProxyType({**self._previous, **fields}))

    def __enter__(self) -> "bind":
        return self

    def __exit__(self, *_exc: object) -> None:
        if self._in_app == has_app_context():
            _set_bound(self._previous)


def _bound() -> Mapping[str, Any]:
    """What is bound in the current app context (it ends with it), else outside any."""
    if has_app_context():
        return g.get(G_FIELDS, MappingProxyType({}))
    return _fields.get()


def _set_bound(fields: Mapping[str, Any]) -> None:
    if has_app_context():
        setattr(g, G_FIELDS, fields)
    else:
        _fields.set(MappingProxyType(dict(fields)))


def context() -> dict[str, Any]:
    """The fields of records logged now: the request's id, what is bound, the logged-in user."""
    fields = dict(_fields.get())
    if has_app_context():
        fields.update(g.get(G_FIELDS, {}))
    if has_request_context():
        user = g.get("_login_user")  # Flask-Login's, once loaded: never loaded for a log line
        # The row's identity only: asking is_authenticated would read an expired user again,
        # a query inside a log call (which fails with the database it is logging about).
        state = inspect(user, raiseerr=False) if user is not None else None
        if state is not None and state.identity:
            fields["user_id"] = state.identity[0]
    return fields


class ContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        for name, value in context().items():
            if not hasattr(record, name):
                setattr(record, name, value)
        return True


class Redactor:
    """Takes secrets out of a formatted line."""

    def __init__(self, secrets: Iterable[str]):
        literal = set()
        for secret in secrets:
            literal |= {secret, json.dumps(secret)[1:-1]}
        self.literal = sorted(literal, key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for secret in self.literal:
            text = text.replace(secret, REDACTED)
        text = LINK_TOKEN.sub(rf"\1{REDACTED}", text)
        text = SIGNED.sub(REDACTED, text)
        text = SECRET_VALUE.sub(_redacted_value, text)
        return CARD_NUMBER.sub(REDACTED, text)


def _redacted_value(match: re.Match) -> str:
    """The name and its separator as they were; a quoted value keeps its quotes."""
    value = match.group(2)
    for quote in ('\\"', '"', "'"):
        if len(value) >= 2 * len(quote) and value.startswith(quote) and value.endswith(quote):
            return f"{match.group(1)}{quote}{REDACTED}{quote}"
    return f"{match.group(1)}{REDACTED}"


class TextFormatter(logging.Formatter):
    def __init__(self, redact: Redactor):
        super().__init__("%(asctime)s %(levelname)s %(name)s%(context)s: %(message)s")
        self.redact = redact

    def format(self, record: logging.LogRecord) -> str:
        shown = [f"{name}={getattr(record, name)}" for name in TEXT_FIELDS if hasattr(record, name)]
        record.context = f" [{' '.join(shown)}]" if shown else ""
        return self.redact(super().format(record))


class JsonLogFormatter(JsonFormatter):
    """Redacts each value before it is serialized: the line is always valid JSON."""

    def __init__(self, redact: Redactor):
        super().__init__(
            "%(asctime)s %(levelname)s %(name)s %(message)s",
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
            reserved_attrs=[*JsonFormatter().reserved_attrs, "context"],
        )
        self.redact = redact

    def process_log_record(self, log_data: dict) -> dict:
        return self._redacted(log_data)

    def _redacted(self, value: Any, name: str = "") -> Any:
        if isinstance(value, dict):
            return {key: self._redacted(item, str(key)) for key, item in value.items()}
        if isinstance(value, list | tuple):
            return [self._redacted(item, name) for item in value]
        if SECRET_NAME.search(name) and value is not None:
            return REDACTED
        if value is None or isinstance(value, bool | int | float):
            return value
        return self.redact(str(value))


class CurrentStderr:
    """sys.stderr as it is when a line is written (a test runner swaps it)."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


def log_format(config: Any) -> str:
    """LOG_FORMAT, or its default: json in production, text elsewhere."""
    chosen = config["LOG_FORMAT"] or ("json" if config["ENV"] == "production" else "text")
    if chosen not in ("text", "json"):
        raise ValueError(f"LOG_FORMAT must be 'text' or 'json', not {chosen!r}.")
    return chosen


def log_level(config: Any) -> str:
    """LOG_LEVEL, or its default: INFO in production, WARNING elsewhere (tests, commands)."""
    return config["LOG_LEVEL"] or ("INFO" if config["ENV"] == "production" else "WARNING")


def init_app(app: Flask) -> logging.Handler:
    """The root logger's handler (replacing an earlier app's), at LOG_LEVEL."""
    redact = Redactor(_secret_values(app.config))
    handler = logging.StreamHandler(CurrentStderr())
    handler.set_name(HANDLER_NAME)
    handler.addFilter(ContextFilter())
    if log_format(app.config) == "json":
        handler.setFormatter(JsonLogFormatter(redact))
    else:
        handler.setFormatter(TextFormatter(redact))
    root = logging.getLogger()
    for earlier in [h for h in root.handlers if h.get_name() == HANDLER_NAME]:
        root.removeHandler(earlier)
    root.addHandler(handler)
    root.setLevel(log_level(app.config))
    app.logger.removeHandler(default_handler)  # the root's handler writes the app's records
    return handler


def _secret_values(config: Any) -> list[str]:
    values: list[str] = []
    for key in SECRET_SETTINGS:
        value = config.get(key)
        if isinstance(value, dict):
            items = list(value.values())
        elif isinstance(value, list | tuple):
            items = list(value)
        else:
            items = [value]
        for item in items:
            text = item.decode("utf-8", "replace") if isinstance(item, bytes) else item
            if isinstance(text, str) and len(text) >= SECRET_MIN_LENGTH:
                values.append(text)
    return values


def request_id_from(environ: dict) -> str:
    """The request's id: its X-Request-ID when that is 1-64 of [A-Za-z0-9._-], else a new one."""
    given = environ.get("HTTP_X_REQUEST_ID", "")
    return given if REQUEST_ID.fullmatch(given) else uuid.uuid4().hex


class RequestIds:
    """WSGI middleware, outermost: each request's id, bound for its records and echoed on its
    response (pages the page cache serves included; never stored with them)."""

    def __init__(self, wsgi_app: Callable):
        self.wsgi_app = wsgi_app

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        request_id = environ["storefront.request_id"] = request_id_from(environ)

        def with_request_id(status, headers, exc_info=None):
            headers = [(k, v) for k, v in headers if k.lower() != "x-request-id"]
            return start_response(status, [*headers, (REQUEST_ID_HEADER, request_id)], exc_info)

        token = _fields.set(MappingProxyType({"request_id": request_id}))
        try:
            return self.wsgi_app(environ, with_request_id)
        finally:
            _fields.reset(token)
