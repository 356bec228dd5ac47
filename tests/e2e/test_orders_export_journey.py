"""An admin narrows the orders to a month with the date filter's picker, then to a customer, and
downloads the CSV of what the list shows. Headless Chromium against a live server: the filter
widgets run from Flask-Admin's static scripts under the CSP, no error in the console."""

import csv
import io
from datetime import datetime

import pytest
from playwright.sync_api import expect
from sqlalchemy import update

from app.accounts.datastore import user_datastore
from app.extensions import db
from app.orders.models import Order
from tests.factories import ProductFactory, UserFactory, create, place
from tests.helpers import ADMIN_EMAIL, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def test_an_admin_filters_the_orders_by_month_and_customer_and_exports_them(
    live_app, page, live_server, screenshot, browser_errors
):
    with live_app.app_context():
        user_datastore.find_or_create_role("admin")
        db.session.commit()
    create(live_app, UserFactory, email=ADMIN_EMAIL, roles=["admin"])
    buyer = create(live_app, UserFactory, email="buyer@example.com")
    product = create(live_app, ProductFactory, name="Sencha", price_cents=450, stock=20)
    placed = {}
    for key, when in (("feb", "2026-02-28T23:59:59"), ("mar", "2026-03-15T12:00:00")):
        placed[key] = place(live_app, buyer, (product, 2), key=key)
        with live_app.app_context():
            db.session.execute(
                update(Order)
                .where(Order.number == placed[key])
                .values(created_at=datetime.fromisoformat(when))
            )
            db.session.commit()
    sign_in(page, ADMIN_EMAIL)

    page.goto("/admin/orders/")
    page.get_by_role("link", name="Add Filter").click()
    page.locator(".field-filters").get_by_role("link", name="Placed (UTC date)").click()
    dates = page.locator("input[name$='_placed_utc_date_between']")
    dates.fill("2026-03-01 to 2026-03-31")
    page.get_by_role("link", name="Add Filter").click()
    page.locator(".field-filters").get_by_role("link", name="Customer e-mail").click()
    page.locator("input[name$='_customer_email_contains']").fill("buyer@")
    screenshot("orders-01-filters")
    page.locator("#filter_form").get_by_role("button", name="Apply").click()

    expect(page.locator("table.model-list")).to_contain_text(placed["mar"])
    expect(page.locator("table.model-list")).not_to_contain_text(placed["feb"])
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Export CSV").click()
    text = download_info.value.path().read_text(encoding="utf-8")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [(row["Number"], row["Total"]) for row in rows] == [(placed["mar"], "9.00")]
    assert browser_errors == []
