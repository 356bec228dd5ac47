"""Domain exceptions and the handlers that turn errors into HTML pages or JSON."""

import math
import re
import time

from flask import current_app, g, jsonify, render_template, request
from flask_babel import format_number, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import DisconnectionError, InterfaceError, OperationalError, SQLAlchemyError
from werkzeug.exceptions import (
    HTTPException,
    InternalServerError,
    MethodNotAllowed,
    ServiceUnavailable,
)
from werkzeug.http import HTTP_STATUS_CODES

from app.extensions import db, limiter


class DomainError(Exception):
    """Base of the errors services raise; each maps to one HTTP status and code."""

    status = 400
    code = "bad_request"
    retry_after: int | None = None  # seconds, sent as Retry-After (e.g. a provider's outage)

    def __init__(self, message: str, fields: dict[str, list[str]] | None = None):
        super().__init__(message)
        self.message = message
        self.fields = fields


class ValidationFailed(DomainError):
    status = 422
    code = "validation_failed"


class AuthenticationFailed(DomainError):
    status = 401
    code = "unauthorized"


class NotFound(DomainError):
    status = 404
    code = "not_found"


class Conflict(DomainError):
    status = 409
    code = "conflict"


class OutOfStock(Conflict):
    code = "out_of_stock"


class InvalidTransition(Conflict):
    code = "invalid_transition"


class Unavailable(DomainError):
    """Nothing was done, and the same request may well succeed in ``retry_after`` seconds."""

    status = 503
    code = "service_unavailable"

    def __init__(self, message: str, retry_after: int):
        super().__init__(message)
        self.retry_after = retry_after


# The API's snake_case code for a plain HTTP error is werkzeug's phrase for its status
# ("Method Not Allowed" -> "method_not_allowed"), except where the API has its own name.
CODE_OVERRIDES = {
    413: "payload_too_large",  # werkzeug: Request Entity Too Large
    422: "validation_failed",  # werkzeug: Unprocessable Entity
    500: "internal_error",  # werkzeug: Internal Server Error
}


def http_code(status: int) -> str:
    """The API's code for an HTTP status: ``http_code(404)`` -> ``"not_found"``."""
    if status in CODE_OVERRIDES:
        return CODE_OVERRIDES[status]
    phrase = HTTP_STATUS_CODES.get(status)
    return re.sub(r"[^a-z]+", "_", phrase.lower()).strip("_") if phrase else "error"


def wants_json() -> bool:
    """The API and the providers' webhooks answer errors in JSON; pages in HTML."""
    return request.path.startswith(("/api/", "/webhooks/"))


def json_error(status: int, message: str, code: str | None = None, fields=None):
    """The API's one error shape: ``{"error": {"status", "code", "message"[, "fields"]}}``."""
    error = {"status": status, "code": code or http_code(status), "message": message}
    if fields:
        error["fields"] = fields
    return jsonify(error=error), status


def handle_domain_error(error: DomainError):
    if wants_json():
        response = json_error(error.status, error.message, error.code, error.fields)
    else:
        response = render_error_page(error.status, error.message)
    if error.retry_after is None:
        return response
    response = current_app.make_response(response)
    response.headers["Retry-After"] = str(error.retry_after)
    return response


def _field_messages(messages) -> dict[str, list[str]]:
    """webargs' {"json": {"field": ["msg"]}} (possibly nested) as {"field": ["msg"]}."""
    fields: dict[str, list[str]] = {}

    def walk(prefix, value):
        if isinstance(value, dict):
            for key, sub in value.items():
                walk(f"{prefix}.{key}" if prefix else str(key), sub)
        else:
            fields.setdefault(prefix or "_schema", []).extend(str(v) for v in value)

    for location_messages in messages.values():
        walk("", location_messages)
    return fields


# An error page's title and what it says, in the visitor's language, where werkzeug's own
# (English, written for developers) would show: ``abort(404)``, an unknown URL.
PAGE_TITLES = {  # werkzeug's names in English
    400: _l("Bad Request"),
    403: _l("Forbidden"),
    404: _l("Not Found"),
    405: _l("Method Not Allowed"),
    413: _l("Request Entity Too Large"),
    429: _l("Too Many Requests"),
    500: _l("Internal Server Error"),
    503: _l("Service Unavailable"),
}
PAGE_MESSAGES = {
    400: _l("The request could not be understood. Go back and try again."),
    403: _l("You do not have access to this page."),
    404: _l("There is no page at this address. Check it, or start again from the home page."),
    405: _l("This page cannot be used this way."),
    500: _l("Sorry, something went wrong on our side. Please try again in a moment."),
}


def handle_http_exception(error: HTTPException):
    if isinstance(error, InternalServerError):
        # Flask's 500 around what escaped every handler of ours (an after-request hook).
        outage = _outage_behind(error)
        if outage is not None:
            return handle_database_error(outage)
    if error.code == 304:
        return "", 304
    message = error.description or error.name
    if error.description == type(error).description and error.code in PAGE_MESSAGES:
        message = str(PAGE_MESSAGES[error.code])  # werkzeug's own: ours, translated
    if error.code == 429:
        message = _(
            "Too many attempts (%(limit)s). %(retry)s",
            limit=error.description,
            retry=_when_to_retry(),
        )
    if error.code == 413:
        limit = request.max_content_length or 0
        message = _(
            "The request body is over the %(limit)s bytes this site accepts.",
            limit=format_number(limit),
        )
    data = getattr(error, "data", None) or {}
    if wants_json() and error.code == 422 and "messages" in data:
        return json_error(
            422, _("Some fields are invalid."), fields=_field_messages(data["messages"])
        )
    if wants_json():
        response = json_error(error.code or 500, message)
        if isinstance(error, MethodNotAllowed) and error.valid_methods:
            response[0].headers["Allow"] = ", ".join(error.valid_methods)
        return response
    return render_error_page(error.code or 500, message)


def _when_to_retry() -> str:
    """The wait Flask-Limiter also sends as Retry-After (``RATELIMIT_HEADERS_ENABLED``)."""
    limit = limiter.current_limit
    if limit is None:
        return _("Wait a little and try again.")
    seconds = max(1, int(limit.reset_at - time.time()))
    if seconds < 120:
        return ngettext("Try again in %(num)d second.", "Try again in %(num)d seconds.", seconds)
    return _("Try again in %(num)d minutes.", num=math.ceil(seconds / 60))


def handle_unexpected_error(error: Exception):
    """Last resort: log the traceback, show the user a plain 500 (a 503 when a database
    outage lies behind it, e.g. SQLAlchemy refusing a session whose connection died)."""
    outage = _outage_behind(error)
    if outage is not None and outage is not error:
        return handle_database_error(outage)
    current_app.logger.exception("Unhandled error on %s %s", request.method, request.path)
    return handle_http_exception(InternalServerError())


# Connection-level failures: the database is down, restarting, unreachable or full. Anything
# else (a syntax error, a missing table, a constraint) is a bug and stays a logged 500.
MYSQL_UNAVAILABLE = {
    1040,  # too many connections
    1053,  # server shutdown in progress
    1927,  # connection killed
    2002,  # can't connect through the socket
    2003,  # can't connect to the host
    2005,  # unknown host
    2006,  # server has gone away
    2013,  # lost connection during query
    2055,  # lost connection (extended)
}
SQLITE_UNAVAILABLE = ("SQLITE_CANTOPEN", "SQLITE_IOERR", "SQLITE_BUSY", "SQLITE_FULL")
# MariaDB's answers to transactions that lock the same rows in different orders: the whole
# transaction may succeed when run again (app.transactions does; a 503 where nothing does).
ER_LOCK_WAIT_TIMEOUT = 1205
ER_LOCK_DEADLOCK = 1213
LOCK_CONFLICTS = frozenset({ER_LOCK_WAIT_TIMEOUT, ER_LOCK_DEADLOCK})


def _mysql_code(error: OperationalError) -> int | None:
    orig = error.orig
    return orig.args[0] if orig is not None and orig.args else None


def is_lock_conflict(error: BaseException) -> bool:
    """True for a deadlock or a lock-wait timeout."""
    return isinstance(error, OperationalError) and _mysql_code(error) in LOCK_CONFLICTS


def busy() -> Unavailable:
    """The answer to a lock conflict that was not retried, or retried in vain: try again."""
    return Unavailable(
        _("The shop is very busy right now: nothing was changed. Please try again."),
        retry_after=current_app.config["TRANSACTION_RETRY_AFTER"],
    )


def database_unavailable(error: SQLAlchemyError) -> bool:
    """True when the error says the database cannot be reached, not that the SQL is wrong."""
    if isinstance(error, DisconnectionError | InterfaceError):
        return True
    if not isinstance(error, OperationalError):
        return False
    if error.connection_invalidated:
        return True
    orig = error.orig
    if getattr(orig, "sqlite_errorname", "").startswith(SQLITE_UNAVAILABLE):
        return True
    return _mysql_code(error) in MYSQL_UNAVAILABLE


def _outage_behind(error: BaseException) -> SQLAlchemyError | None:
    """The database outage that ``error`` stands for: itself, the exception Flask wrapped in
    its 500 (``original_exception``), or one it was raised from or while handling."""
    current: BaseException | None = getattr(error, "original_exception", None) or error
    seen: set[int] = set()
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, SQLAlchemyError) and database_unavailable(current):
            return current
        current = current.__cause__ or current.__context__
    return None


def handle_database_error(error: SQLAlchemyError):
    """A database outage is 503 with Retry-After; the pool reconnects once it is back. So is
    a lock conflict outside any unit of work (app.transactions retries those inside one)."""
    if is_lock_conflict(error):
        current_app.logger.warning("Lock conflict on %s %s", request.method, request.path)
        db.session.rollback()
        return handle_domain_error(busy())
    if not database_unavailable(error):
        return handle_unexpected_error(error)
    current_app.logger.warning(
        "Database unavailable on %s %s: %s",
        request.method,
        request.path,
        getattr(error, "orig", None) or error,
    )
    try:
        db.session.rollback()
    except SQLAlchemyError:
        pass  # the connection is gone; the session is removed at teardown anyway
    # The page must not ask the database who is logged in: render it for a visitor.
    g._login_user = current_app.login_manager.anonymous_user()  # type: ignore[attr-defined]
    unavailable = ServiceUnavailable(
        _("The shop cannot reach its database right now. Please try again in a moment.")
    )
    response = current_app.make_response(handle_http_exception(unavailable))
    response.headers["Retry-After"] = str(current_app.config["DATABASE_RETRY_AFTER"])
    return response


def render_error_page(status: int, message: str):
    """The error page: its title is the status's, in the visitor's language."""
    title = PAGE_TITLES.get(status) or http_code(status).replace("_", " ").capitalize()
    return render_template("errors/error.html", status=status, title=title, message=message), status


def register_errorhandlers(app):
    app.register_error_handler(DomainError, handle_domain_error)
    app.register_error_handler(HTTPException, handle_http_exception)
    for error in (OperationalError, InterfaceError, DisconnectionError):
        app.register_error_handler(error, handle_database_error)
    app.register_error_handler(Exception, handle_unexpected_error)
