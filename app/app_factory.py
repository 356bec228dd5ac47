"""The application factory: configuration in layers, then extensions, blueprints, handlers."""

import os
from pathlib import Path

from flask import Flask
from flask_security.decorators import default_unauthn_handler, default_unauthz_handler
from werkzeug.middleware.proxy_fix import ProxyFix

from app import admin, errors, models, pages, security_utils
from app.accounts.datastore import user_datastore
from app.accounts.limits import apply_account_limits
from app.api import bp as api_bp
from app.api.spec import api, register_security_schemes
from app.cart import web as cart_web
from app.commands import register_commands
from app.countries import country_name
from app.extensions import bootstrap, csrf, db, limiter, mail, migrate, security, talisman
from app.money import format_money

PROJECT_ROOT = Path(__file__).resolve().parent.parent
INSTANCE_CONFIG = "application.cfg.py"
# Environment variables read without the STOREFRONT_ prefix.
ENV_KEYS = (
    "ENV",
    "SECRET_KEY",
    "SECURITY_PASSWORD_SALT",
    "MAIL_BACKEND",
    "MAIL_SERVER",
    "MAIL_PORT",
    "MAIL_USERNAME",
    "MAIL_PASSWORD",
    "MAIL_USE_TLS",
    "MAIL_USE_SSL",
    "MAIL_DEFAULT_SENDER",
    "RATELIMIT_STORAGE_URI",
)
REQUIRED_SECRETS = ("SECRET_KEY", "SECURITY_PASSWORD_SALT", "SECURITY_TOTP_SECRETS")


class ConfigError(RuntimeError):
    """The configuration cannot run the app; the message says what to set."""


def create_app(config_overrides: dict | None = None) -> Flask:
    """Build the Storefront app. ``config_overrides`` (tests) win over every other layer."""
    app = Flask(
        __name__,
        instance_path=os.environ.get("STOREFRONT_INSTANCE_PATH", str(PROJECT_ROOT / "instance")),
    )
    load_config(app, config_overrides or {})
    register_extensions(app)
    register_blueprints(app)
    errors.register_errorhandlers(app)
    register_commands(app)
    register_shell_context(app)
    return app


def load_config(app: Flask, overrides: dict) -> None:
    """default_config.py, then instance/application.cfg.py, then the environment, then overrides."""
    app.config.from_object("app.default_config")
    app.config.from_pyfile(Path(app.instance_path) / INSTANCE_CONFIG, silent=True)
    for key in ENV_KEYS:
        if key in os.environ:
            app.config[key] = _parse_env(os.environ[key])
    if "DATABASE_URL" in os.environ:
        app.config["SQLALCHEMY_DATABASE_URI"] = os.environ["DATABASE_URL"]
    app.config.from_prefixed_env("STOREFRONT")
    app.config.update(overrides)

    if app.config["ENV"] == "production":
        missing = [key for key in REQUIRED_SECRETS if not app.config.get(key)]
        if missing:
            raise ConfigError(
                f"Missing secret(s) {', '.join(missing)}: set them in "
                f"{Path(app.instance_path) / INSTANCE_CONFIG} (see its .example) "
                "or in the environment."
            )
        app.config.update(
            SESSION_COOKIE_SECURE=True, REMEMBER_COOKIE_SECURE=True, PREFERRED_URL_SCHEME="https"
        )
    if "redis" in app.config["RATELIMIT_STORAGE_URI"]:
        app.config.setdefault("RATELIMIT_STORAGE_OPTIONS", {"socket_connect_timeout": 2})


def _parse_env(value: str):
    """Integers and true/false from the environment, like Flask's from_prefixed_env."""
    if value.isdigit():
        return int(value)
    return {"true": True, "false": False}.get(value.lower(), value)


def register_extensions(app: Flask) -> None:
    db.init_app(app)
    migrate.init_app(app, db, directory=str(PROJECT_ROOT / "migrations"), render_as_batch=True)
    csrf.init_app(app)
    mail.init_app(app)
    bootstrap.init_app(app)
    limiter.init_app(app)
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
            "img-src": ["'self'", "data:"],  # the 2FA QR code is a data: URI
            "style-src": "'self'",
            "script-src": "'self'",
            "frame-ancestors": "'none'",
            "form-action": "'self'",
            "base-uri": "'self'",
        },
        content_security_policy_nonce_in=["script-src"],  # Flask-Admin's inline scripts
    )
    if app.config["PROXY_FIX_X_FOR"]:
        hops = app.config["PROXY_FIX_X_FOR"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)

    security.init_app(app, user_datastore)
    security.unauthn_handler(_unauthn_handler)
    security.unauthz_handler(_unauthz_handler)
    security_utils.init_app(app)
    apply_account_limits(app)
    cart_web.init_app(app)
    admin.init_app(app)


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
    """Exactly two: pages (HTML, /) and api (JSON, /api/v1); domains nest inside them."""
    app.register_blueprint(pages.bp)
    api.init_app(app)
    register_security_schemes()
    api.register_blueprint(api_bp)  # registers the blueprint and documents it
    app.add_template_filter(format_money, "money")
    app.add_template_filter(country_name, "country_name")


def register_shell_context(app: Flask) -> None:
    @app.shell_context_processor
    def shell_context():
        return shell_namespace()


def shell_namespace() -> dict:
    """What ``flask shell`` and ``python cli.py`` preload."""
    return {"db": db, "user_datastore": user_datastore, **models.all_models()}
