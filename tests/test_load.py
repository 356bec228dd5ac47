"""Customers adding to their own carts while their checkouts take stock of the same products,
through the API on a real MariaDB server: lock conflicts are retried, never a 500, and
afterwards every unit of stock and every cart line is accounted for."""

import logging
import random
import time
from collections import Counter

import pytest
from sqlalchemy import func, select

from app.accounts.services import ensure_roles
from app.cart.models import Cart, CartItem
from app.catalog.models import Product
from app.extensions import db
from app.orders.models import OrderLine
from tests.factories import ProductFactory, UserFactory, create
from tests.helpers import ADDRESS, TOKEN_HEADER, get_token, run_together

pytestmark = [pytest.mark.mariadb, pytest.mark.concurrency]

CUSTOMERS = 12
SECONDS = 8
STOCK = 100_000


def test_customers_adding_and_checking_out_at_once_get_no_500(pooled_app, caplog):
    with pooled_app.app_context():
        ensure_roles()
    products = [create(pooled_app, ProductFactory, name=f"Tea {n}", stock=STOCK) for n in range(4)]
    emails = [f"customer{n}@example.com" for n in range(CUSTOMERS)]
    for email in emails:
        create(pooled_app, UserFactory, email=email)

    def customer(n):
        """Add one to three products, then check out; again until the time is up. Returns the
        statuses answered, and what the cart should hold and the orders took by product."""
        client = pooled_app.test_client()
        headers = {TOKEN_HEADER: get_token(client, email=emails[n]).get_json()["token"]}
        shuffled = random.Random(n)
        statuses: Counter = Counter()
        in_cart: Counter = Counter()
        ordered: Counter = Counter()
        deadline = time.monotonic() + SECONDS
        while time.monotonic() < deadline:
            for product_id in shuffled.sample(products, shuffled.randint(1, 3)):
                added = client.post(
                    "/api/v1/cart/items",
                    json={"product_id": product_id, "quantity": 1},
                    headers=headers,
                )
                statuses[added.status_code] += 1
                if added.status_code == 201:
                    in_cart[product_id] += 1
            placed = client.post(
                "/api/v1/orders",
                json={"shipping_address": ADDRESS, "payment": {"method": "manual"}},
                headers=headers,
            )
            statuses[placed.status_code] += 1
            if placed.status_code == 201:
                ordered.update(in_cart)
                in_cart.clear()
        return statuses, in_cart, ordered

    with caplog.at_level(logging.WARNING, "app.transactions"):
        results = run_together(CUSTOMERS, customer)

    failed = [r for r in results if not isinstance(r, tuple)]
    assert failed == []
    statuses = sum((r[0] for r in results), Counter())
    retried = sum("lock conflict" in record.getMessage() for record in caplog.records)
    assert set(statuses) <= {200, 201}, f"{statuses}, {retried} lock conflicts retried"
    assert statuses[201] > CUSTOMERS * 5  # the load did run

    ordered = sum((r[2] for r in results), Counter())
    in_carts = sum((r[1] for r in results), Counter())
    with pooled_app.app_context():
        stock = dict(db.session.execute(select(Product.id, Product.stock)).all())
        sold = dict(
            db.session.execute(
                select(OrderLine.product_id, func.sum(OrderLine.quantity)).group_by(
                    OrderLine.product_id
                )
            ).all()
        )
        lines = dict(
            db.session.execute(
                select(CartItem.product_id, func.sum(CartItem.quantity)).group_by(
                    CartItem.product_id
                )
            ).all()
        )
        carts = db.session.scalar(select(func.count(Cart.id)))
    assert {p: STOCK - stock[p] for p in products} == {p: sold.get(p, 0) for p in products}
    assert {p: sold.get(p, 0) for p in products} == {p: ordered[p] for p in products}
    assert {p: lines.get(p, 0) for p in products} == {p: in_carts[p] for p in products}
    assert carts == CUSTOMERS
