"""Checkout (customers and, with SHOP_GUEST_CHECKOUT, guests), order history (login
required), and a guest's order by its signed link."""

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_security import auth_required, current_user, url_for_security

from app.addresses import services as address_services
from app.cart import services as cart_services
from app.cart.ownership import anonymous_token
from app.errors import DomainError, ValidationFailed
from app.money import format_money
from app.orders import checkout as checkout_service
from app.orders import guest, pricing, queries, state
from app.orders.checkout import Buyer
from app.orders.forms import NEW_ADDRESS, CheckoutForm
from app.payments.providers import enabled_providers

bp = Blueprint("orders", __name__)


def _buyer() -> Buyer:
    """The customer, or the guest by their cart (the e-mail address comes with the form)."""
    if current_user.is_authenticated:
        return Buyer(user_id=current_user.id)
    return Buyer(cart_token=anonymous_token())


def _checkout_form(buyer: Buyer) -> CheckoutForm:
    form = CheckoutForm(guest=buyer.user_id is None)
    form.payment_method.choices = [(p.name, str(p.label)) for p in enabled_providers()]
    if not form.payment_method.data and form.payment_method.choices:
        form.payment_method.data = form.payment_method.choices[0][0]
    if not form.is_submitted():
        form.checkout_key.data = checkout_service.issue_checkout_key(buyer)
    if buyer.user_id is not None:
        _offer_saved_addresses(form, buyer.user_id)
    return form


def _offer_saved_addresses(form: CheckoutForm, user_id: int) -> None:
    """The customer's book: the default shipping address chosen, the default billing one
    filled in (and used, when it is another); a chosen saved address fills the fields."""
    addresses = address_services.list_addresses(user_id)
    form.offer_addresses(addresses)
    saved = {str(address.id): address for address in addresses}
    if not form.is_submitted():
        shipping = next((k for k, a in saved.items() if a.is_default_shipping), NEW_ADDRESS)
        form.saved_address.data = shipping
        billing = next((k for k, a in saved.items() if a.is_default_billing), None)
        if billing is not None:
            form.billing.form.use_address(saved[billing].fields())
            form.billing_other.data = billing != shipping
    elif form.saved_address.data in saved:
        form.use_address(saved[form.saved_address.data].fields())


def _save_address(form: CheckoutForm) -> None:
    """Keep a new address in the customer's book when asked to; a full book is only said."""
    if "saved_address" not in form or not form.save_address.data:
        return
    if form.saved_address.data != NEW_ADDRESS:
        return
    try:
        address_services.save_address(current_user.id, None, form.address())
    except DomainError as error:
        flash(_("The address was not saved: %(reason)s", reason=error.message), "info")


@bp.route("/checkout", methods=["GET", "POST"])
@guest.checkout_limits
def checkout():
    """Address, payment and summary; placing the order is one service call."""
    if not current_user.is_authenticated and not current_app.config["SHOP_GUEST_CHECKOUT"]:
        flash(_("Please log in to check out."), "info")
        return redirect(url_for_security("login", next=url_for("pages.orders.checkout")))
    buyer = _buyer()
    cart = cart_services.get_cart(buyer.cart)
    form = _checkout_form(buyer)
    if form.validate_on_submit():
        try:
            if buyer.user_id is None:
                buyer = Buyer.guest(buyer.cart_token, form.email.data)
            order = checkout_service.place_order(
                buyer,
                checkout_service.checkout_key_from_form(buyer, form.checkout_key.data),
                form.address(),
                form.payment_method.data,
                {"card_number": form.card_number.data},
                form.billing_address(),
                form.shipping_method.data or None,
                cart.voucher_code or "",
            )
        except DomainError as error:
            flash(error.message, "danger")
            if "checkout_key" in (error.fields or {}):
                form.checkout_key.data = checkout_service.issue_checkout_key(buyer)
            form.show_errors(error.fields or {})
        else:
            _save_address(form)
            if order.payment_page_url:
                return redirect(order.payment_page_url, 303)  # to pay on the provider's page
            flash(_("Thank you! Your order %(number)s is placed.", number=order.number), "success")
            if order.is_guest:
                token = guest.order_token(order)
                return redirect(url_for("pages.orders.guest_detail", token=token))
            return redirect(url_for("pages.orders.detail", number=order.number))
    elif request.method == "GET" and not cart.lines:
        flash(_("Your cart is empty."), "info")
        return redirect(url_for("pages.cart.show"))
    quote = _quote(cart, form)
    return render_template("orders/checkout.html", form=form, cart=cart, quote=quote)


def _quote(cart: cart_services.CartSummary, form: CheckoutForm) -> pricing.Quote:
    """The summary's totals for the form's country (the shop's before one is chosen) and
    shipping method, and the methods to offer; a country not shipped to is said on the form."""
    country = form.country.data or _default_country()
    chosen = form.shipping_method.data or None
    try:
        quote = pricing.cart_quote(cart, country, chosen)
    except ValidationFailed as error:
        form.shipping_method.errors = (error.fields or {}).get("shipping_method", [])
        try:
            quote = pricing.cart_quote(cart, country)  # the methods there, none chosen
        except ValidationFailed:
            return pricing.cart_quote(cart)  # not shipped there: an estimate
    form.offer_shipping(
        [
            (m.method_id, f"{m.name} ({format_money(m.price_cents, cart.currency)})")
            for m in quote.methods
        ],
        quote.shipping.method_id if quote.shipping else None,
    )
    return quote


def _default_country() -> str:
    """Where the summary ships before the form names a country: the customer's default
    shipping address, else the shop's own country."""
    if current_user.is_authenticated:
        saved = address_services.default_address(current_user.id)
        if saved is not None:
            return saved.country
    return current_app.config["SHOP_COUNTRY"]


@bp.get("/orders")
@auth_required()
def index():
    """The user's orders, newest first."""
    page = request.args.get("page", 1, type=int) or 1
    return render_template(
        "orders/index.html", result=queries.list_orders_for_user(current_user.id, page=page)
    )


@bp.get("/orders/<number>")
@auth_required()
def detail(number):
    """One of the user's orders: lines, address, status history."""
    order = queries.get_order_for_user(current_user.id, number)
    if _back_from_payment_page(order):
        order = queries.get_order_for_user(current_user.id, number)
    return render_template("orders/detail.html", order=order, cancellable=state.cancellable(order))


def _back_from_payment_page(order) -> bool:
    """The customer is back from the provider's hosted page: say what the provider answered.
    True if it was asked (the order is read again)."""
    outcome = state.settle_return(order, request.args.get("session_id"))
    if outcome.unanswered:
        flash(outcome.unanswered, "warning")
    elif outcome.paid:
        flash(_("Thank you! Your order %(number)s is paid.", number=order.number), "success")
    elif outcome.waiting:
        flash(_("Your payment is being confirmed: this page shows it once it is."), "info")
    return outcome.asked


@bp.get("/orders/view/<token>")
def guest_detail(token):
    """A guest's order by the signed link from its e-mail: the order, nothing else."""
    order = guest.order_from_token(token)
    if _back_from_payment_page(order):
        order = guest.order_from_token(token)
    response = current_app.make_response(
        render_template("orders/detail.html", order=order, guest_view=True, token=token)
    )
    # The link is the key: no cache keeps the page (and Talisman's referrer policy sends
    # other sites the origin only, never the link).
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.post("/orders/<number>/cancel")
@auth_required()
def cancel(number):
    """Cancel an order that has not shipped; the stock goes back."""
    try:
        state.cancel_own_order(current_user.id, number)
        flash(_("Your order is cancelled."), "success")
    except DomainError as error:
        if error.status == 404:
            raise
        flash(error.message, "danger")
    return redirect(url_for("pages.orders.detail", number=number))
