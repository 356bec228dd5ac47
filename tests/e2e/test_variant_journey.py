"""A customer picks a T-shirt's size and colour in the browser and buys that variant: its
stock, and only its stock, goes down. Headless Chromium against a live server."""

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from app.catalog.models import Variant
from app.extensions import db
from tests.factories import UserFactory, create, make_tshirt
from tests.helpers import GOOD_CARD, fill_checkout, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def test_a_customer_buys_the_size_and_colour_they_pick(live_app, page, live_server, screenshot):
    make_tshirt(live_app)
    create(live_app, UserFactory, email="picker@example.com")
    sign_in(page, "picker@example.com")

    page.goto("/products")
    expect(page.locator("#products .product-card .price")).to_have_text(["from €15.00"])
    page.locator("#products").get_by_role("link", name="T-shirt").click()
    expect(page.locator("#variants tbody tr")).to_have_count(6)
    page.get_by_label("Size").select_option("L")
    page.get_by_label("Colour").select_option("blue")
    page.fill("#quantity", "2")
    screenshot("variant-01-picked")
    page.locator("#add-to-cart").get_by_role("button", name="Add to cart").click()

    line = page.locator("#cart-lines tbody tr[data-sku='TS-L-BLUE']")
    expect(line).to_contain_text("Size L, Colour blue")
    expect(line.locator(".line-total")).to_have_text("€34.00")
    page.click("#checkout-link")
    fill_checkout(page, GOOD_CARD)
    page.click("#place-order")

    expect(page).to_have_url(re.compile(re.escape(f"{live_server}/orders/") + r"[\w-]+$"))
    expect(page.locator("#order-status")).to_have_text("Paid")
    expect(page.locator("#order-lines tbody tr").locator("td").first).to_contain_text(
        "Size L, Colour blue"
    )
    screenshot("variant-02-ordered")
    with live_app.app_context():
        stock = dict(db.session.execute(select(Variant.sku, Variant.stock)).all())
    assert stock.pop("TS-L-BLUE") == 3
    assert set(stock.values()) == {5}
