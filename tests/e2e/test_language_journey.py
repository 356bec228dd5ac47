"""A visitor switches the shop to German with the footer's selector (a plain form, its token
fetched by static/visitor.js on a shared page), and it stays German from page to page, to
the cart.

Real headless Chromium against the app on a real HTTP server, on SQLite and on MariaDB.
"""

import re

import pytest
from playwright.sync_api import expect

from tests.factories import ProductFactory, create

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def test_a_visitor_switches_to_german(live_app, page, browser_errors):
    create(live_app, ProductFactory, name="Sencha Green Tea", price_cents=1250)

    page.goto("/products?q=tea")
    expect(page.locator("#result-count")).to_have_text("1 product for “tea”")
    page.get_by_label("Language").select_option("de_DE")
    page.get_by_role("button", name="Change").click()

    expect(page).to_have_url(re.compile(r"/products\?q=tea$"))
    expect(page.locator("#result-count")).to_have_text("1 Produkt für „tea“")
    expect(page.locator("html")).to_have_attribute("lang", "de")
    page.get_by_role("link", name="Sencha Green Tea").click()
    expect(page.locator("#product-price")).to_have_text("12,50\xa0€")
    expect(page.get_by_role("button", name="In den Warenkorb")).to_be_visible()
    expect(page.get_by_label("Sprache")).to_have_value("de_DE")
    page.get_by_role("button", name="In den Warenkorb").click()
    expect(page.locator("h1")).to_have_text("Ihr Warenkorb")
    expect(page.locator("#cart-subtotal")).to_have_text("12,50\xa0€")
    expect(page.get_by_role("link", name="Zur Kasse")).to_be_visible()
    assert browser_errors == []
