"""API: the cart. A token client's or logged-in browser's own cart, or an anonymous browser's
cart kept in the signed cart cookie (the first add sets it). Prices always come from the
catalogue: a request carries variant (or product) ids and quantities only."""

import marshmallow as ma
from flask import after_this_request

from app.api.common import RangeToSetting, anyone_or_token_user
from app.api.schemas import COUNTRY_MESSAGE, CartSchema, WholeNumber
from app.api.spec import AUTHENTICATED, Blueprint, error_responses, link, links
from app.cart import services
from app.cart.ownership import current_owner, remember_cart
from app.countries import country_codes
from app.orders import pricing
from app.payments.providers import enabled_providers
from app.vouchers.limits import voucher_guesses

bp = Blueprint("cart", __name__, description="Cart")

# Anonymous visitors may use the cart too (with the cart cookie).
ANYONE = [*AUTHENTICATED, {}]
CART_TOKEN_HELP = (  # nosec B105  # documentation, not a secret
    "An anonymous cart's key, from the X-Cart-Token answer of its first add: for clients "
    "without cookies (no CSRF header then)."
)
CART_TOKEN_HEADER = {
    "name": "X-Cart-Token",
    "in": "header",
    "required": False,
    "schema": {"type": "string"},
    "description": CART_TOKEN_HELP,
}
CSRF_HEADER = {
    "name": "X-CSRF-Token",
    "in": "header",
    "required": False,
    "schema": {"type": "string"},
    "description": (
        "Browsers (session or cart cookie) must send the page's csrf-token; token clients don't."
    ),
}
ITEM_PATH = "/cart/items/{product_id}"
LINE_PATH = "/cart/lines/{variant_id}"
ADDED_PRODUCT = "$request.body#/product_id"
ADDED_VARIANT = "$request.body#/variant_id"
ROW_ID = ma.validate.Range(min=1, max=2**31 - 1)
QUANTITY = WholeNumber(
    required=True,
    validate=RangeToSetting(1, "CART_MAX_QUANTITY"),
    metadata={
        "description": "A whole number (2 or 2.0); strings and booleans are refused. At most "
        "CART_MAX_QUANTITY (1000 by default)."
    },
)


class AddItemRequest(ma.Schema):
    """The variant to add, or the product when it has one variant: exactly one of the two."""

    variant_id = WholeNumber(validate=ROW_ID, metadata={"description": "What to add."})
    product_id = WholeNumber(
        validate=ROW_ID,
        metadata={"description": "Instead of variant_id, for a product with one variant."},
    )
    quantity = QUANTITY

    @ma.validates_schema
    def variant_or_product(self, data, **_kwargs):
        if ("variant_id" in data) == ("product_id" in data):
            raise ma.ValidationError(
                "Give variant_id, or product_id for a product with one variant.", "variant_id"
            )


class SetQuantityRequest(ma.Schema):
    quantity = QUANTITY


def document_body_rules(spec) -> None:
    """What marshmallow fields cannot state in openapi.json: an add names exactly one of
    variant_id and product_id (AddItemRequest's own check)."""
    spec.components.schemas["AddItemRequest"]["oneOf"] = [
        {"required": ["variant_id"]},
        {"required": ["product_id"]},
    ]


@bp.get("/cart")
@anyone_or_token_user
@bp.response(200, CartSchema)
@bp.doc(security=ANYONE, parameters=[CART_TOKEN_HEADER])
@error_responses(bp, 401)
def get_cart():
    """The caller's cart, priced from the catalogue now (empty when there is none yet)."""
    return services.get_cart(current_owner())


@bp.post("/cart/items")
@anyone_or_token_user
@bp.arguments(AddItemRequest)
@bp.response(
    201,
    CartSchema,
    headers={
        "X-Cart-Token": {
            "description": "A new anonymous cart's key: send it back as X-Cart-Token.",
            "schema": {"type": "string"},
        }
    },
)
@bp.doc(
    security=ANYONE,
    parameters=[CSRF_HEADER, CART_TOKEN_HEADER],
    **links(
        201,
        SetQuantity=link(
            "PATCH", LINE_PATH, "Change the added line's quantity.", variant_id=ADDED_VARIANT
        ),
        RemoveLine=link("DELETE", LINE_PATH, "Take the added line out.", variant_id=ADDED_VARIANT),
        SetProductQuantity=link(
            "PATCH",
            ITEM_PATH,
            "Added by product_id: change its line's quantity.",
            product_id=ADDED_PRODUCT,
        ),
        RemoveProduct=link(
            "DELETE", ITEM_PATH, "Added by product_id: take its line out.", product_id=ADDED_PRODUCT
        ),
    ),
)
@error_responses(
    bp,
    400,
    401,
    404,
    409,
    rules={
        422: "Also for a valid body whose product_id names a product with several variants "
        "(variant_id), and when the cart would "
        "hold more than CART_MAX_QUANTITY of the variant (quantity) or more than CART_MAX_LINES "
        "lines (variant_id)."
    },
)
def add_item(body):
    """Add a quantity of a variant on top of what the cart holds, within its stock.

    An unknown or inactive variant or product is 404; more than the stock is 409
    out_of_stock and the cart stays as it was. An anonymous caller's first add starts a cart:
    the answer sets the cart cookie and carries the same key in the X-Cart-Token header, which
    a client without cookies sends back (every cart call, and a guest's POST /orders).
    """
    owner = current_owner()
    summary = services.add_to_cart(
        owner, body.get("product_id"), body["quantity"], variant_id=body.get("variant_id")
    )
    after_this_request(lambda response: remember_cart(response, summary, owner))
    return summary


@bp.patch("/cart/items/<int:product_id>")
@anyone_or_token_user
@bp.arguments(SetQuantityRequest)
@bp.response(200, CartSchema)
@bp.doc(security=ANYONE, parameters=[CSRF_HEADER, CART_TOKEN_HEADER])
@error_responses(bp, 400, 401, 404, 409, 422)
def set_quantity(body, product_id):
    """Set the quantity of a product in the cart, within the stock (404 if not in the cart;
    422 naming variant_id if the cart holds several of its variants: use /cart/lines)."""
    return services.set_quantity(current_owner(), product_id, body["quantity"])


@bp.delete("/cart/items/<int:product_id>")
@anyone_or_token_user
@bp.response(200, CartSchema)
@bp.doc(security=ANYONE, parameters=[CSRF_HEADER, CART_TOKEN_HEADER])
@error_responses(bp, 400, 401, 404)
def remove_item(product_id):
    """Take a product out of the cart (404 if it is not in the cart; 422 naming variant_id if
    the cart holds several of its variants: use /cart/lines)."""
    return services.remove_from_cart(current_owner(), product_id)


@bp.patch("/cart/lines/<int:variant_id>")
@anyone_or_token_user
@bp.arguments(SetQuantityRequest)
@bp.response(200, CartSchema)
@bp.doc(security=ANYONE, parameters=[CSRF_HEADER, CART_TOKEN_HEADER])
@error_responses(bp, 400, 401, 404, 409, 422)
def set_line_quantity(body, variant_id):
    """Set the quantity of a variant in the cart, within its stock (404 if not in the cart)."""
    return services.set_quantity(current_owner(), None, body["quantity"], variant_id=variant_id)


@bp.delete("/cart/lines/<int:variant_id>")
@anyone_or_token_user
@bp.response(200, CartSchema)
@bp.doc(security=ANYONE, parameters=[CSRF_HEADER, CART_TOKEN_HEADER])
@error_responses(bp, 400, 401, 404)
def remove_line(variant_id):
    """Take a variant out of the cart (404 if it is not in the cart)."""
    return services.remove_from_cart(current_owner(), variant_id=variant_id)


class QuoteArgs(ma.Schema):
    country = ma.fields.String(
        required=True,
        validate=ma.validate.OneOf(country_codes(), error=COUNTRY_MESSAGE),
        metadata={"description": "ISO 3166-1 alpha-2", "example": "DE", "pattern": "^[A-Z]{2}$"},
    )
    shipping_method_id = ma.fields.Integer(
        validate=ROW_ID, metadata={"description": "Omitted: the first method offered."}
    )


class ShippingMethodSchema(ma.Schema):
    id = ma.fields.Integer(required=True, attribute="method_id")
    name = ma.fields.String(required=True)
    price_cents = ma.fields.Integer(
        required=True, metadata={"description": "For this cart (free above a subtotal, weight)."}
    )


class PaymentMethodSchema(ma.Schema):
    id = ma.fields.String(
        required=True, attribute="name", metadata={"description": "What payment.method takes."}
    )
    name = ma.fields.Function(
        lambda provider: str(provider.label), required=True, metadata={"type": "string"}
    )
    takes_card = ma.fields.Boolean(
        required=True, metadata={"description": "true: payment.card_number is required."}
    )
    hosted = ma.fields.Boolean(
        required=True,
        metadata={"description": "true: the customer pays at the placed order's payment_url."},
    )


class QuoteSchema(ma.Schema):
    country = ma.fields.String(required=True)
    shipping_methods = ma.fields.List(
        ma.fields.Nested(ShippingMethodSchema), required=True, attribute="methods"
    )
    shipping_method = ma.fields.Nested(
        ShippingMethodSchema, required=True, allow_none=True, attribute="shipping"
    )
    subtotal_cents = ma.fields.Integer(required=True, attribute="totals.subtotal_cents")
    voucher_code = ma.fields.String(
        required=True, metadata={"description": "The cart's code when it applies, else empty."}
    )
    discount_cents = ma.fields.Integer(required=True, attribute="totals.discount_cents")
    shipping_cents = ma.fields.Integer(required=True, attribute="totals.shipping_cents")
    tax_cents = ma.fields.Integer(required=True, attribute="totals.tax_cents")
    prices_include_tax = ma.fields.Boolean(required=True, attribute="totals.prices_include_tax")
    total_cents = ma.fields.Integer(required=True, attribute="totals.total_cents")
    payment_methods = ma.fields.List(
        ma.fields.Nested(PaymentMethodSchema),
        required=True,
        attribute="payment_methods",  # not the quote's: the shop's, in the order it shows them
        dump_default=enabled_providers,
        metadata={"description": "The payment methods POST /orders takes, in display order."},
    )


class CartTokenHeaders(ma.Schema):
    """X-Cart-Token documented beside an operation's other parameters (``bp.doc(parameters=)``
    would replace them)."""

    class Meta:
        unknown = ma.EXCLUDE  # every other request header

    cart_token = ma.fields.String(
        data_key="X-Cart-Token", load_default=None, metadata={"description": CART_TOKEN_HELP}
    )


@bp.get("/cart/quote")
@anyone_or_token_user
@bp.arguments(CartTokenHeaders, location="headers")
@bp.arguments(QuoteArgs, location="query")
@bp.response(200, QuoteSchema)
@bp.doc(security=ANYONE)
@error_responses(
    bp,
    401,
    rules={
        422: "Also for a valid body: the country is not shipped to, or the method does not "
        "ship this cart there (fields: shipping_method)."
    },
)
def quote(_headers, args):
    """What the caller's cart costs shipped to a country: the shipping methods offered there,
    the chosen one (the first by default), and subtotal, discount, shipping, tax and total, as
    POST /orders would charge them now."""
    cart = services.get_cart(current_owner())
    return pricing.cart_quote(cart, args["country"], args.get("shipping_method_id"))


class VoucherRequest(ma.Schema):
    code = ma.fields.String(
        required=True, validate=ma.validate.Length(min=1, max=32), metadata={"example": "WELCOME10"}
    )


@bp.post("/cart/voucher")
@anyone_or_token_user
@voucher_guesses
@bp.arguments(VoucherRequest)
@bp.response(200, CartSchema)
@bp.doc(security=ANYONE, parameters=[CSRF_HEADER, CART_TOKEN_HEADER])
@error_responses(
    bp,
    400,
    401,
    429,
    rules={
        409: "voucher_used_up: no use of the code is left.",
        422: "Also for a valid body: the code does not exist or does not apply to this cart "
        "(expired, not yet valid, minimum not met); fields.voucher_code says why. Refused "
        "codes count against "
        "RATELIMIT_VOUCHER_GUESSES.",
    },
)
def apply_voucher(body):
    """Apply a voucher code to the caller's cart: checkout takes its discount."""
    return services.apply_voucher(current_owner(), body["code"])


@bp.delete("/cart/voucher")
@anyone_or_token_user
@bp.response(200, CartSchema)
@bp.doc(security=ANYONE, parameters=[CSRF_HEADER, CART_TOKEN_HEADER])
@error_responses(bp, 400, 401)
def remove_voucher():
    """Take the voucher code off the caller's cart."""
    return services.remove_voucher(current_owner())
