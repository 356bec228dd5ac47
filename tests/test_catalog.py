"""Catalogue pages and services: grid, search, category filter, sort, pagination, details."""

import re

import pytest
from babel.numbers import format_currency
from sqlalchemy import select

from app.catalog import services
from app.catalog.models import Product
from app.errors import Conflict, NotFound, ValidationFailed
from app.extensions import db
from app.money import format_money, to_decimal


def names_on(client, url) -> list[str]:
    html = client.get(url).get_data(as_text=True)
    return re.findall(r'class="stretched-link text-decoration-none">([^<]+)</a>', html)


@pytest.mark.parametrize(
    ("cents", "currency", "text"),
    [
        (1999, "EUR", "€19.99"),
        (5, "USD", "$0.05"),
        (1500, "JPY", "¥1,500"),
        (0, "GBP", "£0.00"),
        (12345, "BHD", "BHD12.345"),
        (123456789, "EUR", "€1,234,567.89"),
    ],
)
def test_money_is_formatted_for_the_currency(cents, currency, text):
    assert format_money(cents, currency) == text
    assert format_money(cents, currency) == text  # the second time from the cache


@pytest.mark.parametrize("locale", ["en_US", "de_DE", "fr_FR", "ja_JP"])
@pytest.mark.parametrize("currency", ["EUR", "USD", "JPY", "BHD"])
def test_money_is_what_babel_formats_in_each_locale(locale, currency):
    for cents in (0, 1, 99, 1999, 100000, 123456789):
        expected = format_currency(to_decimal(cents, currency), currency, locale=locale)
        assert format_money(cents, currency, locale) == expected


def test_grid_shows_active_products_with_prices_and_stock(client, product_factory):
    product_factory("Green Tea", price_cents=450)
    product_factory("Black Tea", stock=0)
    product_factory("Hidden Tea", is_active=False)

    response = client.get("/products")
    html = response.get_data(as_text=True)

    assert response.status_code == 200
    assert names_on(client, "/products") == ["Black Tea", "Green Tea"]
    assert "€4.50" in html
    assert html.count("Out of stock") == 1


def test_search_matches_name_and_description(client, product_factory):
    product_factory("Green Tea", description="Sencha from Shizuoka.")
    product_factory("Mug", description="Holds tea.")
    product_factory("Kettle", description="Boils water.")

    assert names_on(client, "/products?q=tea") == ["Green Tea", "Mug"]
    assert names_on(client, "/products?q=SHIZUOKA") == ["Green Tea"]
    assert names_on(client, "/products?q=100%25") == []


def test_category_filter_includes_sub_categories(client, category_factory, product_factory):
    drinks = category_factory("Drinks")
    tea = category_factory("Tea", parent_id=drinks)
    kitchen = category_factory("Kitchen")
    product_factory("Green Tea", category_id=tea)
    product_factory("Juice", category_id=drinks)
    product_factory("Pan", category_id=kitchen)

    assert names_on(client, "/products?category=drinks") == ["Green Tea", "Juice"]
    assert names_on(client, "/products?category=tea") == ["Green Tea"]


def test_unknown_category_is_404(client):
    assert client.get("/products?category=nope").status_code == 404


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("name", ["Apple", "Banana", "Cherry"]),
        ("price", ["Cherry", "Apple", "Banana"]),
        ("-price", ["Banana", "Apple", "Cherry"]),
        ("newest", ["Cherry", "Banana", "Apple"]),
        ("bogus", ["Apple", "Banana", "Cherry"]),
    ],
)
def test_sorting(client, product_factory, sort, expected):
    product_factory("Apple", price_cents=200)
    product_factory("Banana", price_cents=300)
    product_factory("Cherry", price_cents=100)

    assert names_on(client, f"/products?sort={sort}") == expected


def test_pagination_24_a_page(client, product_factory):
    for i in range(30):
        product_factory(f"Item {i:02d}")

    first = names_on(client, "/products")
    second = names_on(client, "/products?page=2")

    assert len(first) == 24
    assert len(second) == 6
    assert set(first).isdisjoint(second)
    assert "Page 2 of 2" in client.get("/products?page=2").get_data(as_text=True)
    assert names_on(client, "/products?page=99") == []
    assert client.get("/products?page=abc").status_code == 200


def test_product_detail_has_add_to_cart(client, product_factory):
    product_id = product_factory("Green Tea", price_cents=450, stock=3)

    html = client.get("/products/green-tea").get_data(as_text=True)

    assert 'id="product-name">Green Tea<' in html
    assert 'id="product-price">€4.50<' in html
    assert f'name="product_id" value="{product_id}"' in html
    assert 'max="3"' in html


def test_out_of_stock_detail_has_no_add_to_cart(client, product_factory):
    product_factory("Green Tea", stock=0)

    html = client.get("/products/green-tea").get_data(as_text=True)

    assert 'id="add-to-cart"' not in html
    assert "Out of stock" in html


def test_inactive_product_is_404(client, product_factory):
    product_factory("Green Tea", is_active=False)

    assert client.get("/products/green-tea").status_code == 404
    assert client.get("/products/no-such-thing").status_code == 404


def test_home_shows_featured_products(client, product_factory):
    product_factory("Green Tea", is_featured=True)
    product_factory("Black Tea")

    html = client.get("/").get_data(as_text=True)

    assert 'id="featured"' in html
    assert "Green Tea" in html
    assert "Black Tea" not in html


def test_save_product_derives_slug_and_refuses_duplicates(app):
    with app.app_context():
        product = services.save_product(
            None,
            {
                "sku": "A-1",
                "name": "Crème Brûlée Set",
                "price_cents": 1200,
                "stock": 2,
                "currency": "eur",
            },
        )
        assert (product.slug, product.currency) == ("creme-brulee-set", "EUR")
        with pytest.raises(Conflict):
            services.save_product(
                None,
                {"sku": "A-1", "name": "Other", "price_cents": 1, "stock": 1, "currency": "EUR"},
            )
        with pytest.raises(ValidationFailed):
            services.save_product(
                None,
                {"sku": "B-1", "name": "Neg", "price_cents": -1, "stock": 1, "currency": "EUR"},
            )


def test_a_product_made_without_a_currency_is_in_the_shop_currency(app):
    app.config["SHOP_CURRENCY"] = "USD"

    with app.app_context():
        product = services.save_product(
            None, {"sku": "A-1", "name": "Mug", "price_cents": 900, "stock": 1}
        )

        assert product.currency == "USD"


def test_save_product_refuses_another_currency_and_writes_nothing(app, product_factory):
    product_id = product_factory("Green Tea")

    with app.app_context():
        product = db.session.get(Product, product_id)
        for target, data in (
            (None, {"sku": "A-1", "name": "Mug", "price_cents": 9, "stock": 1, "currency": "USD"}),
            (product, {"currency": "usd"}),
        ):
            with pytest.raises(ValidationFailed) as refused:
                services.save_product(target, data)
            assert refused.value.fields == {"currency": ["The shop sells in EUR only."]}
        db.session.rollback()

        assert db.session.scalars(select(Product.currency)).all() == ["EUR"]


def test_list_products_rejects_unknown_sort(app):
    with app.app_context(), pytest.raises(ValidationFailed):
        services.list_products(sort="sideways")


def test_get_product_not_found(app):
    with app.app_context(), pytest.raises(NotFound):
        services.get_product("missing")


def test_a_category_cannot_be_moved_inside_its_own_sub_categories(app, category_factory):
    drinks = category_factory("Drinks")
    tea = category_factory("Tea", parent_id=drinks)
    green = category_factory("Green Tea", parent_id=tea)

    with app.app_context():
        services.check_category_parent(tea, None)  # to the top: fine
        services.check_category_parent(green, drinks)  # up one level: fine
        for parent in (drinks, tea, green):
            with pytest.raises(ValidationFailed) as info:
                services.check_category_parent(drinks, parent)
            assert info.value.fields == {"parent_id": ["Choose a category outside this one."]}
