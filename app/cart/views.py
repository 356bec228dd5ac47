"""Cart pages: view the cart, add, change quantities, remove. Every change is a POST form."""

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from app.cart import services
from app.cart.ownership import current_owner, remember_cart
from app.catalog import services as catalog_services
from app.errors import DomainError
from app.orders import pricing
from app.security_utils import safe_next
from app.vouchers.limits import voucher_guesses

bp = Blueprint("cart", __name__)


def _int_field(name: str):
    try:
        return int(request.form.get(name, ""))
    except ValueError:
        return None


def _line_key() -> dict:
    """Which line a form means: its variant (cart lines), the product's variant with the
    options chosen (``option_<id>`` selects, the product page), or a product's only variant."""
    product_id = _int_field("product_id")
    chosen = [_int_field(name) for name in request.form if name.startswith("option_")]
    if chosen:
        values = [value for value in chosen if value is not None]
        variant = catalog_services.variant_with_options(product_id, values)
        return {"product_id": None, "variant_id": variant.id}
    return {"product_id": product_id, "variant_id": _int_field("variant_id")}


@bp.get("/cart")
def show():
    """Lines, quantities and subtotal, priced from the catalogue now; the tax estimated for
    the shop's country (shipping and the buyer's country come at checkout)."""
    cart = services.get_cart(current_owner())
    return render_template("cart/cart.html", cart=cart, estimate=pricing.cart_quote(cart))


@bp.post("/cart/add")
def add():
    """Add a product; back to where the visitor was, with a message either way."""
    quantity = _int_field("quantity")
    try:
        line = _line_key()
        owner = current_owner()
        summary = services.add_to_cart(owner, quantity=1 if quantity is None else quantity, **line)
    except DomainError as error:
        flash(error.message, "danger")
        return redirect(safe_next(request.form.get("next"), url_for("pages.cart.show")))
    flash(_("Added to your cart."), "success")
    return remember_cart(redirect(url_for("pages.cart.show")), summary, owner)


@bp.post("/cart/voucher")
@voucher_guesses
def apply_voucher():
    """Apply a voucher code to the cart, or say why it does not apply."""
    try:
        services.apply_voucher(current_owner(), request.form.get("voucher_code"))
        flash(_("The code is applied."), "success")
    except DomainError as error:
        g.voucher_refused = True
        flash(error.message, "danger")
    return redirect(url_for("pages.cart.show"))


@bp.post("/cart/voucher/remove")
def remove_voucher():
    services.remove_voucher(current_owner())
    flash(_("The code is removed."), "success")
    return redirect(url_for("pages.cart.show"))


@bp.post("/cart/update")
def update():
    """Change one line's quantity."""
    try:
        services.set_quantity(current_owner(), quantity=_int_field("quantity"), **_line_key())
        flash(_("Cart updated."), "success")
    except DomainError as error:
        flash(error.message, "danger")
    return redirect(url_for("pages.cart.show"))


@bp.post("/cart/remove")
def remove():
    """Take one product out of the cart."""
    try:
        services.remove_from_cart(current_owner(), **_line_key())
        flash(_("Removed from your cart."), "success")
    except DomainError as error:
        flash(error.message, "danger")
    return redirect(url_for("pages.cart.show"))
