"""API tokens are read from the Authentication-Token header only.

Flask-Security's request loader also takes ``?auth_token=`` from the query string (which
ends up in access logs, browser history and Referer headers) and ``auth_token`` from a JSON
body, preferring them over the header. A request that carries the token there is not
authenticated at all, even with the header beside it: the client must be fixed.
"""

from flask import Flask, current_app

from app.extensions import security


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
        return loader(request)

    return load_user_from_header


def init_app(app: Flask) -> None:
    """Call after ``security.init_app``, which installs the loader being wrapped."""
    manager = security.login_manager  # the one security.init_app(app) just made
    manager.request_loader(header_only(manager.request_callback))
