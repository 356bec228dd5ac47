"""The test factories make rows through the shop's rules, and conftest marks the backends."""

import pytest
from flask_security import verify_password
from sqlalchemy import select

from app.cart.models import Cart
from app.errors import OutOfStock
from app.extensions import db
from app.orders.models import Order
from tests.factories import CartFactory, OrderFactory, ProductFactory, UserFactory
from tests.helpers import PASSWORD, cart_rows, stock


def test_a_user_is_a_confirmed_customer_with_a_bcrypt_hash(app):
    with app.app_context():
        user = UserFactory()

        assert (user.email, [role.name for role in user.roles]) == (
            "shopper@example.com",
            ["customer"],
        )
        assert user.confirmed_at is not None
        assert user.password.startswith("$2b$04$")  # bcrypt at the tests' 4 rounds
        assert verify_password(PASSWORD, user.password)


def test_an_admin_gets_the_roles_it_names_and_they_are_created(app):
    with app.app_context():
        user = UserFactory(email="admin@example.com", roles=["customer", "admin"])

        assert sorted(role.name for role in user.roles) == ["admin", "customer"]


def test_a_cart_is_filled_through_add_to_cart_within_the_stock(app):
    with app.app_context():
        user_id = UserFactory().id
        tea = ProductFactory(stock=3).id
        cart = CartFactory(user_id=user_id, items=[(tea, 2)])
        CartFactory(user_id=user_id, items=[(tea, 1)])  # the same cart, the quantity added

        assert isinstance(cart, Cart)
        with pytest.raises(OutOfStock):
            CartFactory(user_id=user_id, items=[(tea, 1)])
    assert cart_rows(app) == [(user_id, False, tea, 3)]


def test_an_anonymous_cart_gets_its_token(app):
    with app.app_context():
        tea = ProductFactory().id
        cart = CartFactory(items=[(tea, 1)])

        assert (cart.user_id, len(cart.token or "") > 20) == (None, True)


def test_an_order_is_placed_paid_through_the_service(app):
    with app.app_context():
        user_id = UserFactory().id
        tea = ProductFactory(stock=5).id
        number = OrderFactory(user_id=user_id, items=[(tea, 2)]).number

        order = db.session.scalar(select(Order).where(Order.number == number))
        assert (order.status, order.total_cents, order.ship_name) == ("paid", 900, "Ada Lovelace")
        assert [(line.sku, line.quantity) for line in order.lines] == [("SKU-GREEN-TEA", 2)]
    assert stock(app, tea) == 3
    assert cart_rows(app) == []


def test_each_backend_run_is_marked_with_its_backend(backend, request):
    assert (request.node.get_closest_marker("mariadb") is not None) == (backend.name == "mariadb")
