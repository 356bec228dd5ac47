"""The one calculation of what an order costs: subtotal, discount, shipping, tax and total, in
integer minor units. The cart, checkout, the order, its e-mails and the API all show these.

Prices are as the catalogue states them: with tax included (``SHOP_PRICES_INCLUDE_TAX``, EU
style) or without (US style). Tax is worked out per line (unit price x quantity), rounded half
up to a whole minor unit:

- prices without tax: ``tax = round_half_up(net x rate / 100)``, ``gross = net + tax``;
- prices with tax: ``tax = round_half_up(gross x rate / (100 + rate))``, ``net = gross - tax``.

A discount (a voucher) is shared out over the lines it covers in proportion to their amounts, whole
cents by the largest remainders (so the shares add up to it exactly), and each line is taxed
on its amount less its share: tax after discount. Shipping is not discounted.

Shipping is one more line, taxed at the destination's standard rate by the same rule. So every
line's net and tax add up to its gross exactly, and the total is the sum of the gross amounts:
the parts always add up.
"""

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

ZERO = Decimal(0)


@dataclass(frozen=True)
class Priced:
    """An amount as the catalogue (or shipping) states it, and its tax rate in percent."""

    amount_cents: int
    rate: Decimal = ZERO
    discountable: bool = True  # False: a voucher for other products (no share of it)


@dataclass(frozen=True)
class Taxed:
    net_cents: int
    tax_cents: int
    rate: Decimal
    discount_cents: int = 0  # the line's share of the discount (already out of net and tax)

    @property
    def gross_cents(self) -> int:
        return self.net_cents + self.tax_cents


@dataclass(frozen=True)
class Totals:
    lines: tuple[Taxed, ...]
    shipping: Taxed
    prices_include_tax: bool

    @property
    def discount_cents(self) -> int:
        return sum(line.discount_cents for line in self.lines)

    @property
    def subtotal_cents(self) -> int:
        """The lines as the shop states prices (gross with tax included, else net), before
        the discount."""
        return sum(self._stated(line) + line.discount_cents for line in self.lines)

    @property
    def shipping_cents(self) -> int:
        return self._stated(self.shipping)

    @property
    def tax_cents(self) -> int:
        return sum(line.tax_cents for line in self.lines) + self.shipping.tax_cents

    @property
    def total_cents(self) -> int:
        """What is charged: subtotal - discount + shipping, plus tax when prices exclude it."""
        added_tax = 0 if self.prices_include_tax else self.tax_cents
        return self.subtotal_cents - self.discount_cents + self.shipping_cents + added_tax

    def _stated(self, line: Taxed) -> int:
        return line.gross_cents if self.prices_include_tax else line.net_cents


def round_half_up(value: Decimal) -> int:
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def tax_line(priced: Priced, prices_include_tax: bool, discount_cents: int = 0) -> Taxed:
    """One line's net and tax by the rule above, on its amount less its discount."""
    amount, rate = priced.amount_cents - discount_cents, priced.rate
    if prices_include_tax:
        tax = round_half_up(Decimal(amount) * rate / (100 + rate))
        return Taxed(amount - tax, tax, rate, discount_cents)
    return Taxed(amount, round_half_up(Decimal(amount) * rate / 100), rate, discount_cents)


def share_out(discount_cents: int, amounts: list[int]) -> list[int]:
    """The discount (at most the amounts' sum) in whole cents per amount, in proportion,
    the cents left over going to the largest remainders (the first of equal ones)."""
    total = sum(amounts)
    discount = max(0, min(discount_cents, total))
    if not discount:
        return [0] * len(amounts)
    exact = [(discount * amount, index) for index, amount in enumerate(amounts)]
    shares = [numerator // total for numerator, _ in exact]
    left = discount - sum(shares)
    by_remainder = sorted(exact, key=lambda pair: (-(pair[0] % total), pair[1]))
    for _numerator, index in by_remainder[:left]:
        shares[index] += 1
    return shares


def calculate(
    lines: list[Priced], shipping: Priced, prices_include_tax: bool, discount_cents: int = 0
) -> Totals:
    """The totals of these lines (unit price x quantity each), less a discount (capped at
    the discountable lines' sum), and this shipping."""
    shares = share_out(
        discount_cents, [line.amount_cents if line.discountable else 0 for line in lines]
    )
    return Totals(
        lines=tuple(
            tax_line(line, prices_include_tax, share)
            for line, share in zip(lines, shares, strict=True)
        ),
        shipping=tax_line(shipping, prices_include_tax),
        prices_include_tax=prices_include_tax,
    )
