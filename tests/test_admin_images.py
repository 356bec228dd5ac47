"""The back office's gallery page (/admin/products/<id>/images/): uploads of several images at
once, reordering, alt text and deletes through app/catalog/images.py, refusals as messages that
leave nothing behind; deleting a product deletes its files; /media served in development."""

import gc
import os
import re
import warnings
from io import BytesIO
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import select
from werkzeug.test import EnvironBuilder

from app.catalog import images as gallery
from app.catalog.models import Product, ProductImage, Variant
from app.extensions import db
from tests.factories import make_tshirt
from tests.helpers import admin_alerts, admin_form_token, count, login

CUSTOMER_EMAIL = "shopper@example.com"


@pytest.fixture(autouse=True)
def collect_spooled_bodies():
    """Big test bodies are spooled to temporary files that werkzeug leaves to the collector
    when the app stops reading (413): collect them here, in this module's tests, rather than
    in whichever test the collector happens to run next."""
    yield
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        gc.collect()


@pytest.fixture
def media(app, tmp_path) -> Path:
    root = tmp_path / "media"
    app.config["MEDIA_ROOT"] = root
    return root


@pytest.fixture
def product_id(product_factory) -> int:
    return product_factory("Green Tea")


def jpeg(size=(400, 300), color=(200, 30, 30)) -> bytes:
    output = BytesIO()
    Image.new("RGB", size, color).save(output, "JPEG")
    return output.getvalue()


def noisy_png(size) -> bytes:
    """Random pixels: a PNG about 3 bytes a pixel, whatever compression does."""
    output = BytesIO()
    Image.frombytes("RGB", size, os.urandom(size[0] * size[1] * 3)).save(output, "PNG")
    return output.getvalue()


def stored_files(root: Path) -> list[str]:
    if not root.exists():
        return []
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def gallery_url(product_id: int) -> str:
    return f"/admin/products/{product_id}/images/"


def upload(client, product_id, files, alt="A cup of tea", with_token=True):
    data = {"alt": alt, "images": [(BytesIO(data), name) for name, data in files]}
    if with_token:
        data["csrf_token"] = admin_form_token(
            client.get(gallery_url(product_id)).get_data(as_text=True)
        )
    return client.post(gallery_url(product_id), data=data, content_type="multipart/form-data")


def post_image(client, product_id, image_id, what, **fields):
    page = client.get(gallery_url(product_id)).get_data(as_text=True)
    url = f"/admin/products/{product_id}/images/{image_id}/{what}/"
    return client.post(url, data={"csrf_token": admin_form_token(page), **fields})


def rows(app, product_id) -> list[tuple]:
    """(id, position, alt) of the product's images, in gallery order."""
    with app.app_context():
        return [
            (image.id, image.position, image.alt)
            for image in db.session.get(Product, product_id).images
        ]


def shown(html: str) -> list[int]:
    """The image ids the gallery page lists, top to bottom."""
    return [int(i) for i in re.findall(r'<tr id="image-\d+" data-image-id="(\d+)">', html)]


@pytest.fixture
def three(app, as_admin, media, product_id) -> list[int]:
    files = [
        (f"{n}.jpg", jpeg(color=c))
        for n, c in (("a", (255, 0, 0)), ("b", (0, 255, 0)), ("c", (0, 0, 255)))
    ]
    response = upload(as_admin, product_id, files)
    assert response.status_code == 302
    return [image_id for image_id, _, _ in rows(app, product_id)]


# Uploading, ordering, describing, deleting


def test_an_admin_uploads_three_images_at_once_and_sees_them_in_order(
    app, as_admin, media, product_id
):
    files = [(f"{n}.jpg", jpeg()) for n in "abc"]

    response = upload(as_admin, product_id, files, alt="  Green tea,  loose ")

    assert response.status_code == 302
    assert response.headers["Location"] == gallery_url(product_id)
    found = rows(app, product_id)
    assert [(position, alt) for _, position, alt in found] == [
        (0, "Green tea, loose"),
        (1, "Green tea, loose"),
        (2, "Green tea, loose"),
    ]
    page = as_admin.get(gallery_url(product_id)).get_data(as_text=True)
    assert "3 images uploaded." in admin_alerts(page)
    assert shown(page) == [image_id for image_id, _, _ in found]
    assert page.count('width="160" height="120" alt="Green tea, loose" loading="lazy"') == 3
    assert 'accept="image/jpeg,image/png,image/webp,image/gif"' in page
    assert re.search(
        r'<input[^>]*multiple[^>]*name="images"|<input[^>]*name="images"[^>]*multiple', page
    )
    assert len(stored_files(media)) == 3 * 2 * 2  # 3 images, in 160 and 400 wide, webp + jpg


def test_the_product_list_and_edit_page_link_to_the_gallery(as_admin, product_id):
    listing = as_admin.get("/admin/products/").get_data(as_text=True)
    edit = as_admin.get(f"/admin/products/edit/?id={product_id}").get_data(as_text=True)

    assert f'href="{gallery_url(product_id)}"' in listing
    assert f'href="{gallery_url(product_id)}">Images (0)</a>' in edit


def test_moving_an_image_up_and_down(app, as_admin, product_id, three):
    a, b, c = three

    assert post_image(as_admin, product_id, c, "move", direction="up").status_code == 302
    assert [i for i, _, _ in rows(app, product_id)] == [a, c, b]
    post_image(as_admin, product_id, a, "move", direction="down")
    post_image(as_admin, product_id, a, "move", direction="down")  # past the end: stays last

    assert [(i, p) for i, p, _ in rows(app, product_id)] == [(c, 0), (b, 1), (a, 2)]
    assert shown(as_admin.get(gallery_url(product_id)).get_data(as_text=True)) == [c, b, a]


def test_editing_an_alt_text_and_an_empty_one_is_refused_on_its_field(
    app, as_admin, product_id, three
):
    a, b, _ = three

    saved = post_image(as_admin, product_id, b, "alt", alt="Loose leaves")
    refused = post_image(as_admin, product_id, a, "alt", alt="   ")

    assert saved.status_code == 302
    assert [alt for _, _, alt in rows(app, product_id)] == [
        "A cup of tea",
        "Loose leaves",
        "A cup of tea",
    ]
    html = refused.get_data(as_text=True)
    assert refused.status_code == 200
    assert admin_alerts(html) == [
        "Describe what the image shows (alt text), for those who cannot see it."
    ]
    assert 'class="invalid-feedback d-block">Describe what the image shows' in html


def test_deleting_an_image_deletes_its_row_and_files(app, as_admin, media, product_id, three):
    a, b, c = three
    with app.app_context():
        b_files = gallery.image_files(db.session.get(ProductImage, b))

    response = post_image(as_admin, product_id, b, "delete")

    assert response.status_code == 302
    assert [i for i, _, _ in rows(app, product_id)] == [a, c]
    left = stored_files(media)
    assert len(left) == 2 * 4
    assert not set(b_files) & set(left)
    assert "Image deleted." in admin_alerts(
        as_admin.get(gallery_url(product_id)).get_data(as_text=True)
    )


def test_another_products_image_is_404_and_unchanged(app, as_admin, product_factory, three):
    other = product_factory("Black Tea")

    response = post_image(as_admin, other, three[0], "delete")

    assert response.status_code == 404
    assert count(app, ProductImage) == 3


# Refusals: a message, and nothing on disk or in the database


def test_a_renamed_text_file_is_refused_and_nothing_is_kept(app, as_admin, media, product_id):
    files = [("good.jpg", jpeg()), ("photo.jpg", b"just some text, not a photo\n" * 20)]

    response = upload(as_admin, product_id, files)

    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert admin_alerts(html)[0].startswith("Nothing was uploaded: photo.jpg")
    assert 'invalid-feedback d-block">photo.jpg' in html
    assert 'value="A cup of tea"' in html  # what was typed is kept
    assert (count(app, ProductImage), stored_files(media)) == (0, [])


@pytest.mark.app_config(MEDIA_MAX_BYTES=200_000)
def test_an_image_over_the_byte_bound_is_refused_and_nothing_is_kept(
    app, as_admin, media, product_id
):
    files = [("small.jpg", jpeg()), ("big.png", noisy_png((300, 300)))]  # about 270 KB

    response = upload(as_admin, product_id, files)

    assert response.status_code == 200
    assert "big.png" in admin_alerts(response.get_data(as_text=True))[0]
    assert (count(app, ProductImage), stored_files(media)) == (0, [])


def test_an_empty_alt_is_refused_and_nothing_is_kept(app, as_admin, media, product_id):
    response = upload(as_admin, product_id, [("a.jpg", jpeg())], alt=" ")

    assert response.status_code == 200
    assert "alt text" in admin_alerts(response.get_data(as_text=True))[0]
    assert (count(app, ProductImage), stored_files(media)) == (0, [])


@pytest.mark.app_config(PRODUCT_IMAGES_MAX=2)
def test_too_many_images_are_refused_and_nothing_is_kept(app, as_admin, media, product_id):
    response = upload(as_admin, product_id, [(f"{n}.jpg", jpeg()) for n in "abc"])

    assert admin_alerts(response.get_data(as_text=True)) == [
        "A product has at most 2 images: delete some first."
    ]
    assert (count(app, ProductImage), stored_files(media)) == (0, [])


# A body this big is spooled to a temporary file; the collector may close it mid-test.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_the_upload_accepts_more_than_the_site_wide_body_limit(app, as_admin, media, product_id):
    big = noisy_png((700, 700))  # about 1.5 MB, over MAX_CONTENT_LENGTH (1 MiB)
    assert len(big) > app.config["MAX_CONTENT_LENGTH"]

    response = upload(as_admin, product_id, [("big.png", big)])

    assert response.status_code == 302
    assert count(app, ProductImage) == 1


@pytest.mark.app_config(MEDIA_MAX_UPLOAD_BYTES=300_000)
# werkzeug leaves the temporary file of a part it stopped reading at the limit to the collector.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_a_request_over_the_upload_bound_is_a_413_page(app, as_admin, media, product_id):
    page = as_admin.get(gallery_url(product_id)).get_data(as_text=True)
    data = {
        "csrf_token": admin_form_token(page),
        "alt": "Big",
        "images": (BytesIO(noisy_png((400, 400))), "b.png"),
    }
    builder = EnvironBuilder(path=gallery_url(product_id), method="POST", data=data)
    try:  # the client's body, spooled to a file, is left open when the app stops reading it
        response = as_admin.open(builder)
    finally:
        builder.close()

    assert response.status_code == 413
    assert "over the 300,000 bytes this site accepts" in response.get_data(as_text=True)
    assert (count(app, ProductImage), stored_files(media)) == (0, [])


def test_other_pages_keep_the_site_wide_body_limit(app, as_admin, product_id):
    body = {"csrf_token": "x", "alt": "y" * (app.config["MAX_CONTENT_LENGTH"] + 1)}

    response = as_admin.post(f"/admin/products/{product_id}/images/1/alt/", data=body)

    assert response.status_code == 413


def test_an_upload_without_the_csrf_token_changes_nothing(app, as_admin, media, product_id):
    response = upload(as_admin, product_id, [("a.jpg", jpeg())], with_token=False)

    assert response.status_code == 200
    assert "CSRF" in admin_alerts(response.get_data(as_text=True))[0]
    assert (count(app, ProductImage), stored_files(media)) == (0, [])


@pytest.mark.parametrize(
    ("what", "fields"), [("move", {"direction": "up"}), ("alt", {"alt": "New"}), ("delete", {})]
)
def test_gallery_changes_without_the_csrf_token_change_nothing(
    app, as_admin, media, product_id, three, what, fields
):
    before = (rows(app, product_id), stored_files(media))
    url = f"/admin/products/{product_id}/images/{three[2]}/{what}/"

    response = as_admin.post(url, data=fields)

    assert response.status_code == 302
    assert (rows(app, product_id), stored_files(media)) == before


def test_customers_get_403_and_visitors_the_login_page(app, client, user_factory, product_id):
    user_factory(email=CUSTOMER_EMAIL)
    anonymous = client.get(gallery_url(product_id))
    login(client, CUSTOMER_EMAIL)

    customer = client.post(gallery_url(product_id), data={"alt": "x"})

    assert anonymous.status_code == 302
    assert anonymous.headers["Location"].startswith("/login")
    assert customer.status_code == 403
    assert "The back office is for admins only." in customer.get_data(as_text=True)
    assert count(app, ProductImage) == 0


def test_an_unknown_product_is_404(as_admin):
    assert as_admin.get(gallery_url(999_999)).status_code == 404


# Variant images


@pytest.fixture
def tshirt(app, as_admin, media) -> tuple[int, dict, list[int]]:
    """The T-shirt (tests/factories.make_tshirt) with two images: (product id, variant ids by
    (size, colour), image ids)."""
    variants = make_tshirt(app)
    with app.app_context():
        product_id = db.session.scalar(select(Product.id).where(Product.slug == "tshirt"))
    files = [("red.jpg", jpeg(color=(255, 0, 0))), ("blue.jpg", jpeg(color=(0, 0, 255)))]
    assert upload(as_admin, product_id, files).status_code == 302
    return product_id, variants, [image_id for image_id, _, _ in rows(app, product_id)]


def variant_image(app, variant_id) -> int | None:
    with app.app_context():
        return db.session.get(Variant, variant_id).image_id


def post_variant_image(client, product_id, variant_id, image_id, with_token=True):
    page = client.get(gallery_url(product_id)).get_data(as_text=True)
    data = {"image_id": image_id} | ({"csrf_token": admin_form_token(page)} if with_token else {})
    return client.post(f"/admin/products/{product_id}/variants/{variant_id}/image/", data=data)


def test_an_admin_picks_a_variants_image_and_back_to_none(app, as_admin, tshirt):
    product_id, variants, (red, blue) = tshirt
    variant = variants[("M", "blue")]

    chosen = post_variant_image(as_admin, product_id, variant, blue)
    page = as_admin.get(gallery_url(product_id)).get_data(as_text=True)
    assert chosen.status_code == 302
    assert variant_image(app, variant) == blue
    assert "Image of TS-M-BLUE saved." in admin_alerts(page)
    selected = re.search(rf'id="variant-image-{variant}".*?</select>', page, re.S).group(0)
    assert re.search(rf'<option selected value="{blue}">Image 2: A cup of tea', selected)

    cleared = post_variant_image(as_admin, product_id, variant, "")
    assert cleared.status_code == 302
    assert variant_image(app, variant) is None


def test_a_variant_cannot_show_another_products_image(app, as_admin, tshirt, product_id, three):
    tshirt_id, variants, _ = tshirt
    variant = variants[("S", "red")]

    response = post_variant_image(as_admin, tshirt_id, variant, three[0])

    assert response.status_code == 302
    assert variant_image(app, variant) is None
    page = as_admin.get(gallery_url(tshirt_id)).get_data(as_text=True)
    assert "Not a valid choice" in " ".join(admin_alerts(page))


def test_a_variant_image_without_the_csrf_token_changes_nothing(app, as_admin, tshirt):
    product_id, variants, (red, _) = tshirt

    post_variant_image(as_admin, product_id, variants[("S", "red")], red, with_token=False)

    assert variant_image(app, variants[("S", "red")]) is None


def test_another_products_variant_is_404(app, as_admin, tshirt, product_id):
    _, variants, (red, _) = tshirt

    response = post_variant_image(as_admin, product_id, variants[("S", "red")], red)

    assert response.status_code == 404
    assert variant_image(app, variants[("S", "red")]) is None


def test_a_product_without_options_lists_no_variant_images(as_admin, product_id, three):
    page = as_admin.get(gallery_url(product_id)).get_data(as_text=True)
    assert 'id="variant-images"' not in page


# Deleting a product


def test_deleting_a_product_deletes_its_image_files(app, as_admin, media, product_id, three):
    other = app.test_client()
    with app.app_context():
        gallery.delete_product(product_id)

    assert (count(app, Product), count(app, ProductImage), stored_files(media)) == (0, 0, [])
    assert list(media.iterdir()) == []  # the product's folders too
    assert other.get(gallery_url(product_id)).status_code == 302


def test_a_product_whose_deletion_fails_keeps_its_files(app, media, product_id, three, monkeypatch):
    before = stored_files(media)

    def fail():
        raise RuntimeError("commit failed")

    with app.app_context():
        monkeypatch.setattr(db.session, "commit", fail)
        with pytest.raises(RuntimeError):
            gallery.delete_product(product_id)
        monkeypatch.undo()
        db.session.rollback()

    assert stored_files(media) == before
    assert count(app, ProductImage) == 3


# /media in development


def test_media_files_are_served_with_their_type(app, client, media, product_id, three):
    with app.app_context():
        image = db.session.get(ProductImage, three[0])
        webp, jpg = f"/media/{image.key}/160.webp", f"/media/{image.key}/160.jpg"

    with client.get(webp) as served, client.get(jpg) as fallback:
        served.make_sequence()

        assert served.status_code == 200
        assert served.mimetype == "image/webp"
        assert served.data == (media / image.key / "160.webp").read_bytes()
        assert "max-age=31536000" in served.headers["Cache-Control"]
        assert fallback.mimetype == "image/jpeg"


@pytest.mark.parametrize(
    "path",
    [
        "/media/../instance/application.cfg.py",
        "/media/%2e%2e/instance/application.cfg.py",
        "/media/products/../../application.cfg.py",
        "/media//etc/passwd",
        "/media/products/1/missing/160.webp",
        "/media/",
    ],
)
def test_anything_but_a_stored_file_is_404(app, client, media, tmp_path, path):
    media.mkdir()
    (tmp_path / "application.cfg.py").write_text("SECRET_KEY = 'x'\n")

    response = client.get(path, follow_redirects=True)  # //: merged into one slash first

    assert response.status_code == 404
    assert b"SECRET_KEY" not in response.data


@pytest.mark.app_config(MEDIA_URL="https://cdn.example.com/media/")
def test_media_is_not_served_when_it_lives_elsewhere(app):
    assert "media" not in {rule.endpoint for rule in app.url_map.iter_rules()}
