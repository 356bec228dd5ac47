"""The user datastore: Flask-Security's, with every new user a customer."""

from flask_security import SQLAlchemyUserDatastore

from app.accounts.models import ADMIN, CUSTOMER, Role, User
from app.extensions import db

ROLE_DESCRIPTIONS = {
    ADMIN: "Runs the shop: back office and every order",
    CUSTOMER: "Buys from the shop",
}


class UserDatastore(SQLAlchemyUserDatastore):
    def create_user(self, **kwargs):
        """Create a user; one created without roles (sign-up, CLI) gets ``customer``."""
        if not kwargs.get("roles"):
            kwargs["roles"] = [self.find_or_create_role(CUSTOMER)]
        return super().create_user(**kwargs)

    def find_or_create_role(self, name, **kwargs):
        kwargs.setdefault("description", ROLE_DESCRIPTIONS.get(name))
        return super().find_or_create_role(name, **kwargs)


user_datastore = UserDatastore(db, User, Role)
