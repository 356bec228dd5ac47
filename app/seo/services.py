"""What crawlers and link previews read, every URL absolute on SITE_URL.

- **Sitemaps** (sitemaps.org): ``/sitemap.xml`` is an index of ``/sitemaps/pages.xml`` (home,
  the catalogue, each category) and ``/sitemaps/products-N.xml``, SITEMAP_MAX_URLS active
  products each (the protocol allows 50,000), in id order, with their last change.
- **Product pages**: one canonical URL whatever the query string, OpenGraph tags, and a
  schema.org ``Product`` with its offers: one for a product without options, one per variant
  on sale otherwise (each its SKU, price and availability), at the sale price while a sale
  runs. The JSON-LD is data, not script: ``tojson`` escapes it for HTML and the strict CSP
  never runs it.
- **Listings**: canonical without search, filters or sort, which are ``noindex, follow``:
  crawlers follow their links but index only the category pages.
"""

from dataclasses import dataclass
from datetime import datetime
from math import ceil
from typing import Any
from urllib.parse import quote, urljoin

from flask import current_app, url_for
from sqlalchemy import func, select, true

from app import page_cache
from app.catalog.images import image_urls
from app.catalog.models import Product
from app.catalog.services import all_categories
from app.extensions import db
from app.money import to_decimal
from app.sales.services import Offer

SCHEMA = "https://schema.org/"
DESCRIPTION_LENGTH = 200  # characters of the description in <meta> and OpenGraph tags


@dataclass(frozen=True)
class Entry:
    """One <url> or <sitemap> of a sitemap: an absolute URL and when it last changed."""

    loc: str
    lastmod: datetime | None = None

    @property
    def w3c_lastmod(self) -> str | None:
        return self.lastmod.strftime("%Y-%m-%dT%H:%M:%S+00:00") if self.lastmod else None


def absolute(url: str) -> str:
    """``url`` on SITE_URL when it is a path ("/media/..."); an absolute one as it is."""
    return urljoin(current_app.config["SITE_URL"].rstrip("/") + "/", url)


def _per_sitemap() -> int:
    return int(current_app.config["SITEMAP_MAX_URLS"])


def product_sitemaps() -> int:
    """How many product sitemaps there are: at least one, even for an empty catalogue."""
    active = page_cache.catalog_read(
        "sitemap:active-products",
        lambda: db.session.scalar(
            select(func.count()).select_from(Product).where(Product.is_active == true())
        ),
    )
    return max(1, ceil((active or 0) / _per_sitemap()))


def sitemap_index() -> list[Entry]:
    """The sitemaps, for /sitemap.xml."""
    return [Entry(url_for("pages.seo.pages_sitemap", _external=True))] + [
        Entry(url_for("pages.seo.products_sitemap", number=number, _external=True))
        for number in range(1, product_sitemaps() + 1)
    ]


def page_entries() -> list[Entry]:
    """Home, the catalogue and each category's listing."""
    listing = url_for("pages.catalog.index", _external=True)
    return [
        Entry(url_for("pages.home", _external=True)),
        Entry(listing),
        *(Entry(f"{listing}?category={quote(c.slug)}") for c in all_categories()),
    ]


def product_entries(number: int) -> list[Entry] | None:
    """Product sitemap ``number`` (from 1): its active products by id; None past the last."""
    if not 1 <= number <= product_sitemaps():
        return None
    size = _per_sitemap()
    rows = db.session.execute(
        select(Product.slug, Product.updated_at)
        .where(Product.is_active == true())
        .order_by(Product.id)
        .limit(size)
        .offset((number - 1) * size)
    ).all()
    # One url_for for them all: 50,000 would cost it half a second.
    base = url_for("pages.catalog.detail", slug="-", _external=True).removesuffix("-")
    return [Entry(base + quote(slug), updated) for slug, updated in rows]


def product_head(product: Product, offer: Offer | None) -> dict[str, Any]:
    """A product page's canonical URL, description, OpenGraph tags and JSON-LD."""
    canonical = url_for("pages.catalog.detail", slug=product.slug, _external=True)
    images = _image_urls(product)
    # Link previews (Facebook, Slack...) take raster images only: a demo product's SVG is none.
    previews = [url for url in images if not url.partition("?")[0].endswith(".svg")]
    description = " ".join(product.translated.description.split())[:DESCRIPTION_LENGTH]
    price_cents = product.price_from_cents
    tags = [
        ("property", "og:type", "product"),
        ("property", "og:site_name", current_app.config["SITE_NAME"]),
        ("property", "og:title", product.translated.name),
        ("property", "og:url", canonical),
        ("property", "og:description", description),
        *(("property", "og:image", url) for url in previews[:1]),
        ("property", "product:price:amount", _amount(price_cents, product.currency, offer)),
        ("property", "product:price:currency", product.currency),
        ("name", "twitter:card", "summary_large_image" if previews else "summary"),
    ]
    return {
        "canonical": canonical,
        "description": description,
        "tags": tags,
        "json_ld": _product_json_ld(product, offer, canonical, images, description),
    }


def listing_head(category: str, page: int, q: str, filtered: bool, sort: str) -> dict[str, Any]:
    """A listing's canonical URL (its category and page) and whether crawlers may index it:
    not when a search, a filter (``filtered``, a bad one too) or a sort narrows it (endless
    combinations of one set)."""
    narrowed = bool(q or filtered or sort != "relevance")
    arguments: dict[str, Any] = {}
    if category:
        arguments["category"] = category
    if page > 1:
        arguments["page"] = page
    return {
        "canonical": url_for("pages.catalog.index", _external=True, **arguments),
        "noindex": narrowed,
    }


def _image_urls(product: Product) -> list[str]:
    """Absolute URLs of the product's images at page size (JPEG: every preview reads it)."""
    if product.images:
        return [absolute(image_urls(image)["sizes"]["page"]["jpeg"]) for image in product.images]
    if product.image:
        return [absolute(url_for("static", filename=f"products/{product.image}"))]
    return []


def _amount(cents: int, currency: str, offer: Offer | None) -> str:
    """The price paid now (the sale's while one runs) as schema.org wants it: "12.50"."""
    return str(to_decimal(offer.price(cents) if offer else cents, currency))


def _product_json_ld(
    product: Product,
    offer: Offer | None,
    canonical: str,
    images: list[str],
    description: str,
) -> dict[str, Any]:
    def offer_of(cents: int, available: bool, sku: str) -> dict[str, Any]:
        data = {
            "@type": "Offer",
            "url": canonical,
            "sku": sku,
            "price": _amount(cents, product.currency, offer),
            "priceCurrency": product.currency,
            "availability": SCHEMA + ("InStock" if available else "OutOfStock"),
            "itemCondition": SCHEMA + "NewCondition",
        }
        if offer is not None:
            data["priceValidUntil"] = offer.ends_at.date().isoformat()
        return data

    data: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "Product",
        "name": product.translated.name,
        "description": description,
        "url": canonical,
    }
    if images:
        data["image"] = images
    if product.category is not None:
        data["category"] = product.category.translated.name
    if product.options:
        data["offers"] = [
            {**offer_of(v.unit_price_cents, v.stock > 0, v.sku), "name": v.options_label}
            for v in product.variants_on_sale
        ]
    else:
        data["sku"] = product.sku
        data["offers"] = offer_of(product.price_from_cents, product.in_stock, product.sku)
    return data
