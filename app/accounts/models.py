"""User and Role, from Flask-Security-Too's SQLAlchemy mixins (model version 3)."""

from flask_security.models import fsqla_v3 as fsqla
from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import Model, db

fsqla.FsModels.set_db_info(db)

ADMIN = "admin"
CUSTOMER = "customer"


class Role(Model, fsqla.FsRoleMixin):
    __tablename__ = "role"


class User(Model, fsqla.FsUserMixin):
    __tablename__ = "user"

    # The time step of the last TOTP code accepted; older and equal ones are replays.
    tf_totp_last_counter: Mapped[int | None] = mapped_column(nullable=True)
    # The language the member chose (app/i18n.py: a LANGUAGES locale); None: never chose one.
    locale: Mapped[str | None] = mapped_column(String(16), nullable=True)

    @property
    def role_names(self) -> list[str]:
        return sorted(role.name for role in self.roles)

    @property
    def two_factor_enabled(self) -> bool:
        return bool(self.tf_primary_method)
