"""API: check out the caller's cart, see and cancel the caller's own orders."""

import secrets

import marshmallow as ma
from flask_security import current_user

from app.api.common import FullMatch, PageArgs, api_auth_required
from app.api.schemas import AddressSchema, OrderPageSchema, OrderSchema
from app.api.spec import AUTHENTICATED, Blueprint, error_responses, link, links
from app.errors import ValidationFailed
from app.orders import checkout, queries, state
from app.payments.providers import CARD_NUMBER, PROVIDERS

bp = Blueprint("orders", __name__, description="Orders")

# Idempotency keys are the caller's own: namespaced by user, so two clients that both send
# "1" do not collide. "api:" + user id (up to 10 digits) + ":" + 48 fits checkout_key's 64.
IDEMPOTENCY_KEY_MAX = 48
# The services name fields as the checkout form does; the API names them by their body path.
BODY_FIELDS = {
    **{field: f"shipping_address.{field}" for field in checkout.ADDRESS_FIELDS},
    "payment_method": "payment.method",
    "card_number": "payment.card_number",
}


NEW_ORDER = "$response.body#/number"
# The card providers' rule, or empty for a method without a card (manual).
CARD_NUMBER_PATTERN = rf"^(?:{CARD_NUMBER})?$"


class PaymentRequest(ma.Schema):
    method = ma.fields.String(required=True, validate=ma.validate.OneOf(sorted(PROVIDERS)))
    card_number = ma.fields.String(
        load_default="",
        validate=[
            ma.validate.Length(max=32),
            FullMatch(CARD_NUMBER_PATTERN, error="Enter a card number of 12-19 digits."),
        ],
        metadata={
            "description": "12-19 digits, spaces allowed; empty for method manual. For method "
            "test: 4242 4242 4242 4242 succeeds, 4000 0000 0000 0002 is declined.",
            "example": "4242 4242 4242 4242",
        },
    )


class CheckoutRequest(ma.Schema):
    shipping_address = ma.fields.Nested(AddressSchema, required=True)
    payment = ma.fields.Nested(PaymentRequest, required=True)


class IdempotencyHeaders(ma.Schema):
    class Meta:
        unknown = ma.EXCLUDE  # every other request header

    idempotency_key = ma.fields.String(
        data_key="Idempotency-Key",
        load_default=None,
        validate=[
            ma.validate.Length(min=1, max=IDEMPOTENCY_KEY_MAX),
            FullMatch(r"^[!-~]+$", error="Printable ASCII without spaces."),
        ],
        metadata={
            "description": "Makes the checkout safe to retry: the same key with the same body "
            "answers with the order the first request made (201 again); the same key with a "
            "different body is 422. Without it every request is a new checkout.",
            "example": "0d9f4c1e-6a2b-4c8e-9f3a-2b7d5e1a8c40",
        },
    )


@bp.post("/orders")
@api_auth_required
@bp.arguments(IdempotencyHeaders, location="headers")
@bp.arguments(CheckoutRequest)
@bp.response(201, OrderSchema)
@bp.doc(
    security=AUTHENTICATED,
    **links(
        201,
        GetOrder=link("GET", "/orders/{number}", "Read the new order.", number=NEW_ORDER),
        CancelOrder=link(
            "POST", "/orders/{number}/cancel", "Cancel the new order.", number=NEW_ORDER
        ),
    ),
)
@error_responses(
    bp,
    400,
    401,
    409,
    rules={
        402: "The card was declined: no order, the stock and the cart are as they were.",
        422: "Also for a valid body when the cart is empty or mixes currencies, the test "
        "card method has no 12-19 digit card_number, or the Idempotency-Key was used "
        "with a different body.",
        503: "The card payment did not answer: the order is kept, pending payment. Retry "
        "with the same Idempotency-Key (never charged twice) after Retry-After seconds.",
    },
)
def place_order(headers, body):
    """Turn the caller's cart into an order, paid by the chosen method.

    A declined card is 402 payment_declined and changes nothing; a product without enough
    stock is 409 out_of_stock (the cart is kept); an empty cart is 422. A retry with the same
    Idempotency-Key and body returns the same order, again with 201. When the card payment does
    not answer (503 payment_unavailable) the order is kept, pending payment: retry with the same
    Idempotency-Key (never charged twice), or it is settled within ORDER_CHARGE_TIMEOUT.
    """
    key = headers["idempotency_key"] or secrets.token_urlsafe(24)
    try:
        return checkout.place_order(
            current_user.id,
            f"api:{current_user.id}:{key}",
            body["shipping_address"],
            body["payment"]["method"],
            {"card_number": body["payment"]["card_number"]},
        )
    except ValidationFailed as error:
        if error.fields:
            error.fields = {BODY_FIELDS.get(k, k): v for k, v in error.fields.items()}
        raise


@bp.get("/orders")
@api_auth_required
@bp.arguments(PageArgs, location="query")
@bp.response(200, OrderPageSchema)
@bp.doc(security=AUTHENTICATED)
@error_responses(bp, 401, 422)
def list_orders(args):
    """The caller's orders, newest first."""
    return queries.list_orders_for_user(current_user.id, args["page"], args["per_page"])


@bp.get("/orders/<number>")
@api_auth_required
@bp.response(200, OrderSchema)
@bp.doc(security=AUTHENTICATED)
@error_responses(bp, 401, 404)
def get_order(number):
    """One of the caller's orders; anybody else's is 404."""
    return queries.get_order_for_user(current_user.id, number)


@bp.post("/orders/<number>/cancel")
@api_auth_required
@bp.response(200, OrderSchema)
@bp.doc(security=AUTHENTICATED)
@error_responses(bp, 400, 401, 404, 409)
def cancel_order(number):
    """Cancel one of the caller's orders before it ships; the stock goes back.

    409 invalid_transition once it has shipped (or is cancelled already).
    """
    return state.cancel_own_order(current_user.id, number)
