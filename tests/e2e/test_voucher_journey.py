"""A customer applies a voucher code in the cart and pays the discounted total: the cart, the
checkout, the order page and the e-mail show the discount. Headless Chromium, live server."""

from datetime import timedelta

import pytest
from playwright.sync_api import expect

from app.catalog.models import Category
from app.extensions import db
from app.sales.models import Sale
from app.timestamps import utcnow
from app.vouchers.models import Voucher
from tests.e2e.test_shop_journey import body, mails_with_subject
from tests.factories import CategoryFactory, ProductFactory, UserFactory, create
from tests.helpers import GOOD_CARD, fill_checkout, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def test_a_customer_applies_a_code_and_pays_the_discounted_total(
    live_app, page, live_server, outbox_dir, screenshot, browser_errors
):
    with live_app.app_context():
        db.session.add(Voucher(code="SPRING5", kind="fixed", value=500, min_subtotal_cents=2000))
        db.session.commit()
    create(live_app, ProductFactory, name="Sencha Green Tea", price_cents=450, stock=10)
    create(live_app, UserFactory, email="saver@example.com")
    sign_in(page, "saver@example.com")

    page.goto("/products/sencha-green-tea")
    page.fill("#quantity", "2")
    page.locator("#add-to-cart").get_by_role("button", name="Add to cart").click()
    page.fill("#voucher_code", "spring5")
    page.get_by_role("button", name="Apply").click()
    expect(page.locator(".alert-danger")).to_contain_text("does not reach this code's minimum")

    page.locator("#cart-lines tbody tr input.qty").fill("5")
    page.locator("#cart-lines tbody tr").get_by_role("button", name="Update").click()
    page.fill("#voucher_code", "spring5")
    page.get_by_role("button", name="Apply").click()
    expect(page.locator(".alert-success")).to_have_text("The code is applied.")
    expect(page.locator("#cart-discount")).to_have_text("−€5.00")
    screenshot("voucher-01-cart")

    page.click("#checkout-link")
    expect(page.locator("#voucher")).to_contain_text("SPRING5")
    expect(page.locator("#summary-totals #order-total")).to_have_text("€17.50")
    fill_checkout(page, GOOD_CARD)
    page.click("#place-order")

    expect(page.locator("#totals-discount")).to_have_text("−€5.00")
    expect(page.locator("#order-total")).to_have_text("€17.50")
    number = page.locator("#order-number").inner_text()
    [mail] = mails_with_subject(outbox_dir, f"Your order {number}")
    assert "Discount (SPRING5): -€5.00" in body(mail)
    screenshot("voucher-02-order")
    assert browser_errors == []


def test_a_visitor_sees_a_sale_struck_through_and_a_code_stacks_on_it(
    live_app, page, live_server, outbox_dir, screenshot, browser_errors
):
    """A sale of 20 % on tea: the listing and the product page strike 4.50 through for 3.60;
    a 10 % code comes off the sale prices; the order and the e-mail keep both prices."""
    tea = create(live_app, CategoryFactory, name="Tea")
    create(live_app, ProductFactory, name="Sencha", price_cents=450, stock=10, category_id=tea)
    with live_app.app_context():
        now = utcnow()
        db.session.add_all(
            [
                Sale(
                    name="Tea week",
                    percent=20,
                    starts_at=now - timedelta(hours=1),
                    ends_at=now + timedelta(days=1),
                    categories=[db.session.get(Category, tea)],
                ),
                Voucher(code="TEN", kind="percent", value=10),
            ]
        )
        db.session.commit()
    create(live_app, UserFactory, email="bargain@example.com")

    page.goto("/products")
    card = page.locator(".product-card", has_text="Sencha")
    expect(card.locator(".regular-price")).to_have_text("€4.50")
    expect(card.locator(".sale-price")).to_have_text("€3.60")
    screenshot("sale-01-listing")
    sign_in(page, "bargain@example.com")
    page.goto("/products/sencha")
    expect(page.locator("#sale-note")).to_contain_text("Tea week: 20 % off until")
    page.fill("#quantity", "5")
    page.locator("#add-to-cart").get_by_role("button", name="Add to cart").click()
    expect(page.locator("#cart-lines .regular-price")).to_have_text("€4.50")
    expect(page.locator("#cart-subtotal")).to_have_text("€18.00")
    page.fill("#voucher_code", "ten")
    page.get_by_role("button", name="Apply").click()
    expect(page.locator("#cart-discount")).to_have_text("−€1.80")
    screenshot("sale-02-cart")

    page.click("#checkout-link")
    fill_checkout(page, GOOD_CARD)
    page.click("#place-order")

    expect(page.locator("#order-lines .regular-price")).to_have_text("€4.50")
    expect(page.locator("#totals-subtotal")).to_have_text("€18.00")
    expect(page.locator("#order-total")).to_have_text("€16.20")
    number = page.locator("#order-number").inner_text()
    [mail] = mails_with_subject(outbox_dir, f"Your order {number}")
    assert "5 x Sencha (SKU-SENCHA)  €18.00 (on sale, was €22.50)" in body(mail)
    screenshot("sale-03-order")
    assert browser_errors == []
