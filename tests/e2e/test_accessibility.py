"""axe-core (tests/e2e/package.json, from the npm registry) finds no violation on the key
pages, for a visitor and for a customer: every rule axe runs by default (WCAG 2.x A and AA,
and its best practices).

axe is evaluated into each page through the DevTools protocol, as Playwright's evaluate
does, so the strict CSP stays as it is (a <script> tag would have to be allowed by it).
"""

from pathlib import Path

import pytest
from playwright.sync_api import expect

from app.i18n import LOCALE_COOKIE
from tests.factories import CategoryFactory, ProductFactory, UserFactory, create, make_tshirt, place
from tests.helpers import PASSWORD

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

AXE = Path(__file__).parent / "node_modules" / "axe-core" / "axe.min.js"
CUSTOMER = "reader@example.com"


@pytest.fixture(scope="session")
def axe_source() -> str:
    if not AXE.exists():
        pytest.fail(f"{AXE} is missing: `make test` installs it (npm ci in tests/e2e).")
    return AXE.read_text()


def violations(page, axe_source: str) -> list[str]:
    """axe's violations on the page as it is now: rule, impact, and the elements."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(axe_source)
    found = page.evaluate("async () => (await axe.run(document)).violations")
    return [
        f"{page.url}: {v['id']} ({v['impact']}): {v['help']} at "
        + ", ".join(" ".join(node["target"]) for node in v["nodes"][:5])
        for v in found
    ]


@pytest.fixture
def shop(live_app):
    tea = create(live_app, CategoryFactory, name="Tea")
    sencha = create(
        live_app, ProductFactory, name="Sencha Green Tea", category_id=tea, price_cents=450
    )
    create(live_app, ProductFactory, name="Jasmine Tea", category_id=tea, stock=0)
    make_tshirt(live_app, stock=3)
    user_id = create(live_app, UserFactory, email=CUSTOMER)
    return {"user_id": user_id, "order": place(live_app, user_id, (sencha, 2))}


def test_a_visitors_pages_have_no_accessibility_violation(shop, page, axe_source, browser_errors):
    found: list[str] = []
    for path in ("/", "/products", "/products?q=tea", "/products/tshirt", "/products/jasmine-tea"):
        page.goto(path)
        found += violations(page, axe_source)
    page.goto("/products/sencha-green-tea")
    page.get_by_role("button", name="Add to cart").click()
    expect(page.locator("h1")).to_contain_text("cart", ignore_case=True)
    found += violations(page, axe_source)
    for path in ("/checkout", "/login", "/register", "/reset"):
        page.goto(path)
        found += violations(page, axe_source)
    assert found == [], "\n".join(found)
    assert browser_errors == []


def test_the_german_pages_have_no_accessibility_violation(
    shop, page, live_server, axe_source, browser_errors
):
    page.context.add_cookies([{"name": LOCALE_COOKIE, "value": "de_DE", "url": live_server}])
    found: list[str] = []
    for path in ("/", "/products", "/products?q=tee", "/products/tshirt", "/login", "/cart"):
        page.goto(path)
        expect(page.locator("html")).to_have_attribute("lang", "de")
        found += violations(page, axe_source)
    assert found == [], "\n".join(found)
    assert browser_errors == []


def test_a_customers_pages_have_no_accessibility_violation(shop, page, axe_source, browser_errors):
    page.goto("/login")
    page.get_by_label("Email").fill(CUSTOMER)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Login").click()
    expect(page.locator("#visitor-nav")).to_contain_text("Log out")
    found: list[str] = []
    for path in (
        "/",
        "/products",
        "/products/tshirt",
        "/account",
        "/account/addresses",
        "/account/addresses/new",
        "/orders",
        f"/orders/{shop['order']}",
        "/change",
        "/tf-setup",
        "/mf-recovery-codes",
    ):
        page.goto(path)
        found += violations(page, axe_source)
    # Two-factor set-up with the authenticator app chosen (its QR code), and the recovery codes.
    page.goto("/tf-setup")
    page.get_by_label("Set up using an authenticator app").check()
    page.get_by_role("button", name="Submit", exact=True).click()
    expect(page.locator("#qrcode")).to_be_visible()
    found += violations(page, axe_source)
    page.goto("/mf-recovery-codes")
    page.get_by_role("button", name="Generate New Recovery Codes").click()
    expect(page.locator("main li.fs-div")).to_have_count(5)  # the codes
    found += violations(page, axe_source)
    assert found == [], "\n".join(found)
    assert browser_errors == []


def test_the_option_pickers_work_by_keyboard(shop, page, browser_errors):
    """Tab to each option, arrow to a value, Enter on the button: that variant is in the cart."""
    page.goto("/products/tshirt")
    page.get_by_label("Size").focus()
    page.keyboard.press("ArrowDown")  # S -> M
    page.keyboard.press("Tab")
    expect(page.get_by_label("Colour")).to_be_focused()
    page.keyboard.press("ArrowDown")  # red -> blue
    page.keyboard.press("Tab")
    expect(page.get_by_label("Quantity")).to_be_focused()
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Add to cart")).to_be_focused()
    page.keyboard.press("Enter")

    expect(page.locator("h1")).to_contain_text("cart", ignore_case=True)
    expect(page.locator("main table")).to_contain_text("Size M, Colour blue")
    assert browser_errors == []


def test_the_language_selector_works_by_keyboard(shop, page, browser_errors):
    """Tab to the footer's selector, arrow to Deutsch, Enter on its button: the page is German."""
    page.goto("/products/tshirt")
    page.get_by_label("Language").focus()
    page.keyboard.press("ArrowDown")  # English -> Deutsch
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Change")).to_be_focused()
    page.keyboard.press("Enter")

    expect(page.locator("html")).to_have_attribute("lang", "de")
    expect(page.get_by_role("button", name="In den Warenkorb")).to_be_visible()
    expect(page.get_by_label("Sprache")).to_have_value("de_DE")
    assert browser_errors == []
