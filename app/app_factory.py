"""The application factory: configuration in layers, then extensions, blueprints, handlers."""

import gc
import os
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import Config, Flask, Request, abort, request
from flask.sessions import SecureCookieSessionInterface
from flask_security.decorators import default_unauthn_handler, default_unauthz_handler
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import make_url
from werkzeug.exceptions import SecurityError
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import MapAdapter

from app import (
    admin,
    errors,
    i18n,
    logs,
    metrics,
    models,
    page_cache,
    pages,
    security_utils,
    spa,
    static_files,
)
from app.accounts import language as member_language
from app.accounts import menu as member_menu
from app.accounts import tokens as account_tokens
from app.accounts.datastore import user_datastore
from app.accounts.limits import apply_account_limits
from app.accounts.mail import mail_context, queue_mail
from app.api import bp as api_bp
from app.api import cart as api_cart
from app.api import orders as api_orders
from app.api.spec import api, describe_body_limits, register_security_schemes
from app.cart import ownership as cart_ownership
from app.commands import register_commands
from app.extensions import (
    bootstrap,
    compress,
    csrf,
    db,
    limiter,
    mail,
    migrate,
    security,
    talisman,
)
from app.jobs import queue
from app.media import views as media_views
from app.money import to_decimal
from app.orders import guest as guest_orders
from app.orders import webhooks
from app.transactions import end_request_session
from app.wrappers import StorefrontRequest, UwsgiChunkedInput

PROJECT_ROOT = Path(__file__).resolve().parent.parent
INSTANCE_CONFIG = "application.cfg.py"
# Settings also read without the STOREFRONT_ prefix (the names deployments and README use):
# the MAIL_* family whole, and single settings by name. Their values load as
# from_prefixed_env loads any (JSON where they are JSON: 587, true, ["a"]; text otherwise).
ENV_FAMILIES = ("MAIL",)
ENV_NAMES = (
    "SECRET_KEY",
    "SECURITY_PASSWORD_SALT",
    "RATELIMIT_STORAGE_URI",
    "SITE_URL",
    "CACHE_REDIS_URL",
)
REQUIRED_SECRETS = (
    "SECRET_KEY",
    "SECURITY_PASSWORD_SALT",
    "SECURITY_TOTP_SECRETS",
    "SECURITY_MULTI_FACTOR_RECOVERY_CODES_KEYS",
)
SECRET_MIN_LENGTH = 32
EXAMPLE_CONFIG = PROJECT_ROOT / "instance" / f"{INSTANCE_CONFIG}.example"


class ConfigError(RuntimeError):
    """The configuration cannot run the app; the message says what to set."""


class KeptSerializerSessions(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, their serializer built once per app rather than for
    each request (it depends only on the secret keys and settings, fixed at start-up)."""

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        serializer = app.extensions.get("storefront.session_serializer")
        if serializer is None:
            serializer = super().get_signing_serializer(app)
            app.extensions["storefront.session_serializer"] = serializer
        return serializer


class Storefront(Flask):
    """Flask whose absolute URLs always use SITE_URL, whatever Host a request names, and whose
    requests refuse bodies over their limits (app/wrappers.py)."""

    request_class = StorefrontRequest
    session_interface = KeptSerializerSessions()

    def ensure_sync(self, func: Callable) -> Callable:
        """Flask's, remembered per function: it asks ``inspect`` whether each hook is a
        coroutine function on every call, about two dozen times a request."""
        kept = self.extensions.setdefault("storefront.sync_functions", {})
        try:
            return kept[func]
        except KeyError:
            kept[func] = synced = super().ensure_sync(func)
            return synced

    def preprocess_request(self):
        """A JSON body over JSON_MAX_DEPTH is 400 before any hook or view parses it (webargs
        and Flask-Security parse bodies each their own way)."""
        request.refuse_deep_json()  # type: ignore[attr-defined]
        # An endpoint may accept a bigger body (``extensions["body_limits"]``, endpoint ->
        # the limit for this request or None), set before any hook reads the form.
        limit = self.extensions.get("body_limits", {}).get(request.endpoint, lambda: None)()
        if limit is not None:
            request.max_content_length = limit
        return super().preprocess_request()

    def create_url_adapter(self, request: Request | None) -> MapAdapter | None:
        """Flask's, with a foreign Host answered by our 400 page and the scheme of SITE_URL.
        The adapter of app contexts (no request) depends on the config alone: built once."""
        if request is None:
            kept = self.extensions.get("storefront.app_url_adapter")
            if kept is None:
                kept = self.extensions["storefront.app_url_adapter"] = (
                    super().create_url_adapter(None),
                )
            return kept[0]
        try:
            adapter = super().create_url_adapter(request)
        except SecurityError as error:
            if request is None:
                raise
            # A Host outside TRUSTED_HOSTS: answer it with our own 400 page, which needs URLs.
            request.routing_exception = error
            adapter = self.url_map.bind_to_environ(
                request.environ, server_name=self.config["SERVER_NAME"], subdomain=""
            )
        if request is not None and adapter is not None:
            # SERVER_NAME fixes the host; the scheme would still come from the request.
            adapter.url_scheme = self.config["PREFERRED_URL_SCHEME"]
        return adapter


def create_app(config_overrides: dict | None = None) -> Flask:
    """Build the Storefront app. ``config_overrides`` (tests) win over every other layer."""
    app = Storefront(
        __name__,
        instance_path=os.environ.get("STOREFRONT_INSTANCE_PATH", str(PROJECT_ROOT / "instance")),
    )
    load_config(app, config_overrides or {})
    logs.init_app(app)
    register_extensions(app)
    register_blueprints(app)
    queue.init_app(app)  # after the blueprints: their modules registered every job
    errors.register_errorhandlers(app)
    register_request_checks(app)
    register_commands(app)
    register_shell_context(app)
    if _under_uwsgi():
        # What the worker has built so far (modules, mappers, templates: some 150,000 objects)
        # lives as long as it does: out of the cyclic collector's way, so that its full
        # passes, triggered by what requests allocate, walk only what requests made.
        gc.freeze()
    return app


def load_config(app: Flask, overrides: dict) -> None:
    """default_config.py, then instance/application.cfg.py, then the environment, then overrides."""
    app.config.from_object("app.default_config")
    app.config.from_pyfile(Path(app.instance_path) / INSTANCE_CONFIG, silent=True)
    load_environment(app.config)
    app.config.update(overrides)

    _site_url_settings(app.config)
    _check_shop_timezone(app.config)
    _read_committed_on_mariadb(app.config)
    if app.config["CACHE_TYPE"] is None:
        _choose_cache(app.config)
    if _under_uwsgi():
        app.config["DEBUG"] = False  # never the interactive debugger on a served app
    if app.config["ENV"] == "production":
        check_production_config(app.config, Path(app.instance_path) / INSTANCE_CONFIG)
        app.config.update(SESSION_COOKIE_SECURE=True, REMEMBER_COOKIE_SECURE=True)
        app.config["SECURITY_CSRF_COOKIE"] = {**app.config["SECURITY_CSRF_COOKIE"], "secure": True}
        if app.config["TRUSTED_HOSTS"] is None:
            app.config["TRUSTED_HOSTS"] = [urlsplit(app.config["SITE_URL"]).hostname]
    if "redis" in app.config["RATELIMIT_STORAGE_URI"]:
        app.config.setdefault("RATELIMIT_STORAGE_OPTIONS", {"socket_connect_timeout": 2})


def load_environment(config: Config) -> None:
    """The environment's layer, read by Flask's ``from_prefixed_env``: ENV, ``DATABASE_URL``,
    ``MAIL_*`` and ENV_NAMES as they are named, then ``STOREFRONT_<NAME>`` for any setting."""
    if "ENV" in os.environ:
        config["ENV"] = os.environ["ENV"]
    if "DATABASE_URL" in os.environ:
        config["SQLALCHEMY_DATABASE_URI"] = os.environ["DATABASE_URL"]
    for family in ENV_FAMILIES:
        config.update({f"{family}_{key}": value for key, value in _env_family(family).items()})
    for name in ENV_NAMES:
        family, _, key = name.partition("_")  # SITE_URL is the member URL of the family SITE
        members = _env_family(family)
        if key in members:
            config[name] = members[key]
    config.from_prefixed_env("STOREFRONT")


def _env_family(prefix: str) -> Config:
    """The environment's ``PREFIX_*`` variables less the prefix, as from_prefixed_env reads."""
    members = Config("")
    members.from_prefixed_env(prefix)
    return members


def _site_url_settings(config: Config) -> None:
    """SERVER_NAME and PREFERRED_URL_SCHEME from SITE_URL: every absolute link is on SITE_URL.

    Since Flask 3.1, SERVER_NAME no longer restricts routing (subdomain_matching is off), so
    requests for any Host are still served; TRUSTED_HOSTS is what refuses unknown hosts.
    """
    site = urlsplit(config["SITE_URL"] or "")
    if site.scheme not in ("http", "https") or not site.hostname or site.path not in ("", "/"):
        raise ConfigError(
            f"SITE_URL must be scheme://host[:port] with no path, not {config['SITE_URL']!r}."
        )
    if config["SERVER_NAME"] not in (None, site.netloc):
        raise ConfigError(
            f"SERVER_NAME {config['SERVER_NAME']!r} differs from SITE_URL's host "
            f"{site.netloc!r}: set SITE_URL only."
        )
    config.update(SERVER_NAME=site.netloc, PREFERRED_URL_SCHEME=site.scheme)


def _check_shop_timezone(config: Config) -> None:
    """SHOP_TIMEZONE names a time zone zoneinfo knows (the dashboard counts days in it)."""
    try:
        ZoneInfo(config["SHOP_TIMEZONE"])
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise ConfigError(
            f"SHOP_TIMEZONE must be an IANA time zone such as 'Europe/Berlin', not "
            f"{config['SHOP_TIMEZONE']!r}."
        ) from None


def _choose_cache(config: Config) -> None:
    """The page cache's store: Redis when CACHE_REDIS_URL names one (every app server shares
    it); else uwsgi's shared memory when uwsgi.ini configures it (every worker of this
    machine; cachelib's backend, which Flask-Caching takes by its path); else this process's
    memory (``make run``)."""
    if config["CACHE_REDIS_URL"]:
        config["CACHE_TYPE"] = "RedisCache"
    elif page_cache.uwsgi_cache_configured(config["CACHE_UWSGI_NAME"]):
        config["CACHE_TYPE"] = "cachelib.uwsgi.UWSGICache"
        config["CACHE_OPTIONS"] = {"cache": config["CACHE_UWSGI_NAME"], **config["CACHE_OPTIONS"]}
    else:
        config["CACHE_TYPE"] = "SimpleCache"


def _read_committed_on_mariadb(config: Config) -> None:
    """On MariaDB/MySQL every transaction runs READ COMMITTED (as Django sets it): each
    statement sees what is committed when it runs, and a locking read locks the rows it finds,
    not the gaps between them. Under InnoDB's default REPEATABLE READ, customers adding their
    first item at the same moment deadlock on each other's gap locks at the end of the cart
    tables. SQLite runs one writer at a time anyway. An isolation_level set in
    SQLALCHEMY_ENGINE_OPTIONS wins."""
    if make_url(config["SQLALCHEMY_DATABASE_URI"]).get_backend_name() in ("mysql", "mariadb"):
        config["SQLALCHEMY_ENGINE_OPTIONS"] = {
            "isolation_level": "READ COMMITTED",
            **config["SQLALCHEMY_ENGINE_OPTIONS"],
        }


def check_production_config(config: Config, instance_config: Path) -> None:
    """Refuse to serve production with a setting that is unsafe there; name every one."""
    problems = _secret_problems(config)
    if problems:
        problems[-1] += (
            f" (set the secrets in {instance_config}: `python scripts/write_instance_config.py`"
            " generates them; or in the environment)"
        )
    if urlsplit(config["SITE_URL"]).scheme != "https":
        problems.append(
            f"SITE_URL is {config['SITE_URL']!r}: production serves https only (its cookies "
            "are Secure); set SITE_URL to the shop's public https:// address"
        )
    if config["DEBUG"]:
        problems.append("DEBUG is on: production never runs the debugger")
    if "test" in config["PAYMENT_METHODS"] and not config["PAYMENT_ALLOW_TEST_PROVIDER"]:
        problems.append(
            "PAYMENT_METHODS enables the 'test' provider, whose test card marks orders paid: "
            "remove 'test' from PAYMENT_METHODS (e.g. PAYMENT_METHODS = ['manual']), or set "
            "PAYMENT_ALLOW_TEST_PROVIDER = True if a test shop is deliberately what you want"
        )
    problems += _stripe_problems(config)
    problems += _media_problems(config)
    workers = _worker_processes()
    if config["RATELIMIT_STORAGE_URI"].startswith("memory://") and workers > 1:
        problems.append(
            f"RATELIMIT_STORAGE_URI is memory:// with {workers} worker processes, each "
            "counting on its own: use shared storage, e.g. redis://127.0.0.1:6379/0"
        )
    if problems:
        raise ConfigError("ENV=production refuses to start: " + "; ".join(problems) + ".")


def _stripe_problems(config: Config) -> list[str]:
    """Stripe enabled in production: its keys are set, and live unless told otherwise."""
    if "stripe" not in config["PAYMENT_METHODS"]:
        return []
    missing = [k for k in ("STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET") if not config[k]]
    if missing:
        return [
            f"PAYMENT_METHODS enables 'stripe' without {' and '.join(missing)}: copy them from "
            "Stripe's dashboard (Developers > API keys, and the webhook endpoint's signing "
            "secret) into instance/application.cfg.py or the environment"
        ]
    if (
        config["STRIPE_SECRET_KEY"].startswith(("sk_test_", "rk_test_"))
        and not config["STRIPE_ALLOW_TEST_KEYS"]
    ):
        return [
            "STRIPE_SECRET_KEY is a test-mode key, which takes no real money: use the live key "
            "(sk_live_...), or set STRIPE_ALLOW_TEST_KEYS = True if a test shop is deliberate"
        ]
    return []


def _media_problems(config: Config) -> list[str]:
    """The S3 media store chosen: it has a bucket to write to."""
    if config["MEDIA_STORAGE"] == "app.media.s3.S3Storage" and not config["MEDIA_S3_BUCKET"]:
        return [
            "MEDIA_STORAGE is app.media.s3.S3Storage without MEDIA_S3_BUCKET: name the bucket "
            "(and set MEDIA_URL to its public URL), or leave MEDIA_STORAGE at its default"
        ]
    return []


def _secrets(config) -> list[tuple[str, object]]:
    """Each secret value by a printable name: strings, dict values (TOTP), list items (keys)."""
    values: list[tuple[str, object]] = []
    for key in REQUIRED_SECRETS:
        value = config.get(key)
        if isinstance(value, dict) and value:
            values += [(f"{key}[{k!r}]", v) for k, v in value.items()]
        elif isinstance(value, list | tuple) and value:
            values += [(f"{key}[{i}]", v) for i, v in enumerate(value)]
        else:
            values.append((key, value))
    return values


def _secret_problems(config: Config) -> list[str]:
    examples = _example_secrets()
    problems = []
    for key, value in _secrets(config):
        if not value or not isinstance(value, str | bytes):
            problems.append(f"Missing secret {key}")
        elif value in examples:
            problems.append(f"{key} is still the example value from {EXAMPLE_CONFIG.name}")
        elif len(value) < SECRET_MIN_LENGTH:
            problems.append(f"{key} is shorter than {SECRET_MIN_LENGTH} characters")
    return problems


def _example_secrets() -> set:
    """The placeholder secrets shipped in the .example file: never valid in production."""
    example = Config(str(PROJECT_ROOT))
    example.from_pyfile(EXAMPLE_CONFIG, silent=True)
    return {value for _key, value in _secrets(example) if value}


def _under_uwsgi() -> bool:
    try:
        import uwsgi  # noqa: F401  (only importable inside a uwsgi worker)
    except ImportError:
        return False
    return True


def _worker_processes() -> int:
    """How many processes serve this app: uwsgi's worker count, else one."""
    try:
        import uwsgi
    except ImportError:
        return 1
    return uwsgi.numproc


def register_extensions(app: Flask) -> None:
    db.init_app(app)
    app.teardown_appcontext(end_request_session)  # runs before Flask-SQLAlchemy's (reversed)
    migrate.init_app(app, db, directory=str(PROJECT_ROOT / "migrations"), render_as_batch=True)
    csrf.init_app(app)
    mail.init_app(app)
    bootstrap.init_app(app)
    static_files.init_app(app)
    compress.init_app(app)
    i18n.init_app(app)
    limiter.init_app(app)
    page_cache.skip_limiter_on_catalogue_reads(app)
    metrics.init_app(app, _under_uwsgi())
    production = app.config["ENV"] == "production"
    talisman.init_app(
        app,
        force_https=False,  # TLS ends at the proxy in front of uwsgi
        strict_transport_security=production,
        session_cookie_secure=app.config["SESSION_COOKIE_SECURE"],
        session_cookie_http_only=True,
        frame_options="DENY",
        content_security_policy={
            "default-src": "'self'",
            # The 2FA QR code is a data: URI; media may come from a bucket or a CDN.
            "img-src": ["'self'", "data:", *_media_origins(app.config)],
            "style-src": "'self'",
            "script-src": "'self'",
            "frame-ancestors": "'none'",
            # Checkout's form redirects to Stripe's hosted page, when Stripe is enabled.
            "form-action": ["'self'", *_payment_page_origins(app.config)],
            "base-uri": "'self'",
            "object-src": "'none'",
        },
        content_security_policy_nonce_in=["script-src"],  # Flask-Admin's inline scripts
    )
    # With force_https off, Talisman's check before each request can only pass (and set
    # SESSION_COOKIE_SECURE to the value it was given above): a twentieth of a cache-off page.
    app.before_request_funcs[None].remove(talisman._force_https)
    x_for, x_host = app.config["PROXY_FIX_X_FOR"], app.config["PROXY_FIX_X_HOST"]
    if x_for or x_host:
        # X-Forwarded-Proto comes with X-Forwarded-For; X-Forwarded-Host only when asked for.
        # Flask's documented way to add WSGI middleware (wsgi_app is a method to mypy).
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=x_for, x_proto=x_for, x_host=x_host
        )

    if _under_uwsgi():
        app.wsgi_app = UwsgiChunkedInput(app.wsgi_app)  # type: ignore[method-assign]

    page_cache.init_app(app, _worker_processes())
    app.extensions["security_mail"] = queue_mail  # extensions.AppMailUtil's
    security.init_app(app, user_datastore)
    security.mail_context_processor(mail_context)
    security.unauthn_handler(_unauthn_handler)
    security.unauthz_handler(_unauthz_handler)
    security_utils.init_app(app)
    apply_account_limits(app)
    account_tokens.init_app(app)
    page_cache.anonymous_without_credentials(app)
    member_menu.init_app(app)
    member_language.init_app(app)
    cart_ownership.init_app(app)
    guest_orders.init_app(app)
    admin.init_app(app)
    # Outermost: every response carries its X-Request-ID, the page cache's too.
    app.wsgi_app = logs.RequestIds(app.wsgi_app)  # type: ignore[method-assign]


def _media_origins(config: Config) -> list[str]:
    """MEDIA_URL's origin when it is another site's (a bucket's, a CDN's), not a path here."""
    url = urlsplit(config["MEDIA_URL"])
    if url.scheme in ("http", "https") and url.netloc:
        return [f"{url.scheme}://{url.netloc}"]
    return []


def _payment_page_origins(config: Config) -> list[str]:
    if "stripe" in config["PAYMENT_METHODS"]:
        return [config["STRIPE_CHECKOUT_ORIGIN"]]
    return []


def _unauthn_handler(mechanisms, headers=None):
    """API requests get 401 JSON; pages keep Flask-Security's redirect to /login."""
    if errors.wants_json():
        response, status = errors.json_error(401, "Authentication required.")
        response.headers["WWW-Authenticate"] = 'Authentication-Token realm="api"'
        return response, status
    return default_unauthn_handler(mechanisms, headers)


def _unauthz_handler(func_name, params):
    """API requests get 403 JSON; pages get Flask-Security's default."""
    if errors.wants_json():
        return errors.json_error(403, "You do not have permission to do that.")
    return default_unauthz_handler(func_name, params)


def register_blueprints(app: Flask) -> None:
    """pages (HTML, /) and api (JSON, /api/v1), in which the domains nest; spa (/app/, the
    React storefront on the API); webhooks (/webhooks), where payment providers call with a
    signature instead of a session; and the media files under MEDIA_URL, when they are on
    this site."""
    app.register_blueprint(pages.bp)
    app.register_blueprint(webhooks.bp)
    app.register_blueprint(spa.bp)
    media_views.init_app(app)
    api.init_app(app)
    register_security_schemes()
    describe_body_limits(app.config)
    with app.app_context():  # openapi.json states limits from this app's settings
        api.register_blueprint(api_bp)  # registers the blueprint and documents it
    api_cart.document_body_rules(api.spec)
    api_orders.document_body_rules(api.spec)
    app.add_template_filter(i18n.money, "money")
    app.add_template_filter(i18n.moment, "moment")
    app.add_template_filter(to_decimal, "amount")  # 1250|amount("EUR") -> 12.50, for forms
    app.add_template_filter(i18n.country, "country_name")


def register_request_checks(app: Flask) -> None:
    @app.before_request
    def refuse_impossible_page():
        """?page= beyond any listing is 404 on every page, the back office's too: a huge
        number would otherwise reach SQL as an OFFSET no database accepts (a 500)."""
        if b"page" not in request.query_string:  # most requests: no parsing
            return
        page = request.args.get("page", type=int)
        max_page = app.config["LISTING_MAX_PAGE"]
        if page is not None and abs(page) > max_page and not errors.wants_json():
            abort(404, "There is no such page.")


def register_shell_context(app: Flask) -> None:
    @app.shell_context_processor
    def shell_context():
        return shell_namespace()


def shell_namespace() -> dict:
    """What ``flask shell`` and ``python cli.py`` preload."""
    return {"db": db, "user_datastore": user_datastore, **models.all_models()}
