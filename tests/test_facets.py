"""Catalogue filters and facet counts (app/catalog/facets.py), on both databases."""

import re

import pytest
from sqlalchemy import event, update

from app.catalog import search, services
from app.catalog.facets import Filters
from app.catalog.models import Product, Variant
from app.errors import ValidationFailed
from app.extensions import db
from tests.factories import make_tshirt


@pytest.fixture
def shop(app, category_factory, product_factory):
    """Clothing > Shirts holds a T-shirt (S/M/L x red/blue, 15.00, L 17.00); Tea holds a green
    tea (4.50) and a sold-out black tea (30.00)."""
    clothing = category_factory("Clothing")
    shirts = category_factory("Shirts", parent_id=clothing)
    tea = category_factory("Tea")
    variants = make_tshirt(app, stock=5, price_cents=1500)
    with app.app_context():
        db.session.execute(
            update(Product).where(Product.slug == "tshirt").values(category_id=shirts)
        )
        db.session.commit()
    product_factory("Green Tea", category_id=tea, price_cents=450)
    product_factory("Black Tea", category_id=tea, price_cents=3000, stock=0)
    return {"clothing": clothing, "shirts": shirts, "tea": tea, "variants": variants}


def slugs(app, **args) -> list[str]:
    with app.app_context():
        return [p.slug for p in services.list_products(sort="name", **args).items]


def facets_of(app, **args):
    with app.app_context():
        return services.facet_counts(**args)


def test_filters_narrow_the_listing(app, shop):
    assert slugs(app, filters=Filters.of(in_stock=True)) == ["green-tea", "tshirt"]
    assert slugs(app, filters=Filters.of(price_min=1000, price_max=3000)) == [
        "black-tea",
        "tshirt",
    ]
    assert slugs(app, filters=Filters.of(options=["Size:M", "colour:BLUE"])) == ["tshirt"]
    assert slugs(app, filters=Filters.of(options=["size:xl"])) == []
    assert slugs(app, q="tea", filters=Filters.of(in_stock=True)) == ["green-tea"]


def test_the_chosen_options_must_be_one_variant_in_stock(app, shop):
    with app.app_context():
        db.session.execute(
            update(Variant).where(Variant.id == shop["variants"][("M", "blue")]).values(stock=0)
        )
        db.session.commit()
    m_blue = ["size:m", "colour:blue"]

    assert slugs(app, filters=Filters.of(options=m_blue)) == ["tshirt"]
    assert slugs(app, filters=Filters.of(options=m_blue, in_stock=True)) == []
    assert slugs(
        app, filters=Filters.of(options=["size:m", "size:s", "colour:blue"], in_stock=True)
    ) == ["tshirt"]


def test_every_facet_is_counted(app, shop):
    counted = facets_of(app)

    assert counted.categories == {shop["clothing"]: 1, shop["shirts"]: 1, shop["tea"]: 2}
    assert [(r.min_cents, r.max_cents, r.count) for r in counted.prices] == [
        (0, 999, 1),
        (1000, 2499, 1),
        (2500, 4999, 1),
        (5000, 9999, 0),
        (10000, None, 0),
    ]
    assert counted.in_stock == 2
    assert [(o.name, [(label, n) for _key, label, n in o.values]) for o in counted.options] == [
        ("Colour", [("red", 1), ("blue", 1)]),
        ("Size", [("S", 1), ("M", 1), ("L", 1)]),
    ]


def test_a_facet_is_counted_without_its_own_filter(app, shop):
    counted = facets_of(app, category="tea", filters=Filters.of(price_max=999))

    assert counted.categories == {shop["tea"]: 1}  # every category, at most 9.99
    assert [r.count for r in counted.prices] == [1, 0, 1, 0, 0]  # every price, of Tea
    assert counted.in_stock == 1


def test_choosing_a_size_still_counts_the_other_sizes(app, shop):
    counted = facets_of(app, filters=Filters.of(options=["size:m"]))

    sizes = next(o for o in counted.options if o.key == "size")
    assert [label for _key, label, _n in sizes.values] == ["S", "M", "L"]
    assert counted.categories == {shop["clothing"]: 1, shop["shirts"]: 1}


def test_facets_are_one_statement(app, shop):
    statements = []

    def record(*args):
        statements.append(args[2])

    with app.test_request_context():
        services.all_categories()  # once per request
        search.search("shirt")  # a search's ids: once per catalogue generation
        event.listen(db.engine, "before_cursor_execute", record)
        try:
            services.facet_counts(
                q="shirt",
                category="clothing",
                filters=Filters.of(options=["size:m", "colour:red"], in_stock=True),
            )
        finally:
            event.remove(db.engine, "before_cursor_execute", record)

    assert len(statements) == 1
    assert "UNION ALL" in statements[0]


@pytest.mark.parametrize(
    ("given", "field"),
    [
        ({"price_min": 500, "price_max": 100}, "price"),
        ({"price_min": -1}, "price"),
        ({"options": ["size"]}, "option"),
        ({"options": [":m"]}, "option"),
        ({"options": [f"size:{n}" for n in range(11)]}, "option"),
    ],
)
def test_bad_filters_are_refused_naming_the_field(given, field):
    with pytest.raises(ValidationFailed) as refused:
        Filters.of(**given)

    assert field in refused.value.fields


# The pages and the API


def test_the_listing_page_filters_and_shows_the_counts(app, client, shop):
    html = client.get("/products?option=size:m&in_stock=1").get_data(as_text=True)

    assert re.findall(r'href="/products/([a-z0-9-]+)"', html) == ["tshirt"]
    assert re.search(r'value="size:m" checked', html)
    assert re.search(r'for="in_stock">In stock only <span class="text-muted small">1<', html)
    assert 'id="clear-filters"' in html


def test_a_bad_filter_is_left_out_with_a_message(app, client, shop):
    response = client.get("/products?price_min=cheap&option=size")

    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "“cheap” is not a price: enter one like 12.50." in html
    assert "Give an option as name:value" in html
    assert "4 products" not in html  # three: every product, no filter
    assert "3 products" in html


def test_pages_keep_the_filters(app, client, product_factory):
    for number in range(60):
        product_factory(f"Tea {number:02}", price_cents=100 + number)

    html = client.get("/products?price_max=1.50&in_stock=1").get_data(as_text=True)

    assert "51 products" in html
    assert 'href="/products?price_max=1.50&amp;in_stock=1&amp;page=2"' in html


def test_the_api_filters_and_counts_on_request(app, client, shop):
    plain = client.get("/api/v1/products?option=size:m&option=colour:red").json
    counted = client.get("/api/v1/products?in_stock=true&facets=true").json

    assert [p["slug"] for p in plain["items"]] == ["tshirt"]
    assert "facets" not in plain
    assert [p["slug"] for p in counted["items"]] == ["green-tea", "tshirt"]
    assert counted["facets"]["in_stock"] == 2
    sizes = next(o for o in counted["facets"]["options"] if o["name"] == "Size")
    assert sizes["values"] == [
        {"option": "size:s", "value": "S", "count": 1},
        {"option": "size:m", "value": "M", "count": 1},
        {"option": "size:l", "value": "L", "count": 1},
    ]
    assert {"id": shop["clothing"], "count": 1} in counted["facets"]["categories"]


@pytest.mark.parametrize(
    "query",
    [
        "price_min_cents=900&price_max_cents=100",
        "option=size",
        "price_min_cents=-1",
        "option=" + "&option=".join(f"size:{n}" for n in range(11)),
    ],
)
def test_bad_api_filters_are_422(client, query):
    response = client.get(f"/api/v1/products?{query}")

    assert response.status_code == 422
    assert response.json["error"]["code"] == "validation_failed"


# Bounded counts (CATALOG_COUNT_LIMIT)


@pytest.fixture
def five_teas(category_factory, product_factory):
    """Five green teas in Tea, at 4.50, in stock."""
    tea = category_factory("Tea")
    for number in range(5):
        product_factory(f"Green Tea {number}", category_id=tea, price_cents=450)
    return tea


@pytest.mark.app_config(CATALOG_COUNT_LIMIT=3)
def test_facets_count_at_most_the_limit_and_say_so(app, five_teas):
    counted = facets_of(app)

    assert counted.capped == {"categories", "prices", "in_stock", "options"}
    assert counted.categories == {five_teas: 3}
    assert [r.count for r in counted.prices] == [3, 0, 0, 0, 0]
    assert counted.in_stock == 3


@pytest.mark.app_config(CATALOG_COUNT_LIMIT=5)
def test_facets_at_the_limit_are_exact(app, five_teas):
    counted = facets_of(app)

    assert counted.capped == frozenset()
    assert counted.categories == {five_teas: 5}
    assert counted.in_stock == 5


@pytest.mark.app_config(CATALOG_COUNT_LIMIT=3)
def test_only_the_facets_over_the_limit_are_capped(app, five_teas):
    make_tshirt(app, stock=5, price_cents=1500)

    counted = facets_of(app, filters=Filters.of(options=["size:m"]))

    # Sizes are counted without the size filter: over six products. The rest over the T-shirt.
    assert counted.capped == {"options"}
    assert counted.in_stock == 1
    assert [r.count for r in counted.prices] == [0, 1, 0, 0, 0]


@pytest.mark.app_config(CATALOG_COUNT_LIMIT=3)
def test_the_listing_page_shows_a_capped_count(app, client, five_teas):
    html = client.get("/products?category=tea").get_data(as_text=True)

    assert len(re.findall(r'href="/products/(green-tea-\d)"', html)) == 5
    assert re.search(r'id="result-count">3\+ products<', html)
    assert re.search(r'for="in_stock">In stock only <span class="text-muted small">3\+<', html)


@pytest.mark.app_config(CATALOG_COUNT_LIMIT=3)
def test_the_api_says_when_counts_are_capped(app, client, five_teas):
    capped = client.get("/api/v1/products?per_page=2&facets=true").json
    exact = client.get("/api/v1/products?q=coffee&facets=true").json

    assert (capped["total"], capped["total_capped"], capped["pages"]) == (3, True, 2)
    assert capped["next"] is not None
    assert capped["facets"]["capped"] is True
    assert capped["facets"]["in_stock"] == 3
    assert (exact["total"], exact["total_capped"], exact["facets"]["capped"]) == (0, False, False)
