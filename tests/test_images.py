"""Product images: uploads are checked by content and bounded, stored re-encoded in every
width (WebP and JPEG, never enlarged, no metadata), all or nothing; the gallery is reordered,
described and deleted, its files with it."""

import os
import struct
import warnings
import zlib
from io import BytesIO
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from app.catalog import images as gallery
from app.catalog.models import Product, ProductImage, Variant
from app.errors import NotFound, ValidationFailed
from app.extensions import db
from app.media.storage import LocalStorage

ORIENTATION = 0x0112  # EXIF tag
MAKE = 0x010F  # EXIF tag: the camera's maker


@pytest.fixture
def media(app, tmp_path) -> Path:
    """MEDIA_ROOT, an empty folder of the test's own."""
    root = tmp_path / "media"
    app.config["MEDIA_ROOT"] = root
    return root


@pytest.fixture
def product_id(product_factory) -> int:
    return product_factory("Green Tea")


def image_bytes(
    size=(2000, 1000), image_format="JPEG", mode="RGB", color=(200, 30, 30), **options
) -> bytes:
    output = BytesIO()
    Image.new(mode, size, color).save(output, image_format, **options)
    return output.getvalue()


def palette_image(image_format: str) -> bytes:
    """A palette image whose every pixel is its transparent colour."""
    image = Image.new("P", (300, 300), 0)
    image.putpalette([255, 0, 0] * 256)
    output = BytesIO()
    image.save(output, image_format, transparency=0)
    return output.getvalue()


def noisy_jpeg(size=(400, 300)) -> bytes:
    """A JPEG of random pixels: most of its bytes are picture data (cutting it damages it)."""
    output = BytesIO()
    Image.frombytes("RGB", size, os.urandom(size[0] * size[1] * 3)).save(output, "JPEG")
    return output.getvalue()


def half_red_half_blue_jpeg(orientation: int) -> bytes:
    """300x200, left half red, right half blue, with an EXIF orientation, a camera maker and a
    JPEG comment."""
    image = Image.new("RGB", (300, 200), (0, 0, 255))
    image.paste((255, 0, 0), (0, 0, 150, 200))
    exif = Image.Exif()
    exif[ORIENTATION] = orientation
    exif[MAKE] = "SecretCam"
    output = BytesIO()
    image.save(output, "JPEG", exif=exif.tobytes(), comment=b"shot at home")
    return output.getvalue()


def png_declaring(width: int, height: int) -> bytes:
    """A valid black-and-white PNG of this size, all black: a few KB for hundreds of
    megapixels (a decompression bomb), made row by row without holding the picture."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    compressor = zlib.compressobj(9)
    row = b"\x00" * (1 + (width + 7) // 8)  # filter byte, then 1 bit a pixel
    stream = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", stream) + chunk(b"IEND", b"")
    )


def stored_files(root: Path) -> list[str]:
    """Every file below MEDIA_ROOT, relative, sorted."""
    if not root.exists():
        return []
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def image_rows(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(ProductImage))


def upload(app, product_id, *files):
    with app.app_context():
        return gallery.add_images(product_id, list(files))


def refused(app, product_id, *files) -> ValidationFailed:
    with app.app_context(), pytest.raises(ValidationFailed) as caught:
        gallery.add_images(product_id, list(files))
    return caught.value


# Storing


def test_a_photo_is_stored_in_every_width_as_webp_and_jpeg(app, media, product_id):
    [image_id] = upload(app, product_id, ("tea.jpg", image_bytes((2000, 1000)), " A  cup "))

    with app.app_context():
        image = db.session.get(ProductImage, image_id)
        assert (image.alt, image.width, image.height, image.widths) == (
            "A cup",
            2000,
            1000,
            "160,480,960,1600",
        )
        assert image.key.startswith(f"products/{product_id}/")
        folder = media / image.key
    assert stored_files(media) == sorted(
        str((folder / f"{w}.{ext}").relative_to(media))
        for w in (160, 480, 960, 1600)
        for ext in ("jpg", "webp")
    )
    for width in (160, 480, 960, 1600):
        for ext, image_format in (("webp", "WEBP"), ("jpg", "JPEG")):
            with Image.open(folder / f"{width}.{ext}") as stored:
                assert (stored.format, stored.size) == (image_format, (width, width // 2))
                assert stored.getpixel((width // 2, width // 4))[0] > 150  # still red


def test_an_image_is_never_enlarged(app, media, product_id):
    """A 600 px wide PNG: 160 and 480 as asked, then 600 (its own) for page and zoom."""
    [image_id] = upload(app, product_id, ("small.png", image_bytes((600, 400), "PNG"), "Small"))

    with app.app_context():
        image = db.session.get(ProductImage, image_id)
        assert image.widths == "160,480,600"
        urls = gallery.image_urls(image)
    assert [w["width"] for w in urls["widths"]] == [160, 480, 600]
    assert {name: size["width"] for name, size in urls["sizes"].items()} == {
        "thumb": 160,
        "listing": 480,
        "page": 600,
        "zoom": 600,
    }
    assert len(stored_files(media)) == 6
    for path in media.rglob("*.*"):
        with Image.open(path) as stored:
            assert stored.width <= 600


def test_metadata_is_stripped_and_the_orientation_applied(app, media, product_id):
    """Orientation 6 (turn 90 degrees clockwise to view): the stored image is upright, 200
    wide and 300 high, red above; no EXIF, camera maker or comment is left in any file."""
    photo = half_red_half_blue_jpeg(orientation=6)
    assert all(secret in photo for secret in (b"SecretCam", b"shot at home"))
    [image_id] = upload(app, product_id, ("photo.jpg", photo, "Red over blue"))

    with app.app_context():
        image = db.session.get(ProductImage, image_id)
        assert (image.width, image.height, image.widths) == (200, 300, "160,200")
    files = sorted(media.rglob("*.*"))
    assert len(files) == 4
    for path in files:
        data = path.read_bytes()
        assert b"SecretCam" not in data
        assert b"shot at home" not in data
        assert b"Exif" not in data
        with Image.open(path) as stored:
            assert not stored.getexif()
            assert not {"exif", "comment", "xmp", "icc_profile"} & set(stored.info)
            width, height = stored.size
            assert height > width
            rgb = stored.convert("RGB")
            assert rgb.getpixel((width // 2, 5)) == pytest.approx((255, 0, 0), abs=60)  # red
            assert rgb.getpixel((width // 2, height - 5)) == pytest.approx((0, 0, 255), abs=60)


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("logo.png", image_bytes((300, 300), "PNG", mode="RGBA", color=(0, 0, 0, 0))),
        ("photo.webp", image_bytes((300, 300), "WEBP")),
        ("anim.gif", image_bytes((300, 300), "GIF", mode="P", color=3)),
        ("palette.png", palette_image("PNG")),
        ("clear.gif", palette_image("GIF")),
        ("grey.jpg", image_bytes((300, 300), "JPEG", mode="L", color=128)),
    ],
)
def test_each_accepted_format_is_stored(app, media, product_id, name, data):
    """Transparency stays in the WebP and turns white in the JPEG."""
    upload(app, product_id, (name, data, "An image"))

    assert [Path(f).name for f in stored_files(media)] == [
        "160.jpg",
        "160.webp",
        "300.jpg",
        "300.webp",
    ]
    with Image.open(next(media.rglob("300.jpg"))) as jpeg:
        assert jpeg.mode == "RGB"
        if name in ("logo.png", "palette.png", "clear.gif"):
            assert jpeg.getpixel((150, 150)) == (255, 255, 255)


def test_an_animated_gif_keeps_its_first_frame(app, media, product_id):
    frames = [Image.new("RGB", (200, 100), color) for color in ((255, 0, 0), (0, 0, 255))]
    output = BytesIO()
    frames[0].save(output, "GIF", save_all=True, append_images=frames[1:], duration=100)
    upload(app, product_id, ("anim.gif", output.getvalue(), "Red"))

    with Image.open(next(media.rglob("200.webp"))) as stored:
        assert getattr(stored, "n_frames", 1) == 1
        assert stored.convert("RGB").getpixel((100, 50))[0] > 200


def test_images_join_the_end_of_the_gallery_in_their_order(app, media, product_id):
    first = upload(app, product_id, ("a.jpg", image_bytes((200, 200)), "A"))
    more = upload(
        app,
        product_id,
        ("b.jpg", image_bytes((200, 200)), "B"),
        ("c.png", image_bytes((200, 200), "PNG"), "C"),
    )

    with app.app_context():
        product = db.session.get(Product, product_id)
        assert [(i.id, i.alt, i.position) for i in product.images] == [
            (first[0], "A", 0),
            (more[0], "B", 1),
            (more[1], "C", 2),
        ]


def test_urls_and_srcset_name_the_stored_files(app, media, product_id):
    [image_id] = upload(app, product_id, ("tea.jpg", image_bytes((1000, 500)), "Tea"))

    with app.app_context():
        image = db.session.get(ProductImage, image_id)
        urls = gallery.image_urls(image)
        webp_srcset = gallery.srcset(image)
        key = image.key
    base = f"/media/{key}"
    assert webp_srcset == (
        f"{base}/160.webp 160w, {base}/480.webp 480w, {base}/960.webp 960w, {base}/1000.webp 1000w"
    )
    assert urls["srcset"]["jpeg"] == webp_srcset.replace(".webp", ".jpg")
    assert (urls["id"], urls["alt"], urls["width"], urls["height"]) == (image_id, "Tea", 1000, 500)
    assert urls["widths"][1] == {
        "width": 480,
        "height": 240,
        "webp": f"{base}/480.webp",
        "jpeg": f"{base}/480.jpg",
    }
    assert urls["sizes"]["page"] == urls["widths"][2]
    assert urls["sizes"]["zoom"] == urls["widths"][3]
    for size in urls["widths"]:
        for url in (size["webp"], size["jpeg"]):
            assert (media / url.removeprefix("/media/")).is_file()


# Refusing: a form error, and nothing left on disk or in the database


def test_a_text_file_named_like_a_photo_is_refused(app, media, product_id):
    error = refused(app, product_id, ("photo.jpg", b"Dear shop, this is not a photo.\n", "A"))

    assert error.fields == {
        "images": ["photo.jpg is not a JPEG, PNG, WebP or GIF image, or it is damaged."]
    }
    assert (image_rows(app), stored_files(media)) == (0, [])


@pytest.mark.parametrize("image_format", ["BMP", "TIFF", "ICO"])
def test_image_formats_other_than_the_four_are_refused(app, media, product_id, image_format):
    """Pillow reads these too, but they are no web formats (and more code to attack)."""
    data = image_bytes((64, 64), image_format)
    error = refused(app, product_id, ("photo.png", data, "A"))

    assert "is not a JPEG, PNG, WebP or GIF image" in error.fields["images"][0]
    assert (image_rows(app), stored_files(media)) == (0, [])


@pytest.mark.app_config(MEDIA_MAX_BYTES=5_000)
def test_a_file_over_max_bytes_is_refused(app, media, product_id):
    data = noisy_jpeg()
    assert len(data) > 5_000
    error = refused(app, product_id, ("big.jpg", data, "Big"))

    assert error.fields == {"images": ["big.jpg is larger than 0.005 MB."]}
    assert (image_rows(app), stored_files(media)) == (0, [])


@pytest.mark.parametrize("megapixels", [400, 100])
def test_a_decompression_bomb_is_refused_unread(app, media, product_id, megapixels):
    """A few KB declaring 20000x20000 (Pillow's DecompressionBombError) or 10000x10000
    (its DecompressionBombWarning, an error under the tests' warning filter)."""
    side = {400: 20_000, 100: 10_000}[megapixels]
    bomb = png_declaring(side, side)
    assert len(bomb) < 100_000
    error = refused(app, product_id, ("cat.png", bomb, "Cat"))

    assert error.fields == {"images": ["cat.png has more than 40 megapixels."]}
    assert (image_rows(app), stored_files(media)) == (0, [])


def test_a_bomb_is_refused_where_warnings_are_not_errors(app, media, product_id):
    """In production Pillow's warning is only a warning: the pixel bound refuses the file."""
    bomb = png_declaring(10_000, 10_000)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        error = refused(app, product_id, ("cat.png", bomb, "Cat"))

    assert error.fields == {"images": ["cat.png has more than 40 megapixels."]}
    assert (image_rows(app), stored_files(media)) == (0, [])


@pytest.mark.app_config(MEDIA_MAX_PIXELS=10_000)
def test_an_image_over_max_pixels_is_refused(app, media, product_id):
    error = refused(app, product_id, ("wide.png", image_bytes((200, 51), "PNG"), "Wide"))

    assert error.fields == {"images": ["wide.png has more than 0.01 megapixels."]}
    assert (image_rows(app), stored_files(media)) == (0, [])


@pytest.mark.parametrize("image_format", ["JPEG", "PNG", "WEBP"])
def test_a_truncated_image_is_refused(app, media, product_id, image_format):
    output = BytesIO()
    Image.open(BytesIO(noisy_jpeg())).save(output, image_format)
    data = output.getvalue()
    error = refused(app, product_id, ("cut.img", data[: len(data) // 2], "Cut"))

    assert error.fields == {
        "images": ["cut.img is not a JPEG, PNG, WebP or GIF image, or it is damaged."]
    }
    assert (image_rows(app), stored_files(media)) == (0, [])


def test_one_bad_file_among_good_ones_stores_none_of_them(app, media, product_id):
    good = image_bytes((800, 600))
    error = refused(
        app,
        product_id,
        ("one.jpg", good, "One"),
        ("two.jpg", good, "Two"),
        ("notes.jpg", b"not an image", "Notes"),
        ("three.jpg", good, ""),
    )

    assert error.fields == {
        "images": ["notes.jpg is not a JPEG, PNG, WebP or GIF image, or it is damaged."],
        "alt": [
            "three.jpg: Describe what the image shows (alt text), for those who cannot see it."
        ],
    }
    assert (image_rows(app), stored_files(media)) == (0, [])


def test_files_written_go_again_when_the_rows_cannot_be_saved(app, media, product_id, monkeypatch):
    """Two images given the same key: the second row breaks the key's unique constraint,
    the unit rolls back, and the files already written are removed."""
    monkeypatch.setattr(gallery, "_new_key", lambda product_id: f"products/{product_id}/same")
    good = image_bytes((300, 200))
    with app.app_context(), pytest.raises(IntegrityError):
        gallery.add_images(product_id, [("a.jpg", good, "A"), ("b.jpg", good, "B")])

    assert (image_rows(app), stored_files(media)) == (0, [])
    assert list(media.rglob("*")) == []  # no folder or temporary file left either


@pytest.mark.app_config(PRODUCT_IMAGES_PER_UPLOAD=2, PRODUCT_IMAGES_MAX=3)
def test_uploads_and_galleries_are_bounded(app, media, product_id):
    good = ("a.jpg", image_bytes((200, 200)), "A")
    assert refused(app, product_id).fields == {"images": ["Choose an image."]}
    assert refused(app, product_id, good, good, good).fields == {
        "images": ["Upload at most 2 images at once."]
    }
    upload(app, product_id, good, good)
    assert refused(app, product_id, good, good).fields == {
        "images": ["A product has at most 3 images: delete some first."]
    }
    assert image_rows(app) == 2
    assert len(stored_files(media)) == 2 * 4


def test_an_unknown_product_gets_no_images(app, media):
    with app.app_context(), pytest.raises(NotFound):
        gallery.add_images(999, [("a.jpg", image_bytes((200, 200)), "A")])
    assert (image_rows(app), stored_files(media)) == (0, [])


# The gallery


@pytest.fixture
def three_images(app, media, product_id) -> list[int]:
    return upload(
        app,
        product_id,
        *[(f"{n}.jpg", image_bytes((200, 100)), n) for n in ("A", "B", "C")],
    )


def gallery_order(app, product_id) -> list[int]:
    with app.app_context():
        return [image.id for image in db.session.get(Product, product_id).images]


def test_reorder_puts_the_gallery_in_the_given_order(app, product_id, three_images):
    a, b, c = three_images
    with app.app_context():
        gallery.reorder_images(product_id, [c, a, b])

    assert gallery_order(app, product_id) == [c, a, b]


@pytest.mark.parametrize("order", ["missing", "repeated", "foreign"])
def test_reorder_refuses_ids_that_are_not_the_gallery(
    app, product_id, product_factory, three_images, order
):
    a, b, c = three_images
    other = upload(app, product_factory("Mug"), ("m.jpg", image_bytes((100, 100)), "Mug"))
    ids = {"missing": [c, a], "repeated": [c, a, a], "foreign": [c, a, other[0]]}[order]
    with app.app_context(), pytest.raises(ValidationFailed) as caught:
        gallery.reorder_images(product_id, ids)

    assert list(caught.value.fields) == ["images"]
    assert gallery_order(app, product_id) == [a, b, c]


def test_set_alt_changes_only_the_alt_text(app, three_images):
    a = three_images[0]
    with app.app_context():
        gallery.set_alt(a, "  A green tea,\n steaming ")
        for alt in ("", "   ", "x" * 251):
            with pytest.raises(ValidationFailed) as caught:
                gallery.set_alt(a, alt)
            assert list(caught.value.fields) == ["alt"]
        assert db.session.get(ProductImage, a).alt == "A green tea, steaming"
        with pytest.raises(NotFound):
            gallery.set_alt(999, "Gone")


def test_delete_removes_the_row_and_its_files_only(app, media, product_id, three_images):
    a, b, c = three_images
    with app.app_context():
        keys = {i: db.session.get(ProductImage, i).key for i in three_images}
        variant_id = db.session.get(Product, product_id).variants[0].id
        gallery.set_variant_image(variant_id, b)
        gallery.delete_image(b)

        assert db.session.get(Variant, variant_id).image_id is None
        with pytest.raises(NotFound):
            gallery.delete_image(b)
    assert gallery_order(app, product_id) == [a, c]
    assert not (media / keys[b]).exists()
    assert sorted({str(Path(f).parent) for f in stored_files(media)}) == sorted([keys[a], keys[c]])


def test_a_failed_delete_keeps_the_files(app, media, three_images, monkeypatch):
    """The files go after the commit only: a unit that fails keeps the row and its files."""
    monkeypatch.setattr(db.session, "commit", _failing_commit(db.session.commit))
    before = stored_files(media)
    with app.app_context(), pytest.raises(RuntimeError, match="commit failed"):
        gallery.delete_image(three_images[0])

    assert (image_rows(app), stored_files(media)) == (3, before)


def _failing_commit(commit):
    """A commit that fails once a row is being deleted (the unit's own), else commits."""

    def failing():
        if db.session.deleted:
            raise RuntimeError("commit failed")
        return commit()

    return failing


def test_a_variant_shows_only_its_own_products_images(
    app, product_factory, product_id, three_images
):
    other = upload(app, product_factory("Mug"), ("m.jpg", image_bytes((100, 100)), "Mug"))
    with app.app_context():
        variant_id = db.session.get(Product, product_id).variants[0].id
        with pytest.raises(ValidationFailed) as caught:
            gallery.set_variant_image(variant_id, other[0])
        assert list(caught.value.fields) == ["image_id"]
        gallery.set_variant_image(variant_id, three_images[2])
        assert db.session.get(Variant, variant_id).image.alt == "C"
        gallery.set_variant_image(variant_id, None)
        assert db.session.get(Variant, variant_id).image_id is None


def test_deleting_a_product_deletes_its_image_rows(app, product_id, three_images):
    with app.app_context():
        product = db.session.get(Product, product_id)
        files = [f for image in product.images for f in gallery.image_files(image)]
        db.session.delete(product)
        db.session.commit()
        assert db.session.scalar(select(func.count()).select_from(ProductImage)) == 0
    assert len(files) == 3 * 2 * 2  # 200 px wide: 160 and 200, WebP and JPEG


# The local store


def test_local_storage_writes_whole_files_and_refuses_keys_outside_its_root(tmp_path):
    storage = LocalStorage(tmp_path / "media", "/media/")
    storage.save("a/b/c.webp", b"one")
    storage.save("a/b/c.webp", b"two")

    assert (tmp_path / "media/a/b/c.webp").read_bytes() == b"two"
    assert oct((tmp_path / "media/a/b/c.webp").stat().st_mode & 0o777) == "0o644"
    assert [p.name for p in (tmp_path / "media/a/b").iterdir()] == ["c.webp"]  # no temp file
    assert storage.url("a/b/c.webp") == "/media/a/b/c.webp"
    for key in ("../x", "/etc/passwd", "a/../../x", "a//b", "./a", "", "a\\b"):
        with pytest.raises(ValueError, match="Not a media key"):
            storage.save(key, b"x")
    storage.delete(["a/b/c.webp", "a/b/missing.jpg"])
    assert list((tmp_path / "media").iterdir()) == []  # its emptied folders went too
