"""Money: integer minor units and an ISO 4217 code; formatted by Babel, never via floats."""

from decimal import Decimal
from functools import lru_cache

from babel import Locale
from babel.numbers import NumberPattern, get_currency_precision


def to_decimal(cents: int, currency: str) -> Decimal:
    """Minor units to a Decimal amount in the currency's own precision (JPY 0, EUR 2, ...)."""
    return Decimal(cents).scaleb(-get_currency_precision(currency))


MAX_AMOUNT = 10**15  # minor units: far above any price, far below BIGINT's limit


def to_minor_units(amount: str, currency: str) -> int:
    """An amount typed by a person ("12.50", "12") in minor units (1250 for EUR).

    :raises ValueError: not a number, negative, finer than the currency's precision, or above
        MAX_AMOUNT minor units.
    """
    try:
        value = Decimal(amount.strip())
    except ArithmeticError:
        raise ValueError(amount) from None
    cents = value.scaleb(get_currency_precision(currency))
    if not value.is_finite() or not 0 <= cents <= MAX_AMOUNT or cents != int(cents):
        raise ValueError(amount)
    return int(cents)


@lru_cache(maxsize=64)
def _currency_format(locale: str) -> tuple[Locale, NumberPattern]:
    """The locale and its standard currency pattern, parsed once (Babel's format_currency
    parses both on every call)."""
    parsed = Locale.parse(locale)
    return parsed, parsed.currency_formats["standard"]


@lru_cache(maxsize=4096, typed=True)
def format_money(cents: int, currency: str, locale: str = "en_US") -> str:
    """``format_money(1999, "EUR")`` -> ``"€19.99"``: what ``babel.numbers.format_currency``
    gives, remembered for the prices a shop shows again and again."""
    parsed, pattern = _currency_format(locale)
    return pattern.apply(to_decimal(cents, currency), parsed, currency=currency)
