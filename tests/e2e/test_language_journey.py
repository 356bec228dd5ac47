"""A visitor switches the shop to German with the footer's selector (a plain form, its token
fetched by static/visitor.js on a shared page), and it stays German from page to page, to
the cart.

Real headless Chromium against the app on a real HTTP server, on SQLite and on MariaDB.
"""

import re

import pytest
from playwright.sync_api import expect

from tests.factories import ProductFactory, create
from tests.helpers import GOOD_CARD

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


def test_a_visitor_buys_in_german(live_app, page, live_server, outbox_dir, browser_errors):
    """The issue's journey: switch to German, and buy as a guest, every step in German."""
    create(live_app, ProductFactory, name="Sencha Green Tea", price_cents=1250, stock=5)

    page.goto("/products/sencha-green-tea")
    page.get_by_label("Language").select_option("de_DE")
    page.get_by_role("button", name="Change").click()
    expect(page.locator("html")).to_have_attribute("lang", "de")
    expect(page.get_by_label("Sprache")).to_have_value("de_DE")
    page.get_by_role("button", name="In den Warenkorb").click()
    expect(page.locator("h1")).to_have_text("Ihr Warenkorb")
    expect(page.locator("#cart-subtotal")).to_have_text("12,50\xa0€")
    page.get_by_role("link", name="Zur Kasse").click()

    expect(page.locator("h1")).to_have_text("Kasse")
    expect(page.locator("#summary-totals #order-total")).to_have_text(re.compile(r"\d+,\d\d\xa0€"))
    page.get_by_label("E-Mail-Adresse").fill("gast@example.com")
    page.get_by_label("Vollständiger Name").first.fill("Ada Lovelace")
    page.get_by_label("Adresszeile 1").first.fill("Unter den Linden 1")
    page.get_by_label("Ort").first.fill("Berlin")
    page.get_by_label("Postleitzahl").first.fill("10117")
    page.locator("#country").select_option(label="Deutschland")
    page.get_by_label("Testkarte").check()
    page.get_by_label("Kartennummer").fill(GOOD_CARD)
    page.get_by_role("button", name="Zahlungspflichtig bestellen").click()

    expect(page).to_have_url(re.compile(re.escape(f"{live_server}/orders/view/")))
    expect(page.locator(".alert-success")).to_contain_text("Vielen Dank! Ihre Bestellung")
    expect(page.locator("#order-status")).to_have_text("Bezahlt")
    expect(page.locator("#shipping-address")).to_contain_text("Deutschland (DE)")
    expect(page.locator("#order-totals")).to_contain_text("Summe")
    assert browser_errors == []
