"""Redirect targets that come from requests (``next``, the back office's ``url``): paths on
this site, nothing else."""

import re

from flask import Flask, abort, current_app, request
from flask_security.utils import validate_redirect_url

# C0 controls, DEL and C1 controls. urlsplit() silently drops CR, LF and tab, so a check built
# on it (Flask-Security's validate_redirect_url) lets them through; a Location header built
# from them makes Werkzeug raise (a 500), and browsers drop them too ("/\t/evil" is "//evil").
CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def is_safe_redirect(target: str | None) -> bool:
    """A same-site path: one leading slash, no control characters, no backslash, and
    Flask-Security's validate_redirect_url agrees (no host, no scheme, no "///" tricks).

    Backslashes are refused here because browsers read "/\\evil" as "//evil" and
    validate_redirect_url lets that through (Flask-Security quotes the path it redirects to
    instead; we redirect to the target as it is)."""
    return bool(
        target
        and not CONTROL_CHARACTERS.search(target)
        and target.startswith("/")
        and "\\" not in target
        and validate_redirect_url(target)
    )


def safe_next(target: str | None, default: str) -> str:
    """``target`` when it is a safe redirect (see is_safe_redirect), else ``default``."""
    return target if target is not None and is_safe_redirect(target) else default


def _values(name: str) -> list[str]:
    values = request.args.getlist(name) + request.form.getlist(name)
    body = request.get_json(silent=True) if request.is_json else None
    if isinstance(body, dict) and body.get(name) is not None:
        values.append(str(body[name]))
    return values


def refuse_control_characters_in_next():
    """Flask-Security's own views (login, logout, register, 2FA...) read ``next`` from the query
    string, the form or a JSON body and only check where it points: refuse control characters
    before they run (400). Off-site targets are theirs to refuse, as they already do."""
    if any(CONTROL_CHARACTERS.search(value) for value in _values("next")):
        abort(400, "The redirect target (next) contains control characters.")


def refuse_control_characters_in_admin_url():
    """Flask-Admin's views go back to their ``url`` argument after a save or delete; it checks
    the host only, so "/x\r\n..." made a 500. Refuse control characters there too (400)."""
    prefixes = current_app.extensions.get("storefront.admin_prefixes")
    if prefixes is None:  # every Flask-Admin is registered by the first request
        admins = current_app.extensions.get("admin", [])
        prefixes = current_app.extensions["storefront.admin_prefixes"] = tuple(
            admin.url for admin in admins
        )
    path = request.path
    in_admin = any(path == p or path.startswith(f"{p}/") for p in prefixes)
    if in_admin and any(CONTROL_CHARACTERS.search(value) for value in _values("url")):
        abort(400, "The return address (url) contains control characters.")


def init_app(app: Flask) -> None:
    """Guard Flask-Security's blueprint (call after ``security.init_app``) and the back office;
    templates get the ``safe_redirect`` test, so they only pass a safe ``next`` on."""
    blueprint = app.config["SECURITY_BLUEPRINT_NAME"]
    app.before_request_funcs.setdefault(blueprint, []).append(refuse_control_characters_in_next)
    app.before_request(refuse_control_characters_in_admin_url)
    app.jinja_env.tests["safe_redirect"] = is_safe_redirect
