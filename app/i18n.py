"""Languages: the site in English and German (Flask-Babel).

A request's locale is the visitor's choice (the ``locale`` cookie the language selector sets),
else the best of ``Accept-Language``, else the first of LANGUAGES. It is read from the
request's headers alone, so the page cache (a WSGI middleware, before Flask) keys its entries
on the same locale the app renders in. Our catalogue is app/translations/; Flask-Security
brings its own for its pages and e-mails.
"""

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime

from flask import Flask, current_app, has_request_context, request
from flask_babel import force_locale, format_date, format_time
from werkzeug.datastructures import LanguageAccept
from werkzeug.http import parse_accept_header, parse_cookie
from werkzeug.wrappers import Response

from app.countries import country_name
from app.extensions import babel
from app.money import format_money

LOCALE_COOKIE = "locale"
LOCALE_COOKIE_AGE = 365 * 24 * 3600  # seconds: a choice kept a year
ENVIRON_KEY = "storefront.locale"  # the request's locale, once worked out


def locale_for(environ: Mapping, languages: Mapping[str, str]) -> str:
    """The locale of a request (its WSGI environ) among ``languages`` (locale -> name)."""
    cookies = environ.get("HTTP_COOKIE", "")
    if LOCALE_COOKIE in cookies:  # most requests: no parsing
        chosen = parse_cookie(cookies).get(LOCALE_COOKIE)
        if chosen is not None and chosen in languages:
            return chosen
    header = environ.get("HTTP_ACCEPT_LANGUAGE")
    if header:
        best = parse_accept_header(header, LanguageAccept).best_match(list(languages))
        if best:
            return best
    return next(iter(languages))


_FORCED: ContextVar[str | None] = ContextVar("storefront_locale", default=None)


@contextmanager
def in_locale(locale: str | None) -> Iterator[None]:
    """Text, money and dates in ``locale`` (None: the default language) inside the block,
    whoever's request this is: an order's e-mails are in the customer's language."""
    locale = locale if locale in current_app.config["LANGUAGES"] else None
    locale = locale or default_locale()
    token = _FORCED.set(locale)
    try:
        with force_locale(locale):
            yield
    finally:
        _FORCED.reset(token)


def default_locale() -> str:
    """The shop's default language: the first of LANGUAGES (the catalogue's own texts)."""
    return next(iter(current_app.config["LANGUAGES"]))


def current_locale() -> str:
    """This request's locale ("en", "de_DE"), worked out once and kept in its environ (the page
    cache's middleware may have put it there); the default outside a request. Flask-Babel
    asks it too, only when a message is translated."""
    forced = _FORCED.get()
    if forced is not None:
        return forced
    languages = current_app.config["LANGUAGES"]
    if not has_request_context():  # a command, an e-mail sent by a job: the default
        return next(iter(languages))
    environ = request.environ
    locale = environ.get(ENVIRON_KEY)
    if locale is None:
        locale = environ[ENVIRON_KEY] = locale_for(environ, languages)
    return locale


def keep_choice(response: Response, locale: str) -> None:
    """The browser keeps ``locale`` as the visitor's choice, a year."""
    response.set_cookie(
        LOCALE_COOKIE,
        locale,
        max_age=LOCALE_COOKIE_AGE,
        secure=current_app.config["SESSION_COOKIE_SECURE"],
        httponly=True,
        samesite="Lax",
    )


def country(code: str) -> str:
    """A country's name in this request's language: ``{{ "DE"|country_name }}``."""
    return country_name(code, current_locale())


def moment(when: datetime) -> str:
    """The ``moment`` filter: a date and time (UTC, naive) as this request's language writes
    it, in BABEL_DEFAULT_TIMEZONE ("Dec 5, 2026, 4:00 AM", "05.12.2026, 04:00")."""
    return f"{format_date(when, 'medium')}, {format_time(when, 'short')}"


def money(cents: int, currency: str) -> str:
    """The ``money`` filter: an amount as this request's language writes it ("€12.50",
    "12,50 €")."""
    return format_money(cents, currency, current_locale())


def init_app(app: Flask) -> None:
    babel.init_app(app, locale_selector=current_locale)
    app.jinja_env.globals["current_locale"] = current_locale
