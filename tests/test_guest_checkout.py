"""Guest checkout on the pages: an e-mail address instead of an account, the signed order link
from the confirmation e-mail, the billing address, the limits, and the join when an account
confirms the same address."""

import re
import time

import pytest
from sqlalchemy import select

from app.extensions import db
from app.orders.models import Order
from tests.helpers import ADDRESS, DECLINED_CARD, GOOD_CARD, PASSWORD, cart_rows, csrf_token, login

LINK = re.compile(r"http://localhost(/orders/view/[\w.-]+)")
OFFICE = {"name": "Ada Ltd", "line1": "9 Office Park", "city": "Leeds", "postcode": "LS1 1AA"}


def add(client, product_id, quantity=2):
    token = csrf_token(client, "/products")
    client.post(
        "/cart/add", data={"product_id": product_id, "quantity": quantity, "csrf_token": token}
    )


@pytest.fixture
def guest_cart(client, product_factory):
    """An anonymous visitor (the client) with 2 Green Tea (stock 5) in the cookie's cart."""
    tea = product_factory("Green Tea", stock=5, price_cents=450)
    add(client, tea)
    return tea


def guest_checkout(client, email="Guest@Example.com", **fields):
    html = client.get("/checkout").get_data(as_text=True)
    key = re.search(r'name="checkout_key" type="hidden" value="([^"]+)"', html).group(1)
    data = {
        **ADDRESS,
        "email": email,
        "payment_method": "test",
        "card_number": GOOD_CARD,
        "checkout_key": key,
        "csrf_token": csrf_token(client, "/checkout"),
        **fields,
    }
    return client.post("/checkout", data=data)


def guest_checkout_post(client, email="guest@example.com", ip="127.0.0.1"):
    """A guest's checkout POST with no checkout key (refused by the form, yet counted)."""
    data = {**ADDRESS, "email": email, "csrf_token": csrf_token(client, "/csrf-token")}
    return client.post("/checkout", data=data, environ_base={"REMOTE_ADDR": ip})


def orders(app) -> list[Order]:
    with app.app_context():
        found = db.session.scalars(select(Order).order_by(Order.id)).all()
        for order in found:
            db.session.expunge(order)
        return list(found)


def test_a_guest_buys_with_an_email_address_and_views_the_order_from_the_mail(
    app, client, guest_cart, outbox
):
    page = client.get("/checkout").get_data(as_text=True)
    assert 'name="email"' in page
    assert 'name="saved_address"' not in page

    response = guest_checkout(client)

    assert response.status_code == 302
    [order] = orders(app)
    assert (order.user_id, order.email, order.status) == (None, "guest@example.com", "paid")
    assert order.billing_address == order.shipping_address == {**ADDRESS}
    [mail] = outbox
    assert mail.to == ["guest@example.com"]
    path = LINK.search(mail.body).group(1)
    # The same signed order, signed a second apart maybe (the signature carries the time).
    assert response.headers["Location"].split(".")[0] == path.split(".")[0]
    assert cart_rows(app) == []

    other_visitor = app.test_client()
    view = other_visitor.get(path)
    html = view.get_data(as_text=True)
    assert view.status_code == 200
    assert order.number in html
    assert "Ordered as a guest with guest@example.com" in html
    assert 'id="cancel-order"' not in html
    assert view.headers["Cache-Control"] == "private, no-store"
    assert view.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    # The link shows this order only: the account pages still need an account.
    assert other_visitor.get(f"/orders/{order.number}").status_code == 302
    assert other_visitor.get("/orders").status_code == 302


def test_a_tampered_or_expired_link_is_a_clear_page(app, client, guest_cart, outbox, monkeypatch):
    guest_checkout(client)
    path = LINK.search(outbox[0].body).group(1)

    for forged in (path[:-2] + "xx", "/orders/view/" + "A" * 300, "/orders/view/SF-ABCDEFGHJK"):
        response = client.get(forged)
        assert response.status_code == 404
        assert "This order link is not valid" in response.get_data(as_text=True)

    month_later = time.time() + app.config["GUEST_ORDER_LINK_MAX_AGE"] + 60
    monkeypatch.setattr("itsdangerous.timed.time.time", lambda: month_later)
    expired = client.get(path)
    assert expired.status_code == 410
    assert "This order link has expired" in expired.get_data(as_text=True)


@pytest.mark.parametrize(
    ("email", "message"),
    [("", "This field is required."), ("not-an-address", "not a valid e-mail address")],
)
def test_a_guest_needs_a_valid_email_address(app, client, guest_cart, email, message):
    response = guest_checkout(client, email=email)

    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    assert orders(app) == []
    assert len(cart_rows(app)) == 1


def test_a_declined_card_gives_the_guest_their_cart_back(app, client, guest_cart):
    response = guest_checkout(client, card_number=DECLINED_CARD)

    assert response.status_code == 200
    assert "declined" in response.get_data(as_text=True)
    assert orders(app) == []
    assert [quantity for *_rest, quantity in cart_rows(app)] == [2]


def test_billing_goes_to_another_address_when_asked(app, client, guest_cart):
    blank = guest_checkout(client, billing_other="y")
    assert blank.status_code == 200
    assert orders(app) == []

    response = guest_checkout(
        client,
        billing_other="y",
        **{f"billing-{field}": value for field, value in {**OFFICE, "country": "GB"}.items()},
    )

    assert response.status_code == 302
    [order] = orders(app)
    assert order.billing_address == {**OFFICE, "line2": "", "country": "GB"}
    assert order.shipping_address == ADDRESS


@pytest.mark.app_config(SHOP_GUEST_CHECKOUT=False)
def test_without_guest_checkout_the_checkout_asks_to_log_in(app, client, guest_cart):
    assert client.get("/checkout").headers["Location"].startswith("/login?next=")
    refused = guest_checkout_post(client)
    assert refused.headers["Location"].startswith("/login?next=")
    assert orders(app) == []


@pytest.mark.app_config(RATELIMIT_GUEST_CHECKOUT="2 per hour")
def test_guest_checkouts_are_limited_per_client_and_per_email_address(app, client, guest_cart):
    for _attempt in range(2):
        assert guest_checkout(client, email="").status_code == 200
    assert guest_checkout(client, email="").status_code == 429

    elsewhere = app.test_client()
    for number, ip in enumerate(("10.0.0.2", "10.0.0.3", "10.0.0.4")):
        status = guest_checkout_post(elsewhere, "Victim@example.com", ip).status_code
        assert status == (429 if number == 2 else 200)


def test_an_account_confirming_the_address_takes_the_guest_orders_over(
    app, client, guest_cart, outbox
):
    guest_checkout(client)
    outbox.clear()
    newcomer = app.test_client()
    newcomer.post(
        "/register",
        data={
            "email": "guest@example.com",
            "password": PASSWORD,
            "password_confirm": PASSWORD,
            "csrf_token": csrf_token(newcomer, "/register"),
        },
    )
    [order] = orders(app)
    assert order.user_id is None  # registered, not confirmed: nothing joins

    confirm = re.search(r"http://localhost(/confirm/[\w.-]+)", outbox[-1].body).group(1)
    newcomer.get(confirm)

    [order] = orders(app)
    assert order.user_id is not None
    login(newcomer, "guest@example.com")
    assert order.number in newcomer.get("/orders").get_data(as_text=True)
    assert newcomer.get(f"/orders/{order.number}").status_code == 200


def test_a_confirmed_customer_finds_a_guest_order_after_logging_in(
    app, client, guest_cart, user_factory
):
    user_id = user_factory(email="guest@example.com")
    unconfirmed = user_factory(email="other@example.com", confirmed=False)
    guest_checkout(client)
    add(client, guest_cart)
    guest_checkout(client, email="other@example.com")

    login(app.test_client(), "guest@example.com")

    assert [order.user_id for order in orders(app)] == [user_id, None]
    assert unconfirmed


def test_a_customer_checks_out_as_before_without_an_email_field(app, client, filled_cart):
    login(client)
    page = client.get("/checkout").get_data(as_text=True)
    assert 'name="email"' not in page
    assert "Checking out as a guest" not in page
