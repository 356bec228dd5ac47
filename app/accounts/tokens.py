"""API tokens are read from the Authentication-Token header only.

Flask-Security's request loader also takes ``?auth_token=`` from the query string (which
ends up in access logs, browser history and Referer headers) and ``auth_token`` from a JSON
body, preferring them over the header. A request that carries the token there is not
authenticated at all, even with the header beside it: the client must be fixed.

The loader also reads any exception while it looks the token's user up as "no user", so a
database outage would answer a valid token with 401 (and a client might throw the token
away). A database error met while loading is raised again: the outage's 503.
"""

from contextvars import ContextVar

from flask import Flask, current_app
from sqlalchemy import Engine, event
from sqlalchemy.exc import StatementError

from app.extensions import security

# The database errors met by the loader running in this thread now; None when none runs.
_loader_errors: ContextVar[list[StatementError] | None] = ContextVar(
    "token_loader_errors", default=None
)


@event.listens_for(Engine, "handle_error")
def _remember_loader_error(context) -> None:
    errors = _loader_errors.get()
    if errors is not None and context.sqlalchemy_exception is not None:
        errors.append(context.sqlalchemy_exception)


def _token_outside_header(request) -> bool:
    key = current_app.config["SECURITY_TOKEN_AUTHENTICATION_KEY"]
    if key in request.args:
        return True
    if request.is_json:
        body = request.get_json(silent=True)
        return isinstance(body, dict) and key in body
    return False


def header_only(loader):
    """Wrap Flask-Security's request loader so that only the header can authenticate."""

    def load_user_from_header(request):
        header = current_app.config["SECURITY_TOKEN_AUTHENTICATION_HEADER"]
        if header not in request.headers or _token_outside_header(request):
            return None
        errors: list[StatementError] = []
        watching = _loader_errors.set(errors)
        try:
            user = loader(request)
        finally:
            _loader_errors.reset(watching)
        if user is None and errors:
            raise errors[0]
        return user

    return load_user_from_header


def init_app(app: Flask) -> None:
    """Call after ``security.init_app``, which installs the loader being wrapped."""
    manager = security.login_manager  # the one security.init_app(app) just made
    manager.request_loader(header_only(manager.request_callback))
