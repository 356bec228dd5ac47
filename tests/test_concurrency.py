"""Concurrent checkouts on MariaDB: no overselling, one order per checkout key."""

import pytest
from sqlalchemy import func, select

from app.cart.services import CartOwner, add_to_cart
from app.catalog.models import Product
from app.errors import OutOfStock
from app.extensions import db
from app.orders import checkout as checkout_service
from app.orders.models import Order
from tests.factories import ProductFactory, UserFactory, create
from tests.helpers import ADDRESS, GOOD_CARD, run_together

pytestmark = [pytest.mark.mariadb, pytest.mark.concurrency]


def test_twenty_checkouts_for_five_in_stock_sell_exactly_five(pooled_app):
    product_id = create(pooled_app, ProductFactory, name="Rare Tea", stock=5)
    users = [create(pooled_app, UserFactory, email=f"buyer{i}@example.com") for i in range(20)]
    with pooled_app.app_context():
        for user_id in users:
            add_to_cart(CartOwner(user_id=user_id), product_id, 1)

    def checkout(i):
        with pooled_app.app_context():
            return checkout_service.place_order(
                users[i], f"key-{i}", ADDRESS, "test", {"card_number": GOOD_CARD}
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
    product_id = create(pooled_app, ProductFactory, name="Green Tea", stock=10)
    user_id = create(pooled_app, UserFactory)
    with pooled_app.app_context():
        add_to_cart(CartOwner(user_id=user_id), product_id, 2)

    def checkout(_i):
        with pooled_app.app_context():
            return checkout_service.place_order(
                user_id, "same-key", ADDRESS, "test", {"card_number": GOOD_CARD}
            ).number

    results = run_together(5, checkout)

    assert len(set(results)) == 1, results
    assert isinstance(results[0], str)
    with pooled_app.app_context():
        assert db.session.scalar(select(func.count(Order.id))) == 1
        assert db.session.get(Product, product_id).stock == 8
