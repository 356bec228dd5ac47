"""The demo photos: drawn reproducibly by scripts/make_demo_photos.py, small, and uploaded by
`seed` to the demo products' galleries (in manifest order, once), each colour's variants
showing their colour's photo."""

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import func, select

from app.catalog import seed
from app.catalog.images import add_images, image_files
from app.catalog.models import ALT_MAX_LENGTH, Product, ProductImage, Variant
from app.catalog.services import slugify
from app.extensions import db

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "make_demo_photos.py"
PHOTOS = seed.DEMO_PHOTOS
MANIFEST = json.loads((PHOTOS / "manifest.json").read_text(encoding="utf-8"))["products"]
WIDTHS = [160, 480, 960, 1200]  # MEDIA_WIDTHS not wider than the photos' 1200
PHOTOS_LINE = re.compile(r"Adding demo photos\nAdded 14 photos to 7 products in \d+\.\d s\.\n")


@pytest.fixture
def media(app, tmp_path) -> Path:
    """MEDIA_ROOT, an empty folder of the test's own; the seed adds its photos (the test
    config turns them off elsewhere)."""
    root = tmp_path / "media"
    app.config["MEDIA_ROOT"] = root
    app.config["DEMO_PHOTOS"] = True
    return root


def galleries(app) -> dict[str, list[tuple[str, str]]]:
    """Each product with images, by slug: its images' (alt, key) in gallery order."""
    with app.app_context():
        rows = db.session.execute(
            select(Product.slug, ProductImage.alt, ProductImage.key)
            .join(ProductImage.product)
            .order_by(Product.id, ProductImage.position)
        )
        found: dict[str, list[tuple[str, str]]] = {}
        for slug, alt, key in rows:
            found.setdefault(slug, []).append((alt, key))
        return found


def stored_files(media: Path) -> list[str]:
    return sorted(str(p.relative_to(media)) for p in media.rglob("*") if p.is_file())


def test_seed_gives_the_demo_products_their_galleries_in_manifest_order(app, runner, media):
    result = runner.invoke(args=["seed"])

    assert result.exit_code == 0, result.output
    assert PHOTOS_LINE.search(result.output), result.output
    found = galleries(app)
    assert {slug: [alt for alt, _ in images] for slug, images in found.items()} == {
        entry["slug"]: [photo["alt"] for photo in entry["photos"]] for entry in MANIFEST
    }
    assert sorted(len(images) for images in found.values()) == [1, 1, 2, 2, 2, 3, 3]
    with app.app_context():
        images = db.session.scalars(select(ProductImage)).all()
        assert len(images) == 14
        assert {(image.width, image.height, image.widths) for image in images} == {
            (1200, 900, ",".join(map(str, WIDTHS)))
        }
        expected = sorted(file for image in images for file in image_files(image))
    assert len(expected) == 14 * len(WIDTHS) * 2
    assert stored_files(media) == expected
    for file in expected:
        with Image.open(media / file) as stored:
            assert stored.format == ("WEBP" if file.endswith(".webp") else "JPEG")
            assert stored.width == int(Path(file).stem)


def test_seed_shows_each_variant_its_colours_photo(app, runner, media):
    runner.invoke(args=["seed"])

    with app.app_context():
        shown = {
            variant.sku: variant.image.alt.split()[1] if variant.image else None
            for variant in db.session.scalars(select(Variant).join(Variant.product))
            if variant.product.options
        }
    assert shown == {
        **{
            f"SF-MER-001-{size}-{colour.upper()}": colour.lower()
            for size in ("S", "M", "L", "XL")
            for colour in ("Red", "Navy", "Grey")
        },
        "SF-MER-003-NATURAL": "natural",
        "SF-MER-003-BLACK": "black",
        "SF-MER-003-OLIVE": "olive",
        # no photos: each shows its product's first image (none)
        **{f"SF-MER-002-{size}": None for size in ("S", "M", "L", "XL")},
        **{f"SF-HOM-007-{colour}": None for colour in ("RED", "BLUE", "YELLOW")},
    }


def test_seed_twice_adds_no_photos(app, runner, media):
    runner.invoke(args=["seed"])
    before = galleries(app)
    files = stored_files(media)

    result = runner.invoke(args=["seed"])

    assert result.exit_code == 0, result.output
    assert "photos" not in result.output
    assert galleries(app) == before
    assert stored_files(media) == files


def test_add_demo_photos_leaves_a_gallery_that_has_images_alone(app, media):
    with app.app_context():
        seed.load_demo_catalogue()
        teapot = db.session.scalar(
            select(Product.id).where(Product.slug == "cast-iron-teapot-0-8-l")
        )
        own = (PHOTOS / "soy-wax-candle.jpg").read_bytes()
        [own_id] = add_images(teapot, [("own.jpg", own, "The merchant's own photo.")])
        progress: list[int] = []

        added = seed.add_demo_photos(progress=progress.append)
        again = seed.add_demo_photos()

        assert added == (12, 6)
        assert again == (0, 0)
        assert progress == [len(entry["photos"]) for entry in MANIFEST]
        assert list(
            db.session.scalars(select(ProductImage.id).where(ProductImage.product_id == teapot))
        ) == [own_id]
        assert db.session.scalar(select(func.count(ProductImage.id))) == 13


@pytest.mark.app_config(MEDIA_MAX_BYTES=20_000)
def test_seed_goes_on_without_the_photos_the_media_settings_refuse(app, runner, media):
    result = runner.invoke(args=["seed"])

    assert result.exit_code == 0, result.output
    assert (
        "Demo photos stopped: Nothing was uploaded: storefront-t-shirt-red.jpg is larger than "
        "0.02 MB.\nLoaded 3 shipping zones" in result.output
    )
    assert galleries(app) == {}
    assert stored_files(media) == []


def test_demo_photos_are_small_jpegs_of_demo_products():
    files = [photo["file"] for entry in MANIFEST for photo in entry["photos"]]
    demo_slugs = {slugify(item.name) for items in seed.DEMO_PRODUCTS.values() for item in items}

    assert sorted(files) == sorted(p.name for p in PHOTOS.glob("*.jpg"))
    assert len(files) == 14
    assert {entry["slug"] for entry in MANIFEST} <= demo_slugs
    assert sum((PHOTOS / file).stat().st_size for file in files) < 600_000
    for entry in MANIFEST:
        for photo in entry["photos"]:
            assert 0 < len(photo["alt"]) <= ALT_MAX_LENGTH
            with Image.open(PHOTOS / photo["file"]) as image:
                assert (image.format, image.size, image.mode) == ("JPEG", (1200, 900), "RGB")


def test_make_demo_photos_reproduces_the_committed_files(tmp_path):
    subprocess.run(
        [sys.executable, str(SCRIPT), str(tmp_path)], check=True, capture_output=True, timeout=120
    )

    made = sorted(p.name for p in tmp_path.iterdir())
    assert made == sorted(p.name for p in PHOTOS.iterdir())
    for name in made:
        assert (tmp_path / name).read_bytes() == (PHOTOS / name).read_bytes(), (
            f"{name} differs: run scripts/make_demo_photos.py and commit what it writes"
        )
