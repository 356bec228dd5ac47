"""The issue's journey: an admin refunds one line of a paid order from its page in the back
office, then the customer downloads the invoice and the credit note from their order's page.
Headless Chromium against a live server, the PDFs read back."""

import io

import pytest
from playwright.sync_api import expect
from pypdf import PdfReader

from app.accounts.datastore import user_datastore
from app.extensions import db
from tests.factories import ProductFactory, UserFactory, create, place
from tests.helpers import ADMIN_EMAIL, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def pdf_text(download) -> str:
    reader = PdfReader(io.BytesIO(download.path().read_bytes()))
    return "\n".join(page.extract_text() for page in reader.pages)


def test_an_admin_refunds_one_line_and_the_customer_downloads_both_documents(
    live_app, chromium, page, live_server, screenshot, browser_errors
):
    with live_app.app_context():
        user_datastore.find_or_create_role("admin")
        db.session.commit()
    create(live_app, UserFactory, email=ADMIN_EMAIL, roles=["admin"])
    buyer = create(live_app, UserFactory, email="buyer@example.com")
    tea = create(live_app, ProductFactory, name="Sencha", price_cents=450, stock=20)
    cup = create(live_app, ProductFactory, name="Tea cup", price_cents=1200, stock=20)
    number = place(live_app, buyer, (tea, 2), (cup, 1))

    sign_in(page, ADMIN_EMAIL)
    page.goto(f"/admin/orders/details/?id={number}")
    form = page.locator("#refund-form")
    form.get_by_label("Units of").last.fill("1")  # the tea cup's line
    form.get_by_label("Put the refunded units back in stock").check()
    form.get_by_label("Reason").fill("Arrived broken")
    screenshot("refund-01-form")
    form.get_by_role("button", name="Refund").click()

    expect(page.locator(".alert-success")).to_contain_text("Refunded €12.00")
    expect(page.locator("#order-status")).to_have_text("Partially refunded")
    expect(page.locator("#refunded")).to_contain_text("Refunded €12.00 of €21.00 paid.")

    context = chromium.new_context(base_url=live_server, accept_downloads=True)
    customer = context.new_page()
    sign_in(customer, "buyer@example.com")
    customer.goto(f"/orders/{number}")
    expect(customer.locator("#order-status")).to_have_text("Partially refunded")
    with customer.expect_download() as invoice:
        customer.locator("#invoice-link").click()
    with customer.expect_download() as credit_note:
        customer.locator(".credit-note-link").click()

    invoice_text, credit_text = pdf_text(invoice.value), pdf_text(credit_note.value)
    assert "Invoice INV-000001" in invoice_text
    assert "€21.00" in invoice_text
    assert "Credit note CN-000001" in credit_text
    assert "Tea cup" in credit_text
    assert "Sencha" not in credit_text
    assert "€12.00" in credit_text
    assert browser_errors == []
    context.close()
