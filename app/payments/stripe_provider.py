"""Card payments through a hosted Stripe Checkout Session (mode=payment).

``charge`` only opens the session: the customer pays on Stripe's page (card data never reaches
this server, no Stripe script runs on ours) and comes back to ``success_url``. Whether they
paid is told by ``outcome`` or by a verified webhook event (``parse_webhook``).
Every call builds its own ``stripe.StripeClient`` from the app's config (STRIPE_*).
"""

from collections.abc import Iterator
from contextlib import contextmanager

import stripe
from flask import current_app
from flask_babel import lazy_gettext as _l
from stripe.params.checkout import SessionCreateParams

from app.errors import DomainError
from app.payments.providers import (
    PaymentDeclined,
    PaymentProvider,
    PaymentResult,
    PaymentUnavailable,
    ProviderRefund,
    RefundResult,
)
from app.payments.statuses import PaymentStatus, RefundStatus

# The library retries connection errors, 409s and 5xx itself, with the same idempotency key.
MAX_NETWORK_RETRIES = 2
TIMEOUT = (5, 30)  # seconds to connect, seconds to wait for the answer

REFUND_STATUSES = {
    "succeeded": RefundStatus.SUCCEEDED,
    "pending": RefundStatus.PENDING,
    "requires_action": RefundStatus.PENDING,
    "failed": RefundStatus.FAILED,
    "canceled": RefundStatus.FAILED,
}


class BadWebhook(DomainError):
    """A webhook request that is not a genuine Stripe event: bad or missing signature, or body."""

    status = 400
    code = "bad_webhook"


@contextmanager
def _client() -> Iterator[stripe.StripeClient]:
    """A client for one call; its HTTP session is closed afterwards."""
    config = current_app.config
    http = stripe.RequestsClient(timeout=TIMEOUT)
    base = config["STRIPE_API_BASE"]
    try:
        yield stripe.StripeClient(
            config["STRIPE_SECRET_KEY"],
            base_addresses={"api": base} if base else None,
            max_network_retries=MAX_NETWORK_RETRIES,
            http_client=http,
        )
    finally:
        http.close()


def _unavailable(error: stripe.StripeError) -> PaymentUnavailable:
    """The outcome is unknown (no answer, an outage) or the shop's setup is wrong."""
    transient = (stripe.APIConnectionError, stripe.RateLimitError, stripe.APIError)
    if not isinstance(error, transient):  # a bad key, a reused idempotency key: needs a human
        current_app.logger.error("Stripe refused the shop's request: %r", error)
    return PaymentUnavailable(
        "The card payment service did not answer. Please try again in a moment (you will not "
        "be charged twice)."
    )


def _metadata(obj) -> dict:
    return obj.metadata.to_dict() if obj.metadata else {}


class StripeProvider(PaymentProvider):
    """Stripe Checkout: ``charge`` answers PENDING with the hosted page's ``redirect_url``."""

    name = "stripe"
    label = _l("Card (Stripe)")
    hosted = True

    def charge(self, amount_cents, currency, details, *, idempotency_key):
        """Open a Checkout Session for the order ``details["order_number"]``.

        ``details`` also carries ``email`` (optional), ``success_url``, ``cancel_url`` and
        ``expires_at`` (optional: a Unix time 30 minutes to 24 hours ahead, Stripe's bounds).
        The same ``idempotency_key`` answers the same session (for 24 hours, Stripe's limit).

        :raises PaymentDeclined: Stripe refused the request (e.g. an amount it does not accept).
        :raises PaymentUnavailable: no answer, or an answer that was lost.
        """
        number = details["order_number"]
        params: SessionCreateParams = {
            "mode": "payment",
            "line_items": [
                {
                    "quantity": 1,
                    "price_data": {
                        "currency": currency.lower(),
                        "unit_amount": amount_cents,
                        "product_data": {"name": f"Order {number}"},
                    },
                }
            ],
            "client_reference_id": number,
            "metadata": {"order": number},
            "payment_intent_data": {"metadata": {"order": number}},
            "success_url": details["success_url"],
            "cancel_url": details["cancel_url"],
        }
        if details.get("email"):
            params["customer_email"] = details["email"]
        if details.get("expires_at"):
            params["expires_at"] = details["expires_at"]
        try:
            with _client() as client:
                session = client.v1.checkout.sessions.create(
                    params, {"idempotency_key": idempotency_key}
                )
        except (stripe.CardError, stripe.InvalidRequestError) as error:
            current_app.logger.warning("Stripe refused a Checkout Session: %r", error)
            raise PaymentDeclined(
                "The card payment could not be started: "
                f"{error.user_message or 'Stripe refused it'}. No money was taken."
            ) from error
        except stripe.StripeError as error:
            raise _unavailable(error) from error
        return PaymentResult(
            PaymentStatus.PENDING, reference=session.id, redirect_url=session.url or ""
        )

    def lookup(self, idempotency_key: str) -> PaymentResult | None:
        """None: Stripe finds nothing by idempotency key; see ``outcome``."""
        return None

    def outcome(self, reference: str) -> PaymentResult | None:
        """Whether the customer paid in the Checkout Session ``reference``.

        SUCCEEDED, whose reference is the PaymentIntent's id (what ``refund`` takes), once
        ``payment_status`` is "paid"; VOIDED, whose reference is the session's id, once it has
        expired unpaid (it can never be paid: cancel the order); None while it is open, or
        complete but unpaid (a delayed payment method still on its way): ask again later.

        :raises PaymentUnavailable: no answer.
        """
        try:
            with _client() as client:
                session = client.v1.checkout.sessions.retrieve(
                    reference, {"expand": ["payment_intent"]}
                )
        except stripe.StripeError as error:
            raise _unavailable(error) from error
        if session.payment_status == "paid":
            intent = session.payment_intent
            reference = intent if isinstance(intent, str) else intent.id if intent else ""
            return PaymentResult(PaymentStatus.SUCCEEDED, reference=reference)
        if session.status == "expired":
            return PaymentResult(PaymentStatus.VOIDED, reference=session.id)
        return None

    def dashboard_url(self, reference: str) -> str | None:
        """The payment in Stripe's dashboard (test mode's when the key is a test key)."""
        if not reference.startswith("pi_"):
            return None  # a session not paid: the dashboard shows payments
        test = current_app.config["STRIPE_SECRET_KEY"].startswith(("sk_test_", "rk_test_"))
        return f"https://dashboard.stripe.com/{'test/' if test else ''}payments/{reference}"

    def abandon(self, reference: str) -> None:
        """Expire the Checkout Session ``reference``; one that was paid or expired meanwhile
        (or no answer) is only logged."""
        try:
            with _client() as client:
                client.v1.checkout.sessions.expire(reference)
        except stripe.StripeError as error:
            current_app.logger.warning("Stripe did not expire session %s: %r", reference, error)

    def refund(self, reference, amount_cents, currency, *, idempotency_key):
        """Refund ``amount_cents`` of the PaymentIntent ``reference``.

        A refund Stripe refuses (more than is left, an unknown payment) is FAILED; one it
        has not finished is PENDING (within 24 hours the same key answers the same refund).

        :raises PaymentUnavailable: no answer.
        """
        try:
            done = [r for r in self.refunds_of(reference) if r.key == idempotency_key]
            if done:  # asked before (Stripe forgets idempotency keys after 24 hours)
                return RefundResult(done[0].status, done[0].reference)
            with _client() as client:
                refund = client.v1.refunds.create(
                    {
                        "payment_intent": reference,
                        "amount": amount_cents,
                        "metadata": {"refund_key": idempotency_key},
                    },
                    {"idempotency_key": idempotency_key},
                )
        except stripe.InvalidRequestError as error:
            current_app.logger.warning("Stripe refused the refund of %s: %r", reference, error)
            return RefundResult(RefundStatus.FAILED)
        except stripe.StripeError as error:
            raise _unavailable(error) from error
        status = REFUND_STATUSES.get(refund.status or "", RefundStatus.PENDING)
        return RefundResult(status, refund.id)

    def refunds_of(self, intent_id: str) -> list[ProviderRefund]:
        """The refunds of the PaymentIntent ``intent_id`` (ours carry our refund key), from
        the dashboard's too.

        :raises PaymentUnavailable: no answer.
        """
        try:
            with _client() as client:
                listed = client.v1.refunds.list({"payment_intent": intent_id, "limit": 100})
                refunds = list(listed.auto_paging_iter())
        except stripe.StripeError as error:
            raise _unavailable(error) from error
        return [
            ProviderRefund(
                reference=r.id,
                amount_cents=r.amount,
                status=REFUND_STATUSES.get(r.status or "", RefundStatus.PENDING),
                key=_metadata(r).get("refund_key", ""),
            )
            for r in reversed(refunds)  # oldest first
        ]

    def order_number_of(self, intent_id: str) -> str | None:
        """The order a PaymentIntent was made for (its metadata), or None if not ours.

        :raises PaymentUnavailable: no answer.
        """
        try:
            with _client() as client:
                intent = client.v1.payment_intents.retrieve(intent_id)
        except stripe.InvalidRequestError:
            return None
        except stripe.StripeError as error:
            raise _unavailable(error) from error
        return _metadata(intent).get("order")

    def parse_webhook(self, payload: bytes, signature_header: str | None) -> dict:
        """The event in a webhook request, once its Stripe-Signature proves Stripe sent it
        (signed with STRIPE_WEBHOOK_SECRET, within the library's 5-minute tolerance).

        :raises BadWebhook: a missing, forged or stale signature, or a body that is not JSON.
        """
        secret = current_app.config["STRIPE_WEBHOOK_SECRET"]
        try:
            return stripe.Webhook.construct_event(payload, signature_header, secret).to_dict()
        except stripe.SignatureVerificationError as error:
            raise BadWebhook(f"Bad Stripe webhook signature: {error.user_message}") from error
        except ValueError as error:  # not UTF-8, not JSON
            raise BadWebhook("The Stripe webhook's body is not a JSON event.") from error
