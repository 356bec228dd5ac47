"""A customer ships to Germany with VAT included: the checkout lists the EU's methods, the
customer picks Express, and the order page and the e-mail show subtotal, shipping, tax and
total. A US-style shop (prices without tax) adds the tax instead. An admin deletes a zone and
cannot delete a tax class in use. Headless Chromium against a live server."""

from decimal import Decimal

import pytest
from playwright.sync_api import expect

from app.accounts.datastore import user_datastore
from app.extensions import db
from app.shipping.models import ShippingMethod, ShippingZone, ShippingZoneCountry
from app.taxes.models import TaxClass, TaxRate
from tests.e2e.test_shop_journey import body, mails_with_subject
from tests.factories import ProductFactory, UserFactory, create
from tests.helpers import ADMIN_EMAIL, GOOD_CARD, fill_checkout, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def test_a_customer_picks_a_shipping_method_and_sees_every_part(
    live_app, page, live_server, outbox_dir, screenshot, browser_errors
):
    with live_app.app_context():
        eu = ShippingZone(name="EU", countries=[ShippingZoneCountry(country="DE")])
        eu.methods = [
            ShippingMethod(name="Standard", price_cents=495),
            ShippingMethod(name="Express", price_cents=1200, position=1),
        ]
        db.session.add_all([eu, TaxRate(country="DE", rate=Decimal("19"))])
        db.session.commit()
    create(live_app, ProductFactory, name="Sencha Green Tea", price_cents=450, stock=10)
    create(live_app, UserFactory, email="shipper@example.com")
    sign_in(page, "shipper@example.com")

    page.goto("/products/sencha-green-tea")
    page.fill("#quantity", "2")
    page.locator("#add-to-cart").get_by_role("button", name="Add to cart").click()
    expect(page.locator("#cart-tax")).to_have_text("€1.44")  # 9.00 incl. 19 %
    page.click("#checkout-link")
    expect(page.locator("#shipping-methods")).to_contain_text("Standard (€4.95)")
    expect(page.locator("#summary-totals #order-total")).to_have_text("€13.95")
    fill_checkout(page, GOOD_CARD)
    page.get_by_label("Express (€12.00)").check()
    screenshot("shipping-01-checkout")
    page.click("#place-order")

    expect(page.locator("#totals-subtotal")).to_have_text("€9.00")
    expect(page.locator("#order-totals")).to_contain_text("Shipping (Express)")
    expect(page.locator("#totals-shipping")).to_have_text("€12.00")
    expect(page.locator("#totals-tax")).to_have_text("€3.36")  # 1.44 + 1.92, included
    expect(page.locator("#order-total")).to_have_text("€21.00")
    screenshot("shipping-02-order")
    number = page.locator("#order-number").inner_text()
    [mail] = mails_with_subject(outbox_dir, f"Your order {number}")
    text = body(mail)
    for part in ("Subtotal: €9.00", "Shipping (Express): €12.00", "Included tax: €3.36"):
        assert part in text
    assert "Total: €21.00" in text
    assert browser_errors == []


@pytest.mark.app_config(SHOP_PRICES_INCLUDE_TAX=False, SHOP_COUNTRY="US", SHOP_CURRENCY="USD")
def test_a_us_customer_sees_the_tax_added_to_subtotal_and_shipping(
    live_app, page, live_server, outbox_dir, screenshot, browser_errors
):
    with live_app.app_context():
        us = ShippingZone(name="United States", countries=[ShippingZoneCountry(country="US")])
        us.methods = [
            ShippingMethod(name="Ground", price_cents=795),
            ShippingMethod(name="Two-day", price_cents=2000, position=1),
        ]
        db.session.add_all([us, TaxRate(country="US", rate=Decimal("8.875"))])
        db.session.commit()
    create(live_app, ProductFactory, name="Drip Coffee", price_cents=400, stock=10)
    create(live_app, UserFactory, email="buyer@example.com")
    sign_in(page, "buyer@example.com")

    page.goto("/products/drip-coffee")
    page.fill("#quantity", "3")
    page.locator("#add-to-cart").get_by_role("button", name="Add to cart").click()
    # Each line and shipping taxed on its own, half up: 12.00 x 8.875 % = 1.065 -> 1.07.
    expect(page.locator("#cart-tax")).to_have_text("$1.07")
    page.click("#checkout-link")
    expect(page.locator("#shipping-methods")).to_contain_text("Ground ($7.95)")
    # 12.00 + 7.95 + tax (1.07 + 0.70556 -> 0.71) = 21.73
    expect(page.locator("#summary-totals #totals-tax")).to_have_text("$1.78")
    expect(page.locator("#summary-totals #order-total")).to_have_text("$21.73")
    fill_checkout(page, GOOD_CARD)
    page.fill("#line1", "350 Fifth Avenue")
    page.fill("#city", "New York")
    page.fill("#postcode", "10118")
    page.select_option("#country", label="United States")
    page.get_by_label("Two-day ($20.00)").check()
    screenshot("shipping-us-01-checkout")
    page.click("#place-order")

    # Tax 1.07 + 1.78 (20.00 x 8.875 % = 1.775, half up), added: 12.00 + 20.00 + 2.85 = 34.85.
    # One rounding of the whole (3.20 x 8.875 % = 2.84) or half-even (1.06 + 1.78) would differ.
    expect(page.locator("#totals-subtotal")).to_have_text("$12.00")
    expect(page.locator("#order-totals")).to_contain_text("Shipping (Two-day)")
    expect(page.locator("#totals-shipping")).to_have_text("$20.00")
    expect(page.locator("#order-totals")).to_contain_text("Tax")
    expect(page.locator("#order-totals")).not_to_contain_text("Included tax")
    expect(page.locator("#totals-tax")).to_have_text("$2.85")
    expect(page.locator("#order-total")).to_have_text("$34.85")
    screenshot("shipping-us-02-order")
    number = page.locator("#order-number").inner_text()
    [mail] = mails_with_subject(outbox_dir, f"Your order {number}")
    text = body(mail)
    for part in (
        "Subtotal: $12.00",
        "Shipping (Two-day): $20.00",
        "Tax: $2.85",
        "Total: $34.85",
        "New York",
    ):
        assert part in text
    assert "Included tax" not in text
    assert browser_errors == []


def test_an_admin_deletes_a_zone_after_confirming_and_not_a_tax_class_in_use(
    live_app, page, live_server, screenshot, browser_errors
):
    with live_app.app_context():
        user_datastore.find_or_create_role("admin")
        books = TaxClass(name="Books")
        zone = ShippingZone(name="EU", countries=[ShippingZoneCountry(country="DE")])
        zone.methods = [ShippingMethod(name="Standard", price_cents=495)]
        db.session.add_all([books, zone])
        db.session.commit()
        books_id = books.id
    create(live_app, ProductFactory, name="Novel", tax_class_id=books_id)
    create(live_app, UserFactory, email=ADMIN_EMAIL, roles=["admin"])
    sign_in(page, ADMIN_EMAIL)
    page.goto("/admin/shipping-zones/")
    delete = page.locator("table.model-list").get_by_title("Delete Record")

    asked = []
    page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.dismiss()))
    delete.click()
    page.wait_for_load_state("networkidle")
    assert asked == ["Are you sure you want to delete this record?"]
    expect(page.locator("table.model-list")).to_contain_text("EU")
    page.once("dialog", lambda dialog: dialog.accept())
    delete.click()

    expect(page.locator(".alert-success")).to_contain_text("Record was successfully deleted.")
    expect(page.locator("table.model-list")).not_to_contain_text("Standard")
    screenshot("shipping-admin-01-zone-deleted")
    page.goto("/admin/tax-classes/")
    page.once("dialog", lambda dialog: dialog.accept())
    page.locator("table.model-list").get_by_title("Delete Record").click()
    expect(page.locator(".alert-danger")).to_contain_text(
        "1 product uses this class: move it to another class first."
    )
    expect(page.locator("table.model-list")).to_contain_text("Books")
    assert browser_errors == []
