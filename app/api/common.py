"""What every API module shares: the auth guard, pagination arguments, the caller."""

from functools import wraps

import marshmallow as ma
from flask import current_app, has_app_context, request
from flask_security import auth_required, current_user
from sqlalchemy.exc import DisconnectionError


def api_auth_required(view):
    """Token or session auth; 401 JSON when neither (see app_factory's unauthn handler).

    The view always has a ``current_user``: Flask-Security's token loader reads a database
    error as "no user", so a request whose user could not be loaded during an outage (by the
    CSRF check, say) and was authenticated a moment later would reach the view with an
    anonymous ``current_user``. That request gets the outage's 503 instead."""
    guarded = auth_required("token", "session")(_with_user(view))
    guarded.requires_authentication = True  # read by the API's CSRF check (api/__init__.py)
    return guarded


def _with_user(view):
    """After an auth guard: 503 when the authenticated user is not there (see above)."""

    @wraps(view)
    def with_user(*args, **kwargs):
        if not current_user.is_authenticated:
            raise DisconnectionError("The authenticated user could not be loaded.")
        return view(*args, **kwargs)

    return with_user


def anyone_or_token_user(view):
    """Anonymous and session callers pass through; a token that does not authenticate is 401,
    not a silent fall-back to an anonymous cart (or a guest's checkout)."""
    token_guarded = auth_required("token")(_with_user(view))

    @wraps(view)
    def wrapper(*args, **kwargs):
        if "Authentication-Token" in request.headers:
            return token_guarded(*args, **kwargs)
        return view(*args, **kwargs)

    return wrapper


def requires_authentication(view) -> bool:
    """Whether a view function is guarded by ``api_auth_required``."""
    return getattr(view, "requires_authentication", False)


class RangeToSetting(ma.validate.Range):
    """``min`` up to the value of a setting, so that the service and the API share one limit.
    A schema is built at import time, before any configuration: the maximum is read when a
    request is validated, and when the factory builds openapi.json (in an app context), so
    the document states this shop's limit."""

    def __init__(self, min: int, setting: str):
        self.setting = setting
        super().__init__(min=min)

    @property  # Range's attribute, read from the configuration
    def max(self):
        return current_app.config[self.setting] if has_app_context() else None

    @max.setter
    def max(self, _value) -> None:
        """Range.__init__ sets ``max``; the setting decides it."""


class PageArgs(ma.Schema):
    """?page=&per_page= (per_page 1 to 100; page at most LISTING_MAX_PAGE)."""

    class Meta:
        unknown = ma.EXCLUDE  # query strings may carry cache-busters and the like

    page = ma.fields.Integer(
        load_default=1,
        validate=RangeToSetting(1, "LISTING_MAX_PAGE"),
        metadata={"description": "At most LISTING_MAX_PAGE (100000 by default)."},
    )
    per_page = ma.fields.Integer(load_default=20, validate=ma.validate.Range(min=1, max=100))


class PageMeta(ma.Schema):
    """A page of a listing (Flask-SQLAlchemy's Pagination, or a page this schema dumped
    before: a dict); ``pages`` is at least 1."""

    @ma.pre_dump
    def from_pagination(self, pagination, **_kwargs):
        if isinstance(pagination, dict):
            return pagination
        return {
            "items": pagination.items,
            "page": pagination.page,
            "per_page": pagination.per_page,
            "total": pagination.total,
            "pages": max(1, pagination.pages),
            "next": getattr(pagination, "next_cursor", None),  # dumped where a schema has it
            "total_capped": getattr(pagination, "capped", False),  # likewise
        }

    page = ma.fields.Integer(required=True)
    per_page = ma.fields.Integer(required=True)
    total = ma.fields.Integer(required=True)
    pages = ma.fields.Integer(required=True)


class FullMatch(ma.validate.Regexp):
    """Regexp over the whole value. marshmallow's Regexp uses re.match, whose ``$`` also
    matches before a final newline: "EUR\\n" would pass ``^[A-Z]{3}$``. The pattern is still
    documented in openapi.json (ECMA-262's ``$`` is the end of the input)."""

    def __call__(self, value):
        if self.regex.fullmatch(value) is None:
            raise ma.ValidationError(self._format_error(value))
        return value
