"""A customer pays by Stripe: checkout sends the browser to the (fake) Stripe Checkout page, a
declined card stays there, the next one pays, and the shop's order page shows it paid.

Real headless Chromium against the app on a real HTTP server and the fake Stripe's payment page
(tests/stripe_fake.py), on SQLite and on MariaDB. The CSP lets the checkout form go there only
because Stripe is enabled (its origin is the fake's here).
"""

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.test_app_customer_journey import app_log_in, fill_app_address, tea_to_checkout
from tests.e2e.test_shop_journey import mails_with_subject
from tests.factories import ProductFactory, UserFactory, create
from tests.helpers import fill_address, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def to_stripe_checkout(live_app, page) -> None:
    """A customer with a tea in the cart, at checkout with an address and Stripe chosen."""
    create(live_app, ProductFactory, name="Sencha Green Tea", price_cents=450, stock=10)
    create(live_app, UserFactory, email="ada@example.com")
    sign_in(page, "ada@example.com")
    page.goto("/products/sencha-green-tea")
    page.locator("#add-to-cart").get_by_role("button", name="Add to cart").click()
    page.click("#checkout-link")
    fill_address(page)
    page.get_by_label("Card (Stripe)").check()


def test_a_customer_pays_on_stripes_page(
    live_app, page, live_server, stripe_fake, outbox_dir, screenshot, browser_errors
):
    to_stripe_checkout(live_app, page)
    expect(page.locator("#stripe-note")).to_contain_text("Stripe's secure page")
    page.click("#place-order")

    expect(page).to_have_url(re.compile(re.escape(f"{stripe_fake.url}/c/pay/cs_test_")))
    page.get_by_role("button", name="Decline").click()
    expect(page.get_by_text("Your card was declined.")).to_be_visible()
    screenshot("stripe-01-declined")
    page.get_by_role("button", name=re.compile(r"^Pay ")).click()

    expect(page).to_have_url(re.compile(re.escape(f"{live_server}/orders/SF-")))
    expect(page.locator("#order-status")).to_have_text("Paid")
    expect(page.locator(".alert-success")).to_contain_text("is paid")
    expect(page.locator("#pay-now")).to_have_count(0)
    screenshot("stripe-02-paid")
    number = page.locator("#order-number").inner_text()
    assert len(mails_with_subject(outbox_dir, f"Your order {number}")) == 1
    assert browser_errors == []


def test_a_customer_who_goes_back_can_pay_later(
    live_app, page, live_server, stripe_fake, browser_errors
):
    to_stripe_checkout(live_app, page)
    page.click("#place-order")
    page.get_by_role("button", name="Back").click()

    expect(page.locator("#order-status")).to_have_text("Pending payment")
    expect(page.locator("#payment-waiting")).to_contain_text("not paid yet")
    page.click("#pay-now")
    page.get_by_role("button", name=re.compile(r"^Pay ")).click()
    expect(page.locator("#order-status")).to_have_text("Paid")
    assert browser_errors == []


def test_a_customer_pays_on_stripes_page_from_the_app(
    live_app, page, live_server, stripe_fake, outbox_dir, browser_errors
):
    """The React storefront: Stripe's page sends the customer back to the app's screen for the
    order, which shows it paid at once (the API asks Stripe: no webhook here)."""
    create(live_app, ProductFactory, name="Sencha Green Tea", price_cents=450, stock=10)
    create(live_app, UserFactory, email="ada@example.com")
    app_log_in(page, "ada@example.com")
    tea_to_checkout(page)
    fill_app_address(page, "Ada")
    page.get_by_label("Card (Stripe)").check()
    page.get_by_role("button", name="Place order").click()

    expect(page).to_have_url(re.compile(re.escape(f"{stripe_fake.url}/c/pay/cs_test_")))
    page.get_by_role("button", name="Back").click()  # Stripe's cancel_url: the app's screen
    expect(page).to_have_url(re.compile(re.escape(f"{live_server}/app/account/orders/SF-")))
    expect(page.locator("#order-status")).to_have_text("Waiting for payment")
    page.get_by_role("link", name="Pay now").click()
    page.get_by_role("button", name=re.compile(r"^Pay ")).click()

    expect(page).to_have_url(re.compile(r"/app/account/orders/SF-\w+$"))  # session_id dropped
    expect(page.locator("#order-status")).to_have_text("Paid")
    expect(page.get_by_role("link", name="Pay now")).to_have_count(0)
    number = page.get_by_role("heading", level=1).inner_text().removeprefix("Order ")
    assert len(mails_with_subject(outbox_dir, f"Your order {number}")) == 1
    assert browser_errors == []
