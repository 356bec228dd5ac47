"""The provider interface and the two built-in providers: manual (bank transfer) and test."""

import secrets
from dataclasses import dataclass

from flask import current_app

from app.errors import DomainError, ValidationFailed


class PaymentDeclined(DomainError):
    status = 402
    code = "payment_declined"


@dataclass
class PaymentResult:
    status: str  # "succeeded" (order becomes paid) or "pending" (waits, e.g. bank transfer)
    reference: str = ""


class PaymentProvider:
    """Charge an order. Raise PaymentDeclined to refuse: the checkout then rolls back whole."""

    name = ""
    label = ""
    needs_card = False

    def charge(self, amount_cents: int, currency: str, details: dict) -> PaymentResult:
        raise NotImplementedError


class ManualProvider(PaymentProvider):
    """Bank transfer: the order waits as pending_payment until an admin marks it paid."""

    name = "manual"
    label = "Bank transfer"

    def charge(self, amount_cents, currency, details):
        return PaymentResult(status="pending", reference="")


class TestCardProvider(PaymentProvider):
    """Development card payments: 4242 4242 4242 4242 succeeds, 4000 0000 0000 0002 declines."""

    __test__ = False  # not a pytest test class
    name = "test"
    label = "Test card"
    needs_card = True
    SUCCEEDS = "4242424242424242"
    DECLINES = "4000000000000002"

    def charge(self, amount_cents, currency, details):
        number = "".join(str(details.get("card_number") or "").split())
        if not number.isdigit() or not 12 <= len(number) <= 19:
            raise ValidationFailed(
                "Enter a card number.", {"card_number": ["Enter a card number of 12-19 digits."]}
            )
        if number == self.SUCCEEDS:
            return PaymentResult(status="succeeded", reference=f"test_{secrets.token_hex(8)}")
        if number == self.DECLINES:
            raise PaymentDeclined("Your card was declined. No order was placed.")
        raise PaymentDeclined(
            "Unknown test card: use 4242 4242 4242 4242 (succeeds) or 4000 0000 0000 0002."
        )


PROVIDERS = {p.name: p for p in (ManualProvider(), TestCardProvider())}


def enabled_providers() -> list[PaymentProvider]:
    return [PROVIDERS[name] for name in current_app.config["PAYMENT_METHODS"]]


def get_provider(name: str) -> PaymentProvider:
    if name not in current_app.config["PAYMENT_METHODS"] or name not in PROVIDERS:
        raise ValidationFailed(
            "Choose a payment method.", {"payment_method": ["Not an available payment method."]}
        )
    return PROVIDERS[name]
