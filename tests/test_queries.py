"""No N+1: pages run the same number of SQL queries with 10 and with 200 products/lines."""

import pytest
from sqlalchemy import event, insert, select

from app import page_cache
from app.cart.models import Cart, CartItem
from app.catalog.models import Product, Variant
from app.extensions import db
from app.orders import checkout as checkout_service
from tests.helpers import ADDRESS, login


def grow_shop(app, user_id, start, stop) -> str:
    """Add products start..stop-1, fill the user's cart with every product, order it all,
    then fill the cart again; return the new order's number."""
    with app.app_context():
        db.session.execute(
            insert(Product),
            [
                {
                    "slug": f"q-{i}",
                    "name": f"Product {i:03d}",
                    "description": "",
                    "price_cents": 100 + i,
                    "currency": "EUR",
                    "is_active": True,
                }
                for i in range(start, stop)
            ],
        )
        new_ids = db.session.scalars(
            select(Product.id).where(Product.slug.in_([f"q-{i}" for i in range(start, stop)]))
        ).all()
        db.session.execute(
            insert(Variant),
            [{"product_id": pid, "sku": f"Q-{pid}", "stock": 5} for pid in new_ids],
        )
        cart = db.session.scalar(select(Cart).where(Cart.user_id == user_id))
        if cart is None:
            cart = Cart(user_id=user_id)
            db.session.add(cart)
            db.session.flush()
        variant_ids = db.session.scalars(select(Variant.id)).all()

        def fill():
            db.session.execute(db.delete(CartItem).where(CartItem.cart_id == cart.id))
            db.session.execute(
                insert(CartItem),
                [{"cart_id": cart.id, "variant_id": vid, "quantity": 1} for vid in variant_ids],
            )
            db.session.commit()

        fill()
        number = checkout_service.place_order(user_id, f"key-{stop}", ADDRESS, "manual").number
        fill()
        return number


def count_queries(app, client, path, cold=False) -> int:
    """The statements a request for ``path`` runs after one warm-up request; ``cold``: with
    the catalogue's generation renewed first, so that nothing cached is reused (a listing's
    or product page's rendered content, the running sales)."""
    statements = []

    def record(conn, cursor, statement, *args):
        statements.append(statement)

    with app.app_context():
        engine = db.engine
    client.get(path)  # warm up: first-request work (e.g. loading the user) is not N+1
    if cold:
        with app.app_context():
            page_cache.invalidate()
    event.listen(engine, "before_cursor_execute", record)
    try:
        response = client.get(path)
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert response.status_code == 200, path
    return len(statements)


@pytest.mark.parametrize("page", ["/products", "/products/q-3", "/cart", "/orders", "order"])
def test_query_count_does_not_grow_with_size(app, client, user_factory, page):
    user_id = user_factory()
    login(client)
    counts = []
    for start, stop in ((0, 10), (10, 200)):
        number = grow_shop(app, user_id, start, stop)
        path = f"/orders/{number}" if page == "order" else page
        counts.append(count_queries(app, client, path))

    assert counts[0] == counts[1], f"{page}: {counts[0]} queries with 10, {counts[1]} with 200"


# The queries an anonymous visitor's catalogue page runs (the page cache off, so the app
# answers every request), whatever the catalogue's size: 3 at most (issue 22). The home page's
# featured products, a listing's and a product page's content (HTML and the API's) are kept
# rendered until the catalogue changes: no query then.
ANONYMOUS_QUERIES = {
    "/": 0,
    "/products": 0,
    "/products?q=product&sort=-price": 0,
    "/products/q-3": 0,
    "/api/v1/products": 0,
    "/api/v1/products/q-3": 0,
    "/api/v1/categories": 1,
}
# Right after a catalogue change (cold): the same, plus one query that reads the running
# sales, which every page then shares until the next change. A listing counts its facets in
# one more (app/catalog/facets.py); products load their images in one more. A listing reads
# its page's ids, then the products whose cards are not kept (the API: all of them). A search
# finds its ids in one, then its listing's order in one (app/catalog/search.py), and counts
# none.
COLD_QUERIES = {
    "/": 2,
    "/products": 7,
    "/products?q=product&sort=-price": 7,
    "/products/q-3": 4,
    "/api/v1/products": 6,
    "/api/v1/products/q-3": 4,
    "/api/v1/categories": 1,
}


@pytest.mark.app_config(PAGE_CACHE=False)
def test_anonymous_pages_stay_within_their_query_budget_at_any_size(app, user_factory):
    user_id = user_factory()
    counts, cold = [], []
    for start, stop in ((0, 10), (10, 300)):
        grow_shop(app, user_id, start, stop)
        counts.append(
            {page: count_queries(app, app.test_client(), page) for page in ANONYMOUS_QUERIES}
        )
        cold.append(
            {page: count_queries(app, app.test_client(), page, cold=True) for page in COLD_QUERIES}
        )

    assert counts[0] == counts[1] == ANONYMOUS_QUERIES
    assert cold[0] == cold[1] == COLD_QUERIES
    assert max(ANONYMOUS_QUERIES.values()) <= 3
