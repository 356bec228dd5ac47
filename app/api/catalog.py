"""API: the public catalogue. Products (search, category filter, sort, pages) and categories."""

import hashlib
import json
from collections.abc import Callable
from typing import Any

import marshmallow as ma
from flask import Response, current_app, jsonify

from app import page_cache
from app.api.common import FullMatch, PageArgs
from app.api.schemas import CategoryNode, FacetsSchema, ProductPageSchema, ProductSchema
from app.api.spec import Blueprint, error_responses
from app.catalog import services
from app.catalog.facets import MAX_OPTIONS, Filters
from app.money import MAX_AMOUNT
from app.page_cache import shared
from app.sales import services as sales

bp = Blueprint("catalog", __name__, description="Catalog")


# name:value, each with a character other than space (what facets.Filters.of accepts).
OPTION_PATTERN = r"^[^:]*[^:\s][^:]*:.*\S.*$"


class ProductListArgs(PageArgs):
    """?q=&category=&sort= on top of the page arguments; other query arguments are ignored."""

    q = ma.fields.String(
        load_default="",
        validate=ma.validate.Length(max=100),
        metadata={
            "description": "Words to find in the name or description: each word of 3 letters "
            "or more must start a word there; a query without such a word is a substring search."
        },
    )
    category = ma.fields.String(
        load_default="",
        validate=ma.validate.Length(max=140),
        metadata={"description": "A category slug; its sub-categories are included."},
    )
    price_min_cents = ma.fields.Integer(
        load_default=None,
        validate=ma.validate.Range(min=0, max=MAX_AMOUNT),
        metadata={"description": "Products priced at least this (the product's price)."},
    )
    price_max_cents = ma.fields.Integer(
        load_default=None,
        validate=ma.validate.Range(min=0, max=MAX_AMOUNT),
        metadata={"description": "Products priced at most this."},
    )
    in_stock = ma.fields.Boolean(
        load_default=False, metadata={"description": "Only products with a variant in stock."}
    )
    option = ma.fields.List(
        ma.fields.String(validate=[ma.validate.Length(min=3, max=130), FullMatch(OPTION_PATTERN)]),
        load_default=list,
        validate=ma.validate.Length(max=MAX_OPTIONS),
        metadata={
            "description": "Option values as name:value (size:m), without case; repeat it. One "
            "variant must have every chosen option name, in any of its chosen values."
        },
    )
    after = ma.fields.String(
        load_default=None,
        validate=ma.validate.Length(max=500),
        metadata={
            "description": "The `next` of the page before: the page after it (then `page` is "
            "ignored). Deep pages are as fast as the first this way."
        },
    )
    facets = ma.fields.Boolean(
        load_default=False,
        metadata={"description": "true: the answer carries the facet counts (`facets`)."},
    )
    sort = ma.fields.String(
        load_default="relevance",
        validate=ma.validate.OneOf(list(services.SORTS)),
        metadata={
            "description": "relevance: the best match of q first (a name match above a "
            "description match), by name without q. Ties are broken by product id, so pages "
            "never overlap."
        },
    )


@bp.get("/products")
@shared
@bp.etag
@bp.arguments(
    ProductListArgs(), location="query", as_kwargs=True
)  # one instance, not one a request
@bp.response(200, ProductPageSchema)
@error_responses(
    bp,
    404,
    rules={
        422: "Also for a valid body or arguments: an `after` that is not a `next` of this "
        "listing (its sort and filters), or a price_min_cents above price_max_cents."
    },
)
def list_products(**args):
    """Active products, one page at a time; a page past the end has no items.

    An unknown category is 404. Answers 304 to an If-None-Match with the current ETag.
    """
    digest = hashlib.sha256(json.dumps(args, sort_keys=True).encode()).hexdigest()
    return _kept_json(f"api-products:{digest}", lambda: _dumped_page(args))


def _kept_json(key: str, load: Callable[[], Any]) -> Response:
    """``load()``'s answer, kept (``page_cache.catalog_read``) as the JSON body the response
    decorator would send and its digest: a request serializes and hashes nothing. The digest
    is the ETag's data (``set_etag``: 304 when the client has it)."""
    body, digest = page_cache.catalog_read(key, lambda: _serialized(load()))
    bp.set_etag(digest)
    return current_app.response_class(body, mimetype="application/json")


def _serialized(data: Any) -> tuple[bytes, str]:
    body = jsonify(data).get_data()  # what flask-smorest's response decorator sends
    return body, hashlib.sha256(body).hexdigest()


def _dumped_page(args: dict) -> dict:
    """A page of products as the API answers it, kept until the catalogue changes."""
    args = dict(args)
    with_facets = args.pop("facets")
    filters = Filters.of(
        args.pop("price_min_cents"),
        args.pop("price_max_cents"),
        args.pop("in_stock"),
        args.pop("option"),
    )
    page = services.list_products(**args, filters=filters)
    sales.offers_for(page.items)  # the page's sales in one query, not one per product
    dumped = ProductPageSchema().dump(page)
    if with_facets:
        dumped["facets"] = FacetsSchema().dump(
            services.facet_counts(args["q"], args["category"], filters)
        )
    return dumped


@bp.get("/products/<slug>")
@shared
@bp.etag
@bp.response(200, ProductSchema)
@error_responses(bp, 404)
def get_product(slug):
    """One active product by its slug; inactive products are 404."""
    return _kept_json(
        f"api-product:{slug}", lambda: ProductSchema().dump(services.get_product(slug))
    )


@bp.get("/categories")
@shared
@bp.etag
@bp.response(200, CategoryNode(many=True))
def list_categories():
    """The category tree: top-level categories, each with its sub-categories."""
    return services.category_tree()
