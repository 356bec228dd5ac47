"""API: check out the caller's cart, see and cancel the caller's own orders."""

import secrets

import marshmallow as ma
from flask import current_app
from flask_security import current_user

from app.addresses import services as address_services
from app.api.cart import ANYONE, CartTokenHeaders
from app.api.common import FullMatch, PageArgs, anyone_or_token_user, api_auth_required
from app.api.schemas import AddressSchema, OrderPageSchema, OrderSchema, PlacedOrderSchema
from app.api.spec import AUTHENTICATED, Blueprint, error_responses, link, links
from app.cart import services as cart_services
from app.cart.ownership import anonymous_token
from app.errors import AuthenticationFailed, ValidationFailed
from app.invoices import pdf as invoice_pdf
from app.orders import checkout, guest, queries, state
from app.orders.checkout import Buyer
from app.payments.providers import CARD_NUMBER, PROVIDERS

bp = Blueprint("orders", __name__, description="Orders")

CSRF_HELP = "A browser guest (cart cookie) or a session must send the page's csrf-token."
# Idempotency keys are the caller's own: namespaced by user (or guest cart), so two clients
# that both send "1" do not collide. "api:" + user id (up to 10 digits, or a guest cart's
# 10-character Buyer.key_owner) + ":" + 48 fits checkout_key's 64.
IDEMPOTENCY_KEY_MAX = 48
# The services name fields as the checkout form does; the API names them by their body path.
BODY_FIELDS = {
    **{field: f"shipping_address.{field}" for field in checkout.ADDRESS_FIELDS},
    **{f"billing_{field}": f"billing_address.{field}" for field in checkout.ADDRESS_FIELDS},
    "payment_method": "payment.method",
    "shipping_method": "shipping_method_id",
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
    email = ma.fields.String(
        validate=ma.validate.Length(max=checkout.EMAIL_MAX),
        metadata={
            "description": "Guests only (required for them): where the confirmation and the "
            "order's link go. Ignored for customers, whose orders go to their account.",
            "example": "guest@example.com",
        },
    )
    shipping_address = ma.fields.Nested(
        AddressSchema, metadata={"description": "Or shipping_address_id: exactly one of them."}
    )
    shipping_address_id = ma.fields.Integer(
        strict=True,
        validate=ma.validate.Range(min=1, max=2**31 - 1),
        metadata={"description": "Customers: one of their saved addresses (GET /addresses)."},
    )
    billing_address = ma.fields.Nested(
        AddressSchema,
        metadata={"description": "Or billing_address_id; neither: the shipping address."},
    )
    billing_address_id = ma.fields.Integer(
        strict=True,
        validate=ma.validate.Range(min=1, max=2**31 - 1),
        metadata={"description": "Customers: one of their saved addresses."},
    )
    shipping_method_id = ma.fields.Integer(
        strict=True,
        validate=ma.validate.Range(min=1, max=2**31 - 1),
        metadata={
            "description": "One of the methods GET /cart/quote offers for the shipping "
            "address's country; omitted: the first of them."
        },
    )
    voucher_code = ma.fields.String(
        load_default=None,
        validate=ma.validate.Length(max=32),
        metadata={
            "description": "A voucher's code (any case); omitted: the code applied to the "
            "cart (POST /cart/voucher), empty: none. Its discount comes off before tax. "
            "422 says why a code does not apply; 409 voucher_used_up when its last use has "
            "just gone to another order (check out without it).",
            "example": "WELCOME10",
        },
    )
    payment = ma.fields.Nested(PaymentRequest, required=True)
    return_to = ma.fields.String(
        load_default="site",
        validate=ma.validate.OneOf(["site", "app"]),
        metadata={
            "description": "Where a hosted payment page (stripe) sends the customer back: the "
            "order's page on the HTML site, or its screen in the React storefront (/app/). "
            "Either way with ?session_id=, which GET /orders/{number} (or the guest's link) "
            "takes to ask the provider at once.",
        },
    )

    @ma.validates_schema
    def one_of_each(self, data, **_kwargs):
        if ("shipping_address" in data) == ("shipping_address_id" in data):
            raise ma.ValidationError(
                "Give shipping_address, or shipping_address_id (a saved address).",
                "shipping_address",
            )
        if "billing_address" in data and "billing_address_id" in data:
            raise ma.ValidationError(
                "Give billing_address or billing_address_id, not both.", "billing_address"
            )


def document_body_rules(spec) -> None:
    """What marshmallow cannot state in openapi.json: one shipping address, at most one
    billing address (CheckoutRequest's own check)."""
    schema = spec.components.schemas["CheckoutRequest"]
    schema["oneOf"] = [{"required": ["shipping_address"]}, {"required": ["shipping_address_id"]}]
    schema["not"] = {"required": ["billing_address", "billing_address_id"]}


class IdempotencyHeaders(CartTokenHeaders):
    csrf_token = ma.fields.String(
        data_key="X-CSRF-Token", load_default=None, metadata={"description": CSRF_HELP}
    )

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


def _address(buyer: Buyer, body: dict, kind: str) -> dict | None:
    """The request's address of a kind (shipping, billing), or the saved one it names (a
    customer's own: another's is 404; a guest has none)."""
    saved_id = body.get(f"{kind}_address_id")
    if saved_id is None:
        return body.get(f"{kind}_address")
    if buyer.user_id is None:
        message = "Guests have no saved addresses: send the address itself."
        raise ValidationFailed(message, {f"{kind}_address_id": [message]})
    return address_services.get_address(buyer.user_id, saved_id).fields()


def _voucher_code(buyer: Buyer, code: str | None) -> str:
    """The request's code, or (none given) the one applied to the buyer's cart."""
    if code is not None:
        return code
    return cart_services.get_cart(buyer.cart).voucher_code or ""


def _buyer(email) -> Buyer:
    """The customer, or (SHOP_GUEST_CHECKOUT) a guest: the cart cookie's or X-Cart-Token's."""
    if current_user.is_authenticated:
        return Buyer(user_id=current_user.id)
    if not current_app.config["SHOP_GUEST_CHECKOUT"]:
        raise AuthenticationFailed("Log in to check out: this shop has no guest checkout.")
    return Buyer.guest(anonymous_token(), email)


@bp.post("/orders")
@anyone_or_token_user
@guest.checkout_limits
@bp.arguments(IdempotencyHeaders, location="headers")
@bp.arguments(CheckoutRequest)
@bp.response(201, PlacedOrderSchema)
@bp.doc(
    security=ANYONE,
    **links(
        201,
        GetOrder=link("GET", "/orders/{number}", "Read the new order.", number=NEW_ORDER),
        GetGuestOrder=link(
            "GET",
            "/orders/guest/{link}",
            "A guest reads the new order.",
            link="$response.body#/link",
        ),
        CancelOrder=link(
            "POST", "/orders/{number}/cancel", "Cancel the new order.", number=NEW_ORDER
        ),
    ),
)
@error_responses(
    bp,
    400,
    401,
    404,
    409,
    429,
    rules={
        404: "shipping_address_id or billing_address_id is not one of the caller's addresses.",
        401: "A token that does not authenticate, or a guest when SHOP_GUEST_CHECKOUT is off.",
        402: "The card was declined: no order, the stock and the cart are as they were.",
        409: "Also for a valid body: out_of_stock (the cart is kept), or voucher_used_up (the "
        "voucher's last use went to another order a moment ago).",
        422: "Also for a valid body when the cart is empty or mixes currencies, the test "
        "card method has no 12-19 digit card_number, a guest gives no valid email, the "
        "payment method is not one this shop offers (PAYMENT_METHODS), or the "
        "Idempotency-Key was used with a different body.",
        503: "The card payment did not answer: the order is kept, pending payment. Retry "
        "with the same Idempotency-Key (never charged twice) after Retry-After seconds.",
    },
)
def place_order(headers, body):
    """Turn the caller's cart into an order, paid by the chosen method.

    Customers (token or session) check out their cart. Guests (SHOP_GUEST_CHECKOUT) check out
    the anonymous cart of their cart cookie or X-Cart-Token header, with an ``email``; the
    answer's ``link`` reads the order later (GET /orders/guest/{link}), and the e-mail carries
    the same link. Guest checkouts are limited per client and per email
    (RATELIMIT_GUEST_CHECKOUT).

    A declined card is 402 payment_declined and changes nothing; a product without enough
    stock is 409 out_of_stock (the cart is kept); an empty cart is 422. A retry with the same
    Idempotency-Key and body returns the same order, again with 201. When the card payment does
    not answer (503 payment_unavailable) the order is kept, pending payment: retry with the same
    Idempotency-Key (never charged twice), or it is settled within ORDER_CHARGE_TIMEOUT.
    """
    key = headers["idempotency_key"] or secrets.token_urlsafe(24)
    try:
        buyer = _buyer(body.get("email"))
        return checkout.place_order(
            buyer,
            f"api:{buyer.key_owner}:{key}",
            _address(buyer, body, "shipping") or {},
            body["payment"]["method"],
            {"card_number": body["payment"]["card_number"]},
            _address(buyer, body, "billing"),
            body.get("shipping_method_id"),
            _voucher_code(buyer, body["voucher_code"]),
            back_to_app=body["return_to"] == "app",
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


class PaymentReturnArgs(ma.Schema):
    session_id = ma.fields.String(
        validate=ma.validate.Length(max=255),
        metadata={
            "description": "What the hosted payment page adds when it sends the customer back "
            "(return_to): when it names the order's payment, the provider is asked now rather "
            "than its webhook awaited, and the answer shows the outcome."
        },
    )


def _after_payment_page(order, session_id: str | None, read):
    """The order, asked about at the provider first when the customer is back from its page
    (``state.settle_return``); a provider that does not answer leaves it pending."""
    return read() if state.settle_return(order, session_id).asked else order


@bp.get("/orders/<number>")
@api_auth_required
@bp.arguments(PaymentReturnArgs, location="query")
@bp.response(200, OrderSchema)
@bp.doc(security=AUTHENTICATED)
@error_responses(bp, 401, 404, 422)
def get_order(args, number):
    """One of the caller's orders; anybody else's is 404."""

    def read():
        return queries.get_order_for_user(current_user.id, number)

    return _after_payment_page(read(), args.get("session_id"), read)


@bp.get("/orders/guest/<link>")
@bp.arguments(PaymentReturnArgs, location="query")
@bp.response(200, OrderSchema)
@bp.doc(security=[{}])
@error_responses(
    bp,
    404,
    422,
    rules={410: "The link is older than GUEST_ORDER_LINK_MAX_AGE (code link_expired)."},
)
def get_guest_order(args, link):
    """A guest's order by the link its checkout returned (and e-mailed); nothing else."""

    def read():
        return guest.order_from_token(link)

    return _after_payment_page(read(), args.get("session_id"), read)


PDF = {"type": "string", "format": "binary"}


@bp.get("/orders/<number>/invoice")
@api_auth_required
@bp.response(200, PDF, content_type="application/pdf", description="The invoice as a PDF file.")
@bp.doc(security=AUTHENTICATED)
@error_responses(bp, 401, 404)
def get_invoice(number):
    """The invoice of one of the caller's orders; 404 before it is paid."""
    return invoice_pdf.download(queries.get_order_for_user(current_user.id, number))


@bp.get("/orders/<number>/credit-notes/<int:credit_note>")
@api_auth_required
@bp.response(200, PDF, content_type="application/pdf", description="The credit note, a PDF.")
@bp.doc(security=AUTHENTICATED)
@error_responses(bp, 401, 404)
def get_credit_note(number, credit_note):
    """A credit note of one of the caller's orders, by its number (its refund's credit_note)."""
    order = queries.get_order_for_user(current_user.id, number)
    return invoice_pdf.download_credit_note(order, credit_note)


@bp.get("/orders/guest/<link>/invoice")
@bp.response(200, PDF, content_type="application/pdf", description="The invoice as a PDF file.")
@bp.doc(security=[{}])
@error_responses(bp, 404, rules={410: "The link is older than GUEST_ORDER_LINK_MAX_AGE."})
def get_guest_invoice(link):
    """The invoice of a guest's order, by its link."""
    return invoice_pdf.download(guest.order_from_token(link))


@bp.get("/orders/guest/<link>/credit-notes/<int:credit_note>")
@bp.response(200, PDF, content_type="application/pdf", description="The credit note, a PDF.")
@bp.doc(security=[{}])
@error_responses(bp, 404, rules={410: "The link is older than GUEST_ORDER_LINK_MAX_AGE."})
def get_guest_credit_note(link, credit_note):
    """A credit note of a guest's order, by the order's link and the credit note's number."""
    return invoice_pdf.download_credit_note(guest.order_from_token(link), credit_note)


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
