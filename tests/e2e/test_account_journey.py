"""A visitor registers, confirms the e-mail from the outbox, logs in, sees the account, logs out.

Real headless Chromium against the app on a real HTTP server, on SQLite and on MariaDB.
"""

import email
import re
from email import policy
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import expect

from tests.helpers import PASSWORD

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

EMAIL = "new.shopper@example.com"


def test_register_confirm_login_account_logout(
    page, live_server, outbox_dir, screenshot, browser_errors
):
    """The whole account journey a new customer takes, through the pages only."""
    # Given a visitor on the home page
    page.goto("/")
    expect(page.locator("h1")).to_have_text("Welcome to Storefront")
    screenshot("01-home")

    # When they register
    page.locator("main").get_by_role("link", name="Register").click()
    expect(page).to_have_url(f"{live_server}/register")
    page.fill("#email", EMAIL)
    page.fill("#password", PASSWORD)
    page.fill("#password_confirm", PASSWORD)
    screenshot("02-register-form")
    page.click("#submit")

    # Then they are back home, told to confirm, and one mail with the link is in the outbox
    expect(page).to_have_url(f"{live_server}/")
    expect(page.locator(".alert")).to_have_text(
        f"Thank you. To confirm your email address {EMAIL}, please click on the link"
        " in the email we have just sent to you."
    )
    screenshot("03-registered")
    [eml] = outbox_dir.glob("*.eml")
    message = email.message_from_bytes(eml.read_bytes(), policy=policy.default)
    assert message["To"] == EMAIL
    body = message.get_body(("plain",)).get_content()
    links = re.findall(re.escape(live_server) + r"/confirm/[\w.-]+", body)
    assert len(set(links)) == 1, body

    # When they open the confirmation link
    page.goto(links[0])

    # Then the e-mail is confirmed and they are asked to log in
    expect(page).to_have_url(f"{live_server}/login")
    expect(page.locator(".alert")).to_have_text("Thank you. Your email has been confirmed.")
    screenshot("04-confirmed")

    # When they log in
    page.fill("#email", EMAIL)
    page.fill("#password", PASSWORD)
    page.click("#submit")

    # Then they land on their account page as a customer without 2FA
    expect(page).to_have_url(f"{live_server}/account")
    expect(page.locator("#account-email")).to_have_text(EMAIL)
    expect(page.locator("#account-roles")).to_have_text("customer")
    expect(page.locator("#account-2fa")).to_have_text("off")
    expect(page.locator("nav")).to_contain_text(EMAIL)
    screenshot("05-account")

    # On the home page, which the page cache serves them as it serves every visitor (no
    # token of theirs in it), their own links and address still show (static/visitor.js)
    page.goto("/")
    expect(page.locator('meta[name="csrf-token"]')).to_have_count(0)  # the shared page
    expect(page.locator("nav")).to_contain_text(EMAIL)
    expect(page.locator("#user-email")).to_have_text(EMAIL)
    expect(page.locator("nav").get_by_role("link", name="Admin")).to_have_count(0)
    expect(page.get_by_role("link", name="Log in")).to_have_count(0)
    screenshot("05b-home-shared")

    # When they click "Log out" in the navbar (its form fetches this visitor's token)
    page.locator("nav").get_by_role("button", name="Log out").click()

    # Then the home page offers Register and Log in again
    expect(page).to_have_url(f"{live_server}/")
    for area in ("nav", "main"):
        expect(page.locator(area).get_by_role("link", name="Register")).to_be_visible()
        expect(page.locator(area).get_by_role("link", name="Log in")).to_be_visible()
    expect(page.get_by_role("button", name="Log out")).to_have_count(0)
    screenshot("06-logged-out")

    # And the account page now sends them to the login form
    page.goto("/account")
    url = urlsplit(page.url)
    assert (url.path, parse_qs(url.query)) == ("/login", {"next": ["/account"]})
    expect(page.locator("form[name=login_user_form]")).to_be_visible()
    screenshot("07-account-needs-login")

    assert browser_errors == []
