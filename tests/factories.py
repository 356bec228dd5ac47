"""Rows for tests, made with factory_boy on Flask-SQLAlchemy's session and committed.

Inside an app context a factory returns the row: ``UserFactory(email="a@example.com")``.
Outside one (where tests make requests), ``create(app, ProductFactory, name="Mug")`` makes it
in its own app context and returns its id; the ``user_factory``, ``category_factory`` and
``product_factory`` fixtures of conftest.py do that for the test's ``app``. Carts and orders
have helpers here instead: ``fill_cart(app, user_id, *items)`` and ``place(app, user_id,
*items)``, then ``set_status`` to move an order along.

Users, carts and orders go through the shop's own rules, so a test starts from rows the shop
could have made: users through the user datastore (the ``customer`` role unless given roles,
a bcrypt hash, confirmed unless ``confirmed=False``), carts through ``add_to_cart`` (stock and
the cart's bounds hold), orders through ``place_order`` (stock taken, lines snapshotted, the
payment charged and recorded). Categories and products are plain rows.
"""

import factory
from factory.alchemy import SQLAlchemyModelFactory
from flask import current_app
from flask_security import hash_password
from flask_security.utils import naive_utcnow

from app.accounts.datastore import user_datastore
from app.accounts.models import User
from app.cart.models import Cart
from app.cart.services import CartOwner, add_to_cart, find_cart
from app.catalog.models import Category, OptionType, OptionValue, Product, Variant
from app.catalog.services import slugify
from app.extensions import db, security
from app.orders import checkout as checkout_service
from app.orders import state as state_machine
from app.orders.models import Order
from tests.helpers import ADDRESS, GOOD_CARD, PASSWORD


def _session():
    return db.session


class BaseFactory(SQLAlchemyModelFactory):
    class Meta:
        abstract = True
        sqlalchemy_session_factory = _session
        sqlalchemy_session_persistence = "commit"


class UserFactory(BaseFactory):
    """A confirmed customer who can log in with PASSWORD; ``roles`` are names (``["admin"]``);
    with ``totp_secret``, the authenticator app is the second factor."""

    class Meta:
        model = User

    email = "shopper@example.com"
    password = PASSWORD
    confirmed = True
    roles = None
    totp_secret = None

    @classmethod
    def _save(cls, model_class, session, args, kwargs):
        password, confirmed = kwargs.pop("password"), kwargs.pop("confirmed")
        totp_secret = kwargs.pop("totp_secret")
        roles = [user_datastore.find_or_create_role(name) for name in kwargs.pop("roles") or ()]
        user = user_datastore.create_user(
            password=hash_password(password),
            confirmed_at=naive_utcnow() if confirmed else None,
            roles=roles,
            **kwargs,
        )
        if totp_secret:
            security.datastore.tf_set(user, "authenticator", totp_secret=totp_secret)
        session.commit()
        return user


class CategoryFactory(BaseFactory):
    class Meta:
        model = Category

    name = "Tea"
    slug = factory.LazyAttribute(lambda category: slugify(category.name))
    parent_id = None


class ProductFactory(BaseFactory):
    """An active product without options: its one variant 10 in stock, at 4.50 in the shop's
    currency (SHOP_CURRENCY), its SKU and slug drawn from its name. ``sku`` and ``stock`` are
    the variant's."""

    class Meta:
        model = Product

    name = "Green Tea"
    sku = factory.LazyAttribute(lambda product: f"SKU-{slugify(product.name).upper()}")
    slug = factory.LazyAttribute(lambda product: slugify(product.name))
    description = factory.LazyAttribute(lambda product: f"About {product.name}.")
    price_cents = 450
    currency = factory.LazyFunction(lambda: current_app.config["SHOP_CURRENCY"])
    stock = 10
    is_active = True

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        variant = Variant(sku=kwargs.pop("sku"), stock=kwargs.pop("stock"))
        return super()._create(model_class, *args, variants=[variant], **kwargs)


class CartFactory(BaseFactory):
    """A cart filled through ``add_to_cart``: ``items`` are (product id, quantity) pairs, added
    to the user's cart (made if missing) or, without ``user_id``, to a new anonymous cart."""

    class Meta:
        model = Cart

    user_id = None
    items = ()

    @classmethod
    def _save(cls, model_class, session, args, kwargs):
        owner = CartOwner(user_id=kwargs["user_id"])
        for product_id, quantity in kwargs["items"]:
            token = add_to_cart(owner, product_id, quantity).token
            owner = CartOwner(user_id=owner.user_id, token=owner.token or token)
        return find_cart(owner)


class OrderFactory(BaseFactory):
    """An order placed through ``place_order`` after ``items`` are added to the user's cart
    (without items, the cart as it is checks out): shipped to ADDRESS, paid by the test
    provider with ``card`` (GOOD_CARD), or by ``method`` with ``details``."""

    class Meta:
        model = Order

    user_id = None
    items = ()
    key = factory.Sequence(lambda n: f"factory-{n}")
    address = ADDRESS
    method = "test"
    card = GOOD_CARD
    details = factory.LazyAttribute(lambda order: {"card_number": order.card})

    @classmethod
    def _save(cls, model_class, session, args, kwargs):
        CartFactory(user_id=kwargs["user_id"], items=kwargs["items"])
        return checkout_service.place_order(
            kwargs["user_id"],
            kwargs["key"],
            kwargs["address"],
            kwargs["method"],
            kwargs["details"],
        )


def create(app, factory_class, **fields) -> int:
    """Make one row with ``factory_class`` in its own app context; return its id."""
    with app.app_context():
        return factory_class(**fields).id


def two_factor_user(app, **fields) -> tuple[int, str]:
    """A user (UserFactory) with the authenticator method on; returns (id, TOTP secret)."""
    with app.app_context():
        secret = security.totp_factory.generate_totp_secret()
        return UserFactory(totp_secret=secret, **fields).id, secret


def fill_cart(app, user_id, *items) -> None:
    """Add (product id, quantity) ``items`` to the user's cart (CartFactory)."""
    create(app, CartFactory, user_id=user_id, items=items)


def place(app, user_id, *items, **fields) -> str:
    """Place an order (OrderFactory: ``items`` are (product id, quantity)); its number."""
    with app.app_context():
        return OrderFactory(user_id=user_id, items=items, **fields).number


def set_status(app, number, *statuses) -> None:
    """Move an order through ``statuses`` by the state machine, as no one (actor None)."""
    with app.app_context():
        for status in statuses:
            state_machine.transition(number, status, None)


SIZES = ("S", "M", "L")
COLOURS = ("red", "blue")


def make_tshirt(app, stock: int = 5, price_cents: int = 1500) -> dict[tuple[str, str], int]:
    """A T-shirt in three sizes and two colours, each variant ``stock`` in stock; the large
    ones cost 2 more. Returns the variant ids by (size, colour)."""
    with app.app_context():
        product = Product(slug="tshirt", name="T-shirt", price_cents=price_cents, currency="EUR")
        size = OptionType(name="Size", position=0)
        colour = OptionType(name="Colour", position=1)
        size.values = [OptionValue(value=v, position=i) for i, v in enumerate(SIZES)]
        colour.values = [OptionValue(value=v, position=i) for i, v in enumerate(COLOURS)]
        product.options = [colour, size]  # stored out of order: position decides
        for s_value in size.values:
            for c_value in colour.values:
                product.variants.append(
                    Variant(
                        sku=f"TS-{s_value.value}-{c_value.value}".upper(),
                        stock=stock,
                        price_cents=price_cents + 200 if s_value.value == "L" else None,
                        values=[c_value, s_value],
                    )
                )
        db.session.add(product)
        db.session.commit()
        return {
            tuple(
                v.value for v in sorted(variant.values, key=lambda v: v.option_type.position)
            ): variant.id
            for variant in product.variants
        }
