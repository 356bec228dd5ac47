"""The Stripe Checkout provider against the offline fake Stripe API (tests/stripe_fake.py)."""

import hmac
import json
import time

import pytest
from werkzeug.test import Client

from app.errors import ValidationFailed
from app.payments.providers import (
    PROVIDERS,
    PaymentDeclined,
    PaymentResult,
    PaymentUnavailable,
    RefundResult,
    get_provider,
)
from app.payments.statuses import PaymentStatus, RefundStatus
from app.payments.stripe_provider import BadWebhook, StripeProvider

DETAILS = {
    "order_number": "SF-1001",
    "email": "shopper@example.com",
    "success_url": "http://localhost/orders/SF-1001/paid",
    "cancel_url": "http://localhost/orders/SF-1001/pay",
}


@pytest.fixture
def stripe_app(app, stripe_fake):
    """An app context whose "stripe" provider calls the fake."""
    with app.app_context():
        yield app


@pytest.fixture
def provider(stripe_app) -> StripeProvider:
    return StripeProvider()


def open_session(provider, key="SF-1001:charge:1", amount=1250) -> str:
    return provider.charge(amount, "EUR", DETAILS, idempotency_key=key).reference


def paid_intent(provider, stripe_fake, amount=1250) -> str:
    return stripe_fake.pay(open_session(provider, amount=amount))


# -- the fake itself --------------------------------------------------------------------


def test_the_fake_wants_a_secret_key_as_stripe_does(stripe_fake):
    response = Client(stripe_fake).post("/v1/refunds", data={"payment_intent": "pi_1"})

    assert response.status_code == 401
    assert response.json["error"]["type"] == "invalid_request_error"
    assert stripe_fake.requests == []


def test_a_browser_pays_on_the_fake_checkout_page(provider, stripe_fake):
    details = {**DETAILS, "success_url": "http://localhost/paid?session={CHECKOUT_SESSION_ID}"}
    result = provider.charge(1250, "EUR", details, idempotency_key="k")
    browser = Client(stripe_fake)
    page = result.redirect_url.removeprefix(stripe_fake.url)

    assert "Pay 12.50 EUR" in browser.get(page).text
    assert "declined" in browser.post(page, data={"action": "decline"}).text
    paid = browser.post(page, data={"action": "pay"})

    assert paid.status_code == 303
    assert paid.location == f"http://localhost/paid?session={result.reference}"
    assert provider.outcome(result.reference).status == PaymentStatus.SUCCEEDED
    assert browser.get(page).status_code == 404  # a complete session's page is gone


# -- registration ------------------------------------------------------------------------


def test_stripe_is_registered_and_offered_only_when_configured(app):
    assert isinstance(PROVIDERS["stripe"], StripeProvider)
    assert PROVIDERS["stripe"].label == "Card (Stripe)"
    with app.app_context(), pytest.raises(ValidationFailed):
        get_provider("stripe")  # the default PAYMENT_METHODS leave it out


def test_stripe_is_offered_when_in_payment_methods(stripe_app):
    assert get_provider("stripe") is PROVIDERS["stripe"]


# -- charge: a Checkout Session ----------------------------------------------------------


def test_charge_opens_a_checkout_session_to_redirect_to(provider, stripe_fake):
    result = provider.charge(1250, "EUR", DETAILS, idempotency_key="SF-1001:charge:1")

    assert result.status == PaymentStatus.PENDING
    assert result.reference.startswith("cs_test_")
    session = stripe_fake.session(result.reference)
    assert result.redirect_url == session["url"]
    assert session["amount_total"] == 1250
    assert session["currency"] == "eur"
    assert session["mode"] == "payment"
    assert session["status"] == "open"
    assert session["payment_status"] == "unpaid"
    assert session["metadata"] == {"order": "SF-1001"}
    assert session["client_reference_id"] == "SF-1001"
    assert session["customer_email"] == "shopper@example.com"
    assert session["success_url"] == DETAILS["success_url"]
    assert session["cancel_url"] == DETAILS["cancel_url"]
    [request] = stripe_fake.requests
    assert request["key"] == "SF-1001:charge:1"
    assert request["params"]["line_items"] == [
        {
            "quantity": "1",
            "price_data": {
                "currency": "eur",
                "unit_amount": "1250",
                "product_data": {"name": "Order SF-1001"},
            },
        }
    ]
    assert request["params"]["payment_intent_data"] == {"metadata": {"order": "SF-1001"}}


def test_charge_without_email_leaves_it_to_the_customer(provider, stripe_fake):
    details = {**DETAILS, "email": ""}
    reference = provider.charge(1250, "EUR", details, idempotency_key="k").reference

    assert stripe_fake.session(reference)["customer_email"] is None
    assert "customer_email" not in stripe_fake.requests[0]["params"]


def test_the_same_key_answers_the_same_session(provider, stripe_fake):
    first = provider.charge(1250, "EUR", DETAILS, idempotency_key="SF-1001:charge:1")
    again = provider.charge(1250, "EUR", DETAILS, idempotency_key="SF-1001:charge:1")
    other = provider.charge(1250, "EUR", DETAILS, idempotency_key="SF-1001:charge:2")

    assert again == first
    assert other.reference != first.reference
    assert len(stripe_fake.sessions) == 2


def test_a_passing_server_error_is_retried_with_the_same_key(provider, stripe_fake):
    stripe_fake.fail_next(1, "error")

    result = provider.charge(1250, "EUR", DETAILS, idempotency_key="k")

    assert [r["key"] for r in stripe_fake.requests] == ["k"]  # the 500 did nothing
    assert list(stripe_fake.sessions) == [result.reference]


def test_a_lost_answer_is_retried_and_finds_the_session_it_made(provider, stripe_fake):
    stripe_fake.fail_next(1, "drop")

    result = provider.charge(1250, "EUR", DETAILS, idempotency_key="k")

    assert [r["key"] for r in stripe_fake.requests] == ["k", "k"]
    assert list(stripe_fake.sessions) == [result.reference]


@pytest.mark.parametrize("how", ["error", "drop"])
def test_no_answer_after_the_retries_is_unavailable(provider, stripe_fake, how):
    stripe_fake.fail_next(3, how)  # the first try and the library's 2 retries

    with pytest.raises(PaymentUnavailable):
        provider.charge(1250, "EUR", DETAILS, idempotency_key="k")

    assert len(stripe_fake.sessions) == (1 if how == "drop" else 0)
    result = provider.charge(1250, "EUR", DETAILS, idempotency_key="k")
    assert list(stripe_fake.sessions) == [result.reference]  # never a second session


def test_an_amount_stripe_refuses_is_declined(provider, stripe_fake):
    with pytest.raises(PaymentDeclined, match="at least"):
        provider.charge(20, "EUR", DETAILS, idempotency_key="k")

    assert stripe_fake.sessions == {}


@pytest.mark.app_config(STRIPE_SECRET_KEY="sk_live_not_for_the_fake")
def test_a_key_stripe_refuses_is_unavailable_and_logged(provider, stripe_fake, caplog):
    with pytest.raises(PaymentUnavailable):
        provider.charge(1250, "EUR", DETAILS, idempotency_key="k")

    assert stripe_fake.sessions == {}
    assert "AuthenticationError" in caplog.text


def test_a_key_reused_for_another_amount_is_refused_and_logged(provider, stripe_fake, caplog):
    first = open_session(provider, key="k", amount=1250)

    with pytest.raises(PaymentUnavailable):
        provider.charge(999, "EUR", DETAILS, idempotency_key="k")

    assert list(stripe_fake.sessions) == [first]
    assert "IdempotencyError" in caplog.text


def test_lookup_by_key_finds_nothing(provider):
    assert provider.lookup("SF-1001:charge:1") is None


# -- outcome ---------------------------------------------------------------------


def test_an_open_session_has_no_outcome_yet(provider, stripe_fake):
    session_id = open_session(provider)

    assert provider.outcome(session_id) is None
    assert stripe_fake.requests[-1]["params"] == {"expand": ["payment_intent"]}


def test_a_declined_card_leaves_the_session_open(provider, stripe_fake):
    session_id = open_session(provider)
    stripe_fake.decline(session_id)

    assert provider.outcome(session_id) is None


def test_a_paid_session_succeeded_with_its_payment_intent(provider, stripe_fake):
    session_id = open_session(provider)
    stripe_fake.decline(session_id)
    intent_id = stripe_fake.pay(session_id)  # the second card went through

    outcome = provider.outcome(session_id)

    assert outcome == PaymentResult(PaymentStatus.SUCCEEDED, reference=intent_id)
    assert intent_id.startswith("pi_")
    assert stripe_fake.intents[intent_id]["metadata"] == {"order": "SF-1001"}


def test_an_expired_session_is_void(provider, stripe_fake):
    session_id = open_session(provider)
    stripe_fake.expire(session_id)

    assert provider.outcome(session_id) == PaymentResult(PaymentStatus.VOIDED, reference=session_id)


def test_outcome_without_an_answer_is_unavailable(provider, stripe_fake):
    session_id = open_session(provider)
    stripe_fake.pay(session_id)
    stripe_fake.fail_next(3, "drop")

    with pytest.raises(PaymentUnavailable):
        provider.outcome(session_id)


# -- refund ------------------------------------------------------------------------------


def test_a_full_refund_succeeds(provider, stripe_fake):
    intent_id = paid_intent(provider, stripe_fake)

    result = provider.refund(intent_id, 1250, "EUR", idempotency_key="SF-1001:refund:1")

    assert result.status == RefundStatus.SUCCEEDED
    refund = stripe_fake.refunds[result.reference]
    assert (refund["payment_intent"], refund["amount"], refund["currency"]) == (
        intent_id,
        1250,
        "eur",
    )
    assert stripe_fake.requests[-1]["key"] == "SF-1001:refund:1"


def test_partial_refunds_add_up_and_no_further(provider, stripe_fake):
    intent_id = paid_intent(provider, stripe_fake)

    first = provider.refund(intent_id, 500, "EUR", idempotency_key="r1")
    second = provider.refund(intent_id, 750, "EUR", idempotency_key="r2")
    third = provider.refund(intent_id, 1, "EUR", idempotency_key="r3")

    assert (first.status, second.status) == (RefundStatus.SUCCEEDED, RefundStatus.SUCCEEDED)
    assert [r["amount"] for r in stripe_fake.refunds.values()] == [500, 750]
    assert third == RefundResult(RefundStatus.FAILED)


def test_the_same_refund_key_refunds_once(provider, stripe_fake):
    intent_id = paid_intent(provider, stripe_fake)

    first = provider.refund(intent_id, 500, "EUR", idempotency_key="r1")
    stripe_fake.fail_next(1, "drop")
    again = provider.refund(intent_id, 500, "EUR", idempotency_key="r1")

    assert again == first
    assert list(stripe_fake.refunds) == [first.reference]


def test_a_refund_beyond_a_dashboard_refund_fails(provider, stripe_fake):
    intent_id = paid_intent(provider, stripe_fake)
    stripe_fake.refund_in_dashboard(intent_id, 1000)

    assert provider.refund(intent_id, 1250, "EUR", idempotency_key="r1") == RefundResult(
        RefundStatus.FAILED
    )
    assert provider.refund(intent_id, 250, "EUR", idempotency_key="r2").status == (
        RefundStatus.SUCCEEDED
    )


def test_a_refund_without_an_answer_is_unavailable(provider, stripe_fake):
    intent_id = paid_intent(provider, stripe_fake)
    stripe_fake.fail_next(3, "error")

    with pytest.raises(PaymentUnavailable):
        provider.refund(intent_id, 1250, "EUR", idempotency_key="r1")

    assert stripe_fake.refunds == {}


# -- parse_webhook -----------------------------------------------------------------------


def test_a_signed_event_is_parsed(provider, stripe_fake):
    session_id = open_session(provider)
    stripe_fake.pay(session_id)
    payload, signature = stripe_fake.event(
        "checkout.session.completed", stripe_fake.session(session_id)
    )

    event = provider.parse_webhook(payload, signature)

    assert event["type"] == "checkout.session.completed"
    assert event["data"]["object"]["id"] == session_id
    assert event["data"]["object"]["payment_status"] == "paid"
    assert event["data"]["object"]["metadata"]["order"] == "SF-1001"


@pytest.mark.parametrize(
    "tamper",
    ["forged", "missing", "empty", "stale", "body_changed", "not_json", "garbled_header"],
)
def test_a_webhook_stripe_did_not_send_is_refused(provider, stripe_fake, tamper):
    obj = {"id": "cs_test_1", "object": "checkout.session", "payment_status": "paid"}
    payload, signature = stripe_fake.event("checkout.session.completed", obj)
    if tamper == "forged":
        stripe_fake.webhook_secret = "whsec_someone_else"
        payload, signature = stripe_fake.event("checkout.session.completed", obj)
    elif tamper == "missing":
        signature = None
    elif tamper == "empty":
        signature = ""
    elif tamper == "stale":  # the library accepts 300 seconds
        payload, signature = stripe_fake.event(
            "checkout.session.completed", obj, timestamp=int(time.time()) - 301
        )
    elif tamper == "body_changed":
        payload = payload.replace(b'"paid"', b'"unpaid"')
    elif tamper == "not_json":
        payload, signature = _signed_body(stripe_fake, b"not json")
    elif tamper == "garbled_header":
        signature = "v1=abc"

    with pytest.raises(BadWebhook) as raised:
        provider.parse_webhook(payload, signature)
    assert (raised.value.status, raised.value.code) == (400, "bad_webhook")


def _signed_body(stripe_fake, body: bytes) -> tuple[bytes, str]:
    """``body`` under a valid signature (the fake signs only events)."""
    stamp = int(time.time())
    mac = hmac.new(stripe_fake.webhook_secret.encode(), f"{stamp}.".encode() + body, "sha256")
    return body, f"t={stamp},v1={mac.hexdigest()}"


def test_an_event_signed_just_now_within_tolerance_is_accepted(provider, stripe_fake):
    payload, signature = stripe_fake.event(
        "charge.refunded", {"id": "ch_1"}, timestamp=int(time.time()) - 240
    )

    assert json.loads(payload)["type"] == provider.parse_webhook(payload, signature)["type"]
