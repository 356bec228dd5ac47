"""Order integrity: status changes decided on the current row, refunds, expiry, and payments
made outside the checkout transaction (declines, lost replies, crashes), on both databases."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import create_engine, func, select, text

from app.cart.models import CartItem
from app.errors import InvalidTransition, ValidationFailed
from app.extensions import db
from app.orders import checkout as checkout_service
from app.orders import state as state_machine
from app.orders.checkout import Buyer
from app.orders.models import Order, OrderEvent, Payment, Refund
from app.payments import providers
from app.payments.providers import PaymentResult, PaymentUnavailable
from app.timestamps import utcnow
from tests.factories import ProductFactory, UserFactory, create, fill_cart, place
from tests.helpers import ADDRESS, DECLINED_CARD, GOOD_CARD, csrf_token, login, run_together, stock

LOST_REPLY_CARD = {"card_number": "4000 0000 0000 0119"}


def read(app, number):
    """(status, [(payment status, [refund statuses])], cancelled events) of an order."""
    with app.app_context():
        order = db.session.scalar(select(Order).where(Order.number == number))
        payments = [(p.status, [r.status for r in p.refunds]) for p in order.payments]
        cancelled = db.session.scalar(
            select(func.count(OrderEvent.id)).where(
                OrderEvent.order_id == order.id, OrderEvent.to_status == "cancelled"
            )
        )
        return order.status, payments, cancelled


# A status change decides on the row as it is now


@pytest.mark.parametrize(("first", "second"), [("cancelled", "shipped"), ("shipped", "cancelled")])
def test_a_change_made_elsewhere_meanwhile_is_seen(app, first, second):
    """Request A has the order loaded as paid; B changes it; A's change is decided on B's."""
    user_id = create(app, UserFactory)
    tea = create(app, ProductFactory, stock=5)
    number = place(app, user_id, (tea, 1))
    with app.app_context():
        loaded = db.session.scalar(select(Order).where(Order.number == number))
        assert loaded.status == "paid"
        with app.app_context():  # another request, its own session
            state_machine.transition(number, first, None)
        with pytest.raises(InvalidTransition):
            state_machine.transition(number, second, None)
    status, _payments, cancelled = read(app, number)
    assert status == first
    assert cancelled == (1 if first == "cancelled" else 0)
    assert stock(app, tea) == (5 if first == "cancelled" else 4)


@pytest.mark.concurrency
def test_twenty_concurrent_cancels_win_once(threaded_app):
    """One customer, one order of 1 unit, 20 parallel cancels through the API."""
    app = threaded_app
    user_id = create(app, UserFactory)
    tea = create(app, ProductFactory, stock=5)
    number = place(app, user_id, (tea, 1))
    token = app.test_client().post(
        "/api/v1/auth/token",
        json={"email": "shopper@example.com", "password": "correct horse battery staple"},
    )
    headers = {"Authentication-Token": token.get_json()["token"]}

    def cancel(_i):
        response = app.test_client().post(f"/api/v1/orders/{number}/cancel", headers=headers)
        return response.status_code, response.get_json()["error"]["code"] if (
            response.status_code != 200
        ) else "ok"

    results = run_together(20, cancel)

    assert sorted(results) == [(200, "ok")] + [(409, "invalid_transition")] * 19, results
    assert read(app, number) == ("cancelled", [("refunded", ["succeeded"])], 1)
    assert stock(app, tea) == 5


@pytest.mark.concurrency
def test_cancel_racing_ship_has_one_outcome(threaded_app):
    app = threaded_app
    user_id = create(app, UserFactory)
    tea = create(app, ProductFactory, stock=5)
    number = place(app, user_id, (tea, 1))

    def change(i):
        with app.app_context():
            return state_machine.transition(
                number, "cancelled" if i % 2 else "shipped", None
            ).status

    results = run_together(10, change)

    won = [r for r in results if isinstance(r, str)]
    assert len(won) == 1, results
    assert all(isinstance(r, InvalidTransition) for r in results if not isinstance(r, str))
    status, _payments, cancelled = read(app, number)
    assert status == won[0]
    assert (cancelled, stock(app, tea)) == ((1, 5) if status == "cancelled" else (0, 4))


# Payments settle with the order's status


def test_cancelling_a_paid_order_refunds_it_through_the_provider(app):
    user_id = create(app, UserFactory)
    tea = create(app, ProductFactory, stock=5, price_cents=450)
    number = place(app, user_id, (tea, 2))

    with app.app_context():
        state_machine.cancel_own_order(user_id, number)
        refund = db.session.scalar(select(Refund))
        assert (refund.amount_cents, refund.status) == (900, "succeeded")
        assert re.fullmatch(r"re_[0-9a-f]{16}", refund.reference)
    assert read(app, number) == ("cancelled", [("refunded", ["succeeded"])], 1)


def test_cancelling_an_unpaid_order_voids_its_payment_and_refunds_nothing(app):
    user_id = create(app, UserFactory)
    tea = create(app, ProductFactory, stock=5)
    number = place(app, user_id, (tea, 1), method="manual", details={})

    with app.app_context():
        state_machine.cancel_own_order(user_id, number)
    assert read(app, number) == ("cancelled", [("voided", [])], 1)


def test_marking_a_bank_transfer_paid_settles_its_payment(app):
    user_id = create(app, UserFactory)
    tea = create(app, ProductFactory, stock=5)
    number = place(app, user_id, (tea, 1), method="manual", details={})
    assert read(app, number)[1] == [("pending", [])]

    with app.app_context():
        state_machine.transition(number, "paid", None, "Transfer received.")
    assert read(app, number) == ("paid", [("succeeded", [])], 0)


# The provider is called between transactions


class SpyProvider(providers.TestCardProvider):
    """The test card, looking from another connection at the database while it charges."""

    name = "spy"

    def __init__(self, url):
        super().__init__()
        self.url = url
        self.seen = None

    def charge(self, amount_cents, currency, details, *, idempotency_key):
        engine = create_engine(self.url, connect_args=self._no_wait())
        try:
            with engine.begin() as conn:
                order_status = conn.scalar(text("SELECT status FROM orders"))
                # Writes to the stock and cart rows go through at once: nothing holds them.
                conn.execute(text("UPDATE variant SET stock = stock"))
                conn.execute(text("UPDATE cart SET updated_at = updated_at"))
            self.seen = order_status
        finally:
            engine.dispose()
        return super().charge(amount_cents, currency, details, idempotency_key=idempotency_key)

    def _no_wait(self):
        return {"timeout": 0.5} if self.url.startswith("sqlite") else {}


@pytest.mark.concurrency
def test_the_provider_is_charged_after_the_order_is_committed(threaded_app, backend, monkeypatch):
    app = threaded_app
    spy = SpyProvider(app.config["SQLALCHEMY_DATABASE_URI"])
    monkeypatch.setitem(providers.PROVIDERS, "spy", spy)
    app.config["PAYMENT_METHODS"] = ["spy"]
    user_id = create(app, UserFactory)
    tea = create(app, ProductFactory, stock=5)
    if backend.name == "mariadb":
        with app.app_context():
            db.session.execute(text("SET SESSION innodb_lock_wait_timeout = 1"))

    number = place(app, user_id, (tea, 1), method="spy")

    assert spy.seen == "pending_payment"  # committed, visible to another connection
    assert read(app, number)[0] == "paid"


def test_a_decline_after_the_commit_removes_the_order_and_restores_stock_and_cart(app):
    user_id = create(app, UserFactory)
    tea = create(app, ProductFactory, stock=5)
    fill_cart(app, user_id, (tea, 2))

    with app.app_context(), pytest.raises(providers.PaymentDeclined):
        checkout_service.place_order(user_id, "k", ADDRESS, "test", {"card_number": DECLINED_CARD})

    with app.app_context():
        assert db.session.scalar(select(func.count(Order.id))) == 0
        assert db.session.scalar(select(func.count(Payment.id))) == 0
        assert [(i.product_id, i.quantity) for i in db.session.scalars(select(CartItem))] == [
            (tea, 2)
        ]
    assert stock(app, tea) == 5


def test_a_lost_reply_keeps_the_order_and_a_retry_charges_once(app, client):
    user_id = create(app, UserFactory)
    tea = create(app, ProductFactory, stock=5)
    fill_cart(app, user_id, (tea, 1))
    token = client.post(
        "/api/v1/auth/token",
        json={"email": "shopper@example.com", "password": "correct horse battery staple"},
    ).get_json()["token"]
    headers = {"Authentication-Token": token, "Idempotency-Key": "lost-1"}
    body = {
        "shipping_address": ADDRESS,
        "payment": {"method": "test", "card_number": LOST_REPLY_CARD["card_number"]},
    }

    lost = client.post("/api/v1/orders", json=body, headers=headers)
    with app.app_context():
        order = db.session.scalar(select(Order))
        assert (order.status, [p.status for p in order.payments]) == (
            "pending_payment",
            ["processing"],
        )
    retried = client.post("/api/v1/orders", json=body, headers=headers)

    assert lost.status_code == 503
    assert lost.headers["Retry-After"] == "5"
    assert lost.get_json()["error"]["code"] == "payment_unavailable"
    assert retried.status_code == 201
    assert retried.get_json()["status"] == "paid"
    with app.app_context():
        assert db.session.scalar(select(func.count(Order.id))) == 1
        payment = db.session.scalar(select(Payment))
        assert payment.status == "succeeded"
        charge = providers.PROVIDERS["test"].lookup(payment.charge_key)
        assert charge == PaymentResult("succeeded", payment.reference)
    assert stock(app, tea) == 4


# Unpaid orders expire


def test_expiry_cancels_old_unpaid_orders_and_settles_lost_replies(app, runner):
    user_id = create(app, UserFactory)
    tea = create(app, ProductFactory, stock=10)
    old_transfer = place(app, user_id, (tea, 1), key="a", method="manual", details={})
    new_transfer = place(app, user_id, (tea, 1), key="b", method="manual", details={})
    paid = place(app, user_id, (tea, 1), key="c")
    with pytest.raises(PaymentUnavailable):
        place(app, user_id, (tea, 1), key="d", details=LOST_REPLY_CARD)
    fill_cart(app, user_id, (tea, 1))
    with app.app_context():  # a crash after step 1: committed, never charged
        address = checkout_service.validate_address(ADDRESS)
        checkout_service._reserve(
            Buyer(user_id=user_id), "e", checkout_service.Reservation(address, address, "test")
        )
        lost, crashed = db.session.scalars(
            select(Order.number).where(Order.checkout_key.in_(["d", "e"])).order_by(Order.id)
        ).all()
        now = utcnow()
        for number, age in [(old_transfer, 73 * 3600), (lost, 16 * 60), (crashed, 16 * 60)]:
            order = db.session.scalar(select(Order).where(Order.number == number))
            order.created_at = now - timedelta(seconds=age)
        db.session.commit()
    assert stock(app, tea) == 5

    result = runner.invoke(args=["orders", "expire"])

    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0] == (
        "Cancelled 2 unpaid order(s), marked 1 paid, sent 0 pending refund(s)."
    )
    assert read(app, old_transfer) == ("cancelled", [("voided", [])], 1)
    assert read(app, crashed) == ("cancelled", [("voided", [])], 1)
    assert read(app, lost) == ("paid", [("succeeded", [])], 0)
    assert read(app, new_transfer)[0] == "pending_payment"
    assert read(app, paid)[0] == "paid"
    assert stock(app, tea) == 7
    assert runner.invoke(args=["orders", "expire"]).output.startswith("Cancelled 0 unpaid")


@pytest.mark.concurrency
def test_expiry_racing_a_payment_has_one_outcome(threaded_app):
    app = threaded_app
    user_id = create(app, UserFactory)
    tea = create(app, ProductFactory, stock=5)
    numbers = [
        place(app, user_id, (tea, 1), key=f"k{i}", method="manual", details={}) for i in range(4)
    ]
    with app.app_context():
        for order in db.session.scalars(select(Order)):
            order.created_at = utcnow() - timedelta(days=4)
        db.session.commit()

    def work(i):
        with app.app_context():
            if i == 0:
                return state_machine.resolve_unpaid_orders().cancelled
            return state_machine.transition(numbers[i - 1], "paid", None).status

    results = run_together(4, work)

    cancelled = results[0]
    assert not isinstance(cancelled, Exception), results
    for i, number in enumerate(numbers):
        status, payments, events = read(app, number)
        if number in cancelled:
            assert (status, payments, events) == ("cancelled", [("voided", [])], 1)
        else:
            assert (status, payments) == ("paid", [("succeeded", [])])
        if 1 <= i + 1 < 4:
            assert (results[i + 1] == "paid") == (number not in cancelled)
    assert stock(app, tea) == 1 + len(cancelled)


# Checkout keys and fingerprints


def test_the_fingerprint_is_keyed_and_leaves_the_card_out(app):
    user_id = create(app, UserFactory)
    tea = create(app, ProductFactory, stock=5)
    number = place(app, user_id, (tea, 1), key="same")
    fill_cart(app, user_id, (tea, 1))

    with app.app_context():
        again = checkout_service.place_order(
            user_id, "same", ADDRESS, "test", {"card_number": DECLINED_CARD}
        )
        stored = db.session.scalar(select(Order.checkout_fingerprint))
        shipping = checkout_service.validate_address(ADDRESS)
        buyer = Buyer(user_id=user_id)
        asked = checkout_service.Reservation(shipping, shipping, "test")
        assert stored == checkout_service.fingerprint(buyer, asked)
        app.secret_key = "another-secret"
        assert checkout_service.fingerprint(buyer, asked) != stored
    assert again.number == number


def test_web_checkout_keys_are_issued_per_user_and_checked(app, client):
    user_id = create(app, UserFactory)
    other_id = create(app, UserFactory, email="other@example.com")
    tea = create(app, ProductFactory, stock=5)
    fill_cart(app, user_id, (tea, 1))
    login(client)
    with app.app_context():
        theirs = checkout_service.issue_checkout_key(Buyer(user_id=other_id))
    form = {**ADDRESS, "payment_method": "test", "card_number": GOOD_CARD}

    refused = [
        client.post(
            "/checkout",
            data={**form, "checkout_key": key, "csrf_token": csrf_token(client, "/account")},
        )
        for key in ("chosen-by-the-client", theirs, "x" * 500, "")
    ]
    html = client.get("/checkout").get_data(as_text=True)
    key = re.search(r'name="checkout_key" type="hidden" value="([^"]+)"', html).group(1)
    placed = client.post(
        "/checkout",
        data={**form, "checkout_key": key, "csrf_token": csrf_token(client, "/account")},
    )

    for response in refused:
        assert response.status_code == 200
        assert "This checkout form has expired" in response.get_data(as_text=True)
    assert placed.status_code == 302
    with app.app_context():
        [stored] = db.session.scalars(select(Order.checkout_key)).all()
        assert re.fullmatch(rf"web:{user_id}:[\w-]{{22}}", stored)
        with pytest.raises(ValidationFailed):
            checkout_service.checkout_key_from_form(Buyer(user_id=other_id), key)


def test_the_customer_sees_the_refund_of_a_cancelled_paid_order(app, client):
    user_id = create(app, UserFactory)
    tea = create(app, ProductFactory, stock=5, price_cents=450)
    number = place(app, user_id, (tea, 2))
    login(client)

    cancelled = client.post(
        f"/orders/{number}/cancel", data={"csrf_token": csrf_token(client, f"/orders/{number}")}
    )

    assert cancelled.status_code == 302
    page = client.get(f"/orders/{number}").get_data(as_text=True)
    assert 'id="order-refund-1">Refund of €9.00: sent. <a class="credit-note-link"' in page
    assert f'href="/orders/{number}/credit-notes/1.pdf">Credit note CN-000001 (PDF)</a>' in page
