"""A visitor buys without an account, opens the order from the e-mail's link in another
browser, and later registers: confirming the address brings the order into the account.

Real headless Chromium against the app on a real HTTP server, on SQLite and on MariaDB.
"""

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.test_shop_journey import body, mails, mails_with_subject
from tests.factories import ProductFactory, create
from tests.helpers import GOOD_CARD, PASSWORD, fill_checkout

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

GUEST = "Walk.In@Example.com"


def test_a_guest_buys_and_views_the_order_from_the_email_link(
    live_app, chromium, page, live_server, outbox_dir, screenshot, browser_errors
):
    create(live_app, ProductFactory, name="Sencha Green Tea", price_cents=450, stock=10)

    page.goto("/products/sencha-green-tea")
    page.fill("#quantity", "2")
    page.locator("#add-to-cart").get_by_role("button", name="Add to cart").click()
    expect(page).to_have_url(f"{live_server}/cart")
    page.click("#checkout-link")
    expect(page).to_have_url(f"{live_server}/checkout")
    expect(page.locator("#summary-totals #order-total")).to_have_text("€9.00")

    fill_checkout(page, GOOD_CARD)
    page.click("#place-order")
    expect(page.locator("#email").locator("..")).to_contain_text("This field is required.")
    page.fill("#email", GUEST)
    page.check("#billing_other")
    page.fill("#billing-name", "Walk-In GmbH")
    page.fill("#billing-line1", "Friedrichstr. 10")
    page.fill("#billing-city", "Berlin")
    page.fill("#billing-postcode", "10117")
    page.locator("#billing-country").select_option(label="Germany")
    screenshot("guest-01-checkout")
    page.click("#place-order")

    expect(page).to_have_url(re.compile(re.escape(f"{live_server}/orders/view/")))
    expect(page.locator(".alert-success")).to_contain_text("Thank you! Your order")
    number = page.locator("#order-number").inner_text()
    expect(page.locator("#billing-address")).to_contain_text("Walk-In GmbH")
    expect(page.locator("#cancel-order")).to_have_count(0)
    screenshot("guest-02-order")

    [confirmation] = mails_with_subject(outbox_dir, f"Your order {number}")
    assert confirmation["To"] == GUEST.lower()
    [link] = re.findall(re.escape(live_server) + r"/orders/view/[\w.-]+", body(confirmation))

    elsewhere = chromium.new_context(base_url=live_server)
    other_page = elsewhere.new_page()
    other_page.goto(link)
    expect(other_page.locator("#order-number")).to_have_text(number)
    expect(other_page.locator("#guest-order-note")).to_contain_text(GUEST.lower())
    expect(other_page.locator("#order-lines")).to_contain_text("Sencha Green Tea")
    other_page.goto(link[:-3] + "abc")
    expect(other_page.locator("main")).to_contain_text("This order link is not valid")
    elsewhere.close()

    # Registering with the address joins the order once the address is confirmed.
    page.locator("nav").get_by_role("link", name="Register").click()
    page.fill("#email", GUEST.lower())
    page.fill("#password", PASSWORD)
    page.fill("#password_confirm", PASSWORD)
    page.click("#submit")
    welcome = [m for m in mails(outbox_dir) if "/confirm/" in body(m)]
    [confirm] = re.findall(re.escape(live_server) + r"/confirm/[\w.-]+", body(welcome[-1]))
    page.goto(confirm)
    page.fill("#email", GUEST.lower())
    page.fill("#password", PASSWORD)
    page.click("#submit")
    page.locator("nav").get_by_role("link", name="Orders").click()
    expect(page.locator("#orders")).to_contain_text(number)
    screenshot("guest-03-joined")
    assert browser_errors == []
