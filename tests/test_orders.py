"""Checkout and orders: one transaction, payments, the state machine, e-mails, privacy."""

import re

import pytest
from sqlalchemy import func, select, text

from app.cart import services as cart_services
from app.cart.models import Cart, CartItem
from app.cart.services import CartOwner
from app.catalog.models import Product
from app.errors import InvalidTransition, OutOfStock, ValidationFailed
from app.extensions import db
from app.orders import checkout as checkout_service
from app.orders import queries as order_queries
from app.orders import state as state_machine
from app.orders.models import Order, OrderEvent, Payment
from app.payments.providers import PaymentDeclined, provider_for
from app.payments.statuses import PaymentStatus, RefundStatus
from tests.factories import ProductFactory, UserFactory, create, fill_cart, place
from tests.helpers import ADDRESS, DECLINED_CARD, GOOD_CARD, count, csrf_token, login, stock


def checkout_form(client, card=GOOD_CARD, method="test", **address):
    html = client.get("/checkout").get_data(as_text=True)
    key = re.search(r'name="checkout_key" type="hidden" value="([^"]+)"', html).group(1)
    return {
        **ADDRESS,
        **address,
        "payment_method": method,
        "card_number": card,
        "checkout_key": key,
        "csrf_token": csrf_token(client, "/checkout"),
    }


@pytest.fixture
def shopper(client, filled_cart):
    """The customer of ``filled_cart``, logged in."""
    login(client)
    return filled_cart


# Checkout through the pages


@pytest.mark.app_config(SHOP_GUEST_CHECKOUT=False)
def test_checkout_needs_login_without_guest_checkout(client):
    response = client.get("/checkout")

    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")


def test_checkout_with_test_card_places_a_paid_order(app, client, shopper, outbox):
    response = client.post("/checkout", data=checkout_form(client))

    assert response.status_code == 302
    number = response.headers["Location"].rsplit("/", 1)[1]
    assert re.fullmatch(r"SF-[A-HJ-NP-Z2-9]{10}", number)
    with app.app_context():
        order = db.session.scalar(select(Order).where(Order.number == number))
        assert order.status == "paid"
        assert (order.subtotal_cents, order.total_cents, order.currency) == (1900, 1900, "EUR")
        assert [
            (line.sku, line.name, line.unit_price_cents, line.quantity) for line in order.lines
        ] == [("SKU-GREEN-TEA", "Green Tea", 450, 2), ("SKU-MUG", "Mug", 1000, 1)]
        assert [(e.from_status, e.to_status) for e in order.events] == [
            (None, "pending_payment"),
            ("pending_payment", "paid"),
        ]
        assert [(p.provider, p.status, p.amount_cents) for p in order.payments] == [
            ("test", "succeeded", 1900)
        ]
        assert (order.ship_name, order.ship_country) == ("Ada Lovelace", "GB")
    assert (stock(app, shopper["tea"]), stock(app, shopper["mug"])) == (3, 1)
    assert count(app, CartItem) == 0
    assert [m.subject for m in outbox] == [f"Your order {number}"]
    assert "€19.00" in outbox[0].body
    page = client.get(f"/orders/{number}").get_data(as_text=True)
    assert 'id="order-status">Paid<' in page


def test_declined_card_leaves_no_order_and_no_stock_change(app, client, shopper, outbox):
    response = client.post("/checkout", data=checkout_form(client, card=DECLINED_CARD))

    assert response.status_code == 200
    assert "Your card was declined. No order was placed." in response.get_data(as_text=True)
    assert count(app, Order) == 0
    assert count(app, Payment) == 0
    assert (stock(app, shopper["tea"]), stock(app, shopper["mug"])) == (5, 2)
    assert count(app, CartItem) == 2
    assert outbox == []


def test_bank_transfer_leaves_the_order_pending(app, client, shopper):
    response = client.post("/checkout", data=checkout_form(client, card="", method="manual"))

    number = response.headers["Location"].rsplit("/", 1)[1]
    with app.app_context():
        order = db.session.scalar(select(Order).where(Order.number == number))
        assert order.status == "pending_payment"
        assert [(p.provider, p.status) for p in order.payments] == [("manual", "pending")]
    assert "by bank transfer" in client.get(f"/orders/{number}").get_data(as_text=True)


def test_invalid_address_shows_errors_keeps_input_and_writes_nothing(app, client, shopper):
    response = client.post(
        "/checkout", data=checkout_form(client, name="", country="XX", city="Paris")
    )

    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "This field is required." in html
    assert 'value="Paris"' in html
    assert count(app, Order) == 0
    assert stock(app, shopper["tea"]) == 5


def test_double_submit_creates_one_order(app, client, shopper):
    form = checkout_form(client)

    first = client.post("/checkout", data=form)
    second = client.post("/checkout", data=form)

    assert first.headers["Location"] == second.headers["Location"]
    assert count(app, Order) == 1
    assert stock(app, shopper["tea"]) == 3


def test_out_of_stock_at_checkout_is_a_clear_message(app, client, shopper):
    with app.app_context():
        db.session.get(Product, shopper["mug"]).variants[0].stock = 0
        db.session.commit()

    response = client.post("/checkout", data=checkout_form(client))

    assert "Sorry, Mug is out of stock" in response.get_data(as_text=True)
    assert count(app, Order) == 0
    assert stock(app, shopper["tea"]) == 5
    assert count(app, CartItem) == 2


def test_empty_cart_checkout_goes_back_to_cart(client, user_factory):
    user_factory()
    login(client)

    response = client.get("/checkout")

    assert response.headers["Location"] == "/cart"


def test_checkout_uses_the_price_at_checkout_time(app, client, shopper):
    form = checkout_form(client)
    with app.app_context():
        db.session.get(Product, shopper["tea"]).price_cents = 500
        db.session.commit()

    client.post("/checkout", data={**form, "price_cents": "1"})

    with app.app_context():
        assert db.session.scalar(select(Order.total_cents)) == 2000


# Services


def test_place_order_refuses_empty_cart(app, user_factory):
    user_id = user_factory()

    with app.app_context(), pytest.raises(ValidationFailed, match="Your cart is empty."):
        checkout_service.place_order(user_id, "k", ADDRESS, "test", {"card_number": GOOD_CARD})


def test_place_order_is_idempotent_per_key(app, user_factory, product_factory):
    user_id = user_factory()
    tea = product_factory(stock=5)
    fill_cart(app, user_id, (tea, 1))

    assert place(app, user_id, key="same") == place(app, user_id, key="same")
    assert count(app, Order) == 1


def test_out_of_stock_service_error(app, user_factory, product_factory):
    user_id = user_factory()
    tea = product_factory(stock=1)
    fill_cart(app, user_id, (tea, 1))
    with app.app_context():
        db.session.get(Product, tea).variants[0].stock = 0
        db.session.commit()

    with pytest.raises(OutOfStock):
        place(app, user_id)
    assert stock(app, tea) == 0


def test_declined_service_error(app, user_factory, product_factory):
    user_id = user_factory()
    tea = product_factory(stock=3)
    fill_cart(app, user_id, (tea, 2))

    with pytest.raises(PaymentDeclined):
        place(app, user_id, card=DECLINED_CARD.replace(" ", ""))
    assert stock(app, tea) == 3


# State machine


@pytest.mark.parametrize(
    ("path", "allowed"),
    [
        (["paid", "shipped", "delivered"], True),
        (["cancelled"], True),
        (["paid", "cancelled"], True),
        (["shipped"], False),
        (["paid", "shipped", "cancelled"], False),
        (["cancelled", "paid"], False),
        (["paid", "pending_payment"], False),
    ],
)
def test_state_machine(app, user_factory, product_factory, path, allowed):
    user_id = user_factory()
    tea = product_factory(stock=5)
    fill_cart(app, user_id, (tea, 1))
    number = place(app, user_id, method="manual")
    with app.app_context():
        if allowed:
            for status in path:
                state_machine.transition(number, status, actor_id=user_id)
            assert order_queries.get_order(number).status == path[-1]
        else:
            *ok, bad = path
            for status in ok:
                state_machine.transition(number, status, actor_id=user_id)
            events_before = db.session.scalar(select(func.count(OrderEvent.id)))
            with pytest.raises(InvalidTransition):
                state_machine.transition(number, bad, actor_id=user_id)
            assert db.session.scalar(select(func.count(OrderEvent.id))) == events_before


def test_every_transition_is_an_event_with_actor(app, user_factory, product_factory):
    user_id = user_factory()
    admin_id = user_factory(email="boss@example.com")
    tea = product_factory(stock=5)
    fill_cart(app, user_id, (tea, 1))
    number = place(app, user_id, method="manual")

    with app.app_context():
        state_machine.transition(number, "paid", actor_id=admin_id, note="Transfer received.")
        order = order_queries.get_order(number)
        assert [(e.from_status, e.to_status, e.actor_id, e.note) for e in order.events] == [
            (None, "pending_payment", user_id, ""),
            ("pending_payment", "paid", admin_id, "Transfer received."),
        ]
        assert all(e.created_at is not None for e in order.events)


def test_cancel_puts_stock_back(app, client, shopper):
    number = client.post("/checkout", data=checkout_form(client)).headers["Location"][8:]

    response = client.post(
        f"/orders/{number}/cancel", data={"csrf_token": csrf_token(client, f"/orders/{number}")}
    )

    assert response.status_code == 302
    assert (stock(app, shopper["tea"]), stock(app, shopper["mug"])) == (5, 2)
    assert 'id="order-status">Cancelled<' in client.get(f"/orders/{number}").get_data(as_text=True)


def test_shipped_order_cannot_be_cancelled_by_customer(app, client, shopper):
    number = client.post("/checkout", data=checkout_form(client)).headers["Location"][8:]
    with app.app_context():
        state_machine.transition(number, "shipped", actor_id=None)

    client.post(
        f"/orders/{number}/cancel", data={"csrf_token": csrf_token(client, f"/orders/{number}")}
    )

    assert stock(app, shopper["tea"]) == 3
    assert "cannot become cancelled" in client.get(f"/orders/{number}").get_data(as_text=True)


def test_shipping_sends_a_notice(app, user_factory, product_factory, outbox):
    user_id = user_factory()
    tea = product_factory(stock=5)
    fill_cart(app, user_id, (tea, 1))
    number = place(app, user_id)

    with app.app_context():
        state_machine.transition(number, "shipped", actor_id=None)

    assert [m.subject for m in outbox] == [
        f"Your order {number}",
        f"Your order {number} has shipped",
    ]
    assert outbox[1].to == ["shopper@example.com"]


# History and privacy


def test_order_history_lists_only_my_orders(app, client, shopper, user_factory, product_factory):
    other = user_factory(email="other@example.com")
    fill_cart(app, other, (shopper["tea"], 1))
    theirs = place(app, other, key="theirs")
    mine = client.post("/checkout", data=checkout_form(client)).headers["Location"][8:]

    html = client.get("/orders").get_data(as_text=True)

    assert mine in html
    assert theirs not in html
    assert client.get(f"/orders/{theirs}").status_code == 404
    assert (
        client.post(
            f"/orders/{theirs}/cancel", data={"csrf_token": csrf_token(client, "/orders")}
        ).status_code
        == 404
    )
    with app.app_context():
        assert order_queries.get_order(theirs).status == "paid"


def test_order_history_needs_login(client):
    assert client.get("/orders").headers["Location"].startswith("/login")
    assert client.get("/orders/SF-AAAAAAAAAA").headers["Location"].startswith("/login")


def test_order_survives_product_deletion(app, user_factory, product_factory):
    user_id = user_factory()
    tea = product_factory(stock=5)
    fill_cart(app, user_id, (tea, 1))
    number = place(app, user_id)

    with app.app_context():
        db.session.delete(db.session.get(Product, tea))
        db.session.commit()
        order = order_queries.get_order(number)
        assert [(line.name, line.product_id) for line in order.lines] == [("Green Tea", None)]
        state_machine.transition(number, "cancelled", actor_id=None)  # no product to restock: fine


def test_a_declined_orders_lines_come_back_within_the_carts_bounds(app, user_factory):
    """What a declined order gives back joins what the customer added meanwhile, within
    CART_MAX_LINES and CART_MAX_QUANTITY; a product taken off sale stays out."""
    user_id = user_factory()
    tea, mug, pot, cup = (
        create(app, ProductFactory, name=name, stock=50) for name in ("Tea", "Mug", "Pot", "Cup")
    )
    retired = create(app, ProductFactory, name="Retired", stock=50, is_active=False)
    fill_cart(app, user_id, (tea, 2), (mug, 1))
    app.config.update(CART_MAX_LINES=3, CART_MAX_QUANTITY=5)

    with app.app_context():
        variant = {
            pid: db.session.get(Product, pid).variants[0].id for pid in (tea, pot, cup, retired)
        }
        cart_services.restore_to_cart(
            cart_services.CartOwner(user_id=user_id),
            {variant[tea]: 4, variant[pot]: 1, variant[cup]: 1, variant[retired]: 1},
        )

    with app.app_context():
        lines = dict(db.session.execute(select(CartItem.product_id, CartItem.quantity)).all())
    assert lines == {tea: 5, mug: 1, pot: 1}


@pytest.mark.mariadb
def test_a_refused_checkout_releases_the_cart_row_at_once(pooled_app):
    """The refusal rolls back its transaction: the cart's row lock is not held until the end
    of the request."""
    user_id = create(pooled_app, UserFactory)
    tea = create(pooled_app, ProductFactory, stock=5)
    fill_cart(pooled_app, user_id, (tea, 1))
    with pooled_app.app_context():
        cart_services.remove_from_cart(CartOwner(user_id=user_id), tea)  # the cart stays, empty
        cart_id = db.session.scalar(select(Cart.id))

    with pooled_app.app_context():
        with pytest.raises(ValidationFailed, match="empty"):
            checkout_service.place_order(user_id, "k", ADDRESS, "manual")
        with db.engine.connect() as other:  # another connection, while this session lives
            locked = other.execute(
                text("SELECT id FROM cart WHERE id = :id FOR UPDATE NOWAIT"), {"id": cart_id}
            ).scalar()
        assert locked == cart_id


def test_providers_answer_with_the_payment_and_refund_statuses(app):
    """Payments and refunds have their enums (app/payments/statuses.py), never bare strings."""
    with app.app_context():
        for name, details in (("test", {"card_number": GOOD_CARD}), ("manual", {})):
            provider = provider_for(name)
            charged = provider.charge(450, "EUR", details, idempotency_key=f"{name}:charge")
            refunded = provider.refund(
                charged.reference, 450, "EUR", idempotency_key=f"{name}:refund"
            )
            assert type(charged.status) is PaymentStatus
            assert type(refunded.status) is RefundStatus
