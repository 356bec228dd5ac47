"""Vouchers at checkout: the discount through the one totals calculation (tax after discount),
why a code does not apply, the limits decided in the database (threads on MariaDB), and a
cancelled order giving its use back once."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from app.errors import DomainError, ValidationFailed
from app.extensions import db
from app.orders import checkout as checkout_service
from app.orders import state
from app.orders.models import Order
from app.taxes.models import TaxRate
from app.timestamps import utcnow
from app.vouchers.models import Voucher
from app.vouchers.services import VoucherUsedUp
from tests.factories import ProductFactory, UserFactory, create, fill_cart
from tests.helpers import (
    ADDRESS,
    BODY,
    DECLINED_CARD,
    GOOD_CARD,
    assert_error,
    csrf_token,
    login,
    run_together,
    token_headers,
)

BERLIN = {**ADDRESS, "city": "Berlin", "postcode": "10117", "country": "DE"}


def make_voucher(app, **fields) -> int:
    with app.app_context():
        voucher = Voucher(**{"code": "WELCOME10", "kind": "percent", "value": 10, **fields})
        db.session.add(voucher)
        db.session.commit()
        return voucher.id


def uses(app, voucher_id) -> int:
    with app.app_context():
        return db.session.get(Voucher, voucher_id).uses


@pytest.fixture
def shopper(app):
    """A customer with 2 teas (4.50) and a book (19.99, 7 %) in the cart; DE tax 19 %."""
    with app.app_context():
        db.session.add(TaxRate(country="DE", rate=Decimal("19")))
        db.session.commit()
    user_id = create(app, UserFactory)
    tea = create(app, ProductFactory, name="Tea", price_cents=450, stock=50)
    book = create(app, ProductFactory, name="Book", price_cents=1999, stock=50)
    fill_cart(app, user_id, (tea, 2), (book, 1))
    return {"user_id": user_id, "tea": tea, "book": book}


def place(app, user_id, code, key="k"):
    with app.app_context():
        order = checkout_service.place_order(
            user_id, key, BERLIN, "test", {"card_number": GOOD_CARD}, voucher_code=code
        )
        db.session.refresh(order)  # expired by the commit: read again, lines and payments too
        order.lines, order.payments  # noqa: B018
        db.session.expunge(order)
        return order


def test_a_code_in_any_case_takes_its_discount_before_tax(app, shopper):
    voucher_id = make_voucher(app)

    order = place(app, shopper["user_id"], " welcome10 ")

    assert (order.voucher_code, order.voucher_id) == ("WELCOME10", voucher_id)
    assert (order.subtotal_cents, order.discount_cents, order.total_cents) == (2899, 290, 2609)
    # Tax after the discount, per line: 2.90 off shared 0.90 / 2.00; 8.10 and 17.99 at 19 %
    # included: 1.29 + 2.87.
    assert order.tax_cents == 129 + 287
    assert [line.tax_cents for line in order.lines] == [129, 287]
    assert order.payments[0].amount_cents == 2609
    assert uses(app, voucher_id) == 1


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"code": "OTHER"}, "This code is not valid"),
        ({"is_active": False}, "This code is not valid"),
        ({"starts_at": utcnow() + timedelta(days=1)}, "not valid yet"),
        ({"ends_at": utcnow() - timedelta(seconds=1)}, "has expired"),
        ({"min_subtotal_cents": 5000}, "does not reach this code's minimum"),
        ({"max_uses": 2, "uses": 2}, "has been used up"),  # 409 voucher_used_up
    ],
)
def test_a_code_that_does_not_apply_says_why_and_changes_nothing(app, shopper, fields, message):
    voucher_id = make_voucher(app, **fields)

    with pytest.raises(DomainError, match=message) as refused:
        place(app, shopper["user_id"], "WELCOME10")

    assert "voucher_code" in refused.value.fields
    with app.app_context():
        assert db.session.scalar(select(db.func.count(Order.id))) == 0
    assert uses(app, voucher_id) == fields.get("uses", 0)


def test_the_per_customer_limit_counts_orders_not_cancelled(app, shopper):
    voucher_id = make_voucher(app, max_uses_per_customer=1)
    first = place(app, shopper["user_id"], "WELCOME10", key="a")
    fill_cart(app, shopper["user_id"], (shopper["tea"], 1))
    with pytest.raises(ValidationFailed, match="as often as it allows"):
        place(app, shopper["user_id"], "WELCOME10", key="b")

    with app.app_context():
        state.cancel_own_order(shopper["user_id"], first.number)
    assert uses(app, voucher_id) == 0  # given back by the cancellation
    again = place(app, shopper["user_id"], "WELCOME10", key="c")
    assert again.voucher_id == voucher_id


def test_a_cancelled_order_gives_its_use_back_exactly_once(app, shopper):
    voucher_id = make_voucher(app, max_uses=1)
    order = place(app, shopper["user_id"], "WELCOME10")
    assert uses(app, voucher_id) == 1

    with app.app_context():
        state.cancel_own_order(shopper["user_id"], order.number)
        with pytest.raises(Exception, match="cannot become cancelled"):
            state.cancel_own_order(shopper["user_id"], order.number)

    assert uses(app, voucher_id) == 0


def test_a_fixed_voucher_never_takes_more_than_the_lines(app, shopper):
    make_voucher(app, kind="fixed", value=10_000)

    order = place(app, shopper["user_id"], "WELCOME10")

    assert (order.discount_cents, order.total_cents, order.tax_cents) == (2899, 0, 0)


def test_the_api_takes_a_code_and_names_it_when_it_does_not_apply(app, client, shopper):
    make_voucher(app, max_uses=1, uses=1)
    headers = token_headers(client)

    refused = client.post(
        "/api/v1/orders", json={**BODY, "voucher_code": "welcome10"}, headers=headers
    )

    assert "voucher_code" in assert_error(refused, 409, "voucher_used_up")["fields"]


@pytest.mark.mariadb
@pytest.mark.concurrency
def test_three_uses_left_and_twenty_racing_checkouts_give_three_discounted_orders(pooled_app):
    """20 customers send their checkout with the code at once: exactly 3 get the discount,
    the others 409 voucher_used_up, and each of them then checks out without the code."""
    voucher_id = make_voucher(pooled_app, max_uses=5, uses=2)
    tea = create(pooled_app, ProductFactory, name="Tea", price_cents=1000, stock=100)
    tokens = []
    for number in range(20):
        user_id = create(pooled_app, UserFactory, email=f"racer{number}@example.com")
        fill_cart(pooled_app, user_id, (tea, 1))
        tokens.append(token_headers(pooled_app.test_client(), f"racer{number}@example.com"))
    body = {**BODY, "voucher_code": "WELCOME10"}

    def checkout(i):
        client = pooled_app.test_client()
        response = client.post("/api/v1/orders", json=body, headers=tokens[i])
        if response.status_code == 201:
            return 201, response.get_json()["discount_cents"]
        retried = client.post("/api/v1/orders", json=BODY, headers=tokens[i])
        return response.get_json()["error"]["code"], retried.status_code

    results = run_together(20, checkout)

    assert sorted(r for r in results if r[0] == 201) == [(201, 100)] * 3, results
    assert sorted(r for r in results if r[0] != 201) == [("voucher_used_up", 201)] * 17
    assert uses(pooled_app, voucher_id) == 5
    with pooled_app.app_context():
        assert (
            db.session.scalar(select(db.func.count(Order.id)).where(Order.voucher_id == voucher_id))
            == 3
        )
        assert db.session.scalar(select(db.func.count(Order.id))) == 20


def test_voucher_used_up_is_a_conflict():
    assert VoucherUsedUp("x").status == 409


# A code applied to the cart (pages and API), which checkout takes


def test_a_customer_applies_a_code_to_the_cart_and_pays_the_discounted_total(app, client, shopper):
    make_voucher(app)
    login(client)
    token = csrf_token(client, "/cart")

    client.post("/cart/voucher", data={"voucher_code": "welcome10", "csrf_token": token})
    cart = client.get("/cart").get_data(as_text=True)
    assert "The code is applied." in cart
    assert re.search(r'id="cart-discount">−€2\.90<', cart)

    checkout_page = client.get("/checkout").get_data(as_text=True)
    assert re.search(r'id="totals-discount">−€2\.90<', checkout_page)
    key = re.search(r'name="checkout_key" type="hidden" value="([^"]+)"', checkout_page).group(1)
    placed = client.post(
        "/checkout",
        data={
            **BERLIN,
            "payment_method": "test",
            "card_number": GOOD_CARD,
            "checkout_key": key,
            "csrf_token": csrf_token(client, "/checkout"),
        },
    )

    assert placed.status_code == 302
    with app.app_context():
        order = db.session.scalar(select(Order))
        assert (order.voucher_code, order.discount_cents, order.total_cents) == (
            "WELCOME10",
            290,
            2609,
        )
        assert order.payments[0].amount_cents == 2609
    assert "WELCOME10" not in client.get("/cart").get_data(as_text=True)  # used


def test_a_code_that_does_not_apply_to_the_cart_says_why(app, client, shopper):
    make_voucher(app, min_subtotal_cents=5000)
    login(client)
    token = csrf_token(client, "/cart")

    client.post("/cart/voucher", data={"voucher_code": "WELCOME10", "csrf_token": token})

    page = client.get("/cart").get_data(as_text=True)
    assert "does not reach this code&#39;s minimum" in page
    assert 'id="voucher-form"' in page  # nothing applied


def test_the_api_applies_and_removes_a_code_and_the_order_takes_it(app, client, shopper):
    make_voucher(app)
    headers = token_headers(client)

    applied = client.post("/api/v1/cart/voucher", json={"code": "welcome10"}, headers=headers)
    quoted = client.get("/api/v1/cart/quote?country=DE", headers=headers).get_json()
    removed = client.delete("/api/v1/cart/voucher", headers=headers).get_json()
    client.post("/api/v1/cart/voucher", json={"code": "WELCOME10"}, headers=headers)
    placed = client.post("/api/v1/orders", json=BODY, headers=headers).get_json()

    assert applied.status_code == 200
    assert (applied.get_json()["voucher_code"], applied.get_json()["discount_cents"]) == (
        "WELCOME10",
        290,
    )
    assert (quoted["voucher_code"], quoted["discount_cents"], quoted["total_cents"]) == (
        "WELCOME10",
        290,
        2609,
    )
    assert (removed["voucher_code"], removed["discount_cents"]) == (None, 0)
    assert (placed["voucher_code"], placed["discount_cents"]) == ("WELCOME10", 290)


def test_a_declined_card_gives_the_cart_its_code_back_with_its_lines(app, client, shopper):
    voucher = make_voucher(app)
    headers = token_headers(client)
    client.post("/api/v1/cart/voucher", json={"code": "WELCOME10"}, headers=headers)
    declined = {**BODY, "payment": {"method": "test", "card_number": DECLINED_CARD}}

    refused = client.post("/api/v1/orders", json=declined, headers=headers)
    cart = client.get("/api/v1/cart", headers=headers).get_json()
    placed = client.post("/api/v1/orders", json=BODY, headers=headers).get_json()

    assert refused.status_code == 402
    assert (cart["voucher_code"], cart["discount_cents"]) == ("WELCOME10", 290)
    assert (placed["voucher_code"], placed["discount_cents"]) == ("WELCOME10", 290)
    assert uses(app, voucher) == 1


@pytest.mark.app_config(RATELIMIT_VOUCHER_GUESSES="3 per minute")
def test_guessing_codes_is_limited_and_applied_codes_do_not_count(app, client, shopper):
    make_voucher(app)
    headers = token_headers(client)

    def apply(code):
        return client.post("/api/v1/cart/voucher", json={"code": code}, headers=headers)

    assert [apply("WELCOME10").status_code for _ in range(4)] == [200] * 4
    assert [apply(f"GUESS{n}").status_code for n in range(4)] == [422, 422, 422, 429]


@pytest.mark.mariadb
@pytest.mark.concurrency
def test_one_guest_racing_from_six_carts_gets_a_once_per_customer_code_once(pooled_app):
    """One e-mail address, six carts (six browsers), six checkouts with the code at once: the
    per-customer limit of 1 gives one discounted order; the others are 422 and change
    nothing."""
    voucher_id = make_voucher(pooled_app, max_uses_per_customer=1)
    carts = []
    for number in range(6):  # a product each: no stock row makes the checkouts wait in turn
        tea = create(pooled_app, ProductFactory, name=f"Tea {number}", price_cents=1000)
        client = pooled_app.test_client(use_cookies=False)
        added = client.post("/api/v1/cart/items", json={"product_id": tea, "quantity": 1})
        carts.append(
            {"X-Cart-Token": added.headers["X-Cart-Token"], "Idempotency-Key": f"g{number}"}
        )
    body = {**BODY, "email": "twice@example.com", "voucher_code": "WELCOME10"}

    def checkout(i):
        client = pooled_app.test_client(use_cookies=False)
        response = client.post(
            "/api/v1/orders",
            json=body,
            headers=carts[i],
            environ_base={"REMOTE_ADDR": f"10.0.1.{i}"},
        )
        return response.status_code

    results = run_together(6, checkout)

    assert sorted(results) == [201] + [422] * 5, results
    assert uses(pooled_app, voucher_id) == 1
    with pooled_app.app_context():
        assert db.session.scalar(select(db.func.count(Order.id))) == 1
