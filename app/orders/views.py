"""Checkout and order history pages (login required)."""

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_security import auth_required, current_user

from app.addresses import services as address_services
from app.cart import services as cart_services
from app.errors import DomainError
from app.orders import checkout as checkout_service
from app.orders import queries, state
from app.orders.forms import NEW_ADDRESS, CheckoutForm
from app.payments.providers import enabled_providers

bp = Blueprint("orders", __name__)


def _checkout_form() -> CheckoutForm:
    form = CheckoutForm()
    form.payment_method.choices = [(p.name, p.label) for p in enabled_providers()]
    if not form.payment_method.data and form.payment_method.choices:
        form.payment_method.data = form.payment_method.choices[0][0]
    addresses = address_services.list_addresses(current_user.id)
    form.offer_addresses(addresses)
    saved = {str(address.id): address for address in addresses}
    if not form.is_submitted():
        form.checkout_key.data = checkout_service.issue_checkout_key(current_user.id)
        default = next((k for k, a in saved.items() if a.is_default_shipping), NEW_ADDRESS)
        form.saved_address.data = default
    elif form.saved_address.data in saved:
        form.use_address(saved[form.saved_address.data].fields())
    return form


def _save_address(form: CheckoutForm) -> None:
    """Keep a new address in the customer's book when asked to; a full book is only said."""
    if form.saved_address.data != NEW_ADDRESS or not form.save_address.data:
        return
    try:
        address_services.save_address(current_user.id, None, form.address())
    except DomainError as error:
        flash(f"The address was not saved: {error.message}", "info")


@bp.route("/checkout", methods=["GET", "POST"])
@auth_required()
def checkout():
    """Address, payment and summary; placing the order is one service call."""
    cart = cart_services.get_cart(cart_services.CartOwner(user_id=current_user.id))
    form = _checkout_form()
    if form.validate_on_submit():
        try:
            order = checkout_service.place_order(
                current_user.id,
                checkout_service.checkout_key_from_form(current_user.id, form.checkout_key.data),
                form.address(),
                form.payment_method.data,
                {"card_number": form.card_number.data},
            )
        except DomainError as error:
            flash(error.message, "danger")
            if "checkout_key" in (error.fields or {}):
                form.checkout_key.data = checkout_service.issue_checkout_key(current_user.id)
            form.show_errors(error.fields or {})
        else:
            _save_address(form)
            flash(f"Thank you! Your order {order.number} is placed.", "success")
            return redirect(url_for("pages.orders.detail", number=order.number))
    elif request.method == "GET" and not cart.lines:
        flash("Your cart is empty.", "info")
        return redirect(url_for("pages.cart.show"))
    return render_template("orders/checkout.html", form=form, cart=cart)


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
    return render_template(
        "orders/detail.html", order=queries.get_order_for_user(current_user.id, number)
    )


@bp.post("/orders/<number>/cancel")
@auth_required()
def cancel(number):
    """Cancel an order that has not shipped; the stock goes back."""
    try:
        state.cancel_own_order(current_user.id, number)
        flash("Your order is cancelled.", "success")
    except DomainError as error:
        if error.status == 404:
            raise
        flash(error.message, "danger")
    return redirect(url_for("pages.orders.detail", number=number))
