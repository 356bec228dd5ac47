"""The orders API: checkout (idempotency, payments, stock), own orders, cancelling, concurrency."""

import re

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.exc import OperationalError

from app.accounts.services import ensure_roles
from app.catalog.models import Product
from app.extensions import db
from app.orders.models import Order, Payment
from tests.api import as_role
from tests.factories import ProductFactory, UserFactory, create, fill_cart, place, set_status
from tests.helpers import (
    ADDRESS,
    BODY,
    DECLINED_CARD,
    ERROR_CODES,
    ROLES,
    TOKEN_HEADER,
    assert_error,
    csrf_token,
    login,
    run_together,
    snapshot,
    stock,
    token_headers,
)

# Refused by the schema's card number pattern, whatever the method: 11 and 20 digits, dashes.
NOT_CARD_NUMBERS = [("manual", "4" * 11), ("test", "4" * 20), ("test", "4242-4242-4242-4242")]
# Not ISO 3166-1 alpha-2 (Babel's territories have ZZ, EU, XA...), alpha-3, lower case.
NOT_COUNTRIES = ["ZZ", "EU", "XA", "XX", "GBR", "gb", ""]
ONE_SHIPPING_ADDRESS = "Give shipping_address, or shipping_address_id (a saved address)."
COUNTRY_MESSAGE = "Use an ISO 3166-1 alpha-2 country code in capitals, e.g. DE or FR."


def order_count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(Order.id)))


@pytest.fixture
def shopper(client, filled_cart):
    """The customer of ``filled_cart``, with the headers of an API token."""
    return {**filled_cart, "headers": token_headers(client)}


# Placing an order


def test_place_order_with_test_card_is_201_paid(app, client, shopper, outbox):
    response = client.post("/api/v1/orders", json=BODY, headers=shopper["headers"])

    assert response.status_code == 201
    order = response.get_json()
    assert re.fullmatch(r"SF-[A-HJ-NP-Z2-9]{10}", order["number"])
    assert order["status"] == "paid"
    assert (order["subtotal_cents"], order["total_cents"], order["currency"]) == (1900, 1900, "EUR")
    assert order["payment_method"] == "test"
    assert order["shipping_address"] == ADDRESS
    assert [
        (line["sku"], line["quantity"], line["unit_price_cents"], line["line_total_cents"])
        for line in order["lines"]
    ] == [("SKU-GREEN-TEA", 2, 450, 900), ("SKU-MUG", 1, 1000, 1000)]
    assert [(e["from_status"], e["to_status"]) for e in order["events"]] == [
        (None, "pending_payment"),
        ("pending_payment", "paid"),
    ]
    assert order["created_at"].endswith("+00:00")
    assert all(event["created_at"].endswith("+00:00") for event in order["events"])
    assert (stock(app, shopper["tea"]), stock(app, shopper["mug"])) == (3, 1)
    assert snapshot(app)["carts"] == []
    assert [m.subject for m in outbox] == [f"Your order {order['number']}"]


def test_place_order_by_bank_transfer_is_pending(app, client, shopper):
    body = {
        "shipping_address": {**ADDRESS, "country": "GB"},
        "payment": {"method": "manual"},
    }

    response = client.post("/api/v1/orders", json=body, headers=shopper["headers"])

    assert response.status_code == 201
    order = response.get_json()
    assert order["status"] == "pending_payment"
    assert order["shipping_address"]["country"] == "GB"
    with app.app_context():
        payment = db.session.scalar(select(Payment))
        assert (payment.provider, payment.status, payment.amount_cents) == (
            "manual",
            "pending",
            1900,
        )


def test_place_order_with_a_session_needs_the_csrf_header(app, client, shopper):
    login(client)
    before = snapshot(app)

    refused = client.post("/api/v1/orders", json=BODY)
    after_refusal = snapshot(app)
    accepted = client.post(
        "/api/v1/orders", json=BODY, headers={"X-CSRF-Token": csrf_token(client, "/account")}
    )

    assert_error(refused, 400, "bad_request")
    assert after_refusal == before
    assert accepted.status_code == 201
    assert order_count(app) == 1


def test_declined_card_is_402_and_writes_nothing(app, client, shopper, outbox):
    before = snapshot(app)
    body = {**BODY, "payment": {"method": "test", "card_number": DECLINED_CARD}}

    response = client.post("/api/v1/orders", json=body, headers=shopper["headers"])

    error = assert_error(response, 402, "payment_declined")
    assert error["message"] == "Your card was declined. No order was placed."
    assert snapshot(app) == before
    assert outbox == []


def test_empty_cart_is_422(app, client, user_factory):
    user_factory()
    headers = token_headers(client)

    response = client.post("/api/v1/orders", json=BODY, headers=headers)

    error = assert_error(response, 422, "validation_failed")
    assert error["message"] == "Your cart is empty."
    assert order_count(app) == 0


def test_not_enough_stock_is_409_out_of_stock_and_keeps_the_cart(app, client, shopper):
    with app.app_context():
        db.session.get(Product, shopper["mug"]).variants[0].stock = 0
        db.session.commit()
    before = snapshot(app)

    response = client.post("/api/v1/orders", json=BODY, headers=shopper["headers"])

    error = assert_error(response, 409, "out_of_stock")
    assert "Mug is out of stock" in error["message"]
    assert snapshot(app) == before


def test_place_order_ships_to_germany(client, shopper):
    body = {**BODY, "shipping_address": {**ADDRESS, "country": "DE"}}

    response = client.post("/api/v1/orders", json=body, headers=shopper["headers"])

    assert response.status_code == 201
    assert response.get_json()["shipping_address"]["country"] == "DE"


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        (
            {"payment": BODY["payment"]},
            {
                "shipping_address": [
                    "Give shipping_address, or shipping_address_id (a saved address)."
                ]
            },
        ),
        ({**BODY, "coupon": "FREE"}, {"coupon": ["Unknown field."]}),
        (
            {**BODY, "shipping_address": {**ADDRESS, "phone": "1"}},
            {"shipping_address.phone": ["Unknown field."]},
        ),
        *(
            (
                {**BODY, "shipping_address": {**ADDRESS, "country": code}},
                {"shipping_address.country": [COUNTRY_MESSAGE]},
            )
            for code in NOT_COUNTRIES
        ),
        (
            {**BODY, "shipping_address": {**ADDRESS, "city": "   "}},
            {"shipping_address.city": ["Must not be blank."]},
        ),
        (
            {**BODY, "payment": {"method": "cash"}},
            {"payment.method": ["Must be one of: manual, stripe, test."]},
        ),
        (
            {**BODY, "payment": {"method": "test"}},
            {"payment.card_number": ["Enter a card number of 12-19 digits."]},
        ),
        *(
            (
                {**BODY, "payment": {"method": method, "card_number": number}},
                {"payment.card_number": ["Enter a card number of 12-19 digits."]},
            )
            for method, number in NOT_CARD_NUMBERS
        ),
    ],
    ids=[
        "no-address",
        "unknown-field",
        "unknown-address-field",
        *(f"country-{code!r}" for code in NOT_COUNTRIES),
        "blank-city",
        "unknown-method",
        "no-card",
        *(f"{method}-card-{number!r}" for method, number in NOT_CARD_NUMBERS),
    ],
)
def test_invalid_checkout_is_422_with_fields_and_writes_nothing(app, client, shopper, body, fields):
    before = snapshot(app)

    response = client.post("/api/v1/orders", json=body, headers=shopper["headers"])

    error = assert_error(response, 422, "validation_failed")
    assert error["fields"] == fields
    assert snapshot(app) == before


# Idempotency-Key


def test_same_idempotency_key_and_body_returns_the_same_order_once(app, client, shopper, outbox):
    headers = {**shopper["headers"], "Idempotency-Key": "3f1c2a9e-retry-me"}

    first = client.post("/api/v1/orders", json=BODY, headers=headers)
    fill_cart(app, shopper["user_id"], (shopper["tea"], 1))  # a retry must not order this
    after_first = snapshot(app)
    again = client.post("/api/v1/orders", json=BODY, headers=headers)

    assert first.status_code == 201
    assert again.status_code == 201
    assert again.get_json() == first.get_json()
    assert snapshot(app) == after_first
    assert order_count(app) == 1
    assert (stock(app, shopper["tea"]), stock(app, shopper["mug"])) == (3, 1)
    assert len(outbox) == 1
    with app.app_context():
        key = db.session.scalar(select(Order.checkout_key))
    assert key == f"api:{shopper['user_id']}:3f1c2a9e-retry-me"


def test_same_idempotency_key_with_another_body_is_422_and_changes_nothing(app, client, shopper):
    headers = {**shopper["headers"], "Idempotency-Key": "k-1"}
    assert client.post("/api/v1/orders", json=BODY, headers=headers).status_code == 201
    fill_cart(app, shopper["user_id"], (shopper["tea"], 1))
    before = snapshot(app)
    other_body = {**BODY, "shipping_address": {**ADDRESS, "city": "Paris", "country": "FR"}}

    response = client.post("/api/v1/orders", json=other_body, headers=headers)

    error = assert_error(response, 422, "validation_failed")
    assert error["fields"] == {"Idempotency-Key": ["Use a new key for a different order."]}
    assert snapshot(app) == before


def test_idempotency_keys_belong_to_their_user(app, client, shopper, user_factory):
    other_id = user_factory(email="other@example.com")
    fill_cart(app, other_id, (shopper["tea"], 1))
    key = {"Idempotency-Key": "1"}

    mine = client.post("/api/v1/orders", json=BODY, headers={**shopper["headers"], **key})
    theirs = client.post(
        "/api/v1/orders",
        json=BODY,
        headers={**token_headers(client, "other@example.com"), **key},
    )

    assert (mine.status_code, theirs.status_code) == (201, 201)
    assert mine.get_json()["number"] != theirs.get_json()["number"]


def test_without_idempotency_key_every_post_is_a_new_checkout(app, client, shopper):
    first = client.post("/api/v1/orders", json=BODY, headers=shopper["headers"])
    fill_cart(app, shopper["user_id"], (shopper["tea"], 1))
    second = client.post("/api/v1/orders", json=BODY, headers=shopper["headers"])

    assert (first.status_code, second.status_code) == (201, 201)
    assert first.get_json()["number"] != second.get_json()["number"]
    assert order_count(app) == 2
    assert stock(app, shopper["tea"]) == 2


@pytest.mark.parametrize("key", ["x" * 49, "has space", "ключ"])
def test_malformed_idempotency_key_is_422(app, client, shopper, key):
    before = snapshot(app)

    response = client.post(
        "/api/v1/orders", json=BODY, headers={**shopper["headers"], "Idempotency-Key": key}
    )

    error = assert_error(response, 422, "validation_failed")
    assert list(error["fields"]) == ["Idempotency-Key"]
    assert snapshot(app) == before


# Reading and cancelling own orders


def test_list_orders_is_paginated_newest_first_and_only_mine(app, client, shopper, user_factory):
    numbers = []
    for i in range(3):
        fill_cart(app, shopper["user_id"], (shopper["tea"], 1))
        numbers.append(place(app, shopper["user_id"], key=f"k{i}", method="manual"))
    other_id = user_factory(email="other@example.com")
    fill_cart(app, other_id, (shopper["mug"], 1))
    place(app, other_id, key="theirs", method="manual")

    first = client.get("/api/v1/orders?per_page=2", headers=shopper["headers"])
    second = client.get("/api/v1/orders?per_page=2&page=2", headers=shopper["headers"])

    assert first.status_code == 200
    page = first.get_json()
    assert {key: page[key] for key in ("page", "per_page", "total", "pages")} == {
        "page": 1,
        "per_page": 2,
        "total": 3,
        "pages": 2,
    }
    listed = [o["number"] for o in page["items"]] + [
        o["number"] for o in second.get_json()["items"]
    ]
    assert listed == numbers[::-1]
    assert page["items"][0]["lines"][0]["sku"] == "SKU-GREEN-TEA"


@pytest.mark.parametrize("query", ["per_page=0", "per_page=101", "page=0", "page=x"])
def test_list_orders_with_bad_paging_is_422(client, shopper, query):
    response = client.get(f"/api/v1/orders?{query}", headers=shopper["headers"])

    assert_error(response, 422, "validation_failed")


def test_get_own_order(app, client, shopper):
    number = place(app, shopper["user_id"], key="k", method="manual")

    response = client.get(f"/api/v1/orders/{number}", headers=shopper["headers"])

    assert response.status_code == 200
    assert response.get_json()["number"] == number
    assert response.get_json()["status"] == "pending_payment"


def test_unknown_order_is_404(client, shopper):
    assert_error(
        client.get("/api/v1/orders/SF-NOSUCH", headers=shopper["headers"]), 404, "not_found"
    )


def test_cancel_own_order_puts_the_stock_back(app, client, shopper):
    number = place(app, shopper["user_id"], key="k", method="test")

    response = client.post(f"/api/v1/orders/{number}/cancel", headers=shopper["headers"])

    assert response.status_code == 200
    order = response.get_json()
    assert order["status"] == "cancelled"
    assert order["events"][-1]["from_status"] == "paid"
    assert order["events"][-1]["note"] == "Cancelled by the customer."
    assert (stock(app, shopper["tea"]), stock(app, shopper["mug"])) == (5, 2)


@pytest.mark.parametrize(
    ("statuses", "message"),
    [
        (["paid", "shipped"], "An order that is shipped cannot become cancelled"),
        (["cancelled"], "An order that is cancelled cannot become cancelled"),
    ],
)
def test_cancel_after_shipping_or_twice_is_409(app, client, shopper, statuses, message):
    number = place(app, shopper["user_id"], key="k", method="manual")
    set_status(app, number, *statuses)
    before = snapshot(app)

    response = client.post(f"/api/v1/orders/{number}/cancel", headers=shopper["headers"])

    error = assert_error(response, 409, "invalid_transition")
    assert error["message"].startswith(message)
    assert snapshot(app) == before


@pytest.mark.parametrize(
    "statuses",
    [[], ["paid"], ["paid", "shipped"], ["paid", "shipped", "delivered"], ["cancelled"]],
)
def test_cancellable_says_whether_the_cancel_would_pass(app, client, shopper, statuses):
    """The order's ``cancellable`` (what the React storefront shows its button by) agrees with
    what POST /orders/{number}/cancel then does."""
    number = place(app, shopper["user_id"], key="k", method="manual")
    set_status(app, number, *statuses)

    shown = client.get(f"/api/v1/orders/{number}", headers=shopper["headers"]).get_json()
    listed = client.get("/api/v1/orders", headers=shopper["headers"]).get_json()["items"]
    cancel = client.post(f"/api/v1/orders/{number}/cancel", headers=shopper["headers"])

    assert shown["cancellable"] is listed[0]["cancellable"] is (cancel.status_code == 200)
    assert shown["cancellable"] is (statuses in ([], ["paid"]))
    if cancel.status_code == 200:
        assert cancel.get_json()["cancellable"] is False


def test_cancel_with_a_session_needs_the_csrf_header(app, client, shopper):
    number = place(app, shopper["user_id"], key="k", method="manual")
    login(client)
    before = snapshot(app)

    refused = client.post(f"/api/v1/orders/{number}/cancel")
    after_refusal = snapshot(app)
    accepted = client.post(
        f"/api/v1/orders/{number}/cancel", headers={"X-CSRF-Token": csrf_token(client, "/account")}
    )

    assert_error(refused, 400, "bad_request")
    assert after_refusal == before
    assert accepted.status_code == 200
    assert accepted.get_json()["status"] == "cancelled"


# Authorization: anonymous, customer, other customer, admin


@pytest.fixture
def shop(app, client, user_factory, product_factory):
    """Three users, each with a Green Tea in the cart; the customer has one order."""
    tea = product_factory("Green Tea", stock=10)
    customer = user_factory(email="customer@example.com")
    other = user_factory(email="other@example.com")
    with app.app_context():
        ensure_roles()
    admin = user_factory(email="admin@example.com", roles=["admin"])
    fill_cart(app, customer, (tea, 1))
    number = place(app, customer, key="k", method="manual")
    for user_id in (customer, other, admin):
        fill_cart(app, user_id, (tea, 1))
    tokens = {
        role: token_headers(client, f"{role}@example.com")
        for role in ("customer", "other", "admin")
    }
    return {"number": number, "tokens": tokens}


MATRIX = [
    # An anonymous caller is a guest without a cart (or an email) here.
    ("POST", "/orders", {"anonymous": 422, "customer": 201, "other": 201, "admin": 201}),
    ("GET", "/orders", {"anonymous": 401, "customer": 200, "other": 200, "admin": 200}),
    ("GET", "/orders/{number}", {"anonymous": 401, "customer": 200, "other": 404, "admin": 404}),
    (
        "POST",
        "/orders/{number}/cancel",
        {"anonymous": 401, "customer": 200, "other": 404, "admin": 404},
    ),
]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(
    ("method", "path", "expected"), MATRIX, ids=[f"{m} {p}" for m, p, _ in MATRIX]
)
def test_orders_authorization(app, client, shop, role, method, path, expected):
    headers = as_role(client, role, shop["tokens"], method)
    before = snapshot(app)

    response = client.open(
        "/api/v1" + path.format(number=shop["number"]),
        method=method,
        json=BODY if path == "/orders" and method == "POST" else None,
        headers=headers,
    )

    assert response.status_code == expected[role]
    if expected[role] >= 400:
        assert_error(response, expected[role], ERROR_CODES[expected[role]])
        assert snapshot(app) == before


def test_others_see_none_of_the_customers_orders(client, shop):
    mine = client.get("/api/v1/orders", headers=shop["tokens"]["customer"]).get_json()
    theirs = client.get("/api/v1/orders", headers=shop["tokens"]["other"]).get_json()

    assert [o["number"] for o in mine["items"]] == [shop["number"]]
    assert (theirs["items"], theirs["total"], theirs["pages"]) == ([], 0, 1)


def test_write_without_token_or_csrf_header_is_401(app, client, shop):
    before = snapshot(app)

    response = client.post(f"/api/v1/orders/{shop['number']}/cancel")

    assert_error(response, 401, "unauthorized")
    assert snapshot(app) == before


def test_invalid_token_is_401(app, client, shop):
    response = client.post("/api/v1/orders", json=BODY, headers={TOKEN_HEADER: "not-a-token"})

    assert_error(response, 401, "unauthorized")


# Concurrency (MariaDB)


@pytest.mark.mariadb
@pytest.mark.concurrency
def test_twenty_api_checkouts_for_five_in_stock_sell_exactly_five(pooled_app):
    product_id = create(pooled_app, ProductFactory, name="Rare Tea", stock=5)
    users = [create(pooled_app, UserFactory, email=f"buyer{i}@example.com") for i in range(20)]
    for user_id in users:
        fill_cart(pooled_app, user_id, (product_id, 1))
    tokens = [token_headers(pooled_app.test_client(), f"buyer{i}@example.com") for i in range(20)]

    def checkout(i):
        response = pooled_app.test_client().post("/api/v1/orders", json=BODY, headers=tokens[i])
        return response.status_code, response.get_json()

    results = run_together(20, checkout)

    statuses = sorted(status for status, _ in results)
    assert statuses == [201] * 5 + [409] * 15, results
    assert {body["error"]["code"] for status, body in results if status == 409} == {"out_of_stock"}
    assert len({body["number"] for status, body in results if status == 201}) == 5
    assert stock(pooled_app, product_id) == 0
    assert order_count(pooled_app) == 5


@pytest.mark.mariadb
@pytest.mark.concurrency
def test_five_concurrent_retries_with_one_idempotency_key_make_one_order(pooled_app):
    product_id = create(pooled_app, ProductFactory, name="Green Tea", stock=10)
    user_id = create(pooled_app, UserFactory)
    fill_cart(pooled_app, user_id, (product_id, 2))
    headers = {**token_headers(pooled_app.test_client()), "Idempotency-Key": "double-click"}

    def checkout(_i):
        response = pooled_app.test_client().post("/api/v1/orders", json=BODY, headers=headers)
        return response.status_code, response.get_json()

    results = run_together(5, checkout)

    assert [status for status, _ in results] == [201] * 5, results
    assert len({body["number"] for _, body in results}) == 1
    assert order_count(pooled_app) == 1
    assert stock(pooled_app, product_id) == 8


def test_a_user_lost_to_an_outage_mid_request_is_503_not_a_view_without_user(
    app, filled_cart, client
):
    """Flask-Security's token loader reads a database error as "no user". The database
    fails the first lookup of the token's user (made by the API's CSRF check) and answers
    the second (the auth guard's): the view must not run with an anonymous current_user."""
    headers = token_headers(client)
    failures = []

    def fail_first_user_lookup(_conn, _cursor, statement, *_args):
        if "FROM user" in statement and not failures:
            failures.append(statement)
            raise OperationalError(statement, {}, ConnectionError("server has gone away"))

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", fail_first_user_lookup)
    try:
        response = client.post("/api/v1/orders", json=BODY, headers=headers)
    finally:
        event.remove(engine, "before_cursor_execute", fail_first_user_lookup)

    assert failures
    assert response.status_code == 503
    assert response.headers["Retry-After"] == str(app.config["DATABASE_RETRY_AFTER"])
    assert response.json["error"]["code"] == "service_unavailable"
    assert order_count(app) == 0
