"""The React storefront (frontend/, built by `make frontend`) through Flask: a customer
registers, confirms from the outbox, turns on two-factor authentication, logs out, logs in
with password and code, buys, and finds the order in the account.

Flask-Security's own JSON views do the accounts (/register, /login, /tf-setup, /tf-validate,
/logout), as it documents for single-page apps: the session cookie, the XSRF-TOKEN cookie's
token in the X-XSRF-Token header, and nothing in the browser's storage.
"""

import re
import time

import pytest
from passlib.totp import TOTP
from playwright.sync_api import expect
from sqlalchemy import select

from app.catalog.models import Product
from app.extensions import db
from tests.e2e.test_accessibility import axe_source, violations  # noqa: F401 (a fixture)
from tests.e2e.test_app_catalogue_journey import built_app  # noqa: F401 (a fixture)
from tests.e2e.test_shop_journey import body, mails, mails_with_subject
from tests.factories import ProductFactory, UserFactory, create
from tests.helpers import GOOD_CARD, PASSWORD

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

CUSTOMER = "reader@example.com"


def app_log_in(page, email: str, password: str = PASSWORD) -> None:
    """The app's login screen, without a second factor: lands on the account."""
    page.goto("/app/login")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(r"/app/account$"))


def fill_app_address(page, name: str) -> None:
    """The checkout's new address: in Berlin."""
    page.get_by_label("Name").fill(name)
    page.get_by_label("Street and number").fill("Unter den Linden 1")
    page.get_by_label("Postcode").fill("10117")
    page.get_by_label("City").fill("Berlin")
    page.get_by_label("Country").select_option(label="Germany")


def tea_to_checkout(page) -> None:
    """From any screen: the tea into the cart, and on to the checkout."""
    page.get_by_role("link", name="Storefront").click()
    page.get_by_role("link", name="Sencha Green Tea").click()
    page.get_by_role("button", name="Add to cart").click()
    page.get_by_role("link", name="See your cart").click()
    page.get_by_role("link", name="Check out").click()


def test_a_customer_registers_confirms_logs_in_with_2fa_and_buys(
    live_app,
    page,
    live_server,
    outbox_dir,
    axe_source,  # noqa: F811
    screenshot,
    browser_errors,
):
    create(live_app, ProductFactory, name="Sencha Green Tea", price_cents=450, stock=10)

    page.goto("/app/register")
    page.get_by_label("E-mail").fill(CUSTOMER)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Password again").fill(PASSWORD)
    assert violations(page, axe_source) == []
    page.get_by_role("button", name="Register").click()
    expect(page.get_by_role("status")).to_contain_text("We have sent a link to reader@example.com")
    [welcome] = [m for m in mails(outbox_dir) if "/confirm/" in body(m)]
    [confirm] = re.findall(re.escape(live_server) + r"/confirm/[\w.-]+", body(welcome))
    page.goto(confirm)  # the shop's own confirmation page

    page.goto("/app/login")
    page.get_by_label("E-mail").fill(CUSTOMER)
    page.get_by_label("Password").fill(PASSWORD)
    assert violations(page, axe_source) == []
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(r"/app/account$"))
    expect(page.locator("#two-factor-status")).to_contain_text("Off.")
    page.get_by_role("button", name="Set up an authenticator app").click()
    key = page.locator("#tf-key").inner_text().replace("-", "")
    page.get_by_label("The code your app shows").fill(TOTP(key=key).generate().token)
    page.get_by_role("button", name="Turn on").click()
    expect(page.locator("#two-factor-status")).to_contain_text("On:")
    assert violations(page, axe_source) == []
    assert page.evaluate("localStorage.length + sessionStorage.length") == 0

    # Logging out from the account page leaves it before anything is asked again: no request
    # for the customer's orders as a guest (a 401, and a flash of an error, on a slow machine).
    asked = []
    page.on("request", lambda request: asked.append(request.url))
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("link", name="Log in")).to_be_visible()
    expect(page.get_by_role("heading", name="Products")).to_be_visible()
    assert [url for url in asked if "/api/v1/orders" in url or "/api/v1/me" in url] == []
    page.get_by_role("link", name="Log in").click()
    page.get_by_label("E-mail").fill(CUSTOMER)
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("alert")).to_contain_text("Invalid password")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_label("Authentication code").fill("000000")
    page.get_by_role("button", name="Verify").click()
    expect(page.get_by_role("alert")).to_contain_text("Invalid code")
    # The code set up with is spent: the next 30 s window's (the check allows that skew).
    page.get_by_label("Authentication code").fill(TOTP(key=key).generate(time.time() + 30).token)
    page.get_by_role("button", name="Verify").click()
    expect(page).to_have_url(re.compile(r"/app/account$"))
    expect(page.locator("#orders")).to_have_count(0)

    tea_to_checkout(page)
    expect(page.get_by_text(f"Ordering as {CUSTOMER}.")).to_be_visible()
    fill_app_address(page, "Reader")
    page.get_by_label("Test card").check()
    page.get_by_label("Card number").fill(GOOD_CARD)
    page.get_by_role("button", name="Place order").click()
    expect(page).to_have_url(re.compile(r"/app/account/orders/SF-\w+$"))
    number = page.get_by_role("heading", level=1).inner_text().removeprefix("Order ")
    expect(page.locator("#order-status")).to_have_text("Paid")
    screenshot("app-customer-01-order")

    page.get_by_role("link", name="Your account").click()
    expect(page.locator("#orders")).to_contain_text(number)
    assert violations(page, axe_source) == []
    page.set_viewport_size({"width": 360, "height": 740})  # a phone: nothing wider than it
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    expect(page.locator("#orders")).to_contain_text("€4.50")
    page.get_by_role("link", name=number).click()
    expect(page.locator("#order-lines")).to_contain_text("Sencha Green Tea")
    assert mails_with_subject(outbox_dir, f"Your order {number}")
    page.get_by_role("button", name="Cancel this order").click()  # paid, not shipped: it may
    expect(page.locator("#order-status")).to_have_text("Cancelled")
    expect(page.get_by_role("button", name="Cancel this order")).to_have_count(0)
    with live_app.app_context():
        assert db.session.scalar(select(Product.stock)) == 10  # the stock is back
    # Chromium logs every 4xx answer: the wrong password and the wrong code (400).
    expected = re.compile(r"status of 400 .*/(login|tf-validate)\)$")
    assert [error for error in browser_errors if not expected.search(error)] == []


def test_a_customer_who_forgot_the_password_resets_it_in_the_app(
    live_app,
    page,
    live_server,
    outbox_dir,
    axe_source,  # noqa: F811
    browser_errors,
):
    """Asked for in the app, the mailed link opens the app's own page for the new password."""
    create(live_app, UserFactory, email=CUSTOMER)
    new_password = "a brand new passphrase 42"

    page.goto("/app/login")
    page.get_by_role("link", name="Forgot your password?").click()
    page.get_by_label("E-mail").fill(CUSTOMER)
    page.get_by_role("button", name="Send the link").click()
    expect(page.get_by_role("status")).to_contain_text(
        f"instructions to reset your password to {CUSTOMER}"
    )
    [mail] = mails_with_subject(outbox_dir, "Password reset instructions")
    [link] = re.findall(re.escape(live_server) + r"/app/reset/[\w.$/-]+", body(mail))

    page.goto(link)
    expect(page).to_have_title(re.compile("Choose a new password"))
    assert violations(page, axe_source) == []
    page.get_by_label("New password", exact=True).fill(new_password)
    page.get_by_label("New password again").fill("not the same passphrase")
    page.get_by_role("button", name="Change the password").click()
    expect(page.get_by_role("alert")).to_contain_text("Passwords do not match")
    page.get_by_label("New password again").fill(new_password)
    page.get_by_role("button", name="Change the password").click()
    expect(page.get_by_role("status")).to_contain_text("Your password is changed.")

    page.get_by_role("link", name="Log in").last.click()
    page.get_by_label("E-mail").fill(CUSTOMER)
    page.get_by_label("Password").fill(new_password)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(r"/app/account$"))
    page.goto(link)  # spent: the password it set has changed the token's fingerprint
    page.get_by_label("New password", exact=True).fill(new_password)
    page.get_by_label("New password again").fill(new_password)
    page.get_by_role("button", name="Change the password").click()
    expect(page.get_by_role("alert")).to_contain_text("Invalid reset password token")
    expected = re.compile(r"status of 400 .*/reset/")  # the two refusals above
    assert [error for error in browser_errors if not expected.search(error)] == []


def test_a_customer_keeps_an_address_book_the_checkout_offers(
    live_app,
    page,
    axe_source,  # noqa: F811
    browser_errors,
):
    """Add, refuse a blank name (the API's 422), change, make the default, delete; the
    checkout then picks the default."""
    create(live_app, UserFactory, email=CUSTOMER)
    create(live_app, ProductFactory, name="Sencha Green Tea", price_cents=450, stock=10)
    app_log_in(page, CUSTOMER)
    expect(page.get_by_text("No saved addresses yet")).to_be_visible()

    def add(name: str, street: str, city: str) -> None:
        page.get_by_role("button", name="Add an address").click()
        form = page.get_by_role("form", name="A new address")
        form.get_by_label("Name").fill(name)
        form.get_by_label("Street and number").fill(street)
        form.get_by_label("Postcode").fill("10117")
        form.get_by_label("City").fill(city)
        form.get_by_label("Country").select_option(label="Germany")
        form.get_by_role("button", name="Save the address").click()

    add("   ", "Unter den Linden 1", "Berlin")
    expect(page.get_by_role("alert")).to_contain_text("name")
    assert violations(page, axe_source) == []
    page.get_by_role("form", name="A new address").get_by_label("Name").fill("Reader")
    page.get_by_role("button", name="Save the address").click()
    book = page.locator("#addresses")
    expect(book).to_contain_text("Reader, Unter den Linden 1, 10117 Berlin, Germany")
    expect(book.locator("li").first).to_contain_text("Default")  # the first one is
    add("Reader at work", "Friedrichstraße 100", "Berlin")
    expect(book.locator("li")).to_have_count(2)

    page.get_by_role("button", name="Make default for Reader at work, Friedrichstraße 100").click()
    expect(book.locator("li").first).to_contain_text("Reader at work")  # the default first
    page.get_by_role("button", name="Change Reader, Unter den Linden 1").click()
    form = page.get_by_role("form", name="Change the address")
    expect(form.get_by_label("City")).to_have_value("Berlin")
    form.get_by_label("City").fill("Potsdam")
    form.get_by_role("button", name="Save the address").click()
    expect(book).to_contain_text("Reader, Unter den Linden 1, 10117 Potsdam, Germany")
    assert violations(page, axe_source) == []
    page.get_by_role("button", name="Delete Reader, Unter den Linden 1").click()
    expect(book.locator("li")).to_have_count(1)

    tea_to_checkout(page)
    expect(page.get_by_label(re.compile("Reader at work, Friedrichstraße 100"))).to_be_checked()
    expected = re.compile(r"status of 422 .*/api/v1/addresses\)$")  # the blank name
    assert [error for error in browser_errors if not expected.search(error)] == []
