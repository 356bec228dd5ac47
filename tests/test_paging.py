"""Deep pages of the catalogue (app/catalog/paging.py): numbered pages by a deferred join, and
the API's keyset cursors, on both databases."""

import re

import pytest
from sqlalchemy import event, select, update

from app.catalog import paging, services
from app.catalog.models import Product
from app.extensions import db


@pytest.fixture
def catalogue(app, product_factory):
    """45 products: names with ties (three of each), prices with ties, creation in steps."""
    for number in range(45):
        product_factory(
            f"Tea {number // 3:02} {'abc'[number % 3]}",
            price_cents=100 + (number * 7) % 10,
            description="A green tea." if number % 2 else "A black tea.",
        )
    with app.app_context():
        for product in db.session.query(Product):
            product.name = product.name[:-2]  # "Tea 07": three products share each name
        db.session.commit()


def walk(client, query: str) -> list[str]:
    """Every slug of the listing, following `next` from the first page."""
    slugs: list[str] = []
    page = client.get(f"/api/v1/products?per_page=20&{query}").json
    while True:
        slugs += [p["slug"] for p in page["items"]]
        if page["next"] is None:
            return slugs
        page = client.get(f"/api/v1/products?per_page=20&{query}&after={page['next']}").json


def numbered(client, query: str) -> list[str]:
    slugs: list[str] = []
    for number in (1, 2, 3):
        page = client.get(f"/api/v1/products?per_page=20&page={number}&{query}").json
        slugs += [p["slug"] for p in page["items"]]
    return slugs


@pytest.mark.parametrize(
    "query", ["sort=name", "sort=price", "sort=-price", "sort=newest", "q=green+tea"]
)
def test_cursors_walk_the_same_order_as_numbered_pages(app, client, catalogue, query):
    by_cursor = walk(client, query)

    assert by_cursor == numbered(client, query)
    assert len(by_cursor) == len(set(by_cursor)) == (22 if "q=" in query else 45)


def test_the_last_numbered_page_has_no_next(client, catalogue):
    last = client.get("/api/v1/products?per_page=20&page=3").json

    assert len(last["items"]) == 5
    assert last["next"] is None


def test_a_cursor_of_another_sort_or_garbage_is_422(client, catalogue):
    cursor = client.get("/api/v1/products?per_page=20&sort=price").json["next"]

    for bad in (cursor, "bm90IGpzb24", "%%%", "W10"):
        answer = client.get(f"/api/v1/products?sort=name&after={bad}")
        assert answer.status_code == 422
        assert "after" in answer.json["error"]["fields"]


def test_a_numbered_page_reads_only_its_ids_then_their_products(app, catalogue):
    statements = []

    def record(*args):
        statements.append(args[2])

    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", record)
        try:
            page = services.list_products(sort="price", page=2, per_page=10)
        finally:
            event.remove(db.engine, "before_cursor_execute", record)

    # The page's ids from the sort's index (LIMIT ... OFFSET, or MariaDB's LIMIT offset, n),
    # then only those products.
    ids, products, *_images = statements
    assert "LIMIT" in ids
    assert "JOIN" not in ids
    assert "product.id IN" in products
    assert [p.price_cents for p in page.items] == sorted(p.price_cents for p in page.items)


def test_a_cursor_still_works_after_the_product_it_names_changed(app, client, catalogue):
    first = client.get("/api/v1/products?per_page=20&sort=price").json
    with app.app_context():
        db.session.execute(
            update(Product).where(Product.slug == first["items"][-1]["slug"]).values(price_cents=1)
        )
        db.session.commit()

    second = client.get(f"/api/v1/products?per_page=20&sort=price&after={first['next']}").json

    assert len(second["items"]) == 20
    assert not {p["slug"] for p in first["items"]} & {p["slug"] for p in second["items"]}


def test_deeper_pages_and_their_facets_are_not_counted_again(app, catalogue):
    statements = []

    def record(*args):
        statements.append(args[2].lower())

    with app.test_request_context():
        services.list_products(sort="price", page=1, per_page=10)
        services.facet_counts()
        event.listen(db.engine, "before_cursor_execute", record)
        try:
            services.list_products(sort="price", page=4, per_page=10, details=services.CARD_DETAILS)
            services.facet_counts()
        finally:
            event.remove(db.engine, "before_cursor_execute", record)

    assert not [s for s in statements if "count(" in s]
    assert len(statements) == 3  # the page's ids, their products, and their images


@pytest.mark.app_config(CATALOG_COUNT_LIMIT=3)
@pytest.mark.usefixtures("catalogue")
def test_a_capped_total_still_pages_to_the_end(app):
    with app.app_context():
        first = services.list_products(sort="price", page=1, per_page=10)
        deep = services.list_products(sort="price", page=4, per_page=10)
        last = services.list_products(sort="price", page=5, per_page=10)
        past = services.list_products(sort="price", page=99, per_page=10)

    assert (first.total, first.capped, first.has_next, first.pages) == (3, True, True, 2)
    assert (deep.total, deep.capped, deep.has_next, deep.pages) == (3, True, True, 5)
    assert (len(last.items), last.has_next, last.pages, last.next_cursor) == (5, False, 5, None)
    assert (past.items, past.has_next, past.next_cursor) == ([], False, None)


@pytest.mark.parametrize("sort", ["name", "price", "-price", "newest"])
def test_deep_pages_start_from_their_block_bookmark_in_the_same_order(
    app, client, catalogue, monkeypatch, sort
):
    """Past MARK_EVERY products a page starts after its block's kept bookmark (a keyset
    condition) instead of skipping every product before it: the same pages as by cursor."""
    by_cursor = walk(client, f"sort={sort}")
    monkeypatch.setattr(paging, "MARK_EVERY", 7)

    def page(number: int, **extra) -> list[str]:
        query = {"per_page": 5, "page": number, "sort": sort, **extra}
        return [p["slug"] for p in client.get("/api/v1/products", query_string=query).json["items"]]

    statements: list[str] = []

    def record(*args):
        statements.append(args[2])

    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", record)
    try:
        by_page = [slug for number in range(1, 11) for slug in page(number)]
    finally:
        with app.app_context():
            event.remove(db.engine, "before_cursor_execute", record)
    # Each page one statement for its ids, its block's bookmark read with it the first time.
    assert len([s for s in statements if "k0" in s]) == 10
    statements.clear()

    with app.test_request_context():
        event.listen(db.engine, "before_cursor_execute", record)
        try:  # page 9 again: its bookmark is kept
            again = services.list_products(sort=sort, page=9, per_page=5, details=None)
        finally:
            event.remove(db.engine, "before_cursor_execute", record)

    assert by_page == by_cursor
    with app.app_context():
        slugs = db.session.scalars(select(Product.slug).where(Product.id.in_(again.items)))
        assert set(slugs) == set(by_cursor[40:45])
    [ids] = statements  # the page's ids, no bookmark to find
    assert re.search(r"product\.id [<>]", ids)  # after the bookmark: name > x OR ... id > y


def test_a_bookmark_is_found_again_after_the_catalogue_changes(app, client, catalogue, monkeypatch):
    monkeypatch.setattr(paging, "MARK_EVERY", 10)
    before = client.get("/api/v1/products?per_page=5&page=5&sort=price").json["items"]
    with app.app_context():
        db.session.execute(update(Product).values(price_cents=Product.price_cents + Product.id))
        db.session.commit()

    after = client.get("/api/v1/products?per_page=5&page=5&sort=price").json["items"]

    assert [p["slug"] for p in after] == walk(client, "sort=price")[20:25]
    assert [p["slug"] for p in after] != [p["slug"] for p in before]
