"""Money: integer minor units and an ISO 4217 code; formatted by Babel, never via floats."""

from decimal import Decimal

from babel.numbers import format_currency, get_currency_precision


def to_decimal(cents: int, currency: str) -> Decimal:
    """Minor units to a Decimal amount in the currency's own precision (JPY 0, EUR 2, ...)."""
    return Decimal(cents).scaleb(-get_currency_precision(currency))


def format_money(cents: int, currency: str, locale: str = "en_US") -> str:
    """``format_money(1999, "EUR")`` -> ``"€19.99"``."""
    return format_currency(to_decimal(cents, currency), currency, locale=locale)
