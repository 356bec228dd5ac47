"""Response schemas shared by the API modules (requests live beside their views)."""

from datetime import UTC

import marshmallow as ma
from flask import url_for

from app.api.common import PageMeta
from app.countries import country_codes


class UtcDateTime(ma.fields.DateTime):
    """The database's naive UTC timestamps as RFC 3339 with their offset (``...+00:00``)."""

    def _serialize(self, value, attr, obj, **kwargs):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return super()._serialize(value, attr, obj, **kwargs)


class CategoryRef(ma.Schema):
    slug = ma.fields.String(required=True)
    name = ma.fields.String(required=True)


class CategoryNode(ma.Schema):
    """A category with its sub-categories (the tree)."""

    slug = ma.fields.String(required=True)
    name = ma.fields.String(required=True)
    children = ma.fields.List(ma.fields.Nested(lambda: CategoryNode()), required=True)


class ProductSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    sku = ma.fields.String(required=True)
    slug = ma.fields.String(required=True)
    name = ma.fields.String(required=True)
    description = ma.fields.String(required=True)
    price_cents = ma.fields.Integer(required=True, metadata={"description": "Minor units."})
    currency = ma.fields.String(required=True, metadata={"example": "EUR"})
    in_stock = ma.fields.Boolean(required=True)
    stock = ma.fields.Integer(required=True)
    is_active = ma.fields.Boolean(required=True)
    category = ma.fields.Nested(CategoryRef, required=True, allow_none=True)
    image_url = ma.fields.Method("get_image_url", required=True, allow_none=True)

    def get_image_url(self, product) -> str | None:
        if not product.image:
            return None
        return url_for("static", filename=f"products/{product.image}", _external=True)


class ProductPageSchema(PageMeta):
    items = ma.fields.List(ma.fields.Nested(ProductSchema), required=True)


class CartItemSchema(ma.Schema):
    product_id = ma.fields.Integer(required=True)
    sku = ma.fields.String(required=True)
    name = ma.fields.String(required=True)
    quantity = ma.fields.Integer(required=True)
    unit_price_cents = ma.fields.Integer(required=True)
    line_total_cents = ma.fields.Integer(required=True)


class CartSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(CartItemSchema), required=True)
    subtotal_cents = ma.fields.Integer(required=True)
    currency = ma.fields.String(required=True)

    @ma.pre_dump
    def from_summary(self, summary, **_kwargs):
        """Flatten app.cart.services.CartSummary."""
        return {
            "items": [
                {
                    "product_id": line.product.id,
                    "sku": line.product.sku,
                    "name": line.product.name,
                    "quantity": line.quantity,
                    "unit_price_cents": line.unit_price_cents,
                    "line_total_cents": line.line_total_cents,
                }
                for line in summary.lines
            ],
            "subtotal_cents": summary.subtotal_cents,
            "currency": summary.currency,
        }


COUNTRY_MESSAGE = "Use an ISO 3166-1 alpha-2 country code in capitals, e.g. DE or FR."


class AddressSchema(ma.Schema):
    name = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=120))
    line1 = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=200))
    line2 = ma.fields.String(load_default="", validate=ma.validate.Length(max=200))
    city = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=100))
    postcode = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=20))
    country = ma.fields.String(
        required=True,
        validate=ma.validate.OneOf(country_codes(), error=COUNTRY_MESSAGE),
        # OneOf documents the enum; the pattern says the same for tools that read only it.
        metadata={"description": "ISO 3166-1 alpha-2", "example": "DE", "pattern": "^[A-Z]{2}$"},
    )


class OrderLineSchema(ma.Schema):
    product_id = ma.fields.Integer(required=True, allow_none=True)
    sku = ma.fields.String(required=True)
    name = ma.fields.String(required=True)
    quantity = ma.fields.Integer(required=True)
    unit_price_cents = ma.fields.Integer(required=True)
    line_total_cents = ma.fields.Integer(required=True)
    currency = ma.fields.String(required=True)


class OrderEventSchema(ma.Schema):
    from_status = ma.fields.String(required=True, allow_none=True)
    to_status = ma.fields.String(required=True)
    note = ma.fields.String(required=True)
    created_at = UtcDateTime(required=True)


class OrderSchema(ma.Schema):
    number = ma.fields.String(required=True, metadata={"example": "SF-7KQ2M9XHTA"})
    status = ma.fields.String(
        required=True,
        metadata={"enum": ["pending_payment", "paid", "shipped", "delivered", "cancelled"]},
    )
    created_at = UtcDateTime(required=True)
    lines = ma.fields.List(ma.fields.Nested(OrderLineSchema), required=True)
    subtotal_cents = ma.fields.Integer(required=True)
    total_cents = ma.fields.Integer(required=True)
    currency = ma.fields.String(required=True)
    payment_method = ma.fields.String(required=True)
    shipping_address = ma.fields.Method("get_address", required=True)
    events = ma.fields.List(ma.fields.Nested(OrderEventSchema), required=True)

    def get_address(self, order) -> dict:
        return {
            "name": order.ship_name,
            "line1": order.ship_line1,
            "line2": order.ship_line2,
            "city": order.ship_city,
            "postcode": order.ship_postcode,
            "country": order.ship_country,
        }


class OrderPageSchema(PageMeta):
    items = ma.fields.List(ma.fields.Nested(OrderSchema), required=True)
