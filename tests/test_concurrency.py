"""Concurrent checkouts on MariaDB: no overselling, one order per checkout key."""

import pytest
from sqlalchemy import func, select

from app.app_factory import create_app
from app.cart.services import CartOwner, add_to_cart
from app.catalog.models import Product
from app.errors import OutOfStock
from app.extensions import db
from app.orders import checkout as checkout_service
from app.orders.models import Order
from tests.conftest import TEST_CONFIG, make_product, make_user, run_together

pytestmark = pytest.mark.mariadb_only

ADDRESS = {"name": "A", "line1": "1 Street", "city": "Berlin", "postcode": "10115", "country": "DE"}


@pytest.fixture
def pooled_app(app):
    """An app on the same MariaDB database whose pool has a connection per thread."""
    pooled = create_app(
        {
            **TEST_CONFIG,
            "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
            "SQLALCHEMY_ENGINE_OPTIONS": {"pool_size": 25, "max_overflow": 5},
        }
    )
    yield pooled
    with pooled.app_context():
        db.engine.dispose()


def test_twenty_checkouts_for_five_in_stock_sell_exactly_five(pooled_app):
    product_id = make_product(pooled_app, "Rare Tea", stock=5)
    users = [make_user(pooled_app, email=f"buyer{i}@example.com") for i in range(20)]
    with pooled_app.app_context():
        for user_id in users:
            add_to_cart(CartOwner(user_id=user_id), product_id, 1)

    def checkout(i):
        with pooled_app.app_context():
            return checkout_service.place_order(
                users[i], f"key-{i}", ADDRESS, "test", {"card_number": "4242424242424242"}
            ).number

    results = run_together(20, checkout)

    numbers = [r for r in results if isinstance(r, str)]
    refused = [r for r in results if isinstance(r, OutOfStock)]
    assert len(numbers) == 5
    assert len(refused) == 15, [r for r in results if not isinstance(r, (str, OutOfStock))]
    assert all("out of stock" in r.message for r in refused)
    with pooled_app.app_context():
        assert db.session.get(Product, product_id).stock == 0
        assert db.session.scalar(select(func.count(Order.id))) == 5


def test_the_same_checkout_submitted_five_times_at_once_makes_one_order(pooled_app):
    product_id = make_product(pooled_app, "Green Tea", stock=10)
    user_id = make_user(pooled_app)
    with pooled_app.app_context():
        add_to_cart(CartOwner(user_id=user_id), product_id, 2)

    def checkout(_i):
        with pooled_app.app_context():
            return checkout_service.place_order(
                user_id, "same-key", ADDRESS, "test", {"card_number": "4242424242424242"}
            ).number

    results = run_together(5, checkout)

    assert len(set(results)) == 1, results
    assert isinstance(results[0], str)
    with pooled_app.app_context():
        assert db.session.scalar(select(func.count(Order.id))) == 1
        assert db.session.get(Product, product_id).stock == 8
