"""Every model, imported in one place so that metadata (Alembic, create_all) sees them all."""

from app.accounts.models import Role, User
from app.addresses.models import SavedAddress
from app.cart.models import Cart, CartItem
from app.catalog.models import Category, Product
from app.orders.models import Order, OrderEvent, OrderLine, Payment


def all_models() -> dict:
    """Name -> model class, for the shell."""
    models = (
        *(User, Role, SavedAddress, Category, Product, Cart, CartItem),
        *(Order, OrderLine, OrderEvent, Payment),
    )
    return {model.__name__: model for model in models}
