"""What a cart costs when shipped to a country by a method: app.totals' one calculation, fed
with the catalogue's prices, the country's tax rates and the shipping method's price."""

from dataclasses import dataclass, field, replace

from flask import current_app

from app.catalog.models import Variant
from app.errors import DomainError
from app.shipping import services as shipping
from app.shipping.services import ShippingQuote
from app.taxes.services import CountryRates, rates_for
from app.timestamps import utcnow
from app.totals import Priced, Totals, calculate
from app.vouchers import services as vouchers


@dataclass(frozen=True)
class Quote:
    """The totals, the shipping method they include (None: not known yet), and the methods
    offered for the country."""

    totals: Totals
    shipping: ShippingQuote | None = None
    methods: list[ShippingQuote] = field(default_factory=list)
    country: str = ""
    voucher_code: str = ""  # the cart's voucher, when it applies (its discount is in totals)
    voucher_problem: str = ""  # why the cart's voucher does not apply now


def _line(variant: Variant, quantity: int, rates: CountryRates) -> Priced:
    return Priced(variant.unit_price_cents * quantity, rates.rate(variant.product.tax_class_id))


def weight_of(lines: list[tuple[Variant, int]]) -> int:
    """The parcel's weight in grams (variants without a weight count as nothing)."""
    return sum((variant.weight_grams or 0) * quantity for variant, quantity in lines)


def quote(
    lines: list[tuple[Variant, int]], country: str | None, method_id=None, discount_cents: int = 0
) -> Quote:
    """The totals of ``(variant, quantity)`` lines shipped to ``country`` by the chosen method
    (the first offered when none is chosen). 422 naming ``shipping_method`` when the country
    is not shipped to, or the method cannot ship there. A shop with no shipping zone at all
    ships anywhere, free.

    With no country yet (the cart), the shop's SHOP_COUNTRY rates estimate the tax and
    shipping is left out. ``discount_cents`` (a voucher's) comes off the lines before tax;
    free shipping from a subtotal counts the subtotal before the discount."""
    include = current_app.config["SHOP_PRICES_INCLUDE_TAX"]
    rates = rates_for(country or current_app.config["SHOP_COUNTRY"])
    priced = [_line(variant, quantity, rates) for variant, quantity in lines]
    if not country:
        return Quote(calculate(priced, Priced(0), include, discount_cents))
    if shipping.ships_anywhere():
        return Quote(calculate(priced, Priced(0), include, discount_cents), country=country)
    subtotal = calculate(priced, Priced(0), include).subtotal_cents
    methods = shipping.quotes_for(country, subtotal, weight_of(lines))
    chosen = shipping.choose(methods, method_id)
    totals = calculate(priced, Priced(chosen.price_cents, rates.standard), include, discount_cents)
    return Quote(totals, chosen, methods, country)


def cart_quote(summary, country: str | None = None, method_id=None) -> Quote:
    """A cart's quote (app.cart.services.CartSummary) with its voucher's discount while the
    voucher applies; otherwise none, and ``voucher_problem`` says why."""
    lines = [(line.variant, line.quantity) for line in summary.lines]
    code = summary.voucher_code
    if not code:
        return quote(lines, country, method_id)
    subtotal = quote(lines, None).totals.subtotal_cents
    try:
        applied = vouchers.check(vouchers.find(code), subtotal, "", utcnow())
    except DomainError as error:
        return replace(quote(lines, country, method_id), voucher_problem=error.message)
    priced = quote(lines, country, method_id, applied.discount_cents)
    return replace(priced, voucher_code=applied.code)
