"""API: the public catalogue. Products (search, category filter, sort, pages) and categories."""

import marshmallow as ma

from app.api.common import PageArgs
from app.api.schemas import CategoryNode, ProductPageSchema, ProductSchema
from app.api.spec import Blueprint, error_responses
from app.catalog import services
from app.page_cache import shared

bp = Blueprint("catalog", __name__, description="Catalog")


class ProductListArgs(PageArgs):
    """?q=&category=&sort= on top of the page arguments; other query arguments are ignored."""

    q = ma.fields.String(
        load_default="",
        validate=ma.validate.Length(max=100),
        metadata={"description": "Words to find in the name or description."},
    )
    category = ma.fields.String(
        load_default="",
        validate=ma.validate.Length(max=140),
        metadata={"description": "A category slug; its sub-categories are included."},
    )
    sort = ma.fields.String(
        load_default="name",
        validate=ma.validate.OneOf(list(services.SORTS)),
        metadata={"description": "Ties are broken by product id, so pages never overlap."},
    )


@bp.get("/products")
@shared
@bp.etag
@bp.arguments(ProductListArgs, location="query", as_kwargs=True)
@bp.response(200, ProductPageSchema)
@error_responses(bp, 404, 422)
def list_products(**args):
    """Active products, one page at a time; a page past the end has no items.

    An unknown category is 404. Answers 304 to an If-None-Match with the current ETag.
    """
    return services.list_products(**args)


@bp.get("/products/<slug>")
@shared
@bp.etag
@bp.response(200, ProductSchema)
@error_responses(bp, 404)
def get_product(slug):
    """One active product by its slug; inactive products are 404."""
    return services.get_product(slug)


@bp.get("/categories")
@shared
@bp.etag
@bp.response(200, CategoryNode(many=True))
def list_categories():
    """The category tree: top-level categories, each with its sub-categories."""
    return services.category_tree()
