"""Demo catalogue for a fresh shop, and synthetic products in bulk for benchmarks."""

import itertools
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import NamedTuple

from flask import current_app
from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError

from app.catalog import demo_texts_de
from app.catalog.images import Upload, add_images, set_variant_image
from app.catalog.models import (
    Category,
    OptionType,
    OptionValue,
    Product,
    ProductImage,
    Variant,
    variant_option_value,
)
from app.catalog.services import set_translations, slugify
from app.errors import Conflict, ValidationFailed
from app.extensions import db
from app.i18n import default_locale
from app.timestamps import utcnow
from app.transactions import atomic

SYNTHETIC_BATCH_SIZE = 5000
SYNTHETIC_CATEGORY = "Synthetic"
SYNTHETIC_IMAGE = "synthetic.svg"
# Synthetic SKUs are SF-SYN-00000001, ...; their slugs are the SKUs in lower case. Every
# tenth product comes in sizes: SF-SYN-00000010-S, -M and -L, slug sf-syn-00000010.
SYNTHETIC_SKU_PREFIX = "SF-SYN-"
SYNTHETIC_DIGITS = 8
SYNTHETIC_SIZED_EVERY = 10
SYNTHETIC_SIZES = ("S", "M", "L")
# The demo catalogue's texts in German (demo_texts_de.py), set when the shop speaks German.
GERMAN = "de_DE"
# Photos of a few demo products, drawn by scripts/make_demo_photos.py; its manifest.json lists
# each product's (by slug) in gallery order, with alt texts and the variants each one shows.
DEMO_PHOTOS = Path(__file__).resolve().parent / "demo_photos"


class DemoCategory(NamedTuple):
    name: str
    parent: str | None = None
    sku_code: str = ""  # the middle part of its products' SKUs: SF-TEA-001
    image: str = ""  # under app/static/products/, shared by its products


class DemoProduct(NamedTuple):
    name: str
    price_cents: int
    stock: int
    description: str
    featured: bool = False


class DemoOption(NamedTuple):
    name: str
    values: tuple[str, ...]


class DemoProductWithOptions(NamedTuple):
    """Sold in one variant per combination of its options' values (S red, S blue, M red, ...)."""

    name: str
    price_cents: int
    stocks: tuple[int, ...]  # one per variant, in the order of the combinations
    description: str
    options: tuple[DemoOption, ...]
    weight_grams: int  # of each variant
    surcharges: tuple[tuple[str, int], ...] = ()  # (value, cents): a variant with it costs more
    featured: bool = False


SIZES = DemoOption("Size", ("S", "M", "L", "XL"))
XL_SURCHARGE = (("XL", 200),)

DEMO_CATEGORIES = (
    DemoCategory("Coffee & Tea"),
    DemoCategory("Coffee", "Coffee & Tea", "COF", "coffee.svg"),
    DemoCategory("Tea", "Coffee & Tea", "TEA", "tea.svg"),
    DemoCategory("Kitchen"),
    DemoCategory("Cookware", "Kitchen", "CKW", "cookware.svg"),
    DemoCategory("Tableware", "Kitchen", "TBL", "tableware.svg"),
    DemoCategory("Books", None, "BOK", "books.svg"),
    DemoCategory("Stationery", None, "STA", "stationery.svg"),
    DemoCategory("Home", None, "HOM", "home.svg"),
    DemoCategory("Merchandise", None, "MER", "home.svg"),
)

DEMO_PRODUCTS: dict[str, tuple[DemoProduct | DemoProductWithOptions, ...]] = {
    "Coffee": (
        DemoProduct(
            "Ethiopia Yirgacheffe Beans 250 g",
            1290,
            42,
            "Washed Arabica with notes of jasmine, bergamot and lemon. Roasted light for filter.",
            featured=True,
        ),
        DemoProduct(
            "Colombia Huila Beans 250 g",
            1150,
            35,
            "A balanced medium roast with caramel sweetness and a hint of red apple.",
        ),
        DemoProduct(
            "House Espresso Blend 1 kg",
            3490,
            18,
            "Brazilian and Indian beans roasted dark for a thick crema and chocolate finish.",
        ),
        DemoProduct(
            "Decaf Mexico Chiapas 250 g",
            1190,
            4,
            "Swiss Water decaffeinated, so all of the nutty flavour and none of the caffeine.",
        ),
        DemoProduct(
            "Guatemala Antigua Ground 250 g",
            1090,
            27,
            "Ground for cafetière and drip. Cocoa, spice and a smoky finish.",
        ),
        DemoProduct(
            "Ceramic Pour-Over Dripper",
            2400,
            15,
            "A size 02 cone dripper in glazed porcelain that holds its heat while you brew.",
        ),
        DemoProduct(
            "Hand Coffee Grinder",
            5900,
            0,
            "Conical steel burrs with 40 click settings, from espresso fine to cold-brew coarse.",
        ),
        DemoProduct(
            "Paper Filters, 100 Pack",
            590,
            120,
            "Unbleached size 02 filters that leave no papery taste in the cup.",
        ),
    ),
    "Tea": (
        DemoProduct(
            "Darjeeling First Flush 100 g",
            1490,
            22,
            "Spring-picked leaves from the Himalayan foothills, bright and floral with a muscatel "
            "note.",
            featured=True,
        ),
        DemoProduct(
            "Assam Breakfast Tea 250 g",
            990,
            64,
            "A strong, malty black tea that stands up to milk.",
        ),
        DemoProduct(
            "Japanese Sencha 100 g",
            1350,
            31,
            "Steamed green tea with a fresh, grassy sweetness. Brew at 70 °C for two minutes.",
        ),
        DemoProduct(
            "Earl Grey Loose Leaf 150 g",
            1050,
            3,
            "Ceylon black tea scented with natural oil of bergamot.",
        ),
        DemoProduct(
            "Chamomile Flowers 80 g",
            790,
            40,
            "Whole Egyptian chamomile blossoms for a calm, honeyed evening cup.",
        ),
        DemoProduct(
            "Jasmine Pearls 100 g",
            1690,
            12,
            "Green tea rolled by hand into pearls and layered with fresh jasmine blossoms.",
        ),
        DemoProduct(
            "Cast Iron Teapot 0.8 l",
            4500,
            9,
            "An enamelled cast iron pot with a removable stainless steel infuser.",
        ),
        DemoProduct(
            "Bamboo Tea Scoop",
            450,
            75,
            "One level scoop is the right amount of leaf for one cup.",
        ),
    ),
    "Cookware": (
        DemoProduct(
            "Cast Iron Skillet 26 cm",
            4990,
            20,
            "Pre-seasoned and oven safe. Sears steak, bakes cornbread and lasts for generations.",
            featured=True,
        ),
        DemoProduct(
            "Stainless Steel Saucepan 2 l",
            3900,
            14,
            "Tri-ply base for even heat, with a glass lid and a pouring lip.",
        ),
        DemoProduct(
            "Enamelled Dutch Oven 4.5 l",
            11900,
            5,
            "Slow-cook stews on the hob or bake bread in the oven. Comes in deep red.",
        ),
        DemoProduct(
            "Non-Stick Frying Pan 28 cm",
            3490,
            26,
            "A PFOA-free ceramic coating that lets eggs slide out. Suitable for induction.",
        ),
        DemoProduct(
            "Carbon Steel Wok 32 cm",
            4290,
            0,
            "Thin and quick to heat, for proper wok hei. Season it before first use.",
        ),
        DemoProduct(
            "Stockpot 8 l",
            5490,
            7,
            "Big enough for stock, pasta for a crowd or a batch of jam.",
        ),
        DemoProduct(
            "Silicone Spatula Set",
            1290,
            58,
            "Three heat-resistant spatulas with beech handles.",
        ),
    ),
    "Tableware": (
        DemoProduct(
            "Stoneware Dinner Plates, Set of 4",
            4800,
            16,
            "Reactive glaze in sea grey, so each plate is slightly different. Dishwasher safe.",
            featured=True,
        ),
        DemoProduct(
            "Porcelain Espresso Cups, Set of 2",
            2200,
            24,
            "Thick-walled 80 ml cups with saucers that keep a shot hot.",
        ),
        DemoProduct(
            "Linen Napkins, Set of 4",
            2600,
            30,
            "Stonewashed European linen that gets softer with every wash.",
        ),
        DemoProduct(
            "Glass Water Carafe 1 l",
            1900,
            2,
            "Mouth-blown glass with a cup that doubles as a lid.",
        ),
        DemoProduct(
            "Olive Wood Serving Board",
            3400,
            11,
            "Cut from a single piece of olive wood; every grain pattern is unique.",
        ),
        DemoProduct(
            "Cutlery Set for 6, 24 Pieces",
            8900,
            8,
            "Brushed stainless steel knives, forks and spoons with a satin finish.",
        ),
        DemoProduct(
            "Ceramic Salad Bowl",
            2900,
            19,
            "A wide 28 cm bowl glazed white inside and left raw outside.",
        ),
    ),
    "Books": (
        DemoProduct(
            "The Home Barista",
            2490,
            13,
            "A practical guide to brewing café-quality coffee at home, from grind to latte art.",
        ),
        DemoProduct(
            "A Year of Tea",
            2290,
            10,
            "Fifty-two teas, one for each week, with their stories and how to brew them.",
        ),
        DemoProduct(
            "Simple Suppers",
            2690,
            21,
            "Eighty weeknight recipes that need one pan and about thirty minutes.",
            featured=True,
        ),
        DemoProduct(
            "The Bread Book",
            2990,
            6,
            "Sourdough, rye and flatbreads explained step by step, with a starter diary.",
        ),
        DemoProduct(
            "Pride and Prejudice",
            990,
            33,
            "Jane Austen's classic novel of manners in a cloth-bound pocket edition.",
        ),
        DemoProduct(
            "Moby-Dick",
            1190,
            1,
            "Herman Melville's great sea story in a cloth-bound pocket edition.",
        ),
        DemoProduct(
            "Walking the Coast",
            1990,
            17,
            "Twenty coastal walks with maps, tide tables and the best places to stop for tea.",
        ),
    ),
    "Stationery": (
        DemoProduct(
            "A5 Dotted Notebook",
            1490,
            80,
            "192 numbered pages of 100 g/m² paper that fountain pen ink will not bleed through.",
            featured=True,
        ),
        DemoProduct(
            "Fountain Pen, Medium Nib",
            3200,
            12,
            "A steel nib, a piston converter and a matt black barrel.",
        ),
        DemoProduct(
            "Bottled Ink, Blue-Black 50 ml",
            1100,
            0,
            "A quick-drying, water-resistant ink for everyday writing.",
        ),
        DemoProduct(
            "Graphite Pencils, Set of 12",
            890,
            45,
            "Cedar pencils from 4H to 8B for drawing and sketching.",
        ),
        DemoProduct(
            "Weekly Planner 2026",
            1790,
            28,
            "A week on two pages, with monthly overviews and a ribbon marker.",
        ),
        DemoProduct(
            "Letterpress Greeting Cards, 6 Pack",
            1500,
            22,
            "Blank cards pressed on cotton paper, with kraft envelopes.",
        ),
        DemoProduct(
            "Brass Desk Ruler 30 cm",
            1990,
            5,
            "Solid brass with etched metric markings; it ages to a warm patina.",
        ),
    ),
    "Home": (
        DemoProduct(
            "Soy Wax Candle, Fig & Cedar",
            2400,
            36,
            "Hand-poured in a reusable amber glass jar; burns for about 45 hours.",
        ),
        DemoProduct(
            "Wool Throw Blanket",
            7900,
            9,
            "Woven from lambswool in a herringbone pattern, 130 by 180 cm.",
            featured=True,
        ),
        DemoProduct(
            "Linen Cushion Cover",
            2900,
            23,
            "A 45 by 45 cm cover with a hidden zip, in natural oatmeal.",
        ),
        DemoProduct(
            "Ceramic Bud Vase",
            1800,
            14,
            "A small hand-thrown vase for a single stem or a few dried grasses.",
        ),
        DemoProduct(
            "Beeswax Food Wraps, Set of 3",
            1600,
            50,
            "A reusable alternative to cling film, in three sizes.",
        ),
        DemoProduct(
            "Doormat, Natural Coir",
            2700,
            18,
            "Thick coconut fibre on a non-slip backing, 40 by 60 cm.",
        ),
        DemoProductWithOptions(
            "Striped Linen Tea Towel",
            1100,
            (20, 15, 6),
            "Heavy linen with a woven stripe and a hanging loop, 50 by 70 cm.",
            (DemoOption("Colour", ("Red", "Blue", "Yellow")),),
            weight_grams=90,
        ),
    ),
    "Merchandise": (
        DemoProductWithOptions(
            "Storefront T-shirt",
            2200,
            # S, M, L, XL; each in Red, Navy, Grey
            (6, 8, 3, 12, 0, 9, 10, 7, 0, 4, 2, 0),
            "Organic cotton jersey with the shop's coffee cup printed on the chest.",
            (SIZES, DemoOption("Colour", ("Red", "Navy", "Grey"))),
            weight_grams=180,
            surcharges=XL_SURCHARGE,
            featured=True,
        ),
        DemoProductWithOptions(
            "Hooded Sweatshirt",
            4900,
            (5, 9, 0, 3),
            "A heavyweight brushed-back hoodie in charcoal, with a kangaroo pocket.",
            (SIZES,),
            weight_grams=520,
            surcharges=XL_SURCHARGE,
        ),
        DemoProductWithOptions(
            "Canvas Tote Bag",
            1400,
            (25, 0, 14),
            "Sturdy cotton canvas with long handles and an inside pocket.",
            (DemoOption("Colour", ("Natural", "Black", "Olive")),),
            weight_grams=160,
        ),
    ),
}

# Each simple demo product's weight in grams, as shipped (packed): what weight-banded shipping
# weighs. The products with options give theirs in DemoProductWithOptions.
DEMO_WEIGHTS = {
    "Ethiopia Yirgacheffe Beans 250 g": 270,
    "Colombia Huila Beans 250 g": 270,
    "House Espresso Blend 1 kg": 1050,
    "Decaf Mexico Chiapas 250 g": 270,
    "Guatemala Antigua Ground 250 g": 270,
    "Ceramic Pour-Over Dripper": 450,
    "Hand Coffee Grinder": 650,
    "Paper Filters, 100 Pack": 120,
    "Darjeeling First Flush 100 g": 130,
    "Assam Breakfast Tea 250 g": 280,
    "Japanese Sencha 100 g": 130,
    "Earl Grey Loose Leaf 150 g": 180,
    "Chamomile Flowers 80 g": 110,
    "Jasmine Pearls 100 g": 130,
    "Cast Iron Teapot 0.8 l": 1400,
    "Bamboo Tea Scoop": 20,
    "Cast Iron Skillet 26 cm": 2700,
    "Stainless Steel Saucepan 2 l": 1300,
    "Enamelled Dutch Oven 4.5 l": 5200,
    "Non-Stick Frying Pan 28 cm": 1100,
    "Carbon Steel Wok 32 cm": 1500,
    "Stockpot 8 l": 2200,
    "Silicone Spatula Set": 250,
    "Stoneware Dinner Plates, Set of 4": 3200,
    "Porcelain Espresso Cups, Set of 2": 450,
    "Linen Napkins, Set of 4": 300,
    "Glass Water Carafe 1 l": 700,
    "Olive Wood Serving Board": 900,
    "Cutlery Set for 6, 24 Pieces": 1600,
    "Ceramic Salad Bowl": 1200,
    "The Home Barista": 650,
    "A Year of Tea": 600,
    "Simple Suppers": 900,
    "The Bread Book": 850,
    "Pride and Prejudice": 300,
    "Moby-Dick": 450,
    "Walking the Coast": 400,
    "A5 Dotted Notebook": 350,
    "Fountain Pen, Medium Nib": 60,
    "Bottled Ink, Blue-Black 50 ml": 150,
    "Graphite Pencils, Set of 12": 120,
    "Weekly Planner 2026": 400,
    "Letterpress Greeting Cards, 6 Pack": 200,
    "Brass Desk Ruler 30 cm": 250,
    "Soy Wax Candle, Fig & Cedar": 550,
    "Wool Throw Blanket": 1100,
    "Linen Cushion Cover": 200,
    "Ceramic Bud Vase": 350,
    "Beeswax Food Wraps, Set of 3": 100,
    "Doormat, Natural Coir": 1800,
}


@dataclass(frozen=True)
class DemoSummary:
    loaded: bool  # False: the catalogue had products and was left as it was
    products: int  # loaded, or found when nothing was loaded
    categories: int  # used by the demo, or found when nothing was loaded


def load_demo_catalogue() -> DemoSummary:
    """Load the demo categories and products into a catalogue without products (one commit),
    with their German texts when German is one of the shop's other LANGUAGES."""
    existing = db.session.scalar(select(func.count(Product.id)))
    if existing:
        return _unchanged(existing)
    currency = current_app.config["SHOP_CURRENCY"]
    german = GERMAN in current_app.config["LANGUAGES"] and GERMAN != default_locale()
    categories: dict[str, Category] = {}
    products = 0
    for spec in DEMO_CATEGORIES:
        category = _get_or_create_category(spec, categories[spec.parent] if spec.parent else None)
        categories[spec.name] = category
        # A category an admin made keeps a German name it has.
        if german and GERMAN not in category.translations:
            set_translations(category, {GERMAN: {"name": demo_texts_de.CATEGORIES[spec.name]}})
        for number, item in enumerate(DEMO_PRODUCTS.get(spec.name, ()), start=1):
            product = Product(
                slug=slugify(item.name),
                name=item.name,
                description=item.description,
                price_cents=item.price_cents,
                currency=currency,
                is_active=True,
                is_featured=item.featured,
                image=spec.image,
                category=category,
            )
            if german:
                name, description = demo_texts_de.PRODUCTS[item.name]
                set_translations(product, {GERMAN: {"name": name, "description": description}})
            sku = f"SF-{spec.sku_code}-{number:03d}"
            if isinstance(item, DemoProduct):
                product.variants = [
                    Variant(sku=sku, stock=item.stock, weight_grams=DEMO_WEIGHTS[item.name])
                ]
            else:
                _add_demo_variants(product, item, sku)
            db.session.add(product)
            products += 1
    try:
        db.session.commit()
    except IntegrityError:
        # Another seed (a second `make run`) loaded the catalogue since the count above.
        db.session.rollback()
        existing = db.session.scalar(select(func.count(Product.id)))
        if existing:
            return _unchanged(existing)
        raise
    return DemoSummary(loaded=True, products=products, categories=len(categories))


def demo_photos_manifest() -> list[dict]:
    """The demo photos by product, from demo_photos/manifest.json: ``[{"slug": ..., "photos":
    [{"file": ..., "alt": ..., "variant_options": {"Colour": "Red"}}, ...]}, ...]``."""
    manifest = json.loads((DEMO_PHOTOS / "manifest.json").read_text(encoding="utf-8"))
    return manifest["products"]


def add_demo_photos(progress: Callable[[int], None] | None = None) -> tuple[int, int]:
    """Give the demo products their photos, each product's uploaded through ``add_images`` in
    manifest order (checked, re-encoded and stored as an admin's upload would be), and show each
    variant the photo of its option values; (photos, products) added.

    Only products with no images get theirs: a gallery an admin started is left alone, and a
    second run adds nothing. Call it outside any unit of work (add_images writes files);
    ``progress`` is called with the number of photos of each product done or skipped.

    :raises ValidationFailed: a photo refused by the media settings (``MEDIA_MAX_BYTES``, ...).
    """
    photos = products = 0
    for entry in demo_photos_manifest():
        product_id = db.session.scalar(select(Product.id).where(Product.slug == entry["slug"]))
        if product_id is not None and not _has_images(product_id):
            uploads = [
                Upload(photo["file"], (DEMO_PHOTOS / photo["file"]).read_bytes(), photo["alt"])
                for photo in entry["photos"]
            ]
            image_ids = add_images(product_id, uploads)
            _show_variant_photos(
                product_id,
                [
                    (photo["variant_options"], image_id)
                    for photo, image_id in zip(entry["photos"], image_ids, strict=True)
                    if photo.get("variant_options")
                ],
            )
            photos += len(image_ids)
            products += 1
        if progress is not None:
            progress(len(entry["photos"]))
    return photos, products


def _has_images(product_id: int) -> bool:
    found = db.session.scalar(
        select(ProductImage.id).where(ProductImage.product_id == product_id).limit(1)
    )
    return found is not None


@atomic
def _show_variant_photos(product_id: int, links: list[tuple[dict[str, str], int]]) -> None:
    """For each (options, image id): the product's variants with all of those option values
    (``{"Colour": "Red"}``) show that image."""
    variants = db.session.scalars(select(Variant).where(Variant.product_id == product_id)).all()
    for options, image_id in links:
        for variant in variants:
            values = {value.option_type.name: value.value for value in variant.values}
            if options.items() <= values.items():
                set_variant_image(variant.id, image_id)


def _add_demo_variants(product: Product, item: DemoProductWithOptions, sku: str) -> None:
    """Its options, and a variant for each combination of their values: SF-MER-001-M-RED."""
    product.options = [
        OptionType(
            name=option.name,
            position=position,
            values=[OptionValue(value=value, position=i) for i, value in enumerate(option.values)],
        )
        for position, option in enumerate(item.options)
    ]
    surcharges = dict(item.surcharges)
    every_combination = itertools.product(*(option.values for option in product.options))
    for position, (values, stock) in enumerate(zip(every_combination, item.stocks, strict=True)):
        surcharge = sum(surcharges.get(value.value, 0) for value in values)
        product.variants.append(
            Variant(
                sku="-".join([sku, *(value.value.upper() for value in values)]),
                stock=stock,
                price_cents=item.price_cents + surcharge if surcharge else None,
                weight_grams=item.weight_grams,
                position=position,
                values=list(values),
            )
        )


def _unchanged(products: int) -> DemoSummary:
    categories = db.session.execute(select(func.count(Category.id))).scalar_one()
    return DemoSummary(loaded=False, products=products, categories=categories)


def _get_or_create_category(spec: DemoCategory, parent: Category | None) -> Category:
    """Reuse a category an admin made already (same slug), so its slug cannot collide."""
    slug = slugify(spec.name)
    category = db.session.scalar(select(Category).where(Category.slug == slug))
    if category is None:
        category = Category(name=spec.name, slug=slug, parent=parent)
        db.session.add(category)
        db.session.flush()
    return category


SYNTHETIC_ADJECTIVES = "Classic Compact Deluxe Everyday Handmade Large Modern Rustic Small".split()
SYNTHETIC_NOUNS = "Mug Notebook Teapot Skillet Bowl Candle Pen Blanket Grinder Vase Kettle".split()


def add_synthetic_products(count: int, progress: Callable[[int], None] | None = None) -> int:
    """Bulk-insert ``count`` synthetic products for benchmarks; return how many were added.

    Every tenth comes in three sizes (three variants), the others as one variant. They go
    round-robin into the existing leaf categories (a "Synthetic" category when there are
    none), numbered after the highest synthetic SKU already present, so a second run or a run
    after an interruption never collides. Each batch commits on its own; ``progress`` is
    called with the number of products of each committed batch.
    """
    if count < 1:
        raise ValidationFailed("The number of products must be 1 or more.")
    category_ids = _synthetic_category_ids()
    currency = current_app.config["SHOP_CURRENCY"]
    first = _next_synthetic_number()
    if first + count - 1 >= 10**SYNTHETIC_DIGITS:
        raise ValidationFailed(f"Synthetic SKUs stop at {10**SYNTHETIC_DIGITS - 1}.")
    added = 0
    while added < count:
        size = min(SYNTHETIC_BATCH_SIZE, count - added)
        now = utcnow()
        rows = [_synthetic_row(first + added + i, category_ids, currency, now) for i in range(size)]
        try:
            _insert_synthetic_batch(rows)
            db.session.commit()
        except IntegrityError as error:
            db.session.rollback()
            raise Conflict(
                "A synthetic SKU or slug exists already (another run at the same time?); "
                f"{added} products were added before it."
            ) from error
        added += size
        if progress is not None:
            progress(size)
    return added


def _insert_synthetic_batch(rows: list[dict]) -> None:
    """The products, their variants and, for those in sizes, their options: a few bulk INSERTs."""
    variants = {row["slug"]: row.pop("variants") for row in rows}
    db.session.execute(insert(Product), rows)
    product_ids = dict(
        db.session.execute(select(Product.slug, Product.id).where(Product.slug.in_(variants))).all()
    )
    db.session.execute(
        insert(Variant),
        [
            {**variant, "product_id": product_ids[slug]}
            for slug, product_variants in variants.items()
            for variant in product_variants
        ],
    )
    sized = [
        product_ids[slug]
        for slug, product_variants in variants.items()
        if len(product_variants) > 1
    ]
    if sized:
        _insert_synthetic_sizes(sized)


def _insert_synthetic_sizes(product_ids: list[int]) -> None:
    """A Size option (S, M, L) for each product, its variant at position i taking size i."""
    db.session.execute(
        insert(OptionType),
        [{"product_id": product_id, "name": "Size", "position": 0} for product_id in product_ids],
    )
    type_ids = dict(
        db.session.execute(
            select(OptionType.product_id, OptionType.id).where(
                OptionType.product_id.in_(product_ids)
            )
        ).all()
    )
    db.session.execute(
        insert(OptionValue),
        [
            {"option_type_id": type_ids[product_id], "value": value, "position": position}
            for product_id in product_ids
            for position, value in enumerate(SYNTHETIC_SIZES)
        ],
    )
    value_ids = {
        (product_id, position): value_id
        for product_id, position, value_id in db.session.execute(
            select(OptionType.product_id, OptionValue.position, OptionValue.id)
            .join(OptionValue.option_type)
            .where(OptionType.product_id.in_(product_ids))
        )
    }
    db.session.execute(
        insert(variant_option_value),
        [
            {"variant_id": variant_id, "option_value_id": value_ids[product_id, position]}
            for product_id, position, variant_id in db.session.execute(
                select(Variant.product_id, Variant.position, Variant.id).where(
                    Variant.product_id.in_(product_ids)
                )
            )
        ],
    )


def _synthetic_category_ids() -> list[int]:
    """Ids of the categories without sub-categories; creates "Synthetic" when there are none."""
    parent_ids = select(Category.parent_id).where(Category.parent_id.is_not(None))
    ids = list(
        db.session.scalars(
            select(Category.id).where(Category.id.not_in(parent_ids)).order_by(Category.id)
        )
    )
    if ids:
        return ids
    category = Category(name=SYNTHETIC_CATEGORY, slug=slugify(SYNTHETIC_CATEGORY))
    db.session.add(category)
    db.session.commit()
    return [category.id]


def _next_synthetic_number() -> int:
    """One past the highest synthetic number used by a SKU (SF-SYN-00000010-M too) or a slug."""
    pattern = SYNTHETIC_SKU_PREFIX + "_" * SYNTHETIC_DIGITS
    highest = [
        db.session.scalar(select(func.max(Variant.sku)).where(Variant.sku.like(pattern + "%"))),
        db.session.scalar(select(func.max(Product.slug)).where(Product.slug.like(pattern.lower()))),
    ]
    digits = slice(len(SYNTHETIC_SKU_PREFIX), len(SYNTHETIC_SKU_PREFIX) + SYNTHETIC_DIGITS)
    numbers = [int(v[digits]) for v in highest if v and v[digits].isdigit()]
    return max(numbers, default=0) + 1


def _synthetic_row(number: int, category_ids: list[int], currency: str, now: datetime) -> dict:
    sku = f"{SYNTHETIC_SKU_PREFIX}{number:0{SYNTHETIC_DIGITS}d}"
    sized = number % SYNTHETIC_SIZED_EVERY == 0
    skus = [f"{sku}-{size}" for size in SYNTHETIC_SIZES] if sized else [sku]
    adjective = SYNTHETIC_ADJECTIVES[number % len(SYNTHETIC_ADJECTIVES)]
    noun = SYNTHETIC_NOUNS[number % len(SYNTHETIC_NOUNS)]
    return {
        "slug": sku.lower(),
        "name": f"{adjective} {noun} {number}",
        "description": f"Synthetic product number {number}, made for benchmarks.",
        "price_cents": 100 + (number * 7919) % 20000,
        "currency": currency,
        "is_active": True,
        "is_featured": False,
        "image": SYNTHETIC_IMAGE,
        "category_id": category_ids[number % len(category_ids)],
        "created_at": now,
        "updated_at": now,
        "variants": [  # 0 to 100 in stock, about one in a hundred out
            {
                "sku": variant_sku,
                "stock": (number * 37 + i * 29) % 101,
                "is_active": True,
                "position": i,
            }
            for i, variant_sku in enumerate(skus)
        ],
    }
