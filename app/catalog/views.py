"""Catalogue pages: the product grid with search, filter and sort, and product details."""

from flask import Blueprint, render_template, request

from app.catalog import services
from app.page_cache import shared
from app.sales import services as sales

bp = Blueprint("catalog", __name__)


@bp.get("/products")
@shared
def index():
    """Paginated grid: ?q= search, ?category= slug (with sub-categories), ?sort=, ?page=."""
    sort = request.args.get("sort", "name")
    if sort not in services.SORTS:
        sort = "name"
    result = services.list_products(
        q=request.args.get("q", "")[:100],
        category=request.args.get("category", ""),
        sort=sort,
        page=request.args.get("page", 1, type=int) or 1,
        details=services.CARD_DETAILS,
    )
    return render_template(
        "catalog/index.html",
        result=result,
        categories=services.category_tree(),
        q=request.args.get("q", ""),
        category=request.args.get("category", ""),
        sort=sort,
        sorts=services.SORTS,
        offers=sales.offers_for(result.items),
    )


@bp.get("/products/<slug>")
@shared
def detail(slug):
    """One product with add-to-cart; inactive products are 404."""
    product = services.get_product(slug)
    offer = sales.offers_for([product]).get(product.id)
    return render_template("catalog/detail.html", product=product, offer=offer)
