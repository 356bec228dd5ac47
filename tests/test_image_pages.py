"""Product images on the storefront and in the API: responsive pictures, the gallery, the
variant's picture (issue 28), on both databases."""

import re

import pytest
from sqlalchemy import select

from app.catalog import images
from app.catalog.models import Variant
from app.extensions import db
from tests.factories import make_tshirt
from tests.test_images import image_bytes


@pytest.fixture
def gallery(app, tmp_path, product_factory):
    """A tea with three images (a 2000x1000, a 600x600 and a 300x200 upload)."""
    app.config["MEDIA_ROOT"] = tmp_path / "media"
    product_id = product_factory("Green Tea")
    with app.app_context():
        ids = images.add_images(
            product_id,
            [
                ("front.jpg", image_bytes((2000, 1000)), "The tin, front"),
                ("side.png", image_bytes((600, 600), "PNG"), "The tin, side"),
                ("leaves.jpg", image_bytes((300, 200)), "The leaves"),
            ],
        )
    return {"product_id": product_id, "images": ids}


def test_the_product_page_shows_the_gallery(client, gallery):
    html = client.get("/products/green-tea").get_data(as_text=True)

    first, second, third = gallery["images"]
    assert re.findall(r'<li class="gallery-item" id="image-(\d+)"', html) == [
        str(first),
        str(second),
        str(third),
    ]
    pictures = re.findall(r"<picture>.*?</picture>", html, re.S)
    assert len(pictures) == 6  # three in the strip, three thumbnails
    main = pictures[0]
    assert 'type="image/webp"' in main
    assert re.search(
        r'srcset="/media/[^"]+/160\.webp 160w, [^"]+/480\.webp 480w, [^"]+/960\.webp 960w', main
    )
    assert 'width="960" height="480"' in main
    assert 'alt="The tin, front"' in main
    assert "loading=" not in main  # the first picture is not lazy
    assert 'loading="lazy"' in pictures[1]
    assert f'href="#image-{third}"' in html
    assert 'width="300" height="200"' in pictures[2]  # never wider than the upload


def test_a_card_shows_the_first_image(client, gallery):
    html = client.get("/products").get_data(as_text=True)

    [card] = re.findall(r'<div class="card h-100 product-card">.*?</picture>', html, re.S)
    assert 'alt="The tin, front"' in card
    assert 'width="480" height="240"' in card
    assert 'loading="lazy"' in card


def test_the_api_gives_every_width_from_the_site_url(client, gallery):
    product = client.get("/api/v1/products/green-tea").json

    front = product["images"][0]
    assert (front["alt"], front["width"], front["height"]) == ("The tin, front", 2000, 1000)
    assert [w["width"] for w in front["widths"]] == [160, 480, 960, 1600]
    assert front["widths"][0]["webp"].startswith("http://localhost/media/")
    assert front["widths"][0]["jpeg"].endswith("/160.jpg")
    assert [i["id"] for i in product["images"]] == gallery["images"]
    listed = client.get("/api/v1/products").json["items"][0]
    assert listed["images"] == product["images"]


def test_a_variants_picture_is_its_image_id(app, client, tmp_path):
    app.config["MEDIA_ROOT"] = tmp_path / "media"
    variants = make_tshirt(app)
    with app.app_context():
        product_id = db.session.scalar(select(Variant.product_id).limit(1))
        [blue] = images.add_images(
            product_id, [("blue.jpg", image_bytes(color=(0, 0, 200)), "Blue")]
        )
        images.set_variant_image(variants[("M", "blue")], blue)

    product = client.get("/api/v1/products/tshirt").json

    by_sku = {v["sku"]: v["image_id"] for v in product["variants"]}
    assert by_sku["TS-M-BLUE"] == blue
    assert by_sku["TS-M-RED"] is None


def test_the_product_page_links_each_variant_to_its_image(app, client, tmp_path):
    """Without JavaScript the variants table links to the image; static/product.js reads the
    same rows (their option value ids) to show it when the options are picked."""
    app.config["MEDIA_ROOT"] = tmp_path / "media"
    variants = make_tshirt(app)
    with app.app_context():
        product_id = db.session.scalar(select(Variant.product_id).limit(1))
        red, blue = images.add_images(
            product_id,
            [
                ("red.jpg", image_bytes(color=(200, 0, 0)), "Red"),
                ("blue.jpg", image_bytes(color=(0, 0, 200)), "Blue"),
            ],
        )
        before = client.get("/products/tshirt").get_data(as_text=True)  # cached until a change
        images.set_variant_image(variants[("M", "blue")], blue)
        value_ids = sorted(v.id for v in db.session.get(Variant, variants[("M", "blue")]).values)

    html = client.get("/products/tshirt").get_data(as_text=True)

    assert 'data-image="' not in before
    [row] = re.findall(r'<tr data-sku="TS-M-BLUE".*?</tr>', html, re.S)
    assert f'data-values="{",".join(map(str, value_ids))}"' in row
    assert f'data-image="image-{blue}"' in row
    assert re.search(rf'<a href="#image-{blue}" title="Show its image">[^<]*blue[^<]*</a>', row)
    [other] = re.findall(r'<tr data-sku="TS-M-RED".*?</tr>', html, re.S)
    assert "data-image" not in other
    assert "<a " not in other
    assert re.search(r'<script src="/static/product\.js\?v=\w+" defer>', html)


def test_a_product_without_options_loads_no_product_script(client, gallery):
    html = client.get("/products/green-tea").get_data(as_text=True)
    assert "product.js" not in html
