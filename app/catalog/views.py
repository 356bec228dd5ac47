"""Catalogue pages: the product grid with search, filter and sort, and product details."""

import hashlib
import json

from flask import (
    Blueprint,
    current_app,
    g,
    get_template_attribute,
    render_template,
    request,
)
from flask_babel import gettext as _
from flask_wtf.csrf import generate_csrf

from app import page_cache
from app.catalog import facets, services
from app.errors import ValidationFailed
from app.money import to_minor_units
from app.page_cache import shared
from app.sales import services as sales
from app.seo import services as seo

bp = Blueprint("catalog", __name__)
CSRF_SLOT = "\x00csrf-token\x00"  # in a cached product page: the visitor's token goes here


@bp.get("/products")
@shared
def index():
    """Paginated grid: ?q= search, ?category= slug (with sub-categories), filters (?price_min=
    &price_max= in the shop's currency, ?in_stock=1, ?option=size:m, repeated), ?sort=, ?page=.
    A bad filter is left out, with a message saying why."""
    sort = request.args.get("sort") or "relevance"
    if sort not in services.SORTS:
        sort = "relevance"
    q = request.args.get("q", "")[:100]
    category = request.args.get("category", "")
    page = request.args.get("page", 1, type=int) or 1
    chosen, filters, problems = _filters()
    # Kept by the query string as sent, as the page cache keys it: a URL never asked before
    # is rendered afresh (from the search's, counts' and facets' kept data).
    digest = hashlib.sha256(request.query_string).hexdigest()
    head, listing = page_cache.catalog_read(
        f"listing-page:{digest}",
        lambda: _listing(q, category, sort, page, chosen, filters, problems),
    )
    return render_template("catalog/index.html", head=head, listing=listing)


def _filters() -> tuple[dict, facets.Filters, list[str]]:
    """The filters of the query string: as given (for links), as Filters, and what was wrong
    with them (a bad one is left out)."""
    args = request.args
    chosen: dict = {}
    problems: list[str] = []
    prices: dict[str, int] = {}
    currency = current_app.config["SHOP_CURRENCY"]
    for name in ("price_min", "price_max"):
        raw = args.get(name, "").strip()[:20]
        if not raw:
            continue
        try:
            prices[name] = to_minor_units(raw, currency)
            chosen[name] = raw
        except ValueError:
            problems.append(_("“%(raw)s” is not a price: enter one like 12.50.", raw=raw))
    if args.get("in_stock") == "1":
        chosen["in_stock"] = "1"
    options = [o[:130] for o in args.getlist("option")[: facets.MAX_OPTIONS + 1]]
    try:
        filters = facets.Filters.of(**prices, in_stock="in_stock" in chosen, options=options)
        if options:
            chosen["option"] = sorted(filters.option_keys)
    except ValidationFailed as error:
        problems += [m for messages in (error.fields or {}).values() for m in messages]
        filters = facets.Filters.of(in_stock="in_stock" in chosen)
        chosen = {"in_stock": "1"} if filters.in_stock else {}
    return chosen, filters, problems


def _listing(
    q: str,
    category: str,
    sort: str,
    page: int,
    chosen: dict,
    filters: facets.Filters,
    problems: list[str],
) -> tuple[str, str]:
    """The listing's head (canonical URL, robots) and HTML: the same for every visitor (no
    CSRF token, cart or name in it)."""
    result = services.list_products(
        q=q, category=category, sort=sort, page=page, details=None, filters=filters
    )
    head = render_template(
        "seo/_head.html", head=seo.listing_head(category, page, q, bool(chosen or problems), sort)
    )
    return head, render_template(
        "catalog/_listing.html",
        result=result,
        cards=_cards(result.items),
        filters_html=_filters_html(q, category, sort, chosen, filters),
        heading=next(
            (c.translated.name for c in services.all_categories() if c.slug == category), None
        ),
        q=q,
        category=category,
        sort=sort,
        chosen=chosen,
        problems=problems,
    )


def _filters_html(q: str, category: str, sort: str, chosen: dict, filters: facets.Filters) -> str:
    """The listing's categories and filters with their counts, the same on each of its pages:
    kept rendered until the catalogue changes."""
    digest = hashlib.sha256(json.dumps([q, category, sort, sorted(chosen.items())]).encode())
    return page_cache.catalog_read(
        f"listing-filters:{digest.hexdigest()}",
        lambda: render_template(
            "catalog/_filters.html",
            categories=services.category_tree(),
            counted=services.facet_counts(q, category, filters),
            q=q,
            category=category,
            sort=sort,
            chosen=chosen,
            filters=filters,
        ),
    )


def _cards(ids: list[int]) -> list[str]:
    """The product cards of a page, each kept rendered until the catalogue changes (or its
    sale starts or ends): a page of products no one asked before costs no product query."""
    kept = page_cache.catalog_read_many([f"card:{i}" for i in ids], _render_cards)
    return [kept[f"card:{i}"] for i in ids if f"card:{i}" in kept]


def _render_cards(keys: list[str]) -> dict[str, str]:
    products = services.products_by_id([int(key.removeprefix("card:")) for key in keys])
    offers = sales.offers_for(products)
    card = get_template_attribute("catalog/_card.html", "product_card")
    return {f"card:{p.id}": str(card(p, offers.get(p.id))) for p in products}


@bp.get("/products/<slug>")
@shared
def detail(slug):
    """One product with add-to-cart; inactive products are 404."""
    title, head, content = page_cache.catalog_read(f"product-page:{slug}", lambda: _detail(slug))
    token = "" if g.get("shared_page") else generate_csrf()
    return render_template(
        "catalog/detail.html", title=title, head=head, content=content.replace(CSRF_SLOT, token)
    )


def _detail(slug: str) -> tuple[str, str, str]:
    """The product's name, head (canonical URL, OpenGraph, JSON-LD) and page content: the
    same for every visitor but for the CSRF token's slot."""
    product = services.get_product(slug)
    offer = sales.offers_for([product]).get(product.id)
    head = render_template("seo/_head.html", head=seo.product_head(product, offer))
    html = render_template(
        "catalog/_detail.html", product=product, offer=offer, csrf_slot=CSRF_SLOT
    )
    return product.translated.name, head, html
