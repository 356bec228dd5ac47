"""What a cart costs when shipped to a country by a method: app.totals' one calculation, fed
with the catalogue's prices less the sales running now, the country's tax rates, a voucher's
discount and the shipping method's price."""

from dataclasses import dataclass, field, replace

from flask import current_app

from app.catalog.models import Variant
from app.errors import DomainError
from app.sales import services as sales
from app.shipping import services as shipping
from app.shipping.services import ShippingQuote
from app.taxes.services import rates_for
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
    unit_prices: tuple[int, ...] = ()  # each line's unit price now (a sale's, or the regular)


def unit_prices(lines: list[tuple[Variant, int]]) -> list[int]:
    """Each line's unit price now: the variant's, less the sale running on its product."""
    offers = sales.offers_for({variant.product for variant, _quantity in lines})
    return [
        sales.price(variant.unit_price_cents, offers.get(variant.product_id))
        for variant, _quantity in lines
    ]


def applied_voucher(code, lines: list[tuple[Variant, int]], email: str) -> vouchers.Applied:
    """The voucher with this code applied to these lines at their prices now; 422 or 409
    saying why it does not apply (``app.vouchers.services.check``)."""
    amounts = [
        (variant.product, unit * quantity)
        for (variant, quantity), unit in zip(lines, unit_prices(lines), strict=True)
    ]
    return vouchers.check(vouchers.find(code), amounts, email, utcnow())


def weight_of(lines: list[tuple[Variant, int]]) -> int:
    """The parcel's weight in grams (variants without a weight count as nothing)."""
    return sum((variant.weight_grams or 0) * quantity for variant, quantity in lines)


def quote(
    lines: list[tuple[Variant, int]],
    country: str | None,
    method_id=None,
    voucher: vouchers.Applied | None = None,
) -> Quote:
    """The totals of ``(variant, quantity)`` lines shipped to ``country`` by the chosen method
    (the first offered when none is chosen). 422 naming ``shipping_method`` when the country
    is not shipped to, or the method cannot ship there. A shop with no shipping zone at all
    ships anywhere, free.

    With no country yet (the cart), the shop's SHOP_COUNTRY rates estimate the tax and
    shipping is left out. A voucher's discount comes off the lines it covers, before tax;
    free shipping from a subtotal counts the subtotal before the discount."""
    include = current_app.config["SHOP_PRICES_INCLUDE_TAX"]
    rates = rates_for(country or current_app.config["SHOP_COUNTRY"])
    units = unit_prices(lines)
    priced = [
        Priced(
            unit * quantity,
            rates.rate(variant.product.tax_class_id),
            discountable=voucher is not None and voucher.covers(variant.product),
        )
        for (variant, quantity), unit in zip(lines, units, strict=True)
    ]
    discount = voucher.discount_cents if voucher else 0
    base = Quote(calculate(priced, Priced(0), include, discount), unit_prices=tuple(units))
    if not country:
        return base
    if shipping.ships_anywhere():
        return replace(base, country=country)
    methods = shipping.quotes_for(country, base.totals.subtotal_cents, weight_of(lines))
    chosen = shipping.choose(methods, method_id)
    totals = calculate(priced, Priced(chosen.price_cents, rates.standard), include, discount)
    return replace(base, totals=totals, shipping=chosen, methods=methods, country=country)


def cart_quote(summary, country: str | None = None, method_id=None) -> Quote:
    """A cart's quote (app.cart.services.CartSummary) with its voucher's discount while the
    voucher applies; otherwise none, and ``voucher_problem`` says why."""
    lines = [(line.variant, line.quantity) for line in summary.lines]
    code = summary.voucher_code
    if not code:
        return quote(lines, country, method_id)
    try:
        applied = applied_voucher(code, lines, "")
    except DomainError as error:
        return replace(quote(lines, country, method_id), voucher_problem=error.message)
    return replace(quote(lines, country, method_id, applied), voucher_code=applied.code)
