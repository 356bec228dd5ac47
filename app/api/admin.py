"""API: the back office's writes (products, order status). Admins only.

Writes go through the same services as the shop and the back office, so the API obeys the
same rules: unique SKU and slug, non-negative prices and stock, the order state machine.
"""

import marshmallow as ma
from flask_security import current_user, roles_required

from app.accounts.models import ADMIN
from app.api.common import FullMatch, api_auth_required
from app.api.schemas import (
    JsonBoolean,
    OrderSchema,
    ProductSchema,
    RefundSchema,
    VariantSchema,
    WholeNumber,
    text,
)
from app.api.spec import AUTHENTICATED, Blueprint, error_responses
from app.cart.services import MAX_ROW_ID
from app.catalog import services as catalog_services
from app.catalog import variants as variant_services
from app.errors import ValidationFailed
from app.extensions import db
from app.money import MAX_AMOUNT
from app.orders import state as order_state
from app.orders.models import OrderStatus, Refund
from app.orders.refunds import NOTE_MAX, RefundRequest

bp = Blueprint("admin", __name__, description="Back office (role admin)")

SLUG = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
UNKNOWN_CATEGORY = (
    "Also for a valid body whose category is no category's slug, whose currency is not "
    "the shop's, or whose translations name a language the shop does not have (LANGUAGES, "
    "less the default)."
)


def admin_required(view):
    """Token or session auth (401 JSON without), then the admin role (403 JSON without)."""
    return api_auth_required(roles_required(ADMIN)(view))


class ProductTexts(ma.Schema):
    """A product's texts in one language; an empty one falls back to the default language's."""

    name = ma.fields.String(validate=ma.validate.Length(max=160))
    description = ma.fields.String(validate=ma.validate.Length(max=10_000))


class ProductUpdate(ma.Schema):
    """A product's writable fields; PATCH sends any of them (and at least a JSON object)."""

    sku = text(64)
    slug = ma.fields.String(
        validate=[
            ma.validate.Length(min=1, max=160),
            FullMatch(SLUG, error="Lower-case letters and digits, single hyphens."),
        ],
        metadata={"example": "green-tea"},
    )
    name = text(160)
    description = ma.fields.String(validate=ma.validate.Length(max=10_000))
    price_cents = WholeNumber(
        validate=ma.validate.Range(min=0, max=catalog_services.MAX_PRICE_CENTS),
        metadata={"description": "Minor units: 450 is 4.50."},
    )
    currency = ma.fields.String(
        validate=FullMatch(r"^[A-Za-z]{3}$", error="An ISO 4217 code, e.g. EUR."),
        metadata={"description": "The shop's currency; no other.", "example": "EUR"},
    )
    stock = WholeNumber(validate=ma.validate.Range(min=0, max=catalog_services.MAX_STOCK))
    category = ma.fields.String(
        allow_none=True,
        validate=ma.validate.Length(min=1, max=140),
        metadata={"description": "A category's slug; null for none.", "example": "tea"},
    )
    is_active = JsonBoolean(metadata={"description": "Shown in the shop."})
    translations = ma.fields.Dict(
        keys=ma.fields.String(),
        values=ma.fields.Nested(ProductTexts),
        metadata={
            "description": "Its name and description in the shop's other languages, by "
            "locale; a text left out keeps its translation, a language with no text left "
            "loses it. An unknown locale is 422.",
            "example": {"de_DE": {"name": "Grüner Tee"}},
        },
    )

    @ma.post_load
    def strip_names(self, data, **_kwargs):
        """Spaces around a SKU or name are typing noise (the back office strips them). After
        validation, so that the lengths checked are the ones the document states."""
        return {
            key: value.strip() if key in ("sku", "name") else value for key, value in data.items()
        }


class ProductCreate(ProductUpdate):
    """A new product; the slug is made from the name unless given."""

    sku = text(64, required=True)
    name = text(160, required=True)
    price_cents = WholeNumber(
        required=True,
        validate=ma.validate.Range(min=0, max=catalog_services.MAX_PRICE_CENTS),
        metadata={"description": "Minor units: 450 is 4.50."},
    )
    description = ma.fields.String(load_default="", validate=ma.validate.Length(max=10_000))
    currency = ma.fields.String(
        validate=FullMatch(r"^[A-Za-z]{3}$", error="An ISO 4217 code, e.g. EUR."),
        metadata={"description": "The shop's currency (the default); no other.", "example": "EUR"},
    )
    stock = WholeNumber(
        load_default=0, validate=ma.validate.Range(min=0, max=catalog_services.MAX_STOCK)
    )
    category = ma.fields.String(
        load_default=None,
        allow_none=True,
        validate=ma.validate.Length(min=1, max=140),
        metadata={"description": "A category's slug; null for none.", "example": "tea"},
    )
    is_active = JsonBoolean(load_default=True, metadata={"description": "Shown in the shop."})


class RefundLineRequest(ma.Schema):
    line_id = ma.fields.Integer(
        required=True,
        strict=True,
        validate=ma.validate.Range(1, MAX_ROW_ID),
        metadata={"description": "An order line's id (the order's lines[].id)."},
    )
    quantity = ma.fields.Integer(
        required=True, strict=True, validate=ma.validate.Range(1, 2**31 - 1)
    )


class RefundRequestSchema(ma.Schema):
    lines = ma.fields.List(
        ma.fields.Nested(RefundLineRequest),
        load_default=list,
        validate=ma.validate.Length(max=1000),
        metadata={"description": "Units of lines to pay back, each line once."},
    )
    shipping = JsonBoolean(load_default=False, metadata={"description": "Pay back the shipping."})
    amount_cents = ma.fields.Integer(
        load_default=0,
        strict=True,
        validate=ma.validate.Range(0, MAX_AMOUNT),
        metadata={"description": "More, tied to no line (a goodwill refund)."},
    )
    restock = JsonBoolean(
        load_default=False, metadata={"description": "Put the lines' units back in stock."}
    )
    note = ma.fields.String(
        load_default="",
        validate=ma.validate.Length(max=NOTE_MAX),
        metadata={"description": "The reason: in the order's history and on the credit note."},
    )

    @ma.validates("lines")
    def each_line_once(self, lines, **_kwargs):
        ids = [line["line_id"] for line in lines if "line_id" in line]  # also after errors
        if len(ids) != len(set(ids)):
            raise ma.ValidationError("Name each line once.")


REFUND_RULES = (
    "Also for a valid body that names a line the order does not have, more units than a line "
    "has left, shipping refunded before (or none paid), nothing at all, or more than is left "
    "to refund."
)


class OrderStatusChange(ma.Schema):
    status = ma.fields.String(
        required=True, validate=ma.validate.OneOf([status.value for status in OrderStatus])
    )


def _product_data(body: dict) -> dict:
    """The request as save_product's fields: the category's slug becomes its id (422 if none)."""
    data = {field: value for field, value in body.items() if field != "category"}
    if "category" in body:
        data["category_id"] = catalog_services.category_id_for(body["category"])
    return data


@bp.post("/products")
@admin_required
@bp.arguments(ProductCreate)
@bp.response(201, ProductSchema)
@bp.doc(security=AUTHENTICATED)
@error_responses(bp, 400, 401, 403, 409, rules={422: UNKNOWN_CATEGORY})
def create_product(body):
    """Add a product. A SKU or slug that exists already is 409; an unknown category is 422."""
    return catalog_services.save_product(None, _product_data(body))


@bp.patch("/products/<slug>")
@admin_required
@bp.arguments(ProductUpdate)
@bp.response(200, ProductSchema)
@bp.doc(security=AUTHENTICATED)
@error_responses(bp, 400, 401, 403, 404, 409, rules={422: UNKNOWN_CATEGORY})
def update_product(body, slug):
    """Change some of a product's fields (inactive products too); the same rules as creating."""
    product = catalog_services.get_product(slug, include_inactive=True)
    return catalog_services.save_product(product, _product_data(body))


class OptionCreate(ma.Schema):
    name = text(60, required=True, metadata={"example": "Size"})
    values = ma.fields.List(
        text(60),
        required=True,
        validate=ma.validate.Length(min=1, max=100),
        metadata={"description": "In their order, each once.", "example": ["S", "M", "L"]},
    )
    position = WholeNumber(validate=ma.validate.Range(min=0, max=1000), load_default=0)


def _options(**kwargs) -> ma.fields.Dict:
    return ma.fields.Dict(
        keys=ma.fields.String(),  # names the product does not have are 422 (the rules)
        values=ma.fields.String(),
        metadata={
            "description": "One value of each of the product's options ({} without options).",
            "example": {"Size": "M", "Colour": "blue"},
        },
        **kwargs,
    )


class VariantUpdate(ma.Schema):
    sku = text(64)
    options = _options()
    price_cents = WholeNumber(
        allow_none=True,
        validate=ma.validate.Range(min=0, max=catalog_services.MAX_PRICE_CENTS),
        metadata={"description": "Null: the product's price."},
    )
    stock = WholeNumber(validate=ma.validate.Range(min=0, max=catalog_services.MAX_STOCK))
    weight_grams = WholeNumber(
        allow_none=True,
        validate=ma.validate.Range(min=0, max=variant_services.MAX_WEIGHT_GRAMS),
    )
    is_active = JsonBoolean(metadata={"description": "Sold in the shop."})


class VariantCreate(VariantUpdate):
    sku = text(64, required=True)
    options = _options(required=True)
    stock = WholeNumber(
        required=True, validate=ma.validate.Range(min=0, max=catalog_services.MAX_STOCK)
    )


VARIANT_RULES = (
    "Also for a valid body whose options are not one value of each of the product's "
    "options (or name values it does not have), or are those of another variant."
)


def _variant_data(product, body: dict) -> dict:
    """The request as save_variant's fields: the options named become their values' ids."""
    data = {field: value for field, value in body.items() if field != "options"}
    if "options" in body:
        data["value_ids"] = variant_services.value_ids_for(product, body["options"])
    return data


@bp.post("/products/<slug>/options")
@admin_required
@bp.arguments(OptionCreate)
@bp.response(201, ProductSchema)
@bp.doc(security=AUTHENTICATED)
@error_responses(
    bp,
    400,
    401,
    403,
    404,
    409,
    rules={422: "Also for a valid body whose values repeat one, or are blank."},
)
def create_option(body, slug):
    """Add an option (Size) with its values to a product; 409 if it has one of that name."""
    product = catalog_services.get_product(slug, include_inactive=True)
    variant_services.save_option_type(None, {**body, "product_id": product.id})
    return catalog_services.get_product(slug, include_inactive=True)


@bp.post("/products/<slug>/variants")
@admin_required
@bp.arguments(VariantCreate)
@bp.response(201, VariantSchema)
@bp.doc(security=AUTHENTICATED)
@error_responses(bp, 400, 401, 403, 404, 409, rules={422: VARIANT_RULES})
def create_variant(body, slug):
    """Add a variant: a new SKU (409 if taken) with one value of each option."""
    product = catalog_services.get_product(slug, include_inactive=True)
    data = {"product_id": product.id, **_variant_data(product, body)}
    return _save_variant(None, data)


@bp.patch("/variants/<int:variant_id>")
@admin_required
@bp.arguments(VariantUpdate)
@bp.response(200, VariantSchema)
@bp.doc(security=AUTHENTICATED)
@error_responses(bp, 400, 401, 403, 404, 409, rules={422: VARIANT_RULES})
def update_variant(body, variant_id):
    """Change some of a variant's fields; the same rules as adding one."""
    variant = variant_services.get_variant(variant_id)
    return _save_variant(variant, _variant_data(variant.product, body))


def _save_variant(variant, data: dict):
    """save_variant, its errors named by the body's fields (the options, not their ids)."""
    try:
        return variant_services.save_variant(variant, data)
    except ValidationFailed as error:
        if error.fields and "value_ids" in error.fields:
            error.fields["options"] = error.fields.pop("value_ids")
        raise


@bp.patch("/orders/<number>")
@admin_required
@bp.arguments(OrderStatusChange)
@bp.response(200, OrderSchema)
@bp.doc(security=AUTHENTICATED)
@error_responses(bp, 400, 401, 403, 404, 409, 422)
def change_order_status(body, number):
    """Move any order along the state machine; 409 invalid_transition when not allowed.

    paid -> shipped e-mails the customer; cancelling puts the stock back.
    """
    return order_state.transition(number, body["status"], actor_id=current_user.id)


@bp.post("/orders/<number>/refunds")
@admin_required
@bp.arguments(RefundRequestSchema)
@bp.response(201, RefundSchema)
@bp.doc(security=AUTHENTICATED)
@error_responses(bp, 400, 401, 403, 404, 409, rules={422: REFUND_RULES})
def refund_order(body, number):
    """Pay back units of a paid, shipped or delivered order's lines, its shipping, an amount.

    The order becomes partially_refunded, or refunded once refunds cover its total; the money
    goes back through its payment provider (status pending until it answers), and the credit
    note is made and e-mailed once it did. 409 invalid_transition for an order not paid yet,
    cancelled or refunded.
    """
    asked = RefundRequest(
        lines={line["line_id"]: line["quantity"] for line in body["lines"]},
        shipping=body["shipping"],
        amount_cents=body["amount_cents"],
        restock=body["restock"],
        note=body["note"],
    )
    refund = order_state.refund(number, asked, actor_id=current_user.id)
    return db.session.get_one(Refund, refund.id)
