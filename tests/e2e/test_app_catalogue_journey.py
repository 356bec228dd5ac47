"""The React storefront (frontend/, built by `make frontend`) served by Flask under /app/:
a visitor searches, filters and pages the catalogue on the JSON API.

Real headless Chromium, on SQLite and on MariaDB. The site's Content-Security-Policy stays
as strict as for the HTML shop: a blocked script or style would be a console error here.
"""

import re

import pytest
from playwright.sync_api import expect

from app.app_factory import PROJECT_ROOT
from tests.e2e.test_accessibility import axe_source, violations  # noqa: F401 (a fixture)
from tests.factories import ProductFactory, create, make_tshirt

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

BUNDLE = PROJECT_ROOT / "frontend" / "dist" / "index.html"


@pytest.fixture(autouse=True)
def built_app():
    if not BUNDLE.exists():
        pytest.fail(f"{BUNDLE} is missing: `make frontend` builds it (`make test` does).")


def test_a_visitor_searches_filters_and_pages_the_catalogue(
    live_app,
    page,
    axe_source,  # noqa: F811
    screenshot,
    browser_errors,
):
    make_tshirt(live_app, stock=5)
    create(live_app, ProductFactory, name="Green T-shirt Dye", price_cents=900, stock=0)
    for number in range(30):
        create(live_app, ProductFactory, name=f"Tea No. {number:02d}", price_cents=300)
    products = page.locator("#products > li")

    response = page.goto("/app/")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    expect(page.locator("#result-count")).to_have_text("32 products")
    expect(page).to_have_title("Products · Storefront")
    expect(products).to_have_count(24)
    assert violations(page, axe_source) == []
    page.get_by_role("button", name="Next").click()
    expect(page).to_have_url(re.compile(r"/app/\?page=2$"))
    expect(products).to_have_count(8)

    page.get_by_label("Search").fill("shirt")
    page.get_by_role("button", name="Search").click()
    expect(page.locator("#result-count")).to_have_text("2 products for “shirt”")
    expect(page).to_have_url(re.compile(r"/app/\?q=shirt$"))  # back to the first page
    page.get_by_label(re.compile(r"^In stock only")).check()
    expect(page.locator("#result-count")).to_have_text("1 product for “shirt”")
    page.get_by_label(re.compile(r"^M \(")).check()
    expect(page).to_have_url(re.compile(r"q=shirt&in_stock=1&option=size%3Am$"))
    expect(products).to_have_count(1)
    expect(products).to_contain_text("T-shirt")
    expect(products).to_contain_text("€15.00")
    screenshot("app-catalogue-01-filters")

    page.reload()  # the address holds the listing
    expect(page.locator("#result-count")).to_have_text("1 product for “shirt”")
    expect(page.get_by_label(re.compile(r"^M \("))).to_be_checked()
    page.go_back()
    expect(page.get_by_label(re.compile(r"^M \("))).not_to_be_checked()
    expect(page.locator("#result-count")).to_have_text("1 product for “shirt”")
    page.get_by_role("button", name="Clear filters").click()
    expect(page.locator("#result-count")).to_have_text("2 products for “shirt”")
    assert violations(page, axe_source) == []

    page.set_viewport_size({"width": 360, "height": 740})  # a phone: nothing wider than it
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    expect(page.get_by_role("button", name="Search")).to_be_in_viewport()

    page.goto("/app/no-such-screen")
    expect(page.get_by_role("heading", name="Page not found")).to_be_visible()
    assert browser_errors == []
