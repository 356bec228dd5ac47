"""The payment provider port and the two built-in providers: manual (bank transfer) and test.

A provider is called only outside the database transaction that took the stock (see
app/orders/checkout.py): the order is committed first, the charge carries an idempotency key
derived from the order, so a retry after a lost reply never charges twice.
"""

import hashlib
import re
import threading
from dataclasses import dataclass
from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l

from app.errors import DomainError, ValidationFailed
from app.payments.statuses import PaymentStatus, RefundStatus

# A card number: 12-19 digits, spaces allowed anywhere (the API's schema documents the same).
CARD_NUMBER = r"(?: *[0-9]){12,19} *"


class PaymentDeclined(DomainError):
    status = 402
    code = "payment_declined"


class PaymentUnavailable(DomainError):
    """The provider did not answer (or its answer was lost): the outcome is unknown."""

    status = 503
    code = "payment_unavailable"
    retry_after = 5


@dataclass(frozen=True)
class PaymentResult:
    status: PaymentStatus  # SUCCEEDED (the order becomes paid), PENDING, or VOIDED (never paid)
    reference: str = ""
    redirect_url: str = ""  # PENDING on a hosted page: where the customer goes to pay


@dataclass(frozen=True)
class RefundResult:
    status: RefundStatus  # SUCCEEDED, or PENDING (sent by hand, e.g. a bank transfer back)
    reference: str = ""


@dataclass(frozen=True)
class ProviderRefund:
    """A refund as the provider lists it; the ones we asked for carry our refund key."""

    reference: str
    amount_cents: int
    status: RefundStatus
    key: str = ""


class PaymentProvider:
    """Charge and refund. ``charge`` raises PaymentDeclined to refuse and PaymentUnavailable
    when the outcome is unknown; the same ``idempotency_key`` must never charge twice."""

    name = ""
    label: Any = ""  # its name for the customer: a lazy translation (str() at use)
    # True: ``charge`` answers PENDING with the provider's page, where the customer pays; the
    # outcome arrives by webhook, by ``outcome`` on the customer's return, or by the expiry job.
    hosted = False
    takes_card = False  # True: the payment details carry a card_number

    def validate(self, details: dict) -> None:
        """Refuse malformed payment details (ValidationFailed) before any order is written."""

    def charge(
        self, amount_cents: int, currency: str, details: dict, *, idempotency_key: str
    ) -> PaymentResult:
        raise NotImplementedError

    def lookup(self, idempotency_key: str) -> PaymentResult | None:
        """The outcome of an earlier charge with this key, or None if the provider has none."""
        raise NotImplementedError

    def outcome(self, reference: str) -> PaymentResult | None:
        """A hosted payment's outcome by its reference: SUCCEEDED (its reference the one that
        refunds name), VOIDED (the page expired unpaid), or None (the customer may still pay)."""
        return None

    def dashboard_url(self, reference: str) -> str | None:
        """Where the back office sees this payment at the provider, if anywhere."""
        return None

    def abandon(self, reference: str) -> None:
        """Close the hosted page of a payment whose order was cancelled, so that no one pays
        it (best effort: a payment that succeeds anyway is refunded when it is recorded)."""

    def refund(
        self, reference: str, amount_cents: int, currency: str, *, idempotency_key: str
    ) -> RefundResult:
        raise NotImplementedError


class ManualProvider(PaymentProvider):
    """Bank transfer: the order waits as pending_payment until an admin marks it paid."""

    name = "manual"
    label = _l("Bank transfer")

    def charge(self, amount_cents, currency, details, *, idempotency_key):
        return PaymentResult(status=PaymentStatus.PENDING)

    def lookup(self, idempotency_key):
        return None  # nothing to ask: the money arrives (or not) in the bank account

    def refund(self, reference, amount_cents, currency, *, idempotency_key):
        """Recorded at once: the shop sends the money back by bank transfer itself."""
        return RefundResult(status=RefundStatus.SUCCEEDED, reference="bank-transfer")


class TestCardProvider(PaymentProvider):
    """Development card payments, a simulated gateway with its own ledger (in this process).

    4242 4242 4242 4242 succeeds, 4000 0000 0000 0002 is declined, and 4000 0000 0000 0119
    succeeds but its reply is lost (PaymentUnavailable): a retry with the same key, or
    ``lookup``, finds the charge that was made.
    """

    __test__ = False  # not a pytest test class
    name = "test"
    label = _l("Test card")
    takes_card = True
    SUCCEEDS = "4242424242424242"
    DECLINES = "4000000000000002"
    REPLY_LOST = "4000000000000119"

    def __init__(self):
        self._ledger: dict[str, PaymentResult] = {}
        self._refunds: dict[str, RefundResult] = {}
        self._lock = threading.Lock()

    @staticmethod
    def _reference(prefix: str, key: str) -> str:
        return f"{prefix}_{hashlib.sha256(key.encode()).hexdigest()[:16]}"

    @staticmethod
    def _number(details: dict) -> str:
        return "".join(str(details.get("card_number") or "").split())

    def validate(self, details):
        if not re.fullmatch(CARD_NUMBER, str(details.get("card_number") or "")):
            raise ValidationFailed(
                "Enter a card number.", {"card_number": ["Enter a card number of 12-19 digits."]}
            )

    def charge(self, amount_cents, currency, details, *, idempotency_key):
        with self._lock:
            if idempotency_key in self._ledger:
                return self._ledger[idempotency_key]
        self.validate(details)
        number = self._number(details)
        if number == self.DECLINES:
            raise PaymentDeclined("Your card was declined. No order was placed.")
        if number not in (self.SUCCEEDS, self.REPLY_LOST):
            raise PaymentDeclined(
                "Unknown test card: use 4242 4242 4242 4242 (succeeds) or 4000 0000 0000 0002."
            )
        result = PaymentResult(PaymentStatus.SUCCEEDED, self._reference("test", idempotency_key))
        with self._lock:
            self._ledger[idempotency_key] = result
        if number == self.REPLY_LOST:
            raise PaymentUnavailable(
                "The card payment did not answer in time. Your order is saved: try again in a "
                "moment (you will not be charged twice)."
            )
        return result

    def lookup(self, idempotency_key):
        with self._lock:
            return self._ledger.get(idempotency_key)

    def refund(self, reference, amount_cents, currency, *, idempotency_key):
        with self._lock:
            return self._refunds.setdefault(
                idempotency_key,
                RefundResult(RefundStatus.SUCCEEDED, self._reference("re", idempotency_key)),
            )


PROVIDERS: dict[str, PaymentProvider] = {p.name: p for p in (ManualProvider(), TestCardProvider())}


def enabled_providers() -> list[PaymentProvider]:
    return [PROVIDERS[name] for name in current_app.config["PAYMENT_METHODS"]]


def get_provider(name: str) -> PaymentProvider:
    """An enabled provider by name; 422 for anything else."""
    if name not in current_app.config["PAYMENT_METHODS"] or name not in PROVIDERS:
        raise ValidationFailed(
            "Choose a payment method.", {"payment_method": ["Not an available payment method."]}
        )
    return PROVIDERS[name]


def provider_for(name: str) -> PaymentProvider:
    """The provider an existing payment was made with, enabled today or not."""
    return PROVIDERS[name]
