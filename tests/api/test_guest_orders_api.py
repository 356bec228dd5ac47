"""Guest checkout through the API: the cart cookie (a browser) or the X-Cart-Token header (a
client without cookies), an email, the order's read link; customers as before."""

import pytest

from app.addresses import services as address_services
from tests.factories import ProductFactory, create
from tests.helpers import (
    ADDRESS,
    BODY,
    assert_error,
    csrf_token,
    run_together,
    stock,
    token_headers,
)

GUEST_BODY = {**BODY, "email": "Guest@Example.com"}
OFFICE = {**ADDRESS, "name": "Ada Ltd", "line1": "9 Office Park", "city": "Leeds"}


@pytest.fixture
def tea(product_factory):
    return product_factory("Green Tea", stock=5, price_cents=450)


def add_to_cart(client, product_id, headers=None):
    response = client.post(
        "/api/v1/cart/items", json={"product_id": product_id, "quantity": 2}, headers=headers
    )
    assert response.status_code == 201
    return response


def test_a_browser_guest_checks_out_its_cookie_cart_and_reads_the_order_by_its_link(
    app, client, tea, outbox
):
    assert add_to_cart(client, tea).headers["X-Cart-Token"]
    csrf = {"X-CSRF-Token": csrf_token(client, "/csrf-token")}

    without_csrf = client.post("/api/v1/orders", json=GUEST_BODY)
    response = client.post("/api/v1/orders", json=GUEST_BODY, headers=csrf)

    assert without_csrf.status_code == 400  # the cart cookie is a credential a page could ride
    assert response.status_code == 201
    order = response.get_json()
    assert (order["guest"], order["email"], order["status"]) == (True, "guest@example.com", "paid")
    assert order["billing_address"] == order["shipping_address"] == ADDRESS
    # The e-mail's link to the same order (signed at its own second: the timestamp may differ).
    assert f"/orders/view/{order['link'].split('.')[0]}." in outbox[0].body

    stranger = app.test_client()
    read = stranger.get(f"/api/v1/orders/guest/{order['link']}")
    assert read.status_code == 200
    assert read.get_json()["number"] == order["number"]
    assert read.get_json() == {key: value for key, value in order.items() if key != "link"}
    assert_error(stranger.get(f"/api/v1/orders/guest/{order['link'][:-2]}xx"), 404, "not_found")
    assert_error(stranger.get(f"/api/v1/orders/{order['number']}"), 401, "unauthorized")
    assert client.get("/api/v1/cart").get_json()["items"] == []


def test_a_client_without_cookies_uses_the_cart_token_header(app, tea):
    client = app.test_client(use_cookies=False)
    cart_token = add_to_cart(client, tea).headers["X-Cart-Token"]
    headers = {"X-Cart-Token": cart_token, "Idempotency-Key": "guest-1"}

    assert client.get("/api/v1/cart", headers=headers).get_json()["items"][0]["quantity"] == 2
    first = client.post(
        "/api/v1/orders", json={**GUEST_BODY, "billing_address": OFFICE}, headers=headers
    )
    again = client.post(
        "/api/v1/orders", json={**GUEST_BODY, "billing_address": OFFICE}, headers=headers
    )
    other = client.post("/api/v1/orders", json=GUEST_BODY, headers=headers)

    assert first.status_code == again.status_code == 201
    assert again.get_json()["number"] == first.get_json()["number"]
    assert first.get_json()["billing_address"] == OFFICE
    assert_error(other, 422, "validation_failed")  # the same key for another request
    forged = {"X-Cart-Token": cart_token[:-2] + "xx"}
    assert_error(
        client.post("/api/v1/orders", json=GUEST_BODY, headers=forged), 422, "validation_failed"
    )


@pytest.mark.parametrize(
    ("email", "message"),
    [(None, "Enter the e-mail address"), ("not-an-address", "not a valid e-mail address")],
)
def test_a_guest_needs_a_valid_email(client, tea, email, message):
    add_to_cart(client, tea)
    body = {**BODY, **({"email": email} if email else {})}

    response = client.post(
        "/api/v1/orders", json=body, headers={"X-CSRF-Token": csrf_token(client, "/csrf-token")}
    )

    error = assert_error(response, 422, "validation_failed")
    assert message in " ".join(error["fields"]["email"] + [error["message"]])


def test_billing_address_errors_name_the_billing_fields(client, tea):
    add_to_cart(client, tea)
    body = {**GUEST_BODY, "billing_address": {**OFFICE, "city": " "}}

    response = client.post(
        "/api/v1/orders", json=body, headers={"X-CSRF-Token": csrf_token(client, "/csrf-token")}
    )

    assert "billing_address.city" in assert_error(response, 422, "validation_failed")["fields"]


@pytest.mark.app_config(SHOP_GUEST_CHECKOUT=False)
def test_without_guest_checkout_a_guest_is_401(client, tea):
    add_to_cart(client, tea)
    response = client.post(
        "/api/v1/orders",
        json=GUEST_BODY,
        headers={"X-CSRF-Token": csrf_token(client, "/csrf-token")},
    )
    assert_error(response, 401, "unauthorized")


@pytest.mark.app_config(RATELIMIT_GUEST_CHECKOUT="2 per hour")
def test_guest_orders_are_rate_limited(app, tea):
    client = app.test_client(use_cookies=False)
    statuses = [
        client.post("/api/v1/orders", json={**BODY, "email": "x@example.com"}).status_code
        for _attempt in range(3)
    ]
    assert statuses == [422, 422, 429]  # no cart: refused, and counted


def test_a_customer_checks_out_as_before_and_gets_no_link(client, filled_cart):
    response = client.post("/api/v1/orders", json=GUEST_BODY, headers=token_headers(client))

    assert response.status_code == 201
    order = response.get_json()
    assert (order["guest"], order["link"], order["email"]) == (False, None, "shopper@example.com")


def test_a_customer_checks_out_to_saved_addresses_by_id(app, client, filled_cart, user_factory):
    other_id = user_factory(email="other@example.com")
    with app.app_context():
        home = address_services.save_address(filled_cart["user_id"], None, ADDRESS).id
        office = address_services.save_address(filled_cart["user_id"], None, OFFICE).id
        theirs = address_services.save_address(other_id, None, ADDRESS).id
    headers = token_headers(client)
    payment = {"payment": BODY["payment"]}

    both = client.post(
        "/api/v1/orders",
        json={**BODY, "shipping_address_id": home},
        headers=headers,
    )
    neither = client.post("/api/v1/orders", json=payment, headers=headers)
    other = client.post(
        "/api/v1/orders", json={**payment, "shipping_address_id": theirs}, headers=headers
    )
    placed = client.post(
        "/api/v1/orders",
        json={**payment, "shipping_address_id": home, "billing_address_id": office},
        headers=headers,
    )

    assert "shipping_address" in assert_error(both, 422, "validation_failed")["fields"]
    assert "shipping_address" in assert_error(neither, 422, "validation_failed")["fields"]
    assert_error(other, 404, "not_found")
    assert placed.status_code == 201
    order = placed.get_json()
    assert (order["shipping_address"], order["billing_address"]) == (ADDRESS, OFFICE)


def test_a_guest_cannot_name_a_saved_address(client, tea):
    add_to_cart(client, tea)
    body = {"email": "guest@example.com", "payment": BODY["payment"], "shipping_address_id": 1}
    response = client.post(
        "/api/v1/orders", json=body, headers={"X-CSRF-Token": csrf_token(client, "/csrf-token")}
    )
    assert "shipping_address_id" in assert_error(response, 422, "validation_failed")["fields"]


@pytest.mark.mariadb
@pytest.mark.concurrency
def test_concurrent_guests_never_oversell_and_a_double_submit_makes_one_order(pooled_app):
    """Eight guests want 2 each of 5 in stock, each sending their checkout three times at once
    with one Idempotency-Key: two orders, no oversell, one order per guest at most."""
    tea = create(pooled_app, ProductFactory, name="Green Tea", stock=5)
    carts = []
    for guest_number in range(8):
        client = pooled_app.test_client(use_cookies=False)
        cart = add_to_cart(client, tea).headers["X-Cart-Token"]
        carts.append({"X-Cart-Token": cart, "Idempotency-Key": f"guest-{guest_number}"})

    def checkout(i):
        body = {**GUEST_BODY, "email": f"guest{i % 8}@example.com"}
        client = pooled_app.test_client(use_cookies=False)
        response = client.post(
            "/api/v1/orders",
            json=body,
            headers=carts[i % 8],
            environ_base={"REMOTE_ADDR": f"10.0.0.{i}"},  # under the per-client limit
        )
        return response.status_code, response.get_json()

    results = run_together(24, checkout)

    placed = {body["number"] for status, body in results if status == 201}
    assert sorted(status for status, _ in results) == [201] * 6 + [409] * 18, results
    assert len(placed) == 2
    assert stock(pooled_app, tea) == 1
