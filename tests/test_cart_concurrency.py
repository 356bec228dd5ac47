"""Concurrent cart changes on MariaDB: first adds race to create the cart, never a 500,
never a lost quantity, never beyond the stock or the cart's bounds."""

import logging

import pytest
from sqlalchemy import delete, func, select

from app.cart.models import Cart, CartItem
from app.cart.services import CartOwner, CartSummary, add_to_cart
from app.errors import OutOfStock, ValidationFailed
from app.extensions import db
from tests.factories import ProductFactory, UserFactory, create
from tests.helpers import run_together

pytestmark = [pytest.mark.mariadb, pytest.mark.concurrency]

THREADS = 10
ROUNDS = 3


def carts_and_lines(app) -> tuple[list[tuple], list[tuple]]:
    """(user_id, token) of every cart; (cart_id, product_id, quantity) of every line."""
    with app.app_context():
        carts = db.session.execute(select(Cart.user_id, Cart.token).order_by(Cart.id)).all()
        lines = db.session.execute(
            select(CartItem.cart_id, CartItem.product_id, CartItem.quantity).order_by(
                CartItem.product_id
            )
        ).all()
        return [tuple(c) for c in carts], [tuple(line) for line in lines]


def add_in_threads(app, owner, product_ids, quantities):
    def work(i):
        with app.app_context():
            return add_to_cart(owner, product_ids[i], quantities[i])

    return run_together(len(product_ids), work)


def failures(results) -> list:
    return [r for r in results if not isinstance(r, CartSummary)]


def test_ten_first_adds_for_one_user_make_one_cart_with_every_quantity(pooled_app):
    product_id = create(pooled_app, ProductFactory, stock=1000)
    users = [
        create(pooled_app, UserFactory, email=f"shopper{n}@example.com") for n in range(ROUNDS)
    ]

    for user_id in users:  # a few rounds: the losing interleavings are a matter of timing
        results = add_in_threads(
            pooled_app, CartOwner(user_id=user_id), [product_id] * THREADS, range(1, THREADS + 1)
        )
        assert failures(results) == []

    carts, lines = carts_and_lines(pooled_app)
    assert carts == [(user_id, None) for user_id in users]
    assert sorted(q for _cart, _p, q in lines) == [55] * ROUNDS


def test_ten_first_adds_of_different_products_all_land_in_one_cart(pooled_app):
    products = [create(pooled_app, ProductFactory, name=f"Tea {i}") for i in range(THREADS)]
    users = [
        create(pooled_app, UserFactory, email=f"shopper{n}@example.com") for n in range(ROUNDS)
    ]

    for user_id in users:
        results = add_in_threads(pooled_app, CartOwner(user_id=user_id), products, [2] * THREADS)
        assert failures(results) == []

    carts, lines = carts_and_lines(pooled_app)
    assert carts == [(user_id, None) for user_id in users]
    for cart_id in {cart for cart, _p, _q in lines}:
        assert [(p, q) for cart, p, q in lines if cart == cart_id] == [(p, 2) for p in products]


def test_ten_first_adds_for_one_anonymous_token_make_one_cart(pooled_app):
    product_id = create(pooled_app, ProductFactory, stock=100)
    token = "visitor-token-from-the-signed-cookie"

    results = add_in_threads(
        pooled_app, CartOwner(token=token), [product_id] * THREADS, [3] * THREADS
    )

    assert failures(results) == []
    assert {r.token for r in results} == {token}
    carts, lines = carts_and_lines(pooled_app)
    assert carts == [(None, token)]
    assert [(p, q) for _cart, p, q in lines] == [(product_id, 30)]


def test_concurrent_adds_stop_at_the_stock_without_losing_an_update(pooled_app):
    user_id = create(pooled_app, UserFactory)
    product_id = create(pooled_app, ProductFactory, stock=20)

    results = add_in_threads(
        pooled_app, CartOwner(user_id=user_id), [product_id] * THREADS, [3] * THREADS
    )

    refused = [r for r in results if isinstance(r, OutOfStock)]
    assert len(refused) == 4, failures(results)
    assert all(r.message == "Only 20 of Green Tea left in stock." for r in refused)
    assert carts_and_lines(pooled_app)[1][0][1:] == (product_id, 18)


def test_concurrent_adds_of_new_products_stop_at_the_line_limit(pooled_app):
    pooled_app.config["CART_MAX_LINES"] = 4
    user_id = create(pooled_app, UserFactory)
    products = [create(pooled_app, ProductFactory, name=f"Tea {i}") for i in range(THREADS)]

    results = add_in_threads(pooled_app, CartOwner(user_id=user_id), products, [1] * THREADS)

    refused = [r for r in results if isinstance(r, ValidationFailed)]
    assert len(refused) == THREADS - 4, failures(results)
    assert {r.message for r in refused} == {"A cart holds at most 4 different products."}
    carts, lines = carts_and_lines(pooled_app)
    assert len(carts) == 1
    assert len(lines) == 4
    with pooled_app.app_context():
        assert db.session.scalar(select(func.sum(CartItem.quantity))) == 4


def test_twenty_customers_adding_their_first_item_at_once_never_wait_on_each_other(
    pooled_app, caplog
):
    """New carts and their first lines land at the end of the cart tables' indexes: under
    READ COMMITTED no one holds a gap lock there, so lock conflicts (retried, and logged by
    app.transactions) stay rare: under REPEATABLE READ these 60 adds met about 70."""
    product_id = create(pooled_app, ProductFactory, stock=1000)
    users = [create(pooled_app, UserFactory, email=f"first{n}@example.com") for n in range(20)]

    def first_add(i):
        with pooled_app.app_context():
            return add_to_cart(CartOwner(user_id=users[i]), product_id, 1)

    with caplog.at_level(logging.WARNING, "app.transactions"):
        for _round in range(ROUNDS):
            with pooled_app.app_context():
                db.session.execute(delete(Cart))
                db.session.commit()
            assert failures(run_together(len(users), first_add)) == []

    conflicts = [r.getMessage() for r in caplog.records]
    assert len(conflicts) <= ROUNDS * len(users) // 10, conflicts
    carts, lines = carts_and_lines(pooled_app)
    assert sorted(user_id for user_id, _token in carts) == sorted(users)
    assert [quantity for _cart, _product, quantity in lines] == [1] * len(users)
