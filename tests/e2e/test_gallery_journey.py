"""An admin uploads three photos to a product, reorders them and gives a variant its photo; a
visitor sees the gallery with responsive images, picking that variant shows its photo, and the
thumbnails work by keyboard. Headless Chromium against a live server (issue 28)."""

import re
from io import BytesIO

import pytest
from PIL import Image
from playwright.sync_api import expect
from sqlalchemy import select

from app.accounts.datastore import user_datastore
from app.catalog.models import Product
from app.extensions import db
from tests.factories import UserFactory, create, make_tshirt
from tests.helpers import ADMIN_EMAIL, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

COLOURS = {"red": (200, 30, 30), "blue": (30, 60, 200), "white": (235, 235, 235)}


def photo(path, colour, size=(1800, 1200)) -> str:
    """A JPEG of one colour, as a camera would send it (wider than every stored width)."""
    image = Image.new("RGB", size, COLOURS[colour])
    buffer = BytesIO()
    image.save(buffer, "JPEG", quality=80)
    path.write_bytes(buffer.getvalue())
    return str(path)


def test_an_admin_builds_a_gallery_and_a_visitor_sees_the_variants_photo(
    live_app, page, live_server, screenshot, browser_errors, tmp_path
):
    live_app.config["MEDIA_ROOT"] = tmp_path / "media"
    make_tshirt(live_app)
    with live_app.app_context():
        user_datastore.find_or_create_role("admin")
        db.session.commit()
        product_id = db.session.scalar(select(Product.id).where(Product.slug == "tshirt"))
    create(live_app, UserFactory, email=ADMIN_EMAIL, roles=["admin"])
    sign_in(page, ADMIN_EMAIL)

    # The admin uploads three photos at once, then moves the last one up a place.
    page.goto(f"/admin/products/{product_id}/images/")
    expect(page.locator("#no-images")).to_be_visible()
    page.set_input_files(
        "#images", [photo(tmp_path / f"{colour}.jpg", colour) for colour in COLOURS]
    )
    page.fill("#alt", "The T-shirt")
    page.get_by_role("button", name="Upload").click()
    expect(page.locator(".alert-success")).to_contain_text("3 images uploaded.")
    rows = page.locator("#gallery tbody tr")
    expect(rows).to_have_count(3)
    for colour, row in zip(COLOURS, rows.all(), strict=True):
        row.locator("input[name=alt]").fill(f"The T-shirt in {colour}")
        row.get_by_role("button", name="Save alt text").click()
        expect(page.locator(".alert-success")).to_contain_text("Alt text saved.")
    rows.nth(2).get_by_title("Move up").click()
    expect(rows.first.locator("input[name=alt]")).to_have_value("The T-shirt in red")
    expect(rows.nth(1).locator("input[name=alt]")).to_have_value("The T-shirt in white")
    alts = [image.get_attribute("alt") for image in rows.locator("img").all()]
    assert alts == ["The T-shirt in red", "The T-shirt in white", "The T-shirt in blue"]

    # Medium blue shows the blue photo, now the third.
    page.select_option(
        "#variant-images tr:has-text('TS-M-BLUE') select", label="Image 3: The T-shirt in blue"
    )
    page.locator("#variant-images tr:has-text('TS-M-BLUE')").get_by_role("button").click()
    expect(page.locator(".alert-success")).to_contain_text("Image of TS-M-BLUE saved.")
    screenshot("gallery-01-admin")

    # A visitor sees the gallery in that order, each image loaded from /media in a fitting width.
    visitor = page.context.browser.new_page(base_url=live_server)  # no cookies: anonymous
    visitor.on(
        "console",
        lambda message: browser_errors.append(message.text) if message.type == "error" else None,
    )
    visitor.goto("/products/tshirt")
    items = visitor.locator("#gallery .gallery-item img")
    expect(items).to_have_count(3)
    assert [image.get_attribute("alt") for image in items.all()] == alts
    first = items.first
    expect(first).to_have_attribute("srcset", re.compile(r"/media/\S+/480\.jpg 480w"))
    assert first.get_attribute("width") == "960"
    assert first.get_attribute("height") == "640"
    first.evaluate("img => img.decode()")
    assert first.evaluate("img => img.naturalWidth") > 0
    assert "/media/" in first.evaluate("img => img.currentSrc")
    assert visitor.locator("#gallery-thumbs a").count() == 3

    # Picking Medium and blue brings the blue photo into view; the table links to it as well.
    gallery = visitor.locator("#gallery")
    assert gallery.evaluate("g => g.scrollLeft") == 0
    visitor.get_by_label("Size").select_option("M")
    visitor.get_by_label("Colour").select_option("blue")
    blue = visitor.locator("#gallery .gallery-item").nth(2)
    expect(blue).to_have_attribute("aria-current", "true")
    visitor.wait_for_function(
        "() => { const g = document.getElementById('gallery'); const item = g.children[2];"
        " return Math.abs(g.scrollLeft - item.offsetLeft) < 2; }"
    )
    expect(visitor.locator("#variants tr[data-sku='TS-M-BLUE'] a")).to_have_attribute(
        "href", re.compile(r"^#image-\d+$")
    )

    # By keyboard: Tab from the strip to the thumbnails, each ringed round its image; Enter on
    # the second brings the white photo into view and puts the focus on it.
    visitor.locator("#gallery").focus()
    visitor.keyboard.press("Tab")
    thumbs = visitor.locator("#gallery-thumbs a")
    expect(thumbs.first).to_be_focused()
    visitor.keyboard.press("Tab")
    expect(thumbs.nth(1)).to_be_focused()
    ring, image = thumbs.nth(1).bounding_box(), thumbs.nth(1).locator("img").bounding_box()
    assert ring is not None
    assert image is not None
    assert ring["height"] >= image["height"]
    visitor.keyboard.press("Enter")
    white = visitor.locator("#gallery .gallery-item").nth(1)
    expect(white).to_be_focused()
    assert white.evaluate("item => item.matches(':focus-visible')")
    visitor.wait_for_function(
        "() => { const g = document.getElementById('gallery'); const item = g.children[1];"
        " return Math.abs(g.scrollLeft - item.offsetLeft) < 2; }"
    )
    visitor.close()
    assert browser_errors == []
