"""Checkout with the address book: a saved address (the default one chosen first) or a new
one, kept in the book on request; the order keeps its own copy."""

import re

import pytest

from app.addresses import services as address_services
from app.extensions import db
from app.orders.models import Order
from tests.helpers import ADDRESS, GOOD_CARD, csrf_token, login

WORK = {**ADDRESS, "name": "Ada at work", "line1": "2 Engine Row", "city": "Paris", "country": "FR"}
BLANK = dict.fromkeys(ADDRESS, "")


@pytest.fixture
def shopper(client, filled_cart):
    login(client)
    return filled_cart


def save(app, user_id, fields, **flags) -> int:
    with app.app_context():
        return address_services.save_address(user_id, None, {**fields, **flags}).id


def checkout(client, **fields):
    html = client.get("/checkout").get_data(as_text=True)
    key = re.search(r'name="checkout_key" type="hidden" value="([^"]+)"', html).group(1)
    data = {
        "payment_method": "test",
        "card_number": GOOD_CARD,
        "checkout_key": key,
        "csrf_token": csrf_token(client, "/checkout"),
        **fields,
    }
    return client.post("/checkout", data=data)


def last_order(app) -> Order:
    with app.app_context():
        order = db.session.scalars(db.select(Order).order_by(Order.id.desc())).first()
        db.session.expunge(order)
        return order


def test_checkout_offers_the_saved_addresses_the_default_chosen(app, client, shopper):
    save(app, shopper["user_id"], ADDRESS)
    work = save(app, shopper["user_id"], WORK, default_shipping=True)

    html = client.get("/checkout").get_data(as_text=True)

    assert re.search(
        r'<input checked class="form-check-input" id="saved_address-\d+" '
        rf'name="saved_address" type="radio" value="{work}">',
        html,
    )
    assert "Ada at work, 2 Engine Row, Paris" in html
    assert 'value="new"' in html


def test_an_order_to_a_saved_address_copies_it(app, client, shopper):
    work = save(app, shopper["user_id"], WORK)

    placed = checkout(client, saved_address=str(work), **BLANK)

    assert placed.status_code == 302
    order = last_order(app)
    assert (order.ship_name, order.ship_city, order.ship_country) == ("Ada at work", "Paris", "FR")
    with app.app_context():
        address_services.save_address(shopper["user_id"], work, {"city": "Lyon"})
    assert last_order(app).ship_city == "Paris"


def test_a_new_address_is_kept_only_when_asked(app, client, shopper):
    checkout(client, saved_address="new", **ADDRESS)
    with app.app_context():
        assert address_services.list_addresses(shopper["user_id"]) == []

    client.post(
        "/cart/add",
        data={
            "product_id": shopper["tea"],
            "quantity": 1,
            "csrf_token": csrf_token(client, "/cart"),
        },
    )
    checkout(client, saved_address="new", save_address="y", **WORK)

    with app.app_context():
        book = address_services.list_addresses(shopper["user_id"])
        assert [(a.name, a.is_default_shipping) for a in book] == [("Ada at work", True)]
    assert last_order(app).ship_name == "Ada at work"


def test_another_customers_address_cannot_be_shipped_to(app, client, shopper, user_factory):
    eve = user_factory(email="eve@example.com")
    theirs = save(app, eve, WORK)

    refused = checkout(client, saved_address=str(theirs), **BLANK)

    assert refused.status_code == 200
    assert "Not a valid choice" in refused.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(Order)) == 0
