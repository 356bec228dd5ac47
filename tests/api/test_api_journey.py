"""One shopper's journey through the JSON API alone: from a token to a cancelled order."""

from app.accounts.services import ensure_roles
from tests.helpers import BODY, PASSWORD, TOKEN_HEADER


def test_shopper_journey_through_the_api(app, client, user_factory):
    with app.app_context():
        ensure_roles()
    user_factory(email="admin@example.com", roles=["admin"])
    user_factory(email="grace@example.com")

    # The admin stocks a new product.
    admin_token = client.post(
        "/api/v1/auth/token", json={"email": "admin@example.com", "password": PASSWORD}
    ).get_json()["token"]
    created = client.post(
        "/api/v1/products",
        json={"sku": "NAVY-MUG", "name": "Navy Mug", "price_cents": 1200, "stock": 4},
        headers={TOKEN_HEADER: admin_token},
    )
    assert created.status_code == 201
    product = created.get_json()

    # The shopper gets a token and finds it in the catalogue.
    token = client.post(
        "/api/v1/auth/token", json={"email": "grace@example.com", "password": PASSWORD}
    )
    assert token.status_code == 200
    headers = {TOKEN_HEADER: token.get_json()["token"]}
    found = client.get("/api/v1/products?q=navy").get_json()
    assert [p["slug"] for p in found["items"]] == ["navy-mug"]

    # Fills the cart.
    added = client.post(
        "/api/v1/cart/items", json={"product_id": product["id"], "quantity": 3}, headers=headers
    )
    assert added.status_code == 201
    assert added.get_json()["subtotal_cents"] == 3600

    # Places the order (the client retries once, as after a lost answer).
    retry_safe = {**headers, "Idempotency-Key": "journey-1"}
    placed = client.post("/api/v1/orders", json=BODY, headers=retry_safe)
    retried = client.post("/api/v1/orders", json=BODY, headers=retry_safe)
    assert placed.status_code == 201
    assert retried.get_json() == placed.get_json()
    order = placed.get_json()
    assert order.pop("link") is None  # a customer's order: read with the token
    assert (order["status"], order["total_cents"], order["currency"]) == ("paid", 3600, "EUR")
    assert [(line["sku"], line["quantity"]) for line in order["lines"]] == [("NAVY-MUG", 3)]
    assert client.get("/api/v1/cart", headers=headers).get_json()["items"] == []
    assert client.get("/api/v1/products/navy-mug").get_json()["stock"] == 1

    # Reads it back, alone and in the list.
    fetched = client.get(f"/api/v1/orders/{order['number']}", headers=headers)
    assert fetched.status_code == 200
    assert fetched.get_json() == order
    listed = client.get("/api/v1/orders", headers=headers).get_json()
    assert [o["number"] for o in listed["items"]] == [order["number"]]
    assert (listed["total"], listed["pages"]) == (1, 1)

    # Cancels it: the stock comes back.
    cancelled = client.post(f"/api/v1/orders/{order['number']}/cancel", headers=headers)
    assert cancelled.status_code == 200
    assert cancelled.get_json()["status"] == "cancelled"
    assert client.get("/api/v1/products/navy-mug").get_json()["stock"] == 4
    assert (
        client.get(f"/api/v1/orders/{order['number']}", headers=headers).get_json()["status"]
        == "cancelled"
    )
