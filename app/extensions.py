"""Extension objects, created unbound and initialised by the app factory."""

from typing import TYPE_CHECKING, Any

import flask_talisman
from flask import current_app, request
from flask_babel import Babel
from flask_bootstrap import Bootstrap5
from flask_caching import Cache
from flask_compress import Compress
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_mailman import Mail
from flask_migrate import Migrate
from flask_security import MailUtil, Security
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import Engine, MetaData, event
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import DeclarativeBase

from app.accounts.totp import SingleUseTotp

# Stable constraint names, so Alembic migrations can name what they alter or drop.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)

# The base class of every model. A type checker cannot take an attribute (db.Model) as a base
# class (python/mypy#8603): it sees what db.Model is made of, Base plus Flask-SQLAlchemy's Model.
if TYPE_CHECKING:
    from flask_sqlalchemy.model import Model as FlaskSQLAlchemyModel

    class Model(FlaskSQLAlchemyModel, Base):
        __abstract__ = True
else:
    Model = db.Model


@event.listens_for(Engine, "connect")
def _sqlite_foreign_keys(dbapi_connection, _record):
    """SQLite enforces foreign keys (ON DELETE CASCADE / SET NULL) only when asked to."""
    if type(dbapi_connection).__module__ == "sqlite3":
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()


MARIADB_CHECK_FAILED = 4025  # ER_CONSTRAINT_FAILED


@event.listens_for(Engine, "handle_error")
def _mariadb_check_failure_is_integrity_error(context):
    """MariaDB reports a failed CHECK constraint as OperationalError, the class of outages."""
    error = context.original_exception
    if type(error).__module__.startswith("MySQLdb") and error.args[:1] == (MARIADB_CHECK_FAILED,):
        raise IntegrityError(context.statement, context.parameters, error) from error


class Talisman(flask_talisman.Talisman):
    """Flask-Talisman with the same headers, built with less work per request: a view's
    options are resolved once per endpoint (they are fixed when the views are declared), a
    policy is joined once and only the request's nonce is put in each time, and HSTS reads
    no request headers when it is off. Flask-Talisman resolves and joins everything again
    for each of its three hooks of every request."""

    def init_app(self, app, **kwargs) -> None:
        self._endpoint_options: dict[str | None, dict[str, Any]] = {}
        self._policies: dict[tuple[int, tuple[str, ...]], tuple[object, list[str]]] = {}
        super().init_app(app, **kwargs)

    def _get_local_options(self) -> dict[str, Any]:
        endpoint = request.endpoint
        options = self._endpoint_options.get(endpoint)
        if options is None:
            options = self._endpoint_options[endpoint] = super()._get_local_options()
        return options

    def _parse_policy(self, policy: str | dict) -> str:
        """As Flask-Talisman builds it: "section sources" joined by "; ", with the request's
        nonce after the sources of each section named in ``content_security_policy_nonce_in``."""
        nonce_in = tuple(self._get_local_options()["content_security_policy_nonce_in"])
        key = (id(policy), nonce_in)
        cached = self._policies.get(key)
        if cached is None or cached[0] is not policy:
            cached = self._policies[key] = (policy, _policy_segments(policy, nonce_in))
        segments = cached[1]
        nonce = getattr(request, "csp_nonce", None)
        if nonce is None:  # Flask-Talisman tests hasattr: no attribute, no nonce
            return "".join(segments)
        return f" 'nonce-{nonce}'".join(segments)

    def _set_hsts_headers(self, headers) -> None:
        if self.strict_transport_security:
            super()._set_hsts_headers(headers)


def _policy_segments(policy: str | dict, nonce_in: tuple[str, ...]) -> list[str]:
    """The policy's text cut where a nonce goes (after each section in ``nonce_in``)."""
    if isinstance(policy, str):  # Flask-Talisman's parsing of a policy string
        sections = {}
        for part in policy.split(";"):
            words = part.strip().split(" ")
            sections[words[0]] = " ".join(words[1:])
        policy = sections
    segments, current = [], ""
    for index, (section, content) in enumerate(policy.items()):
        if not isinstance(content, str):
            content = " ".join(content)
        current += ("; " if index else "") + f"{section} {content}"
        if section in nonce_in:
            segments.append(current)
            current = ""
    segments.append(current)
    return segments


class AppMailUtil(MailUtil):
    """Flask-Security's mails handed to the app's ``extensions["security_mail"]`` (the app
    factory sets it: app/accounts/mail.py queues them as jobs)."""

    def send_mail(self, template, subject, recipient, sender, body, html, **kwargs):
        current_app.extensions["security_mail"](
            template, subject, recipient, sender, body, html, **kwargs
        )


migrate = Migrate()
# A TOTP code is accepted once; the mails are jobs.
security = Security(totp_cls=SingleUseTotp, mail_util_cls=AppMailUtil)
csrf = CSRFProtect()
mail = Mail()
bootstrap = Bootstrap5()
talisman = Talisman()
limiter = Limiter(key_func=get_remote_address)
cache = Cache()  # the page cache's store (app/page_cache.py)
compress = Compress()  # HTML and JSON, gzip, brotli or zstd as the client accepts
babel = Babel()  # the locale of each request and its catalogue (app/i18n.py)
