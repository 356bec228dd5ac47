"""The React storefront (frontend/, built by `make frontend`) through Flask: a guest picks a
variant in the gallery, fills the cart, applies a voucher, picks a shipping method, is
declined, pays with the test card, and reads the order.

Real headless Chromium, on SQLite and on MariaDB, under the site's strict CSP; every write
carries Flask-Security's X-XSRF-Token header (the API refuses a cookie-carrying write without).
"""

import re
from decimal import Decimal
from io import BytesIO

import pytest
from PIL import Image
from playwright.sync_api import expect
from sqlalchemy import select

from app.catalog import images
from app.catalog.models import Product, Variant
from app.extensions import db
from app.shipping.models import ShippingMethod, ShippingZone, ShippingZoneCountry
from app.taxes.models import TaxRate
from app.vouchers.models import Voucher
from tests.e2e.test_accessibility import axe_source, violations  # noqa: F401 (a fixture)
from tests.e2e.test_app_catalogue_journey import built_app  # noqa: F401 (a fixture)
from tests.e2e.test_shop_journey import mails_with_subject
from tests.factories import make_tshirt
from tests.helpers import DECLINED_CARD, GOOD_CARD

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

GUEST = "Walk.In@Example.com"


def jpeg(colour: tuple[int, int, int]) -> bytes:
    buffer = BytesIO()
    Image.new("RGB", (1200, 800), colour).save(buffer, "JPEG")
    return buffer.getvalue()


def test_a_guest_buys_a_variant(
    live_app,
    page,
    tmp_path,
    outbox_dir,
    axe_source,  # noqa: F811
    screenshot,
    browser_errors,
):
    variants = make_tshirt(live_app, stock=5)
    blue_m = variants[("M", "blue")]
    live_app.config["MEDIA_ROOT"] = tmp_path / "media"
    with live_app.app_context():
        product_id = db.session.scalar(select(Product.id).where(Product.slug == "tshirt"))
        pictures = [("red.jpg", jpeg((200, 30, 30)), "Red T-shirt")]
        pictures.append(("blue.jpg", jpeg((30, 60, 200)), "Blue T-shirt"))
        _red, blue = images.add_images(product_id, pictures)
        images.set_variant_image(blue_m, blue)
        eu = ShippingZone(name="EU", countries=[ShippingZoneCountry(country="DE")])
        eu.methods = [
            ShippingMethod(name="Standard", price_cents=495),
            ShippingMethod(name="Express", price_cents=1200, position=1),
        ]
        voucher = Voucher(code="SPRING5", kind="fixed", value=500, min_subtotal_cents=2000)
        db.session.add_all([eu, TaxRate(country="DE", rate=Decimal("19")), voucher])
        db.session.commit()
    gallery = page.locator("#gallery img").first
    writes = []
    page.on(
        "request",
        lambda request: request.method != "GET" and writes.append(request.headers),
    )

    page.goto("/app/")
    page.get_by_role("link", name="T-shirt").click()
    expect(page).to_have_url(re.compile(r"/app/products/tshirt$"))
    expect(page).to_have_title("T-shirt · Storefront")
    expect(page.locator("#availability")).to_have_text("Choose an option of each kind.")
    expect(gallery).to_have_attribute("alt", "Red T-shirt")
    page.get_by_role("button", name="Picture 2: Blue T-shirt").click()
    expect(gallery).to_have_attribute("alt", "Blue T-shirt")
    page.get_by_role("button", name="Picture 1: Red T-shirt").click()
    expect(page.get_by_role("button", name="Add to cart")).to_be_disabled()
    page.get_by_text("M", exact=True).click()
    page.get_by_text("blue", exact=True).click()
    expect(page).to_have_url(re.compile(rf"/app/products/tshirt\?variant={blue_m}$"))
    expect(page.locator("#availability")).to_have_text("5 in stock")
    expect(gallery).to_have_attribute("alt", "Blue T-shirt")  # the variant's own picture
    assert page.evaluate("document.querySelector('#gallery img').naturalWidth") > 0
    page.get_by_label("Quantity").fill("2")
    assert violations(page, axe_source) == []
    page.get_by_role("button", name="Add to cart").click()
    expect(page.get_by_text("Added to your cart.")).to_be_visible()
    expect(page.locator("#cart-link")).to_contain_text("2")

    page.get_by_role("link", name="See your cart").click()
    expect(page.locator("#cart-lines")).to_contain_text("Size M, Colour blue")
    expect(page.locator("#cart-totals")).to_contain_text("€30.00")
    page.get_by_label("Voucher code").fill("spring5")
    page.get_by_role("button", name="Apply").click()
    expect(page.locator("#cart-totals")).to_contain_text("Voucher SPRING5−€5.00")
    expect(page.locator("#cart-totals-total")).to_have_text("€25.00")
    assert violations(page, axe_source) == []
    page.get_by_role("link", name="Check out").click()

    page.get_by_label("E-mail").fill(GUEST)
    page.get_by_label("Name").fill("Ada Lovelace")
    page.get_by_label("Street and number").fill("Unter den Linden 1")
    page.get_by_label("Postcode").fill("10117")
    page.get_by_label("City").fill("Berlin")
    page.get_by_label("Country").select_option(label="Germany")
    expect(page.locator("#checkout-totals-total")).to_have_text("€29.95")  # Standard
    page.get_by_label("Express: €12.00").check()
    expect(page.locator("#checkout-totals-total")).to_have_text("€37.00")
    page.get_by_label("Test card").check()
    page.get_by_label("Card number").fill(DECLINED_CARD)
    assert violations(page, axe_source) == []
    screenshot("app-guest-01-checkout")
    page.get_by_role("button", name="Place order").click()
    expect(page.get_by_role("alert")).to_contain_text("Your card was declined")

    page.get_by_label("Card number").fill(GOOD_CARD)
    page.get_by_role("button", name="Place order").click()
    expect(page).to_have_url(re.compile(r"/app/orders/guest/[\w.-]+$"))
    expect(page.get_by_role("status")).to_contain_text("Thank you! Your order")
    expect(page.locator("#order-status")).to_have_text("Paid")
    expect(page.locator("#order-lines")).to_contain_text("T-shirt (Size M, Colour blue)")
    expect(page.locator("#order-totals")).to_contain_text("Shipping (Express)€12.00")
    expect(page.locator("#order-totals")).to_contain_text("Voucher SPRING5−€5.00")
    expect(page.locator("#order-totals-total")).to_have_text("€37.00")
    number = page.get_by_role("heading", level=1).inner_text().removeprefix("Order ")
    assert violations(page, axe_source) == []
    screenshot("app-guest-02-order")
    page.set_viewport_size({"width": 360, "height": 740})  # a phone: nothing wider than it
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    page.set_viewport_size({"width": 1280, "height": 800})
    expect(page.locator("#cart-link")).to_have_text("Cart")

    page.reload()  # the link is the guest's way back to the order
    expect(page.locator("#order-lines")).to_contain_text("T-shirt")
    [confirmation] = mails_with_subject(outbox_dir, f"Your order {number}")
    assert confirmation["To"] == GUEST.lower()
    with live_app.app_context():
        assert db.session.get(Variant, blue_m).stock == 3
    assert writes, "the journey wrote through the API"
    assert all(headers.get("x-xsrf-token") for headers in writes)
    # Chromium logs every 4xx answer: the declined card (402).
    expected = re.compile(r"status of 402 .*/api/v1/orders\)$")
    assert [error for error in browser_errors if not expected.search(error)] == []
