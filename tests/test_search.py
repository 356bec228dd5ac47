"""Full-text search of the catalogue (app/catalog/search.py), on SQLite's FTS5 and MariaDB's
FULLTEXT indexes: the same answers from both, the pages and the API."""

import re

import pytest
from sqlalchemy import event, update

from app.catalog import services
from app.catalog.models import Product
from app.extensions import db


def slugs(app, q: str, **args) -> list[str]:
    with app.app_context():
        return [p.slug for p in services.list_products(q=q, **args).items]


@pytest.fixture
def teas(product_factory):
    """Five products: two "green" in the name, one only in its description, a teapot and an
    XL shirt."""
    return {
        "sencha": product_factory("Sencha Green Tea", description="Steamed leaves."),
        "matcha": product_factory("Matcha Green Powder", description="Whisk it.", price_cents=900),
        "mug": product_factory("Stoneware Mug", description="For green tea lovers."),
        "teapot": product_factory("Cast Iron Teapot", description="Holds a litre."),
        "shirt": product_factory("Shirt XL", description="Cotton."),
    }


def test_a_name_match_ranks_above_a_description_match(app, teas):
    found = slugs(app, "green")

    assert set(found[:2]) == {"sencha-green-tea", "matcha-green-powder"}
    assert found[2:] == ["stoneware-mug"]


def test_every_word_must_match_as_a_word_prefix(app, teas):
    assert slugs(app, "green tea") == ["sencha-green-tea", "stoneware-mug"]
    assert slugs(app, "tea") == ["sencha-green-tea", "cast-iron-teapot", "stoneware-mug"]
    assert slugs(app, "reen") == []  # inside a word: not a match for the index


def test_the_index_cannot_hold_short_words_and_stopwords_so_neither_counts(app, teas):
    assert slugs(app, "the green") == slugs(app, "green")
    assert slugs(app, "xl") == ["shirt-xl"]  # no word of 3 letters: a substring search
    assert slugs(app, "Shirt XL") == ["shirt-xl"]


@pytest.mark.parametrize(
    "q", ['tea"', "tea*", '"green" OR "mug"', "-tea", "+green -tea", "(tea", "tea NEAR mug", "@%_"]
)
def test_search_syntax_in_a_query_is_only_text(app, client, teas, q):
    response = client.get("/products", query_string={"q": q})
    api = client.get("/api/v1/products", query_string={"q": q})

    assert response.status_code == 200
    assert api.status_code == 200


def test_the_index_follows_renames_and_deletes(app, teas):
    with app.app_context():
        db.session.execute(
            update(Product).where(Product.id == teas["mug"]).values(name="Porcelain Cup")
        )
        db.session.delete(db.session.get(Product, teas["teapot"]))
        db.session.commit()

    assert slugs(app, "porcelain") == ["stoneware-mug"]
    assert slugs(app, "stoneware") == []
    assert slugs(app, "teapot") == []


def test_inactive_products_are_not_found(app, teas):
    with app.app_context():
        db.session.execute(
            update(Product).where(Product.id == teas["sencha"]).values(is_active=False)
        )
        db.session.commit()

    assert "sencha-green-tea" not in slugs(app, "green")
    with app.app_context():
        assert services.list_products(q="green").total == 2


def test_a_chosen_sort_orders_the_matches(app, teas):
    assert slugs(app, "green", sort="-price") == [
        "matcha-green-powder",
        "sencha-green-tea",
        "stoneware-mug",
    ]


def test_pages_and_api_answer_the_same(app, client, teas):
    html = client.get("/products?q=green+tea").get_data(as_text=True)
    api = client.get("/api/v1/products?q=green+tea").json

    on_page = re.findall(r'href="/products/([a-z0-9-]+)"', html)
    assert list(dict.fromkeys(on_page)) == [p["slug"] for p in api["items"]]
    assert api["total"] == 2
    assert "2 products for “green tea”" in html


def test_a_search_matches_once_until_the_catalogue_changes(app, client, teas):
    """A full-text match reads every row of its words' index (130 ms at a million products):
    a search's pages, count, facets and API answer are worked out from its kept ids."""
    statements: list[str] = []

    def record(*args):
        statements.append(args[2])

    def matches() -> int:
        return len([s for s in statements if "MATCH" in s.upper()])

    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", record)
    try:
        client.get("/products?q=green")
        assert matches() == 1
        client.get("/products?q=green&page=2&sort=-price")
        client.get("/products?q=green&in_stock=1")
        client.get("/api/v1/products?q=green&facets=1")
        assert matches() == 1
        with app.app_context():
            db.session.execute(
                update(Product).where(Product.id == teas["shirt"]).values(name="Green Shirt")
            )
            db.session.commit()
        found = client.get("/api/v1/products?q=green").json
        assert matches() == 2
    finally:
        with app.app_context():
            event.remove(db.engine, "before_cursor_execute", record)
    assert "green-shirt" not in [p["slug"] for p in found["items"]]  # the slug is kept
    assert found["total"] == 4


@pytest.mark.app_config(CATALOG_COUNT_LIMIT=2)
def test_a_search_past_the_limit_lists_its_best_matches_and_says_so(app, client, teas):
    found = client.get("/api/v1/products?q=green").json
    html = client.get("/products?q=green").get_data(as_text=True)

    assert {p["slug"] for p in found["items"]} == {"sencha-green-tea", "matcha-green-powder"}
    assert found["total"] == 2
    assert found["total_capped"] is True
    assert "sencha-green-tea" in html


def test_search_pages_and_cursors_walk_the_same_matches(app, client, teas):
    by_page = [
        client.get(f"/api/v1/products?q=tea&per_page=1&page={n}").json["items"][0]["slug"]
        for n in (1, 2, 3)
    ]
    walked, after = [], None
    while True:
        query = {"q": "tea", "per_page": 1} | ({"after": after} if after else {})
        answer = client.get("/api/v1/products", query_string=query).json
        walked += [p["slug"] for p in answer["items"]]
        after = answer["next"]
        if after is None:
            break

    assert walked == by_page
    bad = client.get(f"/api/v1/products?q=tea&sort=name&after={after or 'W10'}")
    assert bad.status_code == 422
