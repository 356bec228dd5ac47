"""`seed`: roles and the demo catalogue once; `seed --products N`: synthetic products in bulk."""

import itertools
import re
from pathlib import Path
from xml.etree import ElementTree

import pytest
from sqlalchemy import func, select

from app.catalog import demo_texts_de, seed
from app.catalog.models import (
    Category,
    CategoryTranslation,
    OptionValue,
    Product,
    ProductTranslation,
    Variant,
)
from app.commands import CREATE_ADMIN_HINT
from app.errors import ValidationFailed
from app.extensions import db
from app.sales.demo import LOADED as DEMO_OFFERS

PRODUCT_IMAGES = Path(__file__).resolve().parent.parent / "app" / "static" / "products"
SVG = "{http://www.w3.org/2000/svg}"
GERMAN = {"Accept-Language": "de-DE,de;q=0.9"}


def counts(app) -> tuple[int, int]:
    """(products, categories) in the database."""
    with app.app_context():
        products = db.session.scalar(select(func.count(Product.id)))
        categories = db.session.scalar(select(func.count(Category.id)))
        return products, categories


def catalogue(app) -> list[tuple]:
    """Every product row as a tuple, in id order, to compare before and after."""
    with app.app_context():
        rows = db.session.execute(
            select(
                Product.id,
                Product.sku,
                Product.slug,
                Product.name,
                Product.price_cents,
                Product.stock,
                Product.is_featured,
                Product.image,
                Product.category_id,
                Product.updated_at,
            ).order_by(Product.id)
        )
        return [tuple(row) for row in rows]


def variants(app) -> list[tuple]:
    """Every variant row with its option values' ids, in id order."""
    with app.app_context():
        return [
            (v.id, v.product_id, v.sku, v.stock, v.price_cents, sorted(x.id for x in v.values))
            for v in db.session.scalars(select(Variant).order_by(Variant.id))
        ]


def test_seed_loads_the_demo_catalogue_into_an_empty_shop(app, runner):
    result = runner.invoke(args=["seed"])

    assert result.exit_code == 0, result.output
    assert re.sub(r"in \d+\.\d s\.", "in 9.9 s.", result.output) == (
        "Roles created: admin, customer\nLoaded 54 products in 10 categories.\n"
        "Loaded 3 shipping zones and 32 tax rates.\n"
        f"{DEMO_OFFERS}\n{CREATE_ADMIN_HINT}\n"
    )
    assert counts(app) == (54, 10)
    with app.app_context():
        products = db.session.scalars(select(Product)).all()
        assert sum(p.is_featured for p in products) == 8
        assert sorted(p.sku for p in products if p.stock == 0) == [
            "SF-CKW-005",
            "SF-COF-007",
            "SF-STA-003",
        ]
        assert sum(0 < p.stock <= 5 for p in products) == 6
        assert all(p.in_stock for p in products if p.is_featured)
        assert all(p.is_active and p.price_cents > 0 for p in products)
        assert {p.currency for p in products} == {"EUR"}
        skus = [v.sku for p in products for v in p.variants]
        assert all(re.fullmatch(r"SF-[A-Z]{3}-\d{3}(-[A-Z]+)*", sku) for sku in skus)
        assert len(set(skus)) == len(skus) == 50 + 12 + 4 + 3 + 3
        assert all(p.description.endswith(".") for p in products)
        assert len({p.slug for p in products}) == 54


def test_demo_has_products_in_sizes_and_colours(app, runner):
    runner.invoke(args=["seed"])

    with app.app_context():
        products = db.session.scalars(
            select(Product).where(Product.options.any()).order_by(Product.id)
        ).all()
        assert [
            (p.name, p.sku, [(o.name, [v.value for v in o.values]) for o in p.options])
            for p in products
        ] == [
            ("Striped Linen Tea Towel", "SF-HOM-007-RED", [("Colour", ["Red", "Blue", "Yellow"])]),
            (
                "Storefront T-shirt",
                "SF-MER-001-S-RED",
                [("Size", ["S", "M", "L", "XL"]), ("Colour", ["Red", "Navy", "Grey"])],
            ),
            ("Hooded Sweatshirt", "SF-MER-002-S", [("Size", ["S", "M", "L", "XL"])]),
            ("Canvas Tote Bag", "SF-MER-003-NATURAL", [("Colour", ["Natural", "Black", "Olive"])]),
        ]
        for product in products:
            base = product.sku.split("-")[:3]
            combinations = [
                [v.value for v in variant.ordered_values] for variant in product.variants
            ]
            # one variant per combination, in order, each value of its own option
            assert combinations == [
                list(c)
                for c in itertools.product(*([v.value for v in o.values] for o in product.options))
            ]
            for variant in product.variants:
                values = variant.ordered_values
                assert [v.option_type for v in values] == product.options
                assert variant.sku == "-".join([*base, *(v.value.upper() for v in values)])
                assert variant.is_active
                assert variant.weight_grams > 0
                expected = product.price_cents + 200 if "XL" in variant.sku else None
                assert variant.price_cents == expected
            assert product.in_stock
            assert any(variant.stock == 0 for variant in product.variants) == (
                product.name != "Striped Linen Tea Towel"
            )
        tshirt = products[1]
        assert [(v.options_label, v.stock, v.unit_price_cents) for v in tshirt.variants[-3:]] == [
            ("Size XL, Colour Red", 4, 2400),
            ("Size XL, Colour Navy", 2, 2400),
            ("Size XL, Colour Grey", 0, 2400),
        ]
        assert tshirt.stock == 61
        assert tshirt.is_featured
        assert db.session.scalar(select(func.count(OptionValue.id))) == 3 + 7 + 4 + 3


def test_demo_catalogue_is_priced_in_the_shop_currency(app, runner):
    app.config["SHOP_CURRENCY"] = "GBP"

    assert runner.invoke(args=["seed"]).exit_code == 0

    with app.app_context():
        assert set(db.session.scalars(select(Product.currency))) == {"GBP"}


def test_demo_sub_categories_have_their_parents(app, runner):
    runner.invoke(args=["seed"])

    with app.app_context():
        parents = {
            c.name: c.parent.name if c.parent else None
            for c in db.session.scalars(select(Category))
        }
        per_category = dict(
            db.session.execute(
                select(Category.name, func.count(Product.id))
                .join(Product.category)
                .group_by(Category.name)
            ).all()
        )
    assert parents == {
        "Coffee & Tea": None,
        "Coffee": "Coffee & Tea",
        "Tea": "Coffee & Tea",
        "Kitchen": None,
        "Cookware": "Kitchen",
        "Tableware": "Kitchen",
        "Books": None,
        "Stationery": None,
        "Home": None,
        "Merchandise": None,
    }
    assert per_category == {
        "Coffee": 8,
        "Tea": 8,
        "Cookware": 7,
        "Tableware": 7,
        "Books": 7,
        "Stationery": 7,
        "Home": 7,
        "Merchandise": 3,
    }


def test_demo_category_pages_list_the_products_of_their_sub_categories(app, runner, client):
    runner.invoke(args=["seed"])

    html = client.get("/products?category=coffee-tea").get_data(as_text=True)

    names = re.findall(r'class="stretched-link text-decoration-none">([^<]+)</a>', html)
    assert len(names) == 16
    assert "Darjeeling First Flush 100 g" in names
    assert "Hand Coffee Grinder" in names


def test_every_demo_product_image_exists_and_is_served_as_svg(app, runner, client):
    runner.invoke(args=["seed"])
    with app.app_context():
        images = set(db.session.scalars(select(Product.image)))

    assert images == {
        "coffee.svg",
        "tea.svg",
        "cookware.svg",
        "tableware.svg",
        "books.svg",
        "stationery.svg",
        "home.svg",
    }
    for image in sorted(images):
        assert (PRODUCT_IMAGES / image).is_file()
        with client.get(f"/static/products/{image}") as response:
            assert response.status_code == 200, image
            assert response.mimetype == "image/svg+xml", image
            assert response.data == (PRODUCT_IMAGES / image).read_bytes()


@pytest.mark.parametrize("path", sorted(PRODUCT_IMAGES.glob("*.svg")), ids=lambda p: p.name)
def test_product_images_are_small_self_contained_svgs(path):
    text = path.read_text()
    root = ElementTree.fromstring(text)

    assert path.stat().st_size < 2048
    assert root.tag == f"{SVG}svg"
    assert root.get("aria-label")
    assert not [e for e in root.iter() if e.tag in (f"{SVG}script", f"{SVG}image", f"{SVG}style")]
    assert not [(e.tag, name) for e in root.iter() for name in e.attrib if name.startswith("on")]
    assert "href" not in text
    assert "url(" not in text
    assert re.findall(r"https?://[^\"']+", text) == ["http://www.w3.org/2000/svg"]


def test_seed_twice_leaves_the_catalogue_as_it_is(app, runner):
    runner.invoke(args=["seed"])
    before = catalogue(app)
    variants_before = variants(app)

    result = runner.invoke(args=["seed"])

    assert result.exit_code == 0, result.output
    assert result.output == (
        "Roles already present.\nCatalogue already has 54 products: left as it is.\n"
        "Shipping zones and tax rates already present: left as they are.\n"
        f"{CREATE_ADMIN_HINT}\n"
    )
    assert counts(app) == (54, 10)
    assert catalogue(app) == before
    assert variants(app) == variants_before
    assert len(variants_before) == 72


def test_seed_leaves_a_shop_with_its_own_products_alone(app, runner):
    runner.invoke(args=["seed", "--products", "3"])
    before = catalogue(app)

    result = runner.invoke(args=["seed"])

    assert result.exit_code == 0, result.output
    assert result.output.endswith(
        "Catalogue already has 3 products: left as it is.\n"
        f"Loaded 3 shipping zones and 32 tax rates.\n{CREATE_ADMIN_HINT}\n"
    )
    assert counts(app) == (3, 1)
    assert catalogue(app) == before


def test_seed_reuses_categories_an_admin_made_before_any_product(app, runner):
    with app.app_context():
        db.session.add(Category(name="Books", slug="books"))
        db.session.commit()

    result = runner.invoke(args=["seed"])

    assert result.exit_code == 0, result.output
    assert "Loaded 54 products in 10 categories.\n" in result.output
    assert counts(app) == (54, 10)


def german_texts(app) -> tuple[dict[str, str], dict[str, tuple[str, str]]]:
    """The German texts in the database: each category's name, each product's (name,
    description), by their English names."""
    with app.app_context():
        return {
            c.name: c.translations["de_DE"].name
            for c in db.session.scalars(select(Category))
            if "de_DE" in c.translations
        }, {
            p.name: (p.translations["de_DE"].name, p.translations["de_DE"].description)
            for p in db.session.scalars(select(Product))
            if "de_DE" in p.translations
        }


def test_german_demo_texts_name_every_demo_category_and_product_and_nothing_else():
    products = {item.name for items in seed.DEMO_PRODUCTS.values() for item in items}

    assert set(demo_texts_de.CATEGORIES) == {spec.name for spec in seed.DEMO_CATEGORIES}
    assert set(demo_texts_de.PRODUCTS) == products
    assert len(products) == 54
    assert all(name.strip() for name in demo_texts_de.CATEGORIES.values())
    for name, description in demo_texts_de.PRODUCTS.values():
        assert 0 < len(name) <= 160, name
        assert description.endswith("."), name
    german_names = [name for name, _ in demo_texts_de.PRODUCTS.values()]
    assert len(set(german_names)) == len(german_names)


def test_seed_gives_every_demo_category_and_product_its_german_texts(app, runner):
    result = runner.invoke(args=["seed"])

    assert result.exit_code == 0, result.output
    categories, products = german_texts(app)
    assert categories == demo_texts_de.CATEGORIES
    assert products == demo_texts_de.PRODUCTS
    assert categories["Coffee & Tea"] == "Kaffee & Tee"
    assert products["Pride and Prejudice"][0] == "Stolz und Vorurteil"


def test_seed_sets_no_german_texts_in_a_shop_without_german(app, runner):
    app.config["LANGUAGES"] = {"en": "English"}

    result = runner.invoke(args=["seed"])

    assert result.exit_code == 0, result.output
    assert counts(app) == (54, 10)
    with app.app_context():
        assert db.session.scalar(select(func.count(CategoryTranslation.id))) == 0
        assert db.session.scalar(select(func.count(ProductTranslation.id))) == 0


def test_seed_gives_reused_categories_german_names_but_keeps_an_admins(app, runner):
    with app.app_context():
        db.session.add(Category(name="Books", slug="books"))
        tea = Category(name="Tea", slug="tea")
        tea.translations["de_DE"] = CategoryTranslation(locale="de_DE", name="Teesorten")
        db.session.add(tea)
        db.session.commit()

    result = runner.invoke(args=["seed"])

    assert result.exit_code == 0, result.output
    categories, _ = german_texts(app)
    assert categories == {**demo_texts_de.CATEGORIES, "Tea": "Teesorten"}
    assert categories["Books"] == "Bücher"


def test_demo_product_page_in_german_shows_its_german_texts(app, runner, client):
    runner.invoke(args=["seed"])

    response = client.get("/products/ethiopia-yirgacheffe-beans-250-g", headers=GERMAN)

    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert '<html lang="de">' in html
    assert '<h1 class="h2" id="product-name">Äthiopien Yirgacheffe, Bohnen 250 g</h1>' in html
    assert "Gewaschener Arabica mit Noten von Jasmin, Bergamotte und Zitrone." in html
    assert ">Kaffee</a></li>" in html
    assert "<title>Äthiopien Yirgacheffe, Bohnen 250 g · " in html
    english = client.get("/products/ethiopia-yirgacheffe-beans-250-g").get_data(as_text=True)
    assert '<h1 class="h2" id="product-name">Ethiopia Yirgacheffe Beans 250 g</h1>' in english


def test_seed_products_adds_synthetic_products_without_the_demo(app, runner):
    result = runner.invoke(args=["seed", "--products", "1000"])

    assert result.exit_code == 0, result.output
    assert result.output.startswith("Adding synthetic products")
    assert re.search(r"\nAdded 1000 synthetic products in \d+\.\d s\.\n$", result.output)
    assert counts(app) == (1000, 1)
    with app.app_context():
        assert db.session.scalar(select(Category.name)) == "Synthetic"
        skus = set(db.session.scalars(select(Variant.sku)))
        slugs = set(db.session.scalars(select(Product.slug)))
        images = set(db.session.scalars(select(Product.image)))
    assert len(slugs) == 1000
    assert len(skus) == 900 + 100 * 3
    assert min(skus) == "SF-SYN-00000001"
    assert max(skus) == "SF-SYN-00001000-S"
    assert images == {"synthetic.svg"}


def test_seed_products_twice_adds_twice_with_unique_skus_and_slugs(app, runner):
    first = runner.invoke(args=["seed", "--products", "1000"])
    second = runner.invoke(args=["seed", "--products", "1000"])

    assert first.exit_code == second.exit_code == 0, second.output
    assert counts(app) == (2000, 1)
    with app.app_context():
        assert db.session.scalar(select(func.count(func.distinct(Variant.sku)))) == 2400
        assert db.session.scalar(select(func.count(func.distinct(Product.slug)))) == 2000
        assert db.session.scalar(select(func.max(Variant.sku))) == "SF-SYN-00002000-S"
        assert db.session.scalar(select(func.max(Product.slug))) == "sf-syn-00002000"


def synthetic_products(app) -> dict[str, list[tuple[str, str]]]:
    """Each product's slug: its variants' (SKU, options label), in their order."""
    with app.app_context():
        return {
            product.slug: [(v.sku, v.options_label) for v in product.variants]
            for product in db.session.scalars(select(Product).order_by(Product.id))
        }


def test_seed_products_makes_every_tenth_in_three_sizes(app, runner):
    result = runner.invoke(args=["seed", "--products", "100"])

    assert result.exit_code == 0, result.output
    products = synthetic_products(app)
    sized = {slug: rows for slug, rows in products.items() if len(rows) > 1}
    assert len(products) == 100
    assert sorted(sized) == [f"sf-syn-{n:08d}" for n in range(10, 101, 10)]
    assert all(len(rows) == 1 for slug, rows in products.items() if slug not in sized)
    assert products["sf-syn-00000009"] == [("SF-SYN-00000009", "")]
    assert sized["sf-syn-00000010"] == [
        ("SF-SYN-00000010-S", "Size S"),
        ("SF-SYN-00000010-M", "Size M"),
        ("SF-SYN-00000010-L", "Size L"),
    ]
    assert all(
        rows == [(f"{slug.upper()}-{size}", f"Size {size}") for size in ("S", "M", "L")]
        for slug, rows in sized.items()
    )
    skus = [sku for rows in products.values() for sku, _ in rows]
    assert len(set(skus)) == len(skus) == 90 + 10 * 3
    with app.app_context():
        assert db.session.scalar(select(func.count(OptionValue.id))) == 10 * 3


def test_seed_products_again_goes_on_after_the_highest_number(app, runner):
    runner.invoke(args=["seed", "--products", "100"])
    first = synthetic_products(app)

    result = runner.invoke(args=["seed", "--products", "100"])

    assert result.exit_code == 0, result.output
    products = synthetic_products(app)
    added = {slug: rows for slug, rows in products.items() if slug not in first}
    assert {slug: rows for slug, rows in products.items() if slug in first} == first
    assert sorted(added) == [f"sf-syn-{n:08d}" for n in range(101, 201)]
    assert sorted(slug for slug, rows in added.items() if len(rows) == 3) == [
        f"sf-syn-{n:08d}" for n in range(110, 201, 10)
    ]
    skus = [sku for rows in products.values() for sku, _ in rows]
    assert len(set(skus)) == len(skus) == 2 * (90 + 10 * 3)


def test_seed_products_numbers_after_a_sized_product_whose_slug_changed(app, runner):
    runner.invoke(args=["seed", "--products", "10"])
    with app.app_context():
        product = db.session.scalar(select(Product).where(Product.slug == "sf-syn-00000010"))
        product.slug = "renamed-by-an-admin"
        db.session.commit()

    result = runner.invoke(args=["seed", "--products", "1"])

    assert result.exit_code == 0, result.output
    products = synthetic_products(app)
    assert len(products) == 11
    assert products["sf-syn-00000011"] == [("SF-SYN-00000011", "")]


def test_seed_products_after_the_demo_fills_its_leaf_categories(app, runner):
    runner.invoke(args=["seed"])
    demo = catalogue(app)

    result = runner.invoke(args=["seed", "--products", "1000"])

    assert result.exit_code == 0, result.output
    assert counts(app) == (1054, 10)
    assert catalogue(app)[:54] == demo
    with app.app_context():
        used = set(
            db.session.scalars(
                select(Category.name).join(Product.category).where(Product.sku.like("SF-SYN-%"))
            )
        )
        assert db.session.scalar(select(func.count(func.distinct(Product.slug)))) == 1054
    assert used == {
        "Coffee",
        "Tea",
        "Cookware",
        "Tableware",
        "Books",
        "Stationery",
        "Home",
        "Merchandise",
    }


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("0", "Invalid value for '--products': must be 1 or more, not 0."),
        ("-5", "Invalid value for '--products': must be 1 or more, not -5."),
        ("abc", "Invalid value for '--products': 'abc' is not a valid integer."),
    ],
)
def test_seed_products_refuses_a_bad_count_and_adds_nothing(app, runner, value, message):
    runner.invoke(args=["seed"])
    before = catalogue(app)

    result = runner.invoke(args=["seed", "--products", value])

    assert result.exit_code == 2
    assert message in result.output
    assert counts(app) == (54, 10)
    assert catalogue(app) == before


def test_add_synthetic_products_commits_in_batches_and_reports_progress(app, monkeypatch):
    monkeypatch.setattr(seed, "SYNTHETIC_BATCH_SIZE", 300)
    progress = []

    with app.app_context():
        added = seed.add_synthetic_products(1000, progress=progress.append)

    assert added == 1000
    assert progress == [300, 300, 300, 100]
    assert counts(app) == (1000, 1)
    with app.app_context():
        assert db.session.scalar(select(func.count(Variant.id))) == 900 + 100 * 3


def test_add_synthetic_products_refuses_zero(app):
    with app.app_context(), pytest.raises(ValidationFailed):
        seed.add_synthetic_products(0)

    assert counts(app) == (0, 0)
