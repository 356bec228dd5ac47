"""Response schemas shared by the API modules, and the request fields they all use: JSON's
integers and booleans as JSON Schema (OpenAPI 3.1) counts them, text that is not blank.
Request schemas live beside their views."""

from datetime import UTC
from typing import Any

import marshmallow as ma
from flask import current_app

from app.api.common import PageMeta
from app.catalog import images
from app.countries import country_codes
from app.links import url_with
from app.orders import guest, pricing, state
from app.orders.checkout import ADDRESS_FIELDS
from app.orders.models import OrderStatus
from app.payments.statuses import RefundStatus
from app.sales import services as sales


class UtcDateTime(ma.fields.DateTime):
    """The database's naive UTC timestamps as RFC 3339 with their offset (``...+00:00``)."""

    def _serialize(self, value, attr, obj, **kwargs):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return super()._serialize(value, attr, obj, **kwargs)


class WholeNumber(ma.fields.Integer):
    """An integer as OpenAPI 3.1 (JSON Schema 2020-12) counts them: 3 and 3.0 are integers,
    3.5, "3" and true are not. marshmallow's strict Integer refuses 3.0."""

    def __init__(self, **kwargs):
        super().__init__(strict=True, **kwargs)

    def _validated(self, value):
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        return super()._validated(value)


class JsonBoolean(ma.fields.Boolean):
    """true or false, nothing else (marshmallow's Boolean also takes 1, "yes", "on"...)."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, bool):
            raise self.make_error("invalid", input=value)
        return value


# Some character that str.strip() keeps: the services strip text and call what is left empty
# "required". Spelled out, so that Python's re and ECMA-262 (JSON Schema) read it alike.
NOT_BLANK = r"[^\t\n\v\f\r\x1c-\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]"


class Contains(ma.validate.Regexp):
    """The pattern somewhere in the value, as JSON Schema's ``pattern`` reads it (a search);
    marshmallow's Regexp anchors it at the start. Documented as the field's pattern."""

    def __call__(self, value):
        if self.regex.search(value) is None:
            raise ma.ValidationError(self._format_error(value))
        return value


def text(max_length: int, **kwargs) -> ma.fields.String:
    """Text of 1 to ``max_length`` characters with something in it besides white space."""
    return ma.fields.String(
        validate=[
            ma.validate.Length(max=max_length),
            Contains(NOT_BLANK, error="Must not be blank."),  # so at least 1 character
        ],
        **kwargs,
    )


# Names and descriptions in the request's language (Accept-Language), else the default one.
TRANSLATED = {"description": "In the request's language (Accept-Language) if translated."}


class CategoryRef(ma.Schema):
    slug = ma.fields.String(required=True)
    name = ma.fields.String(required=True, attribute="translated.name", metadata=TRANSLATED)


class CategoryNode(ma.Schema):
    """A category with its sub-categories (the tree)."""

    id = ma.fields.Integer(
        required=True, metadata={"description": "What the product facets count by."}
    )
    slug = ma.fields.String(required=True)
    name = ma.fields.String(required=True, attribute="translated.name", metadata=TRANSLATED)
    children = ma.fields.List(ma.fields.Nested(lambda: CategoryNode()), required=True)


class OptionValueRef(ma.Schema):
    option = ma.fields.Function(
        lambda value: value.option_type.name, required=True, metadata={"example": "Size"}
    )
    value = ma.fields.String(required=True, metadata={"example": "M"})


class OptionSchema(ma.Schema):
    name = ma.fields.String(required=True, metadata={"example": "Size"})
    values = ma.fields.Function(
        lambda option: [value.value for value in option.values],
        required=True,
        metadata={"type": "array", "items": {"type": "string"}, "example": ["S", "M", "L"]},
    )


class PlainDump(ma.Schema):
    """A response schema that dumps with ``plain``, a function of one object, rather than
    field by field (marshmallow's cost dominates a listing). Its fields stay the documented
    contract, and marshmallow's dump of them (``field_dump``) the reference that the tests
    hold ``plain`` to."""

    @staticmethod
    def plain(obj: Any) -> dict[str, Any]:
        raise NotImplementedError

    def dump(self, obj: Any, *, many: bool | None = None) -> Any:
        """A dict is an object dumped before (a page kept by ``page_cache.catalog_read``)."""
        if self.only is not None or self.exclude:
            return self.field_dump(obj, many=many)
        if self.many if many is None else many:
            return [item if isinstance(item, dict) else self.plain(item) for item in obj]
        return obj if isinstance(obj, dict) else self.plain(obj)

    def field_dump(self, obj: Any, *, many: bool | None = None) -> Any:
        return super().dump(obj, many=many)


SALE_DOC = {
    "type": "object",
    "description": "The sale running on it now (its prices are lowered by it), or null.",
    "properties": {
        "name": {"type": "string", "example": "Summer sale"},
        "percent": {"type": "integer", "minimum": 1, "maximum": 99, "example": 20},
        "ends_at": {"type": "string", "format": "date-time"},
    },
    "required": ["name", "percent", "ends_at"],
}
# What the document says of fields that marshmallow cannot type (Function, Method), so that
# clients generated from it are typed (frontend/src/api/schema.d.ts).
OPTION_VALUE_DOC = {
    "type": "object",
    "properties": {
        "option": {"type": "string", "example": "Size"},
        "value": {"type": "string", "example": "M"},
    },
    "required": ["option", "value"],
}
SALE_PRICE_DOC = {
    "type": "integer",
    "description": "The price now, lowered by the sale; null: none.",
}


def sale_of(product) -> dict[str, Any] | None:
    offer = sales.offer_of(product)
    if offer is None:
        return None
    return {"name": offer.name, "percent": offer.percent, "ends_at": offer.ends_at.isoformat()}


def sale_price(product, regular_cents: int) -> int | None:
    offer = sales.offer_of(product)
    return offer.price(regular_cents) if offer else None


class VariantSchema(PlainDump):
    """What is sold: one combination of the product's options (none for a simple product)."""

    id = ma.fields.Integer(required=True)
    sku = ma.fields.String(required=True)
    price_cents = ma.fields.Integer(
        required=True, attribute="unit_price_cents", metadata={"description": "Minor units."}
    )
    sale_price_cents = ma.fields.Function(
        lambda variant: sale_price(variant.product, variant.unit_price_cents),
        required=True,
        allow_none=True,
        metadata=SALE_PRICE_DOC,
    )
    in_stock = ma.fields.Function(
        lambda variant: variant.stock > 0, required=True, metadata={"type": "boolean"}
    )
    stock = ma.fields.Integer(required=True)
    options = ma.fields.Function(
        lambda variant: OptionValueRef(many=True).dump(variant.ordered_values),
        required=True,
        metadata={
            "type": "array",
            "items": OPTION_VALUE_DOC,
            "description": "Its option values, in the product's option order.",
        },
    )
    image_id = ma.fields.Integer(
        required=True,
        allow_none=True,
        metadata={"description": "The id of its picture in the product's images; null: none."},
    )

    @staticmethod
    def plain(obj: Any) -> dict[str, Any]:
        return {
            "id": obj.id,
            "sku": obj.sku,
            "price_cents": obj.unit_price_cents,
            "sale_price_cents": sale_price(obj.product, obj.unit_price_cents),
            "in_stock": obj.stock > 0,
            "stock": obj.stock,
            "options": [
                {"option": value.option_type.name, "value": value.value}
                for value in obj.ordered_values
            ],
            "image_id": obj.image_id,
        }


def absolute(url: str) -> str:
    """A media URL as clients can fetch it: a local path under SITE_URL."""
    return url if "://" in url else current_app.config["SITE_URL"].rstrip("/") + url


class ImageWidthSchema(ma.Schema):
    width = ma.fields.Integer(required=True)
    height = ma.fields.Integer(required=True)
    webp = ma.fields.String(required=True)
    jpeg = ma.fields.String(required=True)


class ImageSchema(ma.Schema):
    """A product image in every width stored (never wider than the upload), WebP and JPEG."""

    id = ma.fields.Integer(required=True)
    alt = ma.fields.String(required=True)
    width = ma.fields.Integer(required=True, metadata={"description": "Of the upload."})
    height = ma.fields.Integer(required=True)
    widths = ma.fields.List(ma.fields.Nested(ImageWidthSchema), required=True)

    @ma.pre_dump
    def from_image(self, image, **_kwargs):
        return image if isinstance(image, dict) else self.plain(image)

    @staticmethod
    def plain(image: Any) -> dict[str, Any]:
        urls = images.image_urls(image)
        return {
            "id": urls["id"],
            "alt": urls["alt"],
            "width": urls["width"],
            "height": urls["height"],
            "widths": [
                {**w, "webp": absolute(w["webp"]), "jpeg": absolute(w["jpeg"])}
                for w in urls["widths"]
            ],
        }


class ProductSchema(PlainDump):
    id = ma.fields.Integer(required=True)
    sku = ma.fields.String(
        required=True, metadata={"description": "The first variant's (a simple product's own)."}
    )
    slug = ma.fields.String(required=True)
    name = ma.fields.String(required=True, attribute="translated.name", metadata=TRANSLATED)
    description = ma.fields.String(
        required=True, attribute="translated.description", metadata=TRANSLATED
    )
    price_cents = ma.fields.Integer(required=True, metadata={"description": "Minor units."})
    sale_price_cents = ma.fields.Function(
        lambda product: sale_price(product, product.price_cents),
        required=True,
        allow_none=True,
        metadata=SALE_PRICE_DOC,
    )
    sale = ma.fields.Function(sale_of, required=True, allow_none=True, metadata=SALE_DOC)
    currency = ma.fields.String(required=True, metadata={"example": "EUR"})
    in_stock = ma.fields.Boolean(required=True)
    stock = ma.fields.Integer(required=True)
    is_active = ma.fields.Boolean(required=True)
    category = ma.fields.Nested(CategoryRef, required=True, allow_none=True)
    image_url = ma.fields.Method(
        "get_image_url",
        required=True,
        allow_none=True,
        metadata={
            "type": "string",
            "description": "The bundled demo picture (`images` holds uploaded ones).",
        },
    )
    images = ma.fields.List(
        ma.fields.Nested(ImageSchema),
        required=True,
        metadata={"description": "The gallery, in order; URLs from SITE_URL."},
    )
    options = ma.fields.List(ma.fields.Nested(OptionSchema), required=True)
    variants = ma.fields.Function(
        lambda product: VariantSchema(many=True).field_dump(product.variants_on_sale),
        required=True,
        metadata={
            "type": "array",
            "items": {"$ref": "#/components/schemas/Variant"},
            "description": "The variants on sale; a simple product has one.",
        },
    )

    @staticmethod
    def get_image_url(product) -> str | None:
        if not product.image:
            return None
        return url_with("static", "filename", f"products/{product.image}", external=True)

    @staticmethod
    def plain(obj: Any) -> dict[str, Any]:
        category = obj.category
        texts = obj.translated
        return {
            "id": obj.id,
            "sku": obj.sku,
            "slug": obj.slug,
            "name": texts.name,
            "description": texts.description,
            "price_cents": obj.price_cents,
            "sale_price_cents": sale_price(obj, obj.price_cents),
            "sale": sale_of(obj),
            "currency": obj.currency,
            "in_stock": obj.in_stock,
            "stock": obj.stock,
            "is_active": obj.is_active,
            "category": category and {"slug": category.slug, "name": category.translated.name},
            "image_url": ProductSchema.get_image_url(obj),
            "options": [
                {"name": option.name, "values": [value.value for value in option.values]}
                for option in obj.options
            ],
            "variants": [VariantSchema.plain(variant) for variant in obj.variants_on_sale],
            "images": [ImageSchema.plain(image) for image in obj.images],
        }


class PriceRangeSchema(ma.Schema):
    min_cents = ma.fields.Integer(required=True)
    max_cents = ma.fields.Integer(
        required=True, allow_none=True, metadata={"description": "Null: no upper end."}
    )
    count = ma.fields.Integer(required=True)


class OptionValueCount(ma.Schema):
    option = ma.fields.String(
        required=True, metadata={"description": "What ?option= takes.", "example": "size:m"}
    )
    value = ma.fields.String(required=True, metadata={"example": "M"})
    count = ma.fields.Integer(required=True)


class OptionFacetSchema(ma.Schema):
    name = ma.fields.String(required=True, metadata={"example": "Size"})
    values = ma.fields.List(ma.fields.Nested(OptionValueCount), required=True)


class CategoryCount(ma.Schema):
    id = ma.fields.Integer(required=True)
    count = ma.fields.Integer(required=True)


class FacetsSchema(ma.Schema):
    """The counts of products for each filter, each facet counted without its own filter; a
    category's count includes its sub-categories."""

    categories = ma.fields.List(ma.fields.Nested(CategoryCount), required=True)
    price_ranges = ma.fields.List(ma.fields.Nested(PriceRangeSchema), required=True)
    in_stock = ma.fields.Integer(required=True)
    options = ma.fields.List(ma.fields.Nested(OptionFacetSchema), required=True)
    capped = ma.fields.Boolean(
        required=True,
        metadata={
            "description": "true: a facet matched more products than the shop counts "
            "(CATALOG_COUNT_LIMIT, 10000 by default); its counts are of the first ones only, "
            "at least this many, and none is above the limit."
        },
    )

    @ma.pre_dump
    def from_facets(self, facets, **_kwargs):
        if isinstance(facets, dict):  # dumped before (a cached page)
            return facets
        return {
            "categories": [{"id": k, "count": n} for k, n in sorted(facets.categories.items())],
            "price_ranges": facets.prices,
            "in_stock": facets.in_stock,
            "options": [
                {
                    "name": option.name,
                    "values": [
                        {"option": key, "value": label, "count": count}
                        for key, label, count in option.values
                    ],
                }
                for option in facets.options
            ],
            "capped": bool(facets.capped),
        }


class ProductPageSchema(PageMeta):
    items = ma.fields.List(ma.fields.Nested(ProductSchema), required=True)
    next = ma.fields.String(
        required=True,
        allow_none=True,
        metadata={
            "description": "Give it as ?after= (same sort and filters) for the next page, as "
            "fast however deep; null on the last page."
        },
    )
    total_capped = ma.fields.Boolean(
        required=True,
        metadata={
            "description": "true: more products match than the shop counts (CATALOG_COUNT_LIMIT, "
            "10000 by default): `total` is that limit and `pages` the pages known so far; "
            "follow `next` for the rest."
        },
    )
    facets = ma.fields.Nested(FacetsSchema, metadata={"description": "With ?facets=true only."})


class CartItemSchema(ma.Schema):
    product_id = ma.fields.Integer(required=True)
    variant_id = ma.fields.Integer(required=True)
    sku = ma.fields.String(required=True)
    name = ma.fields.String(required=True)
    options = ma.fields.String(
        required=True, metadata={"example": "Size M, Colour blue", "description": "Or empty."}
    )
    quantity = ma.fields.Integer(required=True)
    regular_price_cents = ma.fields.Integer(
        required=True, metadata={"description": "The unit price before a sale."}
    )
    unit_price_cents = ma.fields.Integer(
        required=True, metadata={"description": "The unit price now (a sale's, if any)."}
    )
    line_total_cents = ma.fields.Integer(required=True)


class CartSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(CartItemSchema), required=True)
    subtotal_cents = ma.fields.Integer(required=True)
    voucher_code = ma.fields.String(
        required=True, allow_none=True, metadata={"description": "POST /cart/voucher applies one."}
    )
    voucher_problem = ma.fields.String(
        required=True,
        allow_none=True,
        metadata={"description": "Why the applied code gives no discount now (expired...)."},
    )
    discount_cents = ma.fields.Integer(required=True)
    tax_cents = ma.fields.Integer(
        required=True,
        metadata={
            "description": "Estimated for the shop's country (SHOP_COUNTRY); GET /cart/quote "
            "gives shipping and tax for the buyer's country."
        },
    )
    total_cents = ma.fields.Integer(
        required=True, metadata={"description": "Without shipping (GET /cart/quote has it)."}
    )
    prices_include_tax = ma.fields.Boolean(required=True)
    currency = ma.fields.String(required=True)

    @ma.pre_dump
    def from_summary(self, summary, **_kwargs):
        """Flatten app.cart.services.CartSummary, with the tax estimate (app.orders.pricing)."""
        quote = pricing.cart_quote(summary)
        estimate = quote.totals
        return {
            "items": [
                {
                    "product_id": line.product.id,
                    "variant_id": line.variant.id,
                    "sku": line.variant.sku,
                    "name": line.product.translated.name,
                    "options": line.variant.options_label,
                    "quantity": line.quantity,
                    "regular_price_cents": line.regular_price_cents,
                    "unit_price_cents": line.unit_price_cents,
                    "line_total_cents": line.line_total_cents,
                }
                for line in summary.lines
            ],
            "subtotal_cents": summary.subtotal_cents,
            "voucher_code": summary.voucher_code,
            "voucher_problem": quote.voucher_problem or None,
            "discount_cents": estimate.discount_cents,
            "tax_cents": estimate.tax_cents,
            "total_cents": estimate.total_cents,
            "prices_include_tax": estimate.prices_include_tax,
            "currency": summary.currency,
        }


COUNTRY_MESSAGE = "Use an ISO 3166-1 alpha-2 country code in capitals, e.g. DE or FR."


class AddressSchema(ma.Schema):
    """The checkout service's shipping address (its fields' lengths are the order's columns)."""

    name = text(ADDRESS_FIELDS["name"], required=True)
    line1 = text(ADDRESS_FIELDS["line1"], required=True)
    line2 = ma.fields.String(
        load_default="", validate=ma.validate.Length(max=ADDRESS_FIELDS["line2"])
    )
    city = text(ADDRESS_FIELDS["city"], required=True)
    postcode = text(ADDRESS_FIELDS["postcode"], required=True)
    country = ma.fields.String(
        required=True,
        validate=ma.validate.OneOf(country_codes(), error=COUNTRY_MESSAGE),
        # OneOf documents the enum; the pattern says the same for tools that read only it.
        metadata={"description": "ISO 3166-1 alpha-2", "example": "DE", "pattern": "^[A-Z]{2}$"},
    )


STATUSES = [str(status) for status in OrderStatus]


class OrderLineSchema(ma.Schema):
    id = ma.fields.Integer(
        required=True, metadata={"description": "The line's id: what a refund names."}
    )
    product_id = ma.fields.Integer(required=True, allow_none=True)
    variant_id = ma.fields.Integer(required=True, allow_none=True)
    sku = ma.fields.String(required=True)
    name = ma.fields.String(required=True)
    options = ma.fields.String(
        required=True, metadata={"example": "Size M, Colour blue", "description": "Or empty."}
    )
    quantity = ma.fields.Integer(required=True)
    unit_price_cents = ma.fields.Integer(required=True)
    regular_price_cents = ma.fields.Integer(
        required=True,
        allow_none=True,
        metadata={"description": "The unit price before the sale it was bought in; else null."},
    )
    line_total_cents = ma.fields.Integer(required=True)
    tax_rate = ma.fields.Decimal(
        required=True,
        as_string=True,
        metadata={
            "type": "string",
            "pattern": r"^\d{1,3}\.\d{3}$",
            "description": "Percent, as a decimal string.",
            "example": "19.000",
        },
    )
    tax_cents = ma.fields.Integer(required=True)
    currency = ma.fields.String(required=True)
    refunded_quantity = ma.fields.Integer(
        required=True, metadata={"description": "Units paid back by refunds so far."}
    )


class DocumentSchema(ma.Schema):
    """An invoice or a credit note."""

    number = ma.fields.Integer(
        required=True, metadata={"description": "Its sequential number (the download's)."}
    )
    label = ma.fields.String(
        required=True, metadata={"description": "Its number as printed.", "example": "INV-000042"}
    )
    issued_at = UtcDateTime(required=True)


class RefundLineSchema(ma.Schema):
    line_id = ma.fields.Integer(required=True, attribute="order_line_id")
    quantity = ma.fields.Integer(required=True)
    amount_cents = ma.fields.Integer(
        required=True, metadata={"description": "What the units cost the buyer, tax included."}
    )
    tax_cents = ma.fields.Integer(required=True)


class RefundSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    status = ma.fields.String(
        required=True,
        metadata={
            "enum": [str(status) for status in RefundStatus],
            "description": "pending until the payment provider paid it back.",
        },
    )
    amount_cents = ma.fields.Integer(
        required=True, metadata={"description": "All of it: lines, shipping and any amount."}
    )
    shipping_cents = ma.fields.Integer(required=True)
    lines = ma.fields.List(ma.fields.Nested(RefundLineSchema), required=True)
    note = ma.fields.String(required=True)
    created_at = UtcDateTime(required=True)
    credit_note = ma.fields.Nested(
        DocumentSchema,
        required=True,
        allow_none=True,
        metadata={"description": "Made once it is paid back, if the order was invoiced."},
    )


class OrderEventSchema(ma.Schema):
    from_status = ma.fields.String(
        required=True, allow_none=True, metadata={"enum": [*STATUSES, None]}
    )
    to_status = ma.fields.String(required=True, metadata={"enum": STATUSES})
    note = ma.fields.String(required=True)
    created_at = UtcDateTime(required=True)


class OrderSchema(ma.Schema):
    number = ma.fields.String(required=True, metadata={"example": "SF-7KQ2M9XHTA"})
    status = ma.fields.String(
        required=True,
        metadata={"enum": STATUSES},
    )
    created_at = UtcDateTime(required=True)
    lines = ma.fields.List(ma.fields.Nested(OrderLineSchema), required=True)
    subtotal_cents = ma.fields.Integer(required=True)
    discount_cents = ma.fields.Integer(required=True)
    voucher_code = ma.fields.String(
        required=True, metadata={"description": "The voucher the discount came from, or empty."}
    )
    shipping_cents = ma.fields.Integer(required=True)
    shipping_method = ma.fields.String(
        required=True, metadata={"description": "Its name when ordered; empty: none (free)."}
    )
    tax_cents = ma.fields.Integer(
        required=True, metadata={"description": "All the tax, shipping's included."}
    )
    shipping_tax_cents = ma.fields.Integer(required=True)
    prices_include_tax = ma.fields.Boolean(
        required=True,
        metadata={
            "description": "true: subtotal and shipping include the tax; false: the total adds "
            "it. total = subtotal - discount + shipping (+ tax when false)."
        },
    )
    total_cents = ma.fields.Integer(required=True)
    currency = ma.fields.String(required=True)
    payment_method = ma.fields.String(required=True)
    payment_url = ma.fields.String(
        required=True,
        attribute="payment_page_url",
        allow_none=True,
        metadata={
            "description": "While the order waits for a payment on the provider's hosted page "
            "(method stripe): send the customer there to pay. Null otherwise."
        },
    )
    email = ma.fields.String(
        required=True, metadata={"description": "Where the order's e-mails go (lower-cased)."}
    )
    guest = ma.fields.Boolean(
        required=True,
        attribute="is_guest",
        metadata={"description": "Placed without an account (until one confirms the e-mail)."},
    )
    cancellable = ma.fields.Function(
        state.cancellable,
        required=True,
        metadata={
            "type": "boolean",
            "description": "Its customer may still cancel it (POST /orders/{number}/cancel): "
            "while it waits for its payment or is paid, before it ships.",
        },
    )
    shipping_address = ma.fields.Nested(AddressSchema, required=True)
    billing_address = ma.fields.Nested(AddressSchema, required=True)
    events = ma.fields.List(ma.fields.Nested(OrderEventSchema), required=True)
    refunded_cents = ma.fields.Integer(
        required=True, metadata={"description": "Paid back (or being paid back), of the total."}
    )
    refunds = ma.fields.List(ma.fields.Nested(RefundSchema), required=True)
    invoice = ma.fields.Nested(
        DocumentSchema,
        required=True,
        allow_none=True,
        metadata={"description": "Issued when the order is paid; null before."},
    )


class PlacedOrderSchema(OrderSchema):
    """A new order, with a guest's read link."""

    link = ma.fields.Method(
        "guest_link",
        required=True,
        metadata={
            "type": ["string", "null"],
            "description": "A guest's order: the token of its read link (GET "
            "/orders/guest/{link}), valid for GUEST_ORDER_LINK_MAX_AGE seconds; the same "
            "link reaches the guest by e-mail. Null for a customer's order.",
        },
    )

    def guest_link(self, order) -> str | None:
        return guest.order_token(order) if order.is_guest else None


class OrderPageSchema(PageMeta):
    items = ma.fields.List(ma.fields.Nested(OrderSchema), required=True)
