"""Services never drop their caller's unsaved work, and refuse before they write."""

import pytest
from sqlalchemy import func, select

from app.cart.models import CartItem
from app.cart.services import CartOwner, add_to_cart
from app.catalog.models import Category, Product
from app.errors import ValidationFailed
from app.extensions import db
from app.orders import checkout as checkout_service
from app.orders import state as state_machine
from app.orders.models import Order
from tests.helpers import ADDRESS


def test_place_order_refuses_to_drop_the_callers_pending_work(app, user_factory, product_factory):
    user_id = user_factory()
    tea = product_factory("Green Tea", stock=5)

    with app.app_context():
        add_to_cart(CartOwner(user_id=user_id), tea, 1)
        pending = Category(name="Unsaved", slug="unsaved")
        db.session.add(pending)
        with pytest.raises(RuntimeError, match="commit your changes first"):
            checkout_service.place_order(user_id, "k", ADDRESS, "manual")
        assert pending in db.session.new  # still the caller's to commit
        db.session.commit()

    with app.app_context():
        assert db.session.scalar(select(Category.name)) == "Unsaved"
        assert db.session.scalar(select(func.count(Order.id))) == 0


def test_transition_refuses_to_drop_the_callers_pending_work(app, user_factory, product_factory):
    user_id = user_factory()
    tea = product_factory("Green Tea", stock=5)
    with app.app_context():
        add_to_cart(CartOwner(user_id=user_id), tea, 1)
        number = checkout_service.place_order(user_id, "k", ADDRESS, "manual").number

    with app.app_context():
        db.session.get(Product, tea).name = "Renamed"
        with pytest.raises(RuntimeError, match="commit your changes first"):
            state_machine.transition(number, "paid", None)
        assert db.session.get(Product, tea) in db.session.dirty

    with app.app_context():
        assert db.session.scalar(select(Order.status)) == "pending_payment"


def test_a_cart_mixing_currencies_is_refused_and_nothing_changes(
    app, user_factory, product_factory
):
    user_id = user_factory()
    tea = product_factory("Green Tea", stock=5, currency="EUR")
    mug = product_factory("Mug", stock=5, currency="USD")
    with app.app_context():
        add_to_cart(CartOwner(user_id=user_id), tea, 2)
        add_to_cart(CartOwner(user_id=user_id), mug, 1)

    with app.app_context(), pytest.raises(ValidationFailed, match="mixes currencies"):
        checkout_service.place_order(user_id, "k", ADDRESS, "manual")

    with app.app_context():
        stock = dict(db.session.execute(select(Product.id, Product.stock)).all())
        lines = dict(db.session.execute(select(CartItem.product_id, CartItem.quantity)).all())
        assert stock == {tea: 5, mug: 5}
        assert lines == {tea: 2, mug: 1}
        assert db.session.scalar(select(func.count(Order.id))) == 0
