"""A visitor searches the catalogue and narrows it with the filters: a plain GET form, so the
URL holds the filters and can be shared.

Real headless Chromium against the app on a real HTTP server, on SQLite and on MariaDB.
"""

import re

import pytest
from playwright.sync_api import expect

from tests.factories import ProductFactory, create, make_tshirt

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def test_a_visitor_searches_then_filters_by_size_and_stock(
    live_app, page, live_server, screenshot, browser_errors
):
    make_tshirt(live_app, stock=5)
    create(live_app, ProductFactory, name="Green T-shirt Dye", price_cents=900, stock=0)
    create(live_app, ProductFactory, name="Sencha Green Tea", price_cents=450)

    page.goto("/products")
    page.get_by_label("Search").fill("shirt")
    page.get_by_role("button", name="Search").click()
    expect(page.locator("#result-count")).to_have_text("2 products for “shirt”")

    page.get_by_label(re.compile(r"^In stock only")).check()
    page.locator("#option-size").get_by_label(re.compile(r"^M ")).check()
    screenshot("catalogue-01-filters")
    page.click("#apply-filters")

    expect(page).to_have_url(re.compile(r"q=shirt.*in_stock=1.*option=size%3Am"))
    expect(page.locator("#result-count")).to_have_text("1 product for “shirt”")
    expect(page.locator("#products")).to_contain_text("T-shirt")
    expect(page.locator("#option-size").get_by_label(re.compile(r"^M "))).to_be_checked()

    shared = page.url
    other = page.context.new_page()
    other.goto(shared)
    expect(other.locator("#result-count")).to_have_text("1 product for “shirt”")
    page.click("#clear-filters")
    expect(page.locator("#result-count")).to_have_text("2 products for “shirt”")
    assert browser_errors == []
