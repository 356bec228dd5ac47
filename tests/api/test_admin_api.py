"""The admin API: create and change products, move orders along the state machine."""

import pytest
from sqlalchemy import select

from app.accounts.services import ensure_roles
from app.catalog.models import Product
from app.extensions import db
from app.orders.models import OrderEvent
from tests.api import as_role
from tests.factories import fill_cart, place, set_status
from tests.helpers import (
    ERROR_CODES,
    ROLES,
    assert_error,
    csrf_token,
    login,
    one_variant,
    snapshot,
    stock,
    token_headers,
)

NEW_PRODUCT = {
    "sku": "OOLONG-1",
    "name": "Milk Oolong",
    "description": "Creamy.",
    "price_cents": 1250,
    "currency": "EUR",
    "stock": 7,
    "category": "tea",
    "is_active": True,
}


def products(app) -> list[dict]:
    """Every product's writable fields, by id."""
    with app.app_context():
        return [
            {
                "sku": p.sku,
                "slug": p.slug,
                "name": p.name,
                "description": p.description,
                "price_cents": p.price_cents,
                "currency": p.currency,
                "stock": p.stock,
                "category_id": p.category_id,
                "is_active": p.is_active,
            }
            for p in db.session.scalars(select(Product).order_by(Product.id))
        ]


@pytest.fixture
def admin(app, client, user_factory):
    """An admin's token headers."""
    with app.app_context():
        ensure_roles()
    user_id = user_factory(email="admin@example.com", roles=["admin"])
    return {"user_id": user_id, "headers": token_headers(client, "admin@example.com")}


@pytest.fixture
def catalog(category_factory, product_factory):
    """Categories Tea and Mugs; Green Tea (in Tea) and an inactive Old Mug."""
    tea = category_factory("Tea")
    mugs = category_factory("Mugs")
    green = product_factory("Green Tea", category_id=tea, stock=10)
    old_mug = product_factory("Old Mug", category_id=mugs, is_active=False, stock=0)
    return {"tea": tea, "mugs": mugs, "green": green, "old_mug": old_mug}


# Creating products


def test_create_product_is_201(app, client, admin, catalog):
    response = client.post("/api/v1/products", json=NEW_PRODUCT, headers=admin["headers"])

    assert response.status_code == 201
    product = response.get_json()
    assert product == {
        "id": product["id"],
        "sku": "OOLONG-1",
        "slug": "milk-oolong",
        "name": "Milk Oolong",
        "description": "Creamy.",
        "price_cents": 1250,
        "currency": "EUR",
        "stock": 7,
        "in_stock": True,
        "is_active": True,
        "category": {"slug": "tea", "name": "Tea"},
        "image_url": None,
    } | one_variant(product)
    assert products(app)[-1]["category_id"] == catalog["tea"]
    public = client.get("/products/milk-oolong")
    assert public.status_code == 200


def test_create_product_with_only_the_required_fields_uses_the_defaults(app, client, admin):
    body = {"sku": "S-1", "name": "Crème Brûlée Tea", "price_cents": 0}

    response = client.post("/api/v1/products", json=body, headers=admin["headers"])

    assert response.status_code == 201
    product = response.get_json()
    assert (product["slug"], product["description"], product["currency"]) == (
        "creme-brulee-tea",
        "",
        "EUR",
    )
    assert (product["stock"], product["in_stock"], product["is_active"]) == (0, False, True)
    assert product["category"] is None


def test_create_product_with_a_slug_and_lower_case_currency(client, admin):
    body = {**NEW_PRODUCT, "slug": "oolong", "currency": "eur", "category": None}

    response = client.post("/api/v1/products", json=body, headers=admin["headers"])

    assert response.status_code == 201
    assert (response.get_json()["slug"], response.get_json()["currency"]) == ("oolong", "EUR")


def test_create_product_without_a_currency_takes_the_shop_currency(app, client, admin):
    app.config["SHOP_CURRENCY"] = "USD"
    body = {"sku": "S-1", "name": "Mug", "price_cents": 900}

    response = client.post("/api/v1/products", json=body, headers=admin["headers"])

    assert response.status_code == 201
    assert response.get_json()["currency"] == "USD"
    assert [p["currency"] for p in products(app)] == ["USD"]


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("post", "/api/v1/products", {**NEW_PRODUCT, "currency": "USD"}),
        ("patch", "/api/v1/products/green-tea", {"currency": "usd", "stock": 1}),
    ],
    ids=["create", "update"],
)
def test_another_currency_than_the_shop_one_is_422(app, client, admin, catalog, method, path, body):
    before = products(app)

    response = client.open(path, method=method.upper(), json=body, headers=admin["headers"])

    error = assert_error(response, 422, "validation_failed")
    assert error["fields"] == {"currency": ["The shop sells in EUR only."]}
    assert products(app) == before


@pytest.mark.parametrize(
    "duplicate",
    [{"sku": "SKU-GREEN-TEA"}, {"name": "Green Tea"}, {"slug": "old-mug"}],
    ids=["sku", "slug-from-name", "slug"],
)
def test_create_product_with_a_taken_sku_or_slug_is_409(app, client, admin, catalog, duplicate):
    before = products(app)

    response = client.post(
        "/api/v1/products", json={**NEW_PRODUCT, **duplicate}, headers=admin["headers"]
    )

    error = assert_error(response, 409, "conflict")
    assert error["message"] == "A product with this SKU or slug exists already."
    assert products(app) == before


def test_create_product_in_an_unknown_category_is_422(app, client, admin, catalog):
    before = products(app)

    response = client.post(
        "/api/v1/products", json={**NEW_PRODUCT, "category": "coffee"}, headers=admin["headers"]
    )

    error = assert_error(response, 422, "validation_failed")
    assert error["fields"] == {"category": ["No category with the slug 'coffee'."]}
    assert products(app) == before


@pytest.mark.parametrize(
    ("change", "fields"),
    [
        ({"sku": None}, {"sku": ["Field may not be null."]}),
        ({"name": ""}, {"name": ["Must not be blank."]}),
        (
            {"price_cents": -1},
            {
                "price_cents": [
                    "Must be greater than or equal to 0 and less than or equal to 2147483647."
                ]
            },
        ),
        ({"price_cents": "12.50"}, {"price_cents": ["Not a valid integer."]}),
        ({"price_cents": 12.5}, {"price_cents": ["Not a valid integer."]}),
        (
            {"stock": 2**31},
            {"stock": ["Must be greater than or equal to 0 and less than or equal to 2147483647."]},
        ),
        ({"currency": "EURO"}, {"currency": ["An ISO 4217 code, e.g. EUR."]}),
        ({"slug": "Milk Oolong"}, {"slug": ["Lower-case letters and digits, single hyphens."]}),
        ({"currency": "EUR\n"}, {"currency": ["An ISO 4217 code, e.g. EUR."]}),
        ({"name": "   "}, {"name": ["Must not be blank."]}),
        ({"name": "\u3000\x1c"}, {"name": ["Must not be blank."]}),  # str.strip()'s spaces
        ({"slug": " oolong "}, {"slug": ["Lower-case letters and digits, single hyphens."]}),
        ({"is_active": 1}, {"is_active": ["Not a valid boolean."]}),
        ({"is_active": "yes"}, {"is_active": ["Not a valid boolean."]}),
        ({"stock": 2.5}, {"stock": ["Not a valid integer."]}),
        ({"is_featured": True}, {"is_featured": ["Unknown field."]}),
    ],
    ids=[
        "null-sku",
        "empty-name",
        "negative-price",
        "price-as-string",
        "fractional-price",
        "huge-stock",
        "bad-currency",
        "bad-slug",
        "currency-with-newline",
        "blank-name",
        "unicode-blank-name",
        "slug-with-spaces",
        "is-active-as-number",
        "is-active-as-string",
        "fractional-stock",
        "unknown-field",
    ],
)
def test_invalid_product_is_422_with_fields(app, client, admin, catalog, change, fields):
    before = products(app)

    response = client.post(
        "/api/v1/products", json={**NEW_PRODUCT, **change}, headers=admin["headers"]
    )

    error = assert_error(response, 422, "validation_failed")
    assert error["fields"] == fields
    assert products(app) == before


@pytest.mark.parametrize("missing", ["sku", "name", "price_cents"])
def test_create_product_needs_sku_name_and_price(app, client, admin, missing):
    body = {key: value for key, value in NEW_PRODUCT.items() if key not in (missing, "category")}

    response = client.post("/api/v1/products", json=body, headers=admin["headers"])

    error = assert_error(response, 422, "validation_failed")
    assert error["fields"] == {missing: ["Missing data for required field."]}
    assert products(app) == []


# Changing products


def test_patch_product_changes_only_the_fields_sent(app, client, admin, catalog):
    before = products(app)

    response = client.patch(
        "/api/v1/products/green-tea",
        json={"price_cents": 520, "stock": 3, "category": "mugs", "name": "Sencha"},
        headers=admin["headers"],
    )

    assert response.status_code == 200
    product = response.get_json()
    assert (product["name"], product["slug"], product["price_cents"], product["stock"]) == (
        "Sencha",
        "green-tea",  # links to the product keep working
        520,
        3,
    )
    assert product["category"] == {"slug": "mugs", "name": "Mugs"}
    expected = {**before[0], "name": "Sencha", "price_cents": 520, "stock": 3}
    assert products(app) == [{**expected, "category_id": catalog["mugs"]}, before[1]]


def test_patch_reaches_inactive_products_and_can_clear_the_category(app, client, admin, catalog):
    response = client.patch(
        "/api/v1/products/old-mug",
        json={"is_active": True, "category": None, "slug": "mug"},
        headers=admin["headers"],
    )

    assert response.status_code == 200
    product = response.get_json()
    assert (product["slug"], product["is_active"], product["category"]) == ("mug", True, None)


def test_patch_with_an_empty_body_changes_nothing(app, client, admin, catalog):
    before = products(app)

    response = client.patch("/api/v1/products/green-tea", json={}, headers=admin["headers"])

    assert response.status_code == 200
    assert products(app) == before


@pytest.mark.parametrize(
    "kwargs",
    [{}, {"data": "price_cents=1"}, {"data": '{"price_cents": 1}'}],
    ids=["no-body", "form-body", "json-without-content-type"],
)
def test_patch_without_a_json_body_is_422_and_changes_nothing(app, client, admin, catalog, kwargs):
    before = products(app)

    response = client.patch("/api/v1/products/green-tea", headers=admin["headers"], **kwargs)

    error = assert_error(response, 422, "validation_failed")
    assert error["fields"] == {"_body": ["A JSON body is required."]}
    assert products(app) == before


def test_whole_number_floats_are_integers(app, client, admin, catalog):
    response = client.patch(
        "/api/v1/products/green-tea",
        json={"price_cents": 520.0, "stock": 3.0},
        headers=admin["headers"],
    )

    assert response.status_code == 200
    assert (response.get_json()["price_cents"], response.get_json()["stock"]) == (520, 3)
    assert (products(app)[0]["price_cents"], products(app)[0]["stock"]) == (520, 3)


@pytest.mark.parametrize(
    ("change", "status", "code"),
    [
        ({"sku": "SKU-OLD-MUG"}, 409, "conflict"),
        ({"slug": "old-mug"}, 409, "conflict"),
        ({"category": "coffee"}, 422, "validation_failed"),
        ({"stock": -1}, 422, "validation_failed"),
        ({"slug": ""}, 422, "validation_failed"),
        ({"id": 5}, 422, "validation_failed"),
    ],
    ids=["taken-sku", "taken-slug", "unknown-category", "negative-stock", "empty-slug", "id"],
)
def test_refused_patch_changes_nothing(app, client, admin, catalog, change, status, code):
    before = products(app)

    response = client.patch("/api/v1/products/green-tea", json=change, headers=admin["headers"])

    assert_error(response, status, code)
    assert products(app) == before


def test_patch_unknown_product_is_404(client, admin, catalog):
    response = client.patch("/api/v1/products/nope", json={"stock": 1}, headers=admin["headers"])

    assert_error(response, 404, "not_found")


# Order status


@pytest.fixture
def order(app, user_factory, catalog):
    """A customer's paid order of 2 Green Tea (stock 10 -> 8)."""
    customer = user_factory(email="customer@example.com")
    fill_cart(app, customer, (catalog["green"], 2))
    return place(app, customer, key="k", method="test")


def test_admin_ships_an_order_and_is_the_actor(app, client, admin, order, outbox):
    response = client.patch(
        f"/api/v1/orders/{order}", json={"status": "shipped"}, headers=admin["headers"]
    )

    assert response.status_code == 200
    assert response.get_json()["status"] == "shipped"
    assert response.get_json()["events"][-1]["from_status"] == "paid"
    with app.app_context():
        event = db.session.scalar(select(OrderEvent).order_by(OrderEvent.id.desc()))
        assert (event.to_status, event.actor_id) == ("shipped", admin["user_id"])
    assert [m.subject for m in outbox] == [f"Your order {order} has shipped"]


def test_admin_cancel_puts_the_stock_back(app, client, admin, order, catalog):
    response = client.patch(
        f"/api/v1/orders/{order}", json={"status": "cancelled"}, headers=admin["headers"]
    )

    assert response.status_code == 200
    assert response.get_json()["status"] == "cancelled"
    assert stock(app, catalog["green"]) == 10


@pytest.mark.parametrize(
    ("statuses", "to_status"),
    [([], "paid"), ([], "delivered"), (["shipped"], "cancelled"), (["cancelled"], "paid")],
)
def test_invalid_transition_is_409_and_changes_nothing(
    app, client, admin, order, statuses, to_status
):
    set_status(app, order, *statuses)
    before = snapshot(app)

    response = client.patch(
        f"/api/v1/orders/{order}", json={"status": to_status}, headers=admin["headers"]
    )

    assert_error(response, 409, "invalid_transition")
    assert snapshot(app) == before


@pytest.mark.parametrize("body", [{"status": "lost"}, {}, {"status": "shipped", "note": "x"}])
def test_invalid_status_change_is_422(app, client, admin, order, body):
    before = snapshot(app)

    response = client.patch(f"/api/v1/orders/{order}", json=body, headers=admin["headers"])

    assert_error(response, 422, "validation_failed")
    assert snapshot(app) == before


def test_status_change_of_unknown_order_is_404(client, admin):
    response = client.patch(
        "/api/v1/orders/SF-NOSUCH", json={"status": "paid"}, headers=admin["headers"]
    )

    assert_error(response, 404, "not_found")


# Authorization: anonymous, customer, other customer, admin


@pytest.fixture
def shop(app, client, user_factory, catalog):
    """A customer with a bank-transfer order, another customer, an admin; their tokens."""
    customer = user_factory(email="customer@example.com")
    user_factory(email="other@example.com")
    with app.app_context():
        ensure_roles()
    user_factory(email="admin@example.com", roles=["admin"])
    fill_cart(app, customer, (catalog["green"], 1))
    number = place(app, customer, key="k", method="manual")
    tokens = {
        role: token_headers(client, f"{role}@example.com")
        for role in ("customer", "other", "admin")
    }
    return {"number": number, "tokens": tokens}


ADMIN_ONLY = {"anonymous": 401, "customer": 403, "other": 403, "admin": None}
MATRIX = [
    ("POST", "/products", NEW_PRODUCT, 201),
    ("PATCH", "/products/green-tea", {"stock": 99}, 200),
    ("PATCH", "/orders/{number}", {"status": "paid"}, 200),
]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(
    ("method", "path", "body", "allowed"), MATRIX, ids=[f"{m} {p}" for m, p, _, _ in MATRIX]
)
def test_admin_authorization(app, client, shop, role, method, path, body, allowed):
    headers = as_role(client, role, shop["tokens"], method)
    before = (snapshot(app), products(app))

    response = client.open(
        "/api/v1" + path.format(number=shop["number"]), method=method, json=body, headers=headers
    )

    expected = ADMIN_ONLY[role] or allowed
    assert response.status_code == expected
    if expected >= 400:
        assert_error(response, expected, ERROR_CODES[expected])
        assert (snapshot(app), products(app)) == before


# Session authentication


@pytest.mark.parametrize(
    ("method", "path", "body", "allowed"), MATRIX, ids=[f"{m} {p}" for m, p, _, _ in MATRIX]
)
def test_admin_with_a_session_needs_the_csrf_header(app, client, shop, method, path, body, allowed):
    login(client, email="admin@example.com")
    url = "/api/v1" + path.format(number=shop["number"])
    before = (snapshot(app), products(app))

    refused = client.open(url, method=method, json=body)
    after_refusal = (snapshot(app), products(app))
    accepted = client.open(
        url, method=method, json=body, headers={"X-CSRF-Token": csrf_token(client, "/account")}
    )

    assert_error(refused, 400, "bad_request")
    assert after_refusal == before
    assert accepted.status_code == allowed


def test_customer_session_is_403_for_admin_writes(app, client, shop):
    login(client, email="customer@example.com")
    before = products(app)

    response = client.post(
        "/api/v1/products",
        json=NEW_PRODUCT,
        headers={"X-CSRF-Token": csrf_token(client, "/account")},
    )

    assert_error(response, 403, "forbidden")
    assert products(app) == before
