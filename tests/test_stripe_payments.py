"""Stripe at checkout, its webhooks, the customer's return and the expiry job, against the fake
Stripe API (tests/stripe_fake.py) with webhooks signed the way Stripe signs them."""

import re
import threading
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.app_factory import ConfigError, create_app
from app.extensions import db
from app.orders import state
from app.orders.models import Order, Refund
from app.payments.models import WebhookEvent
from app.timestamps import utcnow
from tests.conftest import stripe_config
from tests.factories import fill_cart
from tests.helpers import (
    ADDRESS,
    ADMIN_EMAIL,
    PRODUCTION_CONFIG,
    TEST_CONFIG,
    assert_error,
    count,
    csrf_token,
    login,
    stock,
    token_headers,
)
from tests.test_orders import checkout_form


@pytest.fixture
def shopper(client, filled_cart, stripe_fake):
    """The logged-in customer of ``filled_cart`` (€19.00), on an app that offers Stripe."""
    login(client)
    return filled_cart


def pay_by_stripe(app, client) -> tuple[str, str]:
    """Check out with Stripe; returns the order number and its Checkout Session id."""
    response = client.post("/checkout", data=checkout_form(client, card="", method="stripe"))
    assert response.status_code == 303, response.get_data(as_text=True)
    with app.app_context():
        order = db.session.scalars(select(Order).order_by(Order.id.desc())).first()
        payment = order.payments[-1]
        assert response.headers["Location"] == payment.checkout_url
        return order.number, payment.reference


def deliver(client, fake, kind: str, obj: dict, *, body=None, signature=None):
    payload, header = fake.event(kind, obj)
    return client.post(
        "/webhooks/stripe",
        data=payload if body is None else body,
        headers={"Stripe-Signature": header if signature is None else signature},
        content_type="application/json",
    )


def order_of(app, number: str) -> Order:
    with app.app_context():
        order = db.session.scalar(select(Order).where(Order.number == number))
        order.payments[-1].refunds  # noqa: B018 - loaded while the session is open
        order.events  # noqa: B018
        db.session.expunge_all()
        return order


def test_checkout_sends_the_customer_to_stripe_and_holds_the_stock(app, client, shopper, outbox):
    number, session_id = pay_by_stripe(app, client)

    order = order_of(app, number)
    assert order.status == "pending_payment"
    payment = order.payments[-1]
    assert (payment.provider, payment.status, payment.amount_cents) == ("stripe", "pending", 1900)
    assert session_id.startswith("cs_test_")
    assert (stock(app, shopper["tea"]), stock(app, shopper["mug"])) == (3, 1)
    assert outbox == []  # the confirmation goes once Stripe says it is paid
    page = client.get(f"/orders/{number}").get_data(as_text=True)
    assert 'id="pay-now"' in page
    assert payment.checkout_url in page


def test_the_session_is_made_from_the_order(app, client, shopper, stripe_fake):
    number, session_id = pay_by_stripe(app, client)

    session = stripe_fake.session(session_id)
    assert (session["amount_total"], session["currency"]) == (1900, "eur")
    assert session["metadata"] == {"order": number}
    assert session["client_reference_id"] == number
    assert session["success_url"] == (
        f"http://localhost/orders/{number}?session_id={{CHECKOUT_SESSION_ID}}"
    )
    keys = [r["key"] for r in stripe_fake.requests if r["method"] == "POST"]
    assert keys == [f"{number}:charge"]


def test_a_paid_session_marks_the_order_paid_once(app, client, shopper, stripe_fake, outbox):
    number, session_id = pay_by_stripe(app, client)
    intent = stripe_fake.pay(session_id)
    payload, header = stripe_fake.event(
        "checkout.session.completed", stripe_fake.session(session_id)
    )

    answers = [
        client.post(
            "/webhooks/stripe",
            data=payload,
            headers={"Stripe-Signature": header},
            content_type="application/json",
        )
        for _ in range(3)
    ]

    assert [a.status_code for a in answers] == [200, 200, 200]
    assert [a.json["outcome"] for a in answers] == ["paid", "duplicate", "duplicate"]
    order = order_of(app, number)
    assert order.status == "paid"
    assert (order.payments[-1].status, order.payments[-1].reference) == ("succeeded", intent)
    assert [m.subject for m in outbox] == [f"Your order {number}"]
    assert count(app, WebhookEvent) == 1


def test_both_success_events_in_any_order_pay_once(app, client, shopper, stripe_fake, outbox):
    number, session_id = pay_by_stripe(app, client)
    intent = stripe_fake.pay(session_id)

    first = deliver(client, stripe_fake, "payment_intent.succeeded", stripe_fake.intent(intent))
    second = deliver(
        client, stripe_fake, "checkout.session.completed", stripe_fake.session(session_id)
    )

    assert (first.json["outcome"], second.json["outcome"]) == ("paid", "paid")
    order = order_of(app, number)
    assert [e.to_status for e in order.events] == ["pending_payment", "paid"]
    assert len(outbox) == 1


def test_a_forged_or_missing_signature_is_400_and_changes_nothing(
    app, client, shopper, stripe_fake
):
    number, session_id = pay_by_stripe(app, client)
    stripe_fake.pay(session_id)
    session = stripe_fake.session(session_id)
    payload, header = stripe_fake.event("checkout.session.completed", session)
    forged = re.sub(r"v1=\w+", "v1=" + "0" * 64, header)

    answers = [
        client.post("/webhooks/stripe", data=payload, headers={"Stripe-Signature": forged}),
        client.post("/webhooks/stripe", data=payload),
        client.post(
            "/webhooks/stripe",
            data=payload.replace(b'"paid"', b'"unpaid"'),
            headers={"Stripe-Signature": header},
        ),
    ]

    for answer in answers:
        assert answer.status_code == 400
        assert answer.json["error"]["code"] == "bad_webhook"
    assert order_of(app, number).status == "pending_payment"
    assert count(app, WebhookEvent) == 0


def test_an_expired_session_cancels_the_order_and_releases_the_stock(
    app, client, shopper, stripe_fake
):
    number, session_id = pay_by_stripe(app, client)
    stripe_fake.expire(session_id)

    answer = deliver(
        client, stripe_fake, "checkout.session.expired", stripe_fake.session(session_id)
    )

    assert answer.json["outcome"] == "cancelled"
    order = order_of(app, number)
    assert (order.status, order.payments[-1].status) == ("cancelled", "voided")
    assert (stock(app, shopper["tea"]), stock(app, shopper["mug"])) == (5, 2)


def test_a_declined_card_keeps_the_order_open_for_another_card(app, client, shopper, stripe_fake):
    number, session_id = pay_by_stripe(app, client)
    intent = stripe_fake.decline(session_id)

    answer = deliver(
        client, stripe_fake, "payment_intent.payment_failed", stripe_fake.intent(intent)
    )

    assert answer.json["outcome"] == "ignored"
    assert order_of(app, number).status == "pending_payment"
    stripe_fake.pay(session_id)  # the second card works
    deliver(client, stripe_fake, "checkout.session.completed", stripe_fake.session(session_id))
    assert order_of(app, number).status == "paid"


def test_cancelling_an_unpaid_order_closes_its_stripe_page(app, client, shopper, stripe_fake):
    number, session_id = pay_by_stripe(app, client)

    client.post(f"/orders/{number}/cancel", data={"csrf_token": csrf_token(client, "/orders")})
    answer = deliver(
        client, stripe_fake, "checkout.session.expired", stripe_fake.session(session_id)
    )

    assert stripe_fake.session(session_id)["status"] == "expired"
    assert answer.json["outcome"] == "settled before"
    order = order_of(app, number)
    assert (order.status, order.payments[-1].status) == ("cancelled", "voided")
    assert (stock(app, shopper["tea"]), stock(app, shopper["mug"])) == (5, 2)


def test_a_payment_after_the_order_expired_is_refunded(app, client, shopper, stripe_fake):
    number, session_id = pay_by_stripe(app, client)
    intent = stripe_fake.pay(session_id)  # paid just before the cancel closes the page
    with app.app_context():
        state.cancel_unpaid(number, "Expired.")

    answer = deliver(client, stripe_fake, "payment_intent.succeeded", stripe_fake.intent(intent))

    assert answer.json["outcome"] == "refunding"
    order = order_of(app, number)
    assert order.status == "cancelled"
    assert order.payments[-1].status == "refunded"
    assert [(r.amount_cents, r.status) for r in order.payments[-1].refunds] == [(1900, "succeeded")]
    assert [r["payment_intent"] for r in stripe_fake.refunds.values()] == [intent]


def paid_order(app, client, fake) -> tuple[str, str]:
    number, session_id = pay_by_stripe(app, client)
    intent = fake.pay(session_id)
    deliver(client, fake, "checkout.session.completed", fake.session(session_id))
    return number, intent


def test_a_dashboard_refund_is_recorded_once(app, client, shopper, stripe_fake):
    number, intent = paid_order(app, client, stripe_fake)
    refund = stripe_fake.refund_in_dashboard(intent, 500)
    payload, header = stripe_fake.event("charge.refunded", stripe_fake.charge(intent))

    for _ in range(2):
        client.post("/webhooks/stripe", data=payload, headers={"Stripe-Signature": header})

    payment = order_of(app, number).payments[-1]
    assert [(r.amount_cents, r.status, r.reference) for r in payment.refunds] == [
        (500, "succeeded", refund["id"])
    ]
    assert payment.status == "succeeded"  # 14.00 of 19.00 not refunded
    order = order_of(app, number)
    assert (order.status, order.refunded_cents) == ("partially_refunded", 500)
    assert order.events[-1].note == "Refund of €5.00: €5.00 more."
    stripe_fake.refund_in_dashboard(intent, 1400)
    deliver(client, stripe_fake, "charge.refunded", stripe_fake.charge(intent))
    order = order_of(app, number)
    payment = order.payments[-1]
    assert [r.amount_cents for r in payment.refunds] == [500, 1400]
    assert payment.status == "refunded"
    assert (order.status, order.refunded_cents) == ("refunded", 1900)


def test_a_back_office_refund_goes_to_stripe_and_its_webhook_adds_nothing(
    app, client, shopper, stripe_fake
):
    number, intent = paid_order(app, client, stripe_fake)
    with app.app_context():
        state.transition(number, "cancelled", None, "Out of stock after all.")

    deliver(client, stripe_fake, "charge.refunded", stripe_fake.charge(intent))

    payment = order_of(app, number).payments[-1]
    (sent,) = stripe_fake.refunds.values()
    assert (sent["amount"], sent["payment_intent"]) == (1900, intent)
    assert [(r.amount_cents, r.status, r.reference) for r in payment.refunds] == [
        (1900, "succeeded", sent["id"])
    ]
    assert payment.status == "refunded"


@pytest.mark.parametrize("how", ["error", "drop"])
def test_a_refund_stripe_did_not_answer_is_sent_again_once(app, client, shopper, stripe_fake, how):
    number, intent = paid_order(app, client, stripe_fake)
    stripe_fake.fail_next(3, how)  # the first try and the library's 2 retries

    with app.app_context():
        state.transition(number, "cancelled", None, "Cancelled by the shop.")
    pending = order_of(app, number).payments[-1].refunds
    with app.app_context():
        resent = state.resolve_unpaid_orders().refunds_sent

    assert [r.status for r in pending] == ["pending"]
    assert resent == 1
    payment = order_of(app, number).payments[-1]
    assert [(r.amount_cents, r.status) for r in payment.refunds] == [(1900, "succeeded")]
    assert payment.status == "refunded"
    assert [r["amount"] for r in stripe_fake.refunds.values()] == [1900]  # "drop": not twice


def test_a_refund_event_before_the_payment_event_records_both(app, client, shopper, stripe_fake):
    number, session_id = pay_by_stripe(app, client)
    intent = stripe_fake.pay(session_id)
    stripe_fake.refund_in_dashboard(intent, 1900)

    deliver(client, stripe_fake, "charge.refunded", stripe_fake.charge(intent))
    deliver(client, stripe_fake, "payment_intent.succeeded", stripe_fake.intent(intent))

    order = order_of(app, number)
    assert order.status == "refunded"  # the dashboard's refund paid back all of it
    assert order.refunded_cents == 1900
    assert order.payments[-1].status == "refunded"
    assert [r.amount_cents for r in order.payments[-1].refunds] == [1900]


def test_the_customers_return_asks_stripe(app, client, shopper, stripe_fake, outbox):
    number, session_id = pay_by_stripe(app, client)
    stripe_fake.pay(session_id)

    page = client.get(f"/orders/{number}?session_id={session_id}").get_data(as_text=True)

    assert 'id="order-status">Paid<' in page
    assert f"Your order {number} is paid." in page
    assert len(outbox) == 1


def test_a_return_stripe_does_not_answer_leaves_the_order_for_its_webhook(
    app, client, shopper, stripe_fake, outbox
):
    """The HTML page says so and the API's order shows it pending (settle_return, both)."""
    number, session_id = pay_by_stripe(app, client)
    stripe_fake.pay(session_id)
    headers = token_headers(client)

    stripe_fake.fail_next(3)  # the first try and the library's 2 retries
    page = client.get(f"/orders/{number}?session_id={session_id}").get_data(as_text=True)
    stripe_fake.fail_next(3)
    api = client.get(f"/api/v1/orders/{number}?session_id={session_id}", headers=headers)

    assert 'id="order-status">Pending payment<' in page
    assert 'class="alert alert-warning' in page
    assert (api.status_code, api.json["status"]) == (200, "pending_payment")
    assert outbox == []
    assert order_of(app, number).status == "pending_payment"  # the webhook will tell


def test_a_return_with_another_session_id_asks_nothing(app, client, shopper, stripe_fake):
    number, session_id = pay_by_stripe(app, client)
    stripe_fake.pay(session_id)
    asked = len(stripe_fake.requests)

    client.get(f"/orders/{number}?session_id=cs_test_other")

    assert len(stripe_fake.requests) == asked
    assert order_of(app, number).status == "pending_payment"


def test_the_expiry_job_settles_sessions_whose_webhook_never_came(
    app, client, shopper, stripe_fake, user_factory
):
    paid, paid_session = pay_by_stripe(app, client)
    stripe_fake.pay(paid_session)
    fill_cart(app, user_factory(email="second@example.com"), (shopper["tea"], 1))
    second = app.test_client()
    login(second, "second@example.com")
    unpaid, unpaid_session = pay_by_stripe(app, second)
    stripe_fake.expire(unpaid_session)

    with app.app_context():
        early = state.resolve_unpaid_orders()
        later = state.resolve_unpaid_orders(now=utcnow() + timedelta(minutes=61))

    assert (early.paid, early.cancelled) == ([], [])
    assert (later.paid, later.cancelled) == ([paid], [unpaid])
    assert order_of(app, paid).status == "paid"
    assert order_of(app, unpaid).status == "cancelled"
    assert stock(app, shopper["tea"]) == 3


def test_an_event_for_another_shop_is_acknowledged(app, client, stripe_fake):
    answer = deliver(
        client,
        stripe_fake,
        "checkout.session.completed",
        {"id": "cs_test_x", "object": "checkout.session", "metadata": {"order": "SF-NOTOURS00"}},
    )

    assert (answer.status_code, answer.json["outcome"]) == (200, "not ours")


def test_the_webhook_is_404_without_stripe(client):
    answer = client.post("/webhooks/stripe", data=b"{}")

    assert answer.status_code == 404
    assert answer.json["error"]["code"] == "not_found"


def test_the_api_answers_with_the_payment_page(app, filled_cart, stripe_fake):
    api = app.test_client()  # a client without cookies: the token alone
    body = {"shipping_address": ADDRESS, "payment": {"method": "stripe"}}
    response = api.post(
        "/api/v1/orders",
        json=body,
        headers={**token_headers(api), "Idempotency-Key": "stripe-api-1"},
    )

    assert response.status_code == 201, response.json
    session_id = order_of(app, response.json["number"]).payments[-1].reference
    assert response.json["payment_url"] == stripe_fake.session(session_id)["url"]
    assert response.json["status"] == "pending_payment"


def test_the_app_asks_to_come_back_to_its_own_screen_which_asks_stripe(
    app, filled_cart, stripe_fake, outbox
):
    """return_to "app": Stripe's page sends the customer to the React storefront's screen for
    the order, whose GET with the session_id asks Stripe at once (no webhook yet)."""
    api = app.test_client()
    headers = token_headers(api)
    body = {"shipping_address": ADDRESS, "payment": {"method": "stripe"}, "return_to": "app"}
    placed = api.post("/api/v1/orders", json=body, headers={**headers, "Idempotency-Key": "a1"})
    assert placed.status_code == 201, placed.json
    number = placed.json["number"]
    session_id = order_of(app, number).payments[-1].reference
    session = stripe_fake.session(session_id)
    assert session["success_url"] == (
        f"http://localhost/app/account/orders/{number}?session_id={{CHECKOUT_SESSION_ID}}"
    )
    assert session["cancel_url"] == f"http://localhost/app/account/orders/{number}"
    stripe_fake.pay(session_id)

    plain = api.get(f"/api/v1/orders/{number}", headers=headers)
    asked = len(stripe_fake.requests)
    other = api.get(f"/api/v1/orders/{number}?session_id=cs_test_other", headers=headers)
    back = api.get(f"/api/v1/orders/{number}?session_id={session_id}", headers=headers)
    again = api.get(f"/api/v1/orders/{number}?session_id={session_id}", headers=headers)

    assert plain.json["status"] == other.json["status"] == "pending_payment"
    assert len(stripe_fake.requests) > asked  # the return asked; the other id did not
    assert (back.status_code, back.json["status"]) == (200, "paid")
    assert again.json["status"] == "paid"
    assert len(outbox) == 1  # the confirmation, once
    too_long = api.get(f"/api/v1/orders/{number}?session_id={'x' * 256}", headers=headers)
    assert_error(too_long, 422, "validation_failed")


def test_a_guest_paying_from_the_app_comes_back_to_its_link_in_the_app(
    app, product_factory, stripe_fake
):
    tea = product_factory("Green Tea", stock=5, price_cents=450)
    guest = app.test_client(use_cookies=False)
    added = guest.post("/api/v1/cart/items", json={"product_id": tea, "quantity": 1})
    headers = {"X-Cart-Token": added.headers["X-Cart-Token"], "Idempotency-Key": "g1"}
    body = {
        "email": "guest@example.com",
        "shipping_address": ADDRESS,
        "payment": {"method": "stripe"},
        "return_to": "app",
    }
    placed = guest.post("/api/v1/orders", json=body, headers=headers)
    assert placed.status_code == 201, placed.json
    link = placed.json["link"]
    session_id = order_of(app, placed.json["number"]).payments[-1].reference
    success_url = stripe_fake.session(session_id)["success_url"]
    assert success_url.startswith("http://localhost/app/orders/guest/")
    assert success_url.endswith("?session_id={CHECKOUT_SESSION_ID}")
    stripe_fake.pay(session_id)

    back = guest.get(f"/api/v1/orders/guest/{link}?session_id={session_id}")

    assert back.json["status"] == "paid"


def test_the_checkout_form_may_post_to_stripe_only_when_enabled(app, client, stripe_fake):
    csp = client.get("/about").headers["Content-Security-Policy"]
    plain = create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    plain_csp = plain.test_client().get("/about").headers["Content-Security-Policy"]

    assert f"form-action 'self' {stripe_fake.url};" in csp
    assert "form-action 'self';" in plain_csp


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"STRIPE_WEBHOOK_SECRET": ""}, "without STRIPE_WEBHOOK_SECRET"),
        ({}, "STRIPE_SECRET_KEY is a test-mode key"),
    ],
)
def test_production_refuses_stripe_without_live_keys(overrides, message):
    config = {
        **PRODUCTION_CONFIG,
        **stripe_config_for_production(),
        **overrides,
        "SQLALCHEMY_DATABASE_URI": "sqlite://",
    }
    with pytest.raises(ConfigError, match=message):
        create_app(config)


def test_production_takes_test_keys_when_told():
    config = {
        **PRODUCTION_CONFIG,
        **stripe_config_for_production(),
        "STRIPE_ALLOW_TEST_KEYS": True,
        "SQLALCHEMY_DATABASE_URI": "sqlite://",
    }
    production = create_app(config)

    csp = production.test_client().get("/about", base_url="https://shop.example").headers
    assert "form-action 'self' https://checkout.stripe.com;" in csp["Content-Security-Policy"]


def stripe_config_for_production() -> dict:
    return {
        "PAYMENT_METHODS": ["stripe", "manual"],
        "STRIPE_SECRET_KEY": "sk_test_fake",
        "STRIPE_WEBHOOK_SECRET": "whsec_fake",
    }


# The race of webhook deliveries, the customer's return and the expiry job (MariaDB)


@pytest.mark.mariadb
@pytest.mark.concurrency
def test_webhooks_return_and_expiry_at_once_pay_once(app, client, shopper, stripe_fake, outbox):
    number, session_id = pay_by_stripe(app, client)
    intent = stripe_fake.pay(session_id)
    racing = create_app(
        {
            **TEST_CONFIG,
            **stripe_config(stripe_fake),
            "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
            "SQLALCHEMY_ENGINE_OPTIONS": {"pool_size": 20, "max_overflow": 5},
        }
    )
    racing.extensions["mailman"].outbox = sent = []
    deliveries = [
        stripe_fake.event("checkout.session.completed", stripe_fake.session(session_id)),
        stripe_fake.event("payment_intent.succeeded", stripe_fake.intent(intent)),
    ]
    barrier = threading.Barrier(12)
    answers: list = []

    def webhook(i):
        payload, header = deliveries[i % 2]
        barrier.wait()
        answers.append(
            racing.test_client()
            .post("/webhooks/stripe", data=payload, headers={"Stripe-Signature": header})
            .json["outcome"]
        )

    def job(_i):
        with racing.app_context():
            barrier.wait()
            state.resolve_unpaid_orders(now=utcnow() + timedelta(hours=2))

    def returned(_i):
        with racing.app_context():
            barrier.wait()
            state.settle_hosted_payment(number)

    threads = [threading.Thread(target=webhook, args=(i,)) for i in range(8)]
    threads += [threading.Thread(target=job, args=(i,)) for i in range(2)]
    threads += [threading.Thread(target=returned, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    with racing.app_context():
        db.engine.dispose()
    assert sorted(answers).count("duplicate") == 6
    order = order_of(app, number)
    assert order.status == "paid"
    assert [e.to_status for e in order.events] == ["pending_payment", "paid"]
    assert order.payments[-1].status == "succeeded"
    assert len(sent) == 1
    assert count(app, Refund) == 0


def test_the_back_office_links_a_paid_order_to_stripes_dashboard(
    app, client, shopper, stripe_fake, admin_id
):
    number, intent = paid_order(app, client, stripe_fake)
    admin = app.test_client()
    login(admin, ADMIN_EMAIL)

    page = admin.get(f"/admin/orders/details/?id={number}").get_data(as_text=True)

    assert f'href="https://dashboard.stripe.com/test/payments/{intent}"' in page
