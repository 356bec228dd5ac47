"""Extension objects, created unbound and initialised by the app factory."""

from typing import TYPE_CHECKING

from flask_bootstrap import Bootstrap5
from flask_caching import Cache
from flask_compress import Compress
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_mailman import Mail
from flask_migrate import Migrate
from flask_security import Security
from flask_sqlalchemy import SQLAlchemy
from flask_talisman import Talisman
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


migrate = Migrate()
security = Security(totp_cls=SingleUseTotp)  # a TOTP code is accepted once
csrf = CSRFProtect()
mail = Mail()
bootstrap = Bootstrap5()
talisman = Talisman()
limiter = Limiter(key_func=get_remote_address)
cache = Cache()  # the page cache's store (app/page_cache.py)
compress = Compress()  # HTML and JSON, gzip, brotli or zstd as the client accepts
