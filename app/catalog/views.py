"""Catalogue pages: the product grid with search, filter and sort, and product details."""

import hashlib
import json

from flask import Blueprint, g, render_template, request
from flask_wtf.csrf import generate_csrf

from app import page_cache
from app.catalog import services
from app.page_cache import shared
from app.sales import services as sales

bp = Blueprint("catalog", __name__)
CSRF_SLOT = "\x00csrf-token\x00"  # in a cached product page: the visitor's token goes here


@bp.get("/products")
@shared
def index():
    """Paginated grid: ?q= search, ?category= slug (with sub-categories), ?sort=, ?page=."""
    sort = request.args.get("sort") or "relevance"
    if sort not in services.SORTS:
        sort = "relevance"
    q = request.args.get("q", "")[:100]
    category = request.args.get("category", "")
    page = request.args.get("page", 1, type=int) or 1
    digest = hashlib.sha256(json.dumps([q, category, sort, page]).encode()).hexdigest()
    listing = page_cache.catalog_read(
        f"listing:{digest}", lambda: _listing(q, category, sort, page)
    )
    return render_template("catalog/index.html", listing=listing)


def _listing(q: str, category: str, sort: str, page: int) -> str:
    """The listing's HTML: the same for every visitor (no CSRF token, cart or name in it)."""
    result = services.list_products(
        q=q, category=category, sort=sort, page=page, details=services.CARD_DETAILS
    )
    return render_template(
        "catalog/_listing.html",
        result=result,
        categories=services.category_tree(),
        q=q,
        category=category,
        sort=sort,
        sorts=services.SORTS,
        offers=sales.offers_for(result.items),
    )


@bp.get("/products/<slug>")
@shared
def detail(slug):
    """One product with add-to-cart; inactive products are 404."""
    title, content = page_cache.catalog_read(f"product:{slug}", lambda: _detail(slug))
    token = "" if g.get("shared_page") else generate_csrf()
    return render_template(
        "catalog/detail.html", title=title, content=content.replace(CSRF_SLOT, token)
    )


def _detail(slug: str) -> tuple[str, str]:
    """The product's name and page content: the same for every visitor but for the CSRF
    token's slot."""
    product = services.get_product(slug)
    offer = sales.offers_for([product]).get(product.id)
    html = render_template(
        "catalog/_detail.html", product=product, offer=offer, csrf_slot=CSRF_SLOT
    )
    return product.name, html
