"""The one calculation of an order's totals (app/totals.py): integers, parts that add up,
per-line tax rounded half up."""

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.totals import Priced, calculate, share_out, tax_line

RATES = st.decimals(min_value=0, max_value=30, places=3, allow_nan=False, allow_infinity=False)
AMOUNTS = st.integers(min_value=0, max_value=10**12)
LINES = st.lists(st.builds(Priced, AMOUNTS, RATES), max_size=30)


@settings(max_examples=300, derandomize=True, deadline=None)
@given(
    lines=LINES,
    shipping=st.builds(Priced, AMOUNTS, RATES),
    include=st.booleans(),
    discount=st.integers(min_value=0, max_value=10**13),
)
def test_the_parts_always_add_up_to_the_total(lines, shipping, include, discount):
    totals = calculate(lines, shipping, include, discount)

    parts = [totals.subtotal_cents, totals.shipping_cents, totals.tax_cents, totals.total_cents]
    assert all(isinstance(part, int) for part in parts)
    added_tax = 0 if include else totals.tax_cents
    assert totals.total_cents == (
        totals.subtotal_cents - totals.discount_cents + totals.shipping_cents + added_tax
    )
    every_line = [*totals.lines, totals.shipping]
    assert totals.total_cents == sum(line.gross_cents for line in every_line)
    assert totals.tax_cents == sum(line.tax_cents for line in every_line)
    assert totals.discount_cents == min(discount, sum(line.amount_cents for line in lines))
    for priced, taxed in zip([*lines, shipping], every_line, strict=True):
        assert taxed.net_cents >= 0
        assert taxed.tax_cents >= 0
        assert 0 <= taxed.discount_cents <= priced.amount_cents
        stated = taxed.gross_cents if include else taxed.net_cents
        amount = priced.amount_cents - taxed.discount_cents  # tax after discount
        assert stated == amount
        exact = (
            Decimal(amount) * priced.rate / (100 + priced.rate)
            if include
            else Decimal(amount) * priced.rate / 100
        )
        assert abs(taxed.tax_cents - exact) <= Decimal("0.5")


@pytest.mark.parametrize(
    ("amount", "rate", "include", "tax"),
    [
        (350, "7", False, 25),  # 24.5: half up gives 25 (half even would give 24)
        (50, "19", False, 10),  # 9.5
        (5, "10", False, 1),  # 0.5
        (4, "10", False, 0),  # 0.4
        (119, "19", True, 19),  # exactly 19
        (1, "19", True, 0),  # 0.1597
        (107, "7", True, 7),  # exactly 7
        (2140, "7", True, 140),  # exactly 140
        (999, "19", True, 160),  # 159.504...
        (1050, "5", True, 50),  # exactly 50
        (1, "100", True, 1),  # 0.5: half up
        (1999, "8.875", False, 177),  # 177.41...
    ],
)
def test_awkward_amounts_round_half_up_per_line(amount, rate, include, tax):
    taxed = tax_line(Priced(amount, Decimal(rate)), include)

    assert taxed.tax_cents == tax
    assert (taxed.gross_cents if include else taxed.net_cents) == amount


def test_germany_with_vat_included_and_the_us_with_tax_added():
    books = Priced(1999, Decimal("7"))
    tea = Priced(2 * 450, Decimal("19"))
    germany = calculate([books, tea], Priced(495, Decimal("19")), prices_include_tax=True)
    assert (germany.subtotal_cents, germany.shipping_cents) == (2899, 495)
    assert germany.tax_cents == 131 + 144 + 79
    assert germany.total_cents == 3394

    us = calculate([Priced(2899, Decimal("8.875"))], Priced(1500), prices_include_tax=False)
    assert (us.subtotal_cents, us.shipping_cents, us.tax_cents) == (2899, 1500, 257)
    assert us.total_cents == 4656


@pytest.mark.parametrize(
    ("discount", "amounts", "shares"),
    [
        (100, [1999, 900], [69, 31]),  # 68.96 and 31.04
        (1, [1, 1, 1], [1, 0, 0]),  # equal remainders: the first
        (7, [3, 3, 3], [3, 2, 2]),
        (5000, [1999, 900], [1999, 900]),  # capped at the lines
        (0, [450], [0]),
    ],
)
def test_a_discount_is_shared_out_in_proportion_to_whole_cents(discount, amounts, shares):
    assert share_out(discount, amounts) == shares
    assert sum(shares) == min(discount, sum(amounts))


def test_tax_is_computed_after_the_discount():
    # 10.00 off 28.99 of books (7 %) and tea (19 %), prices with tax: 6.90 and 3.10 off.
    totals = calculate(
        [Priced(1999, Decimal("7")), Priced(900, Decimal("19"))], Priced(0), True, 1000
    )
    assert [line.discount_cents for line in totals.lines] == [690, 310]
    assert [line.tax_cents for line in totals.lines] == [86, 94]  # 13.09 x 7/107, 5.90 x 19/119
    assert (totals.subtotal_cents, totals.discount_cents, totals.total_cents) == (2899, 1000, 1899)
