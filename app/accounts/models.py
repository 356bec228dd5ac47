"""User and Role, from Flask-Security-Too's SQLAlchemy mixins (model version 3)."""

from flask_security.models import fsqla_v3 as fsqla

from app.extensions import db

fsqla.FsModels.set_db_info(db)

ADMIN = "admin"
CUSTOMER = "customer"


class Role(db.Model, fsqla.FsRoleMixin):
    __tablename__ = "role"


class User(db.Model, fsqla.FsUserMixin):
    __tablename__ = "user"

    @property
    def role_names(self) -> list[str]:
        return sorted(role.name for role in self.roles)

    @property
    def two_factor_enabled(self) -> bool:
        return bool(self.tf_primary_method)
