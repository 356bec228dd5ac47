"""Which products are on sale now, and for how much: the price the listing, the product page,
the cart, checkout and the API all show.

A sale takes ``percent`` off each unit's price, rounded half up to a whole minor unit
(4.50 at 15 % is 4.50 - 0.68 = 3.82). When several sales cover a product, the biggest
percentage applies (the oldest sale of equal ones). A voucher applies on top, to the sale
prices: see ``app.vouchers.services``.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from flask import g, has_request_context
from sqlalchemy import select, true

from app import page_cache
from app.catalog.models import Product
from app.catalog.services import chosen_products_and_categories, descendant_ids
from app.errors import ValidationFailed
from app.extensions import db
from app.sales.models import Sale, sale_category, sale_product
from app.timestamps import utcnow
from app.totals import round_half_up
from app.transactions import atomic

NAME_LENGTH = 100
SALES_KEY = "upcoming-sales"


@dataclass(frozen=True)
class Offer:
    """A product's sale now."""

    sale_id: int
    name: str
    percent: int
    ends_at: datetime

    def price(self, regular_cents: int) -> int:
        return regular_cents - round_half_up(Decimal(regular_cents) * self.percent / 100)


@dataclass(frozen=True)
class _Running:
    offer: Offer
    starts_at: datetime
    categories: frozenset[int]  # with their sub-categories


def _running(now: datetime) -> list[_Running]:
    """The sales running now, biggest first."""
    if has_request_context() and "running_sales" in g:
        upcoming = g.running_sales
    else:
        upcoming = page_cache.catalog_read(SALES_KEY, _upcoming)
        if has_request_context():
            g.running_sales = upcoming
    if upcoming:  # a cached page lives until the next sale starts or ends, at most
        page_cache.fresh_until(
            min(sale.starts_at if now < sale.starts_at else sale.offer.ends_at for sale in upcoming)
        )
    return [sale for sale in upcoming if sale.starts_at <= now < sale.offer.ends_at]


def _upcoming() -> list[_Running]:
    """The active sales not over yet, biggest first: two queries, kept until a catalogue
    write (``page_cache.watch``), so that most requests make none."""
    sales = db.session.execute(
        select(Sale.id, Sale.name, Sale.percent, Sale.starts_at, Sale.ends_at)
        .where(Sale.is_active == true(), Sale.ends_at > utcnow())
        .order_by(Sale.percent.desc(), Sale.id)
    ).all()
    categories: dict[int, list[int]] = {}
    if sales:
        rows = db.session.execute(
            select(sale_category.c.sale_id, sale_category.c.category_id).where(
                sale_category.c.sale_id.in_([sale.id for sale in sales])
            )
        )
        for sale_id, category_id in rows:
            categories.setdefault(sale_id, []).append(category_id)
    return [
        _Running(
            Offer(sale.id, sale.name, sale.percent, sale.ends_at),
            sale.starts_at,
            frozenset(descendant_ids(categories.get(sale.id, ()))),
        )
        for sale in sales
    ]


def offers_for(products: Iterable[Product], now: datetime | None = None) -> dict[int, Offer]:
    """Each product's best sale running now, by product id (products on no sale: absent).
    With no sale running, one query; else at most three."""
    products = list(products)
    running = _running(now or utcnow())
    if not running or not products:
        if has_request_context():
            g.setdefault("sale_offers", {}).update({p.id: None for p in products})
        return {}
    listed: dict[int, set[int]] = {}
    rows = db.session.execute(
        select(sale_product.c.product_id, sale_product.c.sale_id).where(
            sale_product.c.sale_id.in_([sale.offer.sale_id for sale in running]),
            sale_product.c.product_id.in_({product.id for product in products}),
        )
    )
    for product_id, sale_id in rows:
        listed.setdefault(product_id, set()).add(sale_id)
    offers = {}
    for product in products:
        for sale in running:  # biggest first
            if sale.offer.sale_id in listed.get(product.id, ()) or (
                product.category_id in sale.categories
            ):
                offers[product.id] = sale.offer
                break
    if has_request_context():
        g.setdefault("sale_offers", {}).update({p.id: offers.get(p.id) for p in products})
    return offers


def offer_of(product: Product) -> Offer | None:
    """The product's sale now: no query for a product ``offers_for`` saw in this request
    (the API's schemas ask product by product)."""
    known = g.get("sale_offers", {}) if has_request_context() else {}
    if product.id in known:
        return known[product.id]
    return offers_for([product]).get(product.id)


def price(regular_cents: int, offer: Offer | None) -> int:
    """The unit price now: the regular one, or the sale's."""
    return offer.price(regular_cents) if offer else regular_cents


@atomic
def save_sale(sale: Sale | None, data: dict) -> Sale:
    """Create (``sale`` None) or change a sale; 422 with per-field messages for an empty or
    too long name, a percentage outside 1-99, a missing start or end, an end not after the
    start, or neither products nor categories (``chosen_products_and_categories``)."""
    errors: dict[str, list[str]] = {}
    name = (data.get("name") or "").strip()
    if not 0 < len(name) <= NAME_LENGTH:
        errors["name"] = [f"Between 1 and {NAME_LENGTH} characters."]
    percent = data.get("percent")
    if isinstance(percent, bool) or not isinstance(percent, int) or not 1 <= percent <= 99:
        errors["percent"] = ["A whole percentage from 1 to 99."]
    starts, ends = data.get("starts_at"), data.get("ends_at")
    for field, value in (("starts_at", starts), ("ends_at", ends)):
        if not isinstance(value, datetime):
            errors[field] = ["A date and time (UTC)."]
    if isinstance(starts, datetime) and isinstance(ends, datetime) and ends <= starts:
        errors["ends_at"] = ["After the start."]
    try:
        products, categories = chosen_products_and_categories(data)
    except ValidationFailed as error:
        errors.update(error.fields or {})
        products, categories = [], []
    else:
        if not products and not categories:
            errors["products"] = ["Choose products, categories, or both."]
    if errors or not isinstance(percent, int) or starts is None or ends is None:
        raise ValidationFailed("Check the sale.", errors)
    sale = sale or Sale()
    sale.name, sale.percent, sale.starts_at, sale.ends_at = name, percent, starts, ends
    sale.is_active = bool(data.get("is_active", True))
    sale.products, sale.categories = products, categories
    db.session.add(sale)
    db.session.flush()
    return sale
