"""Variants through the API alone: a product's options and variants, adding a variant to the
cart, changing its line, ordering it; a product with several variants needs the variant."""

import pytest
from sqlalchemy import select

from app.accounts.services import ensure_roles
from app.catalog.models import Variant
from app.extensions import db
from tests.factories import ProductFactory, UserFactory, create, make_tshirt
from tests.helpers import BODY, assert_error, token_headers


@pytest.fixture
def tshirt(app):
    return make_tshirt(app)


@pytest.fixture
def headers(app, client):
    create(app, UserFactory)
    return token_headers(client)


def test_a_product_lists_its_options_and_variants_in_order(client, tshirt):
    product = client.get("/api/v1/products/tshirt").get_json()

    assert product["options"] == [
        {"name": "Size", "values": ["S", "M", "L"]},
        {"name": "Colour", "values": ["red", "blue"]},
    ]
    large_blue = next(v for v in product["variants"] if v["id"] == tshirt["L", "blue"])
    assert large_blue == {
        "id": tshirt["L", "blue"],
        "sku": "TS-L-BLUE",
        "price_cents": 1700,
        "sale_price_cents": None,
        "in_stock": True,
        "stock": 5,
        "options": [{"option": "Size", "value": "L"}, {"option": "Colour", "value": "blue"}],
        "image_id": None,
    }
    assert len(product["variants"]) == 6
    assert product["stock"] == 30


def test_a_variant_goes_to_the_cart_and_into_the_order(app, client, tshirt, headers):
    variant_id = tshirt["M", "blue"]
    added = client.post(
        "/api/v1/cart/items", json={"variant_id": variant_id, "quantity": 2}, headers=headers
    )
    assert added.status_code == 201
    [line] = added.get_json()["items"]
    assert (line["variant_id"], line["sku"], line["options"], line["quantity"]) == (
        variant_id,
        "TS-M-BLUE",
        "Size M, Colour blue",
        2,
    )

    changed = client.patch(
        f"/api/v1/cart/lines/{variant_id}", json={"quantity": 3}, headers=headers
    )
    assert changed.get_json()["items"][0]["quantity"] == 3

    placed = client.post("/api/v1/orders", json=BODY, headers=headers)
    assert placed.status_code == 201
    [ordered] = placed.get_json()["lines"]
    assert (ordered["variant_id"], ordered["sku"], ordered["options"]) == (
        variant_id,
        "TS-M-BLUE",
        "Size M, Colour blue",
    )
    with app.app_context():
        stock = dict(db.session.execute(select(Variant.sku, Variant.stock)).all())
    assert stock.pop("TS-M-BLUE") == 2
    assert set(stock.values()) == {5}


def test_the_product_id_of_a_product_with_several_variants_is_422_naming_variant_id(
    app, client, tshirt, headers
):
    with app.app_context():
        product_id = db.session.get(Variant, tshirt["S", "red"]).product_id

    response = client.post(
        "/api/v1/cart/items", json={"product_id": product_id, "quantity": 1}, headers=headers
    )

    assert list(assert_error(response, 422, "validation_failed")["fields"]) == ["variant_id"]
    assert client.get("/api/v1/cart", headers=headers).get_json()["items"] == []


def test_a_line_is_removed_by_its_variant(client, tshirt, headers):
    for key in (("S", "red"), ("L", "red")):
        client.post(
            "/api/v1/cart/items", json={"variant_id": tshirt[key], "quantity": 1}, headers=headers
        )

    removed = client.delete(f"/api/v1/cart/lines/{tshirt['S', 'red']}", headers=headers)
    missing = client.delete(f"/api/v1/cart/lines/{tshirt['S', 'red']}", headers=headers)

    assert [line["sku"] for line in removed.get_json()["items"]] == ["TS-L-RED"]
    assert_error(missing, 404, "not_found")


# The admin API: options and variants


@pytest.fixture
def admin_headers(app, client):
    with app.app_context():
        ensure_roles()
    create(app, UserFactory, email="boss@example.com", roles=["admin"])
    return token_headers(client, email="boss@example.com")


def test_an_admin_adds_an_option_and_variants_through_the_api(app, client, admin_headers):
    create(app, ProductFactory, name="Tote", sku="TOTE", stock=0)

    option = client.post(
        "/api/v1/products/tote/options",
        json={"name": "Colour", "values": ["red", "blue"]},
        headers=admin_headers,
    )
    assert option.status_code == 201
    assert option.get_json()["options"] == [{"name": "Colour", "values": ["red", "blue"]}]
    first = option.get_json()["variants"][0]["id"]

    edited = client.patch(
        f"/api/v1/variants/{first}",
        json={"sku": "TOTE-RED", "options": {"Colour": "red"}, "stock": 4},
        headers=admin_headers,
    )
    added = client.post(
        "/api/v1/products/tote/variants",
        json={"sku": "TOTE-BLUE", "options": {"Colour": "blue"}, "stock": 2, "price_cents": 990},
        headers=admin_headers,
    )
    taken = client.post(
        "/api/v1/products/tote/variants",
        json={"sku": "TOTE-BLUE-2", "options": {"Colour": "blue"}, "stock": 1},
        headers=admin_headers,
    )
    unknown = client.post(
        "/api/v1/products/tote/variants",
        json={"sku": "TOTE-PINK", "options": {"Colour": "pink"}, "stock": 1},
        headers=admin_headers,
    )

    assert edited.status_code == 200
    assert added.get_json() == {
        "id": added.get_json()["id"],
        "sku": "TOTE-BLUE",
        "price_cents": 990,
        "sale_price_cents": None,
        "in_stock": True,
        "stock": 2,
        "options": [{"option": "Colour", "value": "blue"}],
        "image_id": None,
    }
    assert assert_error(taken, 422, "validation_failed")["fields"] == {
        "options": ["TOTE-BLUE has these options already."]
    }
    assert list(assert_error(unknown, 422, "validation_failed")["fields"]) == ["options"]
    product = client.get("/api/v1/products/tote").get_json()
    assert [(v["sku"], v["stock"]) for v in product["variants"]] == [
        ("TOTE-RED", 4),
        ("TOTE-BLUE", 2),
    ]


def test_customers_cannot_write_variants(client, tshirt, headers):
    response = client.patch(
        f"/api/v1/variants/{tshirt['S', 'red']}", json={"stock": 0}, headers=headers
    )
    assert_error(response, 403, "forbidden")
