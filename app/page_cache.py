"""Whole responses of catalogue reads, shared by every visitor (Flask-Caching's store).

A view opts in with ``@shared``. The cache itself is a WSGI middleware in front of the app:
a hit costs a cache look-up and no Flask request at all.

- **Who is served from it.** GET and HEAD requests of anonymous visitors and of members
  signed in by their session: no ``Authorization`` or ``Authentication-Token`` header, no
  ``auth_token`` argument, a session holding nothing but a CSRF token and Flask-Login's and
  Flask-Security's sign-in keys (``SHAREABLE_SESSION_KEYS``: no flash message), and no
  remember-me cookie unless the session signs the member in (then Flask-Login ignores it).
  Everyone else is answered by the app. A shared page has nobody's parts: served to a
  member, their links in the header come from ``/account/menu`` (``static/visitor.js``, in
  browsers carrying the ``MEMBER_COOKIE`` that app/accounts/menu.py keeps), and a form's
  token from ``/csrf-token``, as for anyone.
- **What is stored.** Only a 200 that a ``@shared`` view marked ``Cache-Control: public``
  (it does so for anonymous visitors only), with no ``Set-Cookie``: no CSRF token, cart,
  e-mail address or flash message can be in it, since each of those is per visitor and is
  either left out of shared pages (``g.shared_page``; forms fetch their token,
  ``static/visitor.js``) or sets a cookie.
- **The key.** Method-free (HEAD uses GET's entry): Host, path, query string, Accept,
  Accept-Encoding (a compressed response is stored as sent), the locale and the currency.
- **Time.** An entry lives ``CACHE_DEFAULT_TIMEOUT`` seconds at most, and no later than the
  moment its page changes by itself (``fresh_until``: a sale starts or ends).
- **Invalidation.** Every entry records the catalogue's generation, a random value replaced
  after each commit that wrote a watched model (``watch``), through the ORM's objects or an
  INSERT, UPDATE or DELETE statement.
  An entry of an older generation is a miss. The generation lives in the same store, so every
  worker and every app server sharing Redis sees a change on its next request.
"""

import hashlib
import logging
import re
import secrets
import time
from collections.abc import Callable, Iterable
from datetime import datetime
from functools import wraps
from typing import Any, TypeVar

from flask import Flask, current_app, g, has_request_context, make_response, request
from flask.sessions import SecureCookieSessionInterface
from flask_security import current_user
from itsdangerous import BadSignature
from sqlalchemy import event
from sqlalchemy.orm import Session
from werkzeug.http import http_date, is_resource_modified, parse_cookie

from app.extensions import cache, limiter
from app.i18n import ENVIRON_KEY, current_locale, locale_for
from app.timestamps import utcnow

log = logging.getLogger(__name__)

GENERATION_KEY = "page-cache-generation"
ANONYMOUS_SESSION_KEYS = frozenset({"csrf_token", "_permanent"})
# A member's session: Flask-Login's user id, freshness and session identifier, and
# Flask-Security's CSRF-cookie state and time of last authentication.
SIGNED_IN_KEYS = frozenset({"_user_id", "_fresh", "_id", "fs_cc", "fs_paa"})
SHAREABLE_SESSION_KEYS = ANONYMOUS_SESSION_KEYS | SIGNED_IN_KEYS
MAX_BODY = 1024 * 1024  # bytes; bigger responses are not stored
NONCE = re.compile(r" ?'nonce-[^']*'")
STALE = "page_cache_stale"  # Session.info flag: a watched model was written
FRESH_UNTIL = "storefront.page_fresh_until"  # WSGI environ: a datetime (UTC) the page changes
SHARED_STORE = "page_cache_shared_store"  # app.extensions: every process sees one store
T = TypeVar("T")
# What makes a GET conditional (or partial): without any, make_conditional only adds a Date.
CONDITIONAL_HEADERS = frozenset(
    {"HTTP_IF_NONE_MATCH", "HTTP_IF_MODIFIED_SINCE", "HTTP_IF_MATCH", "HTTP_IF_RANGE", "HTTP_RANGE"}
)


_date: tuple[int, str] = (0, "")  # the second (Unix time) and its HTTP date


def http_date_now() -> str:
    """Now as an HTTP date, built once a second (werkzeug's costs a page a tenth of its ETag)."""
    global _date
    second = int(time.time())
    if _date[0] != second:
        _date = (second, http_date(second))
    return _date[1]


def shared(view: Callable) -> Callable:
    """A catalogue read: an ETag and conditional answers (304) for everyone, and for anonymous
    visitors a page without per-visitor parts (``g.shared_page``), marked public so that the
    page cache and shared HTTP caches may keep it (``no-cache``: they revalidate each time).
    Members get their own page from the app (their links in the header, their token in the
    forms), or the shared one from the page cache, which ``static/visitor.js`` completes."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        g.shared_page = not current_user.is_authenticated
        response = make_response(view(*args, **kwargs))
        if request.method not in ("GET", "HEAD") or response.status_code != 200:
            return response
        audience = "public" if g.shared_page and "csrf_token" not in g else "private"
        if "Cache-Control" in response.headers:  # the view's own, completed
            setattr(response.cache_control, audience, True)
            response.cache_control.no_cache = True
        else:  # the header itself: werkzeug's CacheControl costs a page as much as its ETag
            response.headers["Cache-Control"] = f"{audience}, no-cache"
        # The page's language (app/i18n.py) comes from Accept-Language or a cookie (the
        # session's Vary: Cookie); the header as a string when the view set none.
        if "Vary" in response.headers:
            response.vary.add("Accept-Language")
        else:
            response.headers["Vary"] = "Accept-Language"
        if not response.get_etag()[0]:
            response.add_etag()
        if CONDITIONAL_HEADERS.isdisjoint(request.environ):  # most requests: nothing to decide
            response.headers["Date"] = http_date_now()
            return response
        return response.make_conditional(request)

    wrapper.catalogue_read = True  # type: ignore[attr-defined]
    return wrapper


@limiter.request_filter
def catalogue_read() -> bool:
    """GET and HEAD of a ``@shared`` view carry no rate limit: the limiter skips them whole
    (its work otherwise costs a catalogue page about a tenth of its time)."""
    view = current_app.view_functions.get(request.endpoint or "")
    return request.method in ("GET", "HEAD") and getattr(view, "catalogue_read", False)


def skip_limiter_on_catalogue_reads(app: Flask) -> None:
    """Flask-Limiter's check before each request and its headers after, skipped for
    catalogue reads. The request filter above lets them through, but only after the limiter
    has looked up every limit that could apply, about a tenth of a cache-off page; this skips
    the look-up too, and the headers of a limit that was never applied. Call it right after
    ``limiter.init_app``."""
    limiter_type = type(limiter)
    hooks = app.before_request_funcs[None]
    [index] = [
        i
        for i, hook in enumerate(hooks)
        if getattr(hook, "__func__", None) is limiter_type._check_request_limit
    ]  # Flask-Limiter registers its check as the app's before_request hook
    check = hooks[index]

    def check_unless_catalogue_read() -> None:
        if not catalogue_read():
            check()

    hooks[index] = check_unless_catalogue_read
    after = app.after_request_funcs[None]
    [index] = [
        i
        for i, hook in enumerate(after)
        if getattr(hook, "func", None) is limiter_type._Limiter__inject_headers  # type: ignore[attr-defined]
    ]  # and its headers as a partial of its private __inject_headers
    inject = after[index]

    def inject_unless_catalogue_read(response: Any) -> Any:
        return response if catalogue_read() else inject(response)

    after[index] = inject_unless_catalogue_read


class Credentials:
    """Where a request can say who sends it: a token (header or argument), or a session or
    remember-me cookie. Looked for by name only, so it may find one that is not there (an
    argument "xauth_token"), never miss one."""

    def __init__(self, app: Flask):
        self.session_cookie = app.config["SESSION_COOKIE_NAME"]
        self.remember_cookie = app.config.get("REMEMBER_COOKIE_NAME", "remember_token")
        self.token_argument = app.config.get("SECURITY_TOKEN_AUTHENTICATION_KEY", "auth_token")
        header = app.config.get("SECURITY_TOKEN_AUTHENTICATION_HEADER", "Authentication-Token")
        self.token_headers = ("HTTP_AUTHORIZATION", "HTTP_" + header.upper().replace("-", "_"))

    def token(self, environ: dict) -> bool:
        return any(
            name in environ for name in self.token_headers
        ) or self.token_argument in environ.get("QUERY_STRING", "")

    def cookie(self, environ: dict) -> bool:
        cookies = environ.get("HTTP_COOKIE", "")
        return self.session_cookie in cookies or self.remember_cookie in cookies


def anonymous_without_credentials(app: Flask) -> None:
    """A request with no credential at all is a visitor's: Flask-Login's user is set to the
    anonymous one before any hook asks, rather than by its loaders (a session-protection
    hash, the token loader), which could find nobody. About a tenth of a cache-off page.
    Call it after Flask-Security's ``init_app``."""
    credentials = Credentials(app)
    anonymous = app.login_manager.anonymous_user  # type: ignore[attr-defined]

    def visitor_unless_credentials() -> None:
        environ = request.environ
        if not credentials.token(environ) and not credentials.cookie(environ):
            g._login_user = anonymous()  # where Flask-Login keeps the request's user

    app.before_request_funcs.setdefault(None, []).insert(0, visitor_unless_credentials)


class PageCacheMiddleware:
    """Serves stored responses to credential-free requests, and stores the app's shareable
    answers to them (see the module docstring)."""

    def __init__(self, app: Flask, store: Any):
        self.app = app
        self.wsgi_app = app.wsgi_app
        self.store = store
        self.credentials = Credentials(app)
        self.session_cookie = self.credentials.session_cookie
        self.remember_cookie = self.credentials.remember_cookie
        self.session_lifetime = int(app.permanent_session_lifetime.total_seconds())
        self.timeout = app.config["CACHE_DEFAULT_TIMEOUT"]
        self.languages = app.config["LANGUAGES"]
        self.currency = app.config["SHOP_CURRENCY"]  # the shop's one currency

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        if not self._servable(environ):
            return self.wsgi_app(environ, start_response)
        key = self._key(environ)
        try:
            generation, entry = self.store.get_many(GENERATION_KEY, key)
            if generation is None:
                generation = new_generation(self.store)
        except Exception:  # the store is down: serve from the app, uncached
            log.warning("page cache unavailable", exc_info=True)
            return self.wsgi_app(environ, start_response)
        if entry is not None and entry[0] == generation:
            return self._replay(environ, start_response, entry)
        return self._fill(environ, start_response, key, generation)

    def _servable(self, environ: dict) -> bool:
        if environ["REQUEST_METHOD"] not in ("GET", "HEAD"):
            return False
        if self.credentials.token(environ):
            return False
        if not self.credentials.cookie(environ):
            return True
        cookies = environ.get("HTTP_COOKIE", "")
        session = self._session(environ)
        if session is None or not set(session) <= SHAREABLE_SESSION_KEYS:
            return False
        # A remember-me cookie signs in only a browser whose session does not: the app's.
        return self.remember_cookie not in cookies or "_user_id" in session

    def _session(self, environ: dict) -> dict | None:
        """The session cookie's data ({} without one, or for one that does not verify, as to
        Flask); None when it cannot be read here (server-side sessions, not a dict)."""
        value = parse_cookie(environ).get(self.session_cookie)
        if value is None:
            return {}
        interface = self.app.session_interface
        if not isinstance(interface, SecureCookieSessionInterface):
            return None  # server-side sessions: not decoded here
        serializer = interface.get_signing_serializer(self.app)
        try:
            data = serializer.loads(value, max_age=self.session_lifetime)  # type: ignore[union-attr]
        except BadSignature:
            return {}
        return data if isinstance(data, dict) else None

    def _key(self, environ: dict) -> str:
        parts = (
            environ.get("HTTP_HOST", ""),
            environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", ""),
            environ.get("QUERY_STRING", ""),
            environ.get("HTTP_ACCEPT", ""),
            environ.get("HTTP_ACCEPT_ENCODING", ""),  # Flask-Compress: identity, gzip, br...
            self._locale(environ),
            self.currency,
        )
        digest = hashlib.sha256("\n".join(parts).encode("utf-8", "surrogateescape"))
        return "page:" + digest.hexdigest()

    def _locale(self, environ: dict) -> str:
        """The request's locale as the app works it out (app/i18n.py), kept for the app."""
        locale = environ[ENVIRON_KEY] = locale_for(environ, self.languages)
        return locale

    def _replay(self, environ, start_response, entry) -> Iterable[bytes]:
        _generation, status, headers, body, etag = entry
        headers = [*headers, ("Date", http_date_now())]
        if "HTTP_IF_NONE_MATCH" in environ and not is_resource_modified(environ, etag=etag):
            start_response("304 Not Modified", [h for h in headers if h[0] in NOT_MODIFIED_KEEP])
            return []
        start_response(status, headers)
        return [] if environ["REQUEST_METHOD"] == "HEAD" else [body]

    def _fill(self, environ, start_response, key, generation) -> Iterable[bytes]:
        answer: dict[str, Any] = {}

        def capture(status, headers, exc_info=None):
            answer.update(status=status, headers=headers)
            return start_response(status, headers, exc_info)

        body_iter = self.wsgi_app(environ, capture)
        headers = answer.get("headers", [])
        if environ["REQUEST_METHOD"] == "HEAD" or not _storable(answer.get("status"), headers):
            return body_iter
        try:
            body = b"".join(body_iter)
        finally:
            if hasattr(body_iter, "close"):
                body_iter.close()
        etag = next((v for k, v in headers if k.lower() == "etag"), None)
        timeout = self.timeout
        if environ.get(FRESH_UNTIL) is not None:
            timeout = min(timeout, int((environ[FRESH_UNTIL] - utcnow()).total_seconds()))
        if len(body) <= MAX_BODY and etag and timeout > 0:
            stored = [(k, _without_nonce(k, v)) for k, v in headers if k.lower() != "date"]
            try:
                self.store.set(key, (generation, answer["status"], stored, body, etag), timeout)
            except Exception:
                log.warning("page cache unavailable", exc_info=True)
        return [body]


NOT_MODIFIED_KEEP = {"ETag", "Cache-Control", "Vary", "Content-Location", "Expires", "Date"}


def _storable(status: str | None, headers: list[tuple[str, str]]) -> bool:
    if not status or not status.startswith("200 "):
        return False
    names = {k.lower(): v for k, v in headers}
    cache_control = names.get("cache-control", "")
    return "set-cookie" not in names and "public" in cache_control


def _without_nonce(name: str, value: str) -> str:
    """A stored Content-Security-Policy without the per-request script nonce (no shared page
    has an inline script; a replayed nonce would be one every visitor knows)."""
    if name.lower() != "content-security-policy":
        return value
    return NONCE.sub("", value)


def uwsgi_cache_configured(name: str) -> bool:
    """Whether this process runs under uwsgi with the cache ``name`` (``cache2 = name=...``)."""
    try:
        import uwsgi
    except ImportError:
        return False
    options = uwsgi.opt.get("cache2") or []
    if not isinstance(options, list):
        options = [options]
    return any(f"name={name}".encode() in bytes(option).split(b",") for option in options)


def new_generation(store: Any) -> str:
    generation = secrets.token_hex(8)
    store.set(GENERATION_KEY, generation, 0)
    return generation


def watch(*models: type) -> None:
    """Commits that write any of ``models`` start the cache afresh (a new generation)."""
    watched = tuple(models)

    @event.listens_for(Session, "before_flush")
    def note_writes(session, _flush_context, _instances):
        for obj in (*session.new, *session.dirty, *session.deleted):
            if isinstance(obj, watched):
                session.info[STALE] = True
                return

    @event.listens_for(Session, "do_orm_execute")
    def note_statements(state):
        if (state.is_insert or state.is_update or state.is_delete) and any(
            issubclass(mapper.class_, watched) for mapper in state.all_mappers
        ):
            state.session.info[STALE] = True

    @event.listens_for(Session, "after_commit")
    def renew(session):
        if session.info.pop(STALE, False):
            invalidate()

    @event.listens_for(Session, "after_rollback")
    def forget(session):
        session.info.pop(STALE, None)


def invalidate() -> None:
    """Every stored page is stale from now on, in every process sharing the store."""
    try:
        new_generation(cache.cache)
    except Exception:  # entries still expire after CACHE_DEFAULT_TIMEOUT
        log.error("page cache: could not start a new generation", exc_info=True)


def fresh_until(moment: datetime) -> None:
    """The page being made changes by itself at ``moment`` (UTC; a sale starts or ends): the
    cache keeps it until then at most."""
    if has_request_context():
        known = request.environ.get(FRESH_UNTIL)
        if known is None or moment < known:
            request.environ[FRESH_UNTIL] = moment


def catalog_read(key: str, load: Callable[[], T]) -> T:
    """``load()``'s answer (a listing's HTML, the running sales), kept in the store until the
    next commit that writes a watched model (the same generation as the pages), until a
    moment ``load`` named with ``fresh_until`` (a sale starts or ends), and
    ``CACHE_DEFAULT_TIMEOUT`` at most. Loaded afresh each time when the store is in-process
    and several processes serve the app (they would not see each other's generations), or
    when the store is down."""
    if not current_app.extensions.get(SHARED_STORE):
        return load()
    stored = f"{current_locale()}:{key}"  # pages and fragments are in the request's language
    try:
        generation, entry = cache.cache.get_many(GENERATION_KEY, stored)
    except Exception:
        log.warning("page cache unavailable", exc_info=True)
        return load()
    value = _kept(entry, generation, utcnow())
    if value is not _MISSING:
        return value
    return _load_and_keep(lambda: {stored: load()}, generation)[stored]


def catalog_read_many(keys: list[str], load: Callable[[list[str]], dict[str, T]]) -> dict[str, T]:
    """``catalog_read`` of several keys in one read of the store: ``load(missing)`` gives the
    values of those it does not hold, by key (a key it leaves out is not kept)."""
    if not current_app.extensions.get(SHARED_STORE):
        return load(keys)
    prefix = f"{current_locale()}:"
    try:
        generation, *entries = cache.cache.get_many(GENERATION_KEY, *(prefix + k for k in keys))
    except Exception:
        log.warning("page cache unavailable", exc_info=True)
        return load(keys)
    now = utcnow()
    found: dict[str, T] = {}
    for key, entry in zip(keys, entries, strict=True):
        value = _kept(entry, generation, now)
        if value is not _MISSING:
            found[key] = value
    missing = [key for key in keys if key not in found]
    if not missing:
        return found
    loaded = _load_and_keep(
        lambda: {prefix + key: value for key, value in load(missing).items()}, generation
    )
    return found | {key.removeprefix(prefix): value for key, value in loaded.items()}


_MISSING: Any = object()


def _kept(entry: Any, generation: str | None, now: datetime) -> Any:
    """The value of a store entry of this generation not past its moment, else _MISSING."""
    if generation is None or entry is None or entry[0] != generation:
        return _MISSING
    _generation, value, until = entry
    if until is not None:
        if now >= until:
            return _MISSING
        fresh_until(until)
    return value


def _load_and_keep(load: Callable[[], dict[str, T]], generation: str | None) -> dict[str, T]:
    """``load()``'s entries (store keys), kept with the generation read before loading, until
    the moment it named with ``fresh_until`` and CACHE_DEFAULT_TIMEOUT at most."""
    outer = request.environ.pop(FRESH_UNTIL, None) if has_request_context() else None
    now = utcnow()
    try:
        loaded = load()
    finally:
        until = request.environ.get(FRESH_UNTIL) if has_request_context() else None
        if outer is not None:
            fresh_until(outer)
    timeout = current_app.config["CACHE_DEFAULT_TIMEOUT"]
    if until is not None:
        timeout = min(timeout, int((until - now).total_seconds()))
    if timeout > 0 and loaded:
        try:
            if generation is None:  # the store's first: perhaps started since by another read
                cache.cache.add(GENERATION_KEY, secrets.token_hex(8), 0)
                generation = cache.cache.get(GENERATION_KEY)
            cache.cache.set_many({k: (generation, v, until) for k, v in loaded.items()}, timeout)
        except Exception:
            log.warning("page cache unavailable", exc_info=True)
    return loaded


def init_app(app: Flask, processes: int) -> None:
    """Put the middleware in front of the app when PAGE_CACHE is on. An in-process store
    serves one process only: the others would never see its new generations."""
    cache.init_app(app)
    app.extensions[SHARED_STORE] = not (app.config["CACHE_TYPE"] == "SimpleCache" and processes > 1)
    if not app.config["PAGE_CACHE"]:
        return
    if not app.extensions[SHARED_STORE]:  # uwsgi without cache2
        app.logger.warning(
            "The page cache is off: %d worker processes cannot share an in-process cache. "
            "Set CACHE_REDIS_URL (redis://...) to turn it on.",
            processes,
        )
        return
    with app.app_context():
        store = cache.cache
    app.wsgi_app = PageCacheMiddleware(app, store)  # type: ignore[method-assign]
