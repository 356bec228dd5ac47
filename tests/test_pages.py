"""Page arithmetic once: every listing is a Flask-SQLAlchemy Pagination, pages and API alike."""

from flask_sqlalchemy.pagination import Pagination

from app.cart.services import CartOwner, add_to_cart
from app.catalog import services as catalog_services
from app.orders import checkout as checkout_service
from app.orders import queries as order_queries
from tests.helpers import ADDRESS, login


def place_orders(app, user_id, product_id, count):
    with app.app_context():
        for i in range(count):
            add_to_cart(CartOwner(user_id=user_id), product_id, 1)
            checkout_service.place_order(user_id, f"key-{i}", ADDRESS, "manual")


def test_listings_are_flask_sqlalchemy_pages(app, user_factory, product_factory):
    user_id = user_factory()
    tea = product_factory("Green Tea", stock=10)
    place_orders(app, user_id, tea, 3)

    with app.app_context():
        products = catalog_services.list_products(per_page=2)
        orders = order_queries.list_orders_for_user(user_id, page=2, per_page=2)

        assert isinstance(products, Pagination)
        assert (len(products.items), products.total, products.pages) == (1, 1, 1)
        assert isinstance(orders, Pagination)
        assert (len(orders.items), orders.total, orders.page, orders.pages) == (1, 3, 2, 2)
        assert (orders.has_prev, orders.has_next) == (True, False)


def test_order_history_links_older_and_newer_pages(app, client, user_factory, product_factory):
    user_id = user_factory()
    tea = product_factory("Green Tea", stock=30)
    place_orders(app, user_id, tea, 21)
    login(client)

    first = client.get("/orders").get_data(as_text=True)
    second = client.get("/orders?page=2").get_data(as_text=True)

    assert first.count('<tr><td><a href="/orders/SF-') == 20
    assert 'href="/orders?page=2">Older</a>' in first
    assert "Newer" not in first
    assert second.count('<tr><td><a href="/orders/SF-') == 1
    assert 'href="/orders?page=1">Newer</a>' in second
    assert "Older" not in second


def test_an_empty_listing_has_one_page_in_the_api(client):
    response = client.get("/api/v1/products?q=nothing-matches")

    body = response.get_json()
    assert (body["items"], body["total"], body["pages"]) == ([], 0, 1)
