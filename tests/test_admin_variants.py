"""The back office adds a product's options and its variants, with the services' rules."""

import re

import pytest
from sqlalchemy import select

from app.catalog.models import OptionType, Product, Variant
from app.extensions import db
from tests.factories import ProductFactory, create


def form_token(html: str) -> str:
    match = re.search(r'<input[^>]*name="csrf_token"[^>]*value="([^"]+##[^"]+)"', html)
    assert match, "no SecureForm csrf_token on the page"
    return match.group(1)


def post_form(client, path: str, data: dict):
    token = form_token(client.get(path).get_data(as_text=True))
    return client.post(path, data={"csrf_token": token, **data})


@pytest.fixture
def tote(app):
    return create(app, ProductFactory, name="Tote", sku="TOTE", stock=0)


def colour_values(app, product_id) -> dict[str, int]:
    with app.app_context():
        option = db.session.scalar(select(OptionType).where(OptionType.product_id == product_id))
        return {value.value: value.id for value in option.values}


def test_the_back_office_adds_an_option_and_a_variant_the_shop_sells(app, as_admin, tote):
    added = post_form(
        as_admin,
        "/admin/options/new/",
        {"product_id": tote, "name": "Colour", "position": "0", "values": "red, blue"},
    )
    assert added.status_code == 302
    values = colour_values(app, tote)
    assert list(values) == ["red", "blue"]

    # The product's first variant (made with it) gets a colour; a second one is added.
    with app.app_context():
        first = db.session.get(Product, tote).variants[0].id
    edited = post_form(
        as_admin,
        f"/admin/variants/edit/?id={first}",
        {
            "product_id": tote,
            "sku": "TOTE-RED",
            "value_ids": [values["red"]],
            "stock": "4",
            "is_active": "y",
        },
    )
    created = post_form(
        as_admin,
        "/admin/variants/new/",
        {
            "product_id": tote,
            "sku": "TOTE-BLUE",
            "value_ids": [values["blue"]],
            "stock": "2",
            "price_cents": "1100",
            "weight_grams": "250",
            "is_active": "y",
        },
    )

    assert (edited.status_code, created.status_code) == (302, 302)
    with app.app_context():
        variants = db.session.scalars(select(Variant).order_by(Variant.id)).all()
        assert [(v.sku, v.options_label, v.stock, v.unit_price_cents) for v in variants] == [
            ("TOTE-RED", "Colour red", 4, 450),
            ("TOTE-BLUE", "Colour blue", 2, 1100),
        ]
    page = as_admin.get("/products/tote").get_data(as_text=True)
    assert ">blue</option>" in page
    assert "from €4.50" in page


@pytest.mark.parametrize(
    ("case", "fields", "message"),
    [
        ("same options", {"sku": "TOTE-2"}, "TOTE has these options already."),
        ("no option", {"sku": "TOTE-2", "value_ids": []}, "one value of each"),
        ("taken SKU", {"sku": "TOTE"}, "exists already"),
        ("negative stock", {"sku": "TOTE-2", "stock": "-1"}, "A whole number from 0"),
    ],
)
def test_a_variant_against_the_rules_is_a_form_error_and_nothing_changes(
    app, as_admin, tote, case, fields, message
):
    post_form(
        as_admin,
        "/admin/options/new/",
        {"product_id": tote, "name": "Colour", "position": "0", "values": "red, blue"},
    )
    values = colour_values(app, tote)
    with app.app_context():
        first = db.session.get(Product, tote).variants[0]
        first.values = [db.session.get_one(OptionType, first.product.options[0].id).values[0]]
        db.session.commit()
    if case == "taken SKU":
        fields = {**fields, "value_ids": [values["blue"]]}
    data = {"product_id": tote, "value_ids": [values["red"]], "stock": "1", **fields}

    response = post_form(as_admin, "/admin/variants/new/", data)

    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(Variant.sku).where(Variant.sku == "TOTE-2")) is None
        assert len(db.session.get(Product, tote).variants) == 1


def test_a_value_in_use_cannot_be_taken_off_an_option(app, as_admin, tote):
    post_form(
        as_admin,
        "/admin/options/new/",
        {"product_id": tote, "name": "Colour", "position": "0", "values": "red, blue"},
    )
    with app.app_context():
        option = db.session.scalar(select(OptionType))
        db.session.get(Product, tote).variants[0].values = [option.values[0]]
        db.session.commit()
        option_id = option.id

    response = post_form(
        as_admin,
        f"/admin/options/edit/?id={option_id}",
        {"product_id": tote, "name": "Colour", "position": "0", "values": "blue"},
    )

    assert "Still used by variants: red." in response.get_data(as_text=True)
    assert list(colour_values(app, tote)) == ["red", "blue"]
