"""The address book's pages under /account/addresses (login required). Every change is a
POST form; the rules are app.addresses.services'."""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_security import auth_required, current_user

from app.addresses import services
from app.addresses.forms import AddressForm
from app.errors import ValidationFailed

bp = Blueprint("addresses", __name__)

KINDS = {"shipping": "default_shipping", "billing": "default_billing"}


def _to_book():
    return redirect(url_for("pages.addresses.index"))


def _save(form: AddressForm, address_id: int | None, done: str):
    """The form's address through the service: back to the book, or the form with the
    service's messages on its fields."""
    try:
        services.save_address(current_user.id, address_id, form.address())
    except ValidationFailed as error:
        flash(error.message, "danger")
        form.show_errors(error.fields or {})
        return None
    flash(done, "success")
    return _to_book()


@bp.get("/account/addresses")
@auth_required()
def index():
    """The customer's addresses, the defaults first and marked."""
    return render_template(
        "addresses/index.html", addresses=services.list_addresses(current_user.id)
    )


@bp.route("/account/addresses/new", methods=["GET", "POST"])
@auth_required()
def add():
    form = AddressForm()
    if form.validate_on_submit() and (done := _save(form, None, _("Address added."))):
        return done
    return render_template("addresses/form.html", form=form, address=None)


@bp.route("/account/addresses/<int:address_id>/edit", methods=["GET", "POST"])
@auth_required()
def edit(address_id: int):
    address = services.get_address(current_user.id, address_id)
    form = AddressForm(data=address.fields())
    if form.validate_on_submit() and (done := _save(form, address_id, _("Address saved."))):
        return done
    return render_template("addresses/form.html", form=form, address=address)


@bp.post("/account/addresses/<int:address_id>/delete")
@auth_required()
def delete(address_id: int):
    services.delete_address(current_user.id, address_id)
    flash(_("Address deleted."), "success")
    return _to_book()


@bp.post("/account/addresses/<int:address_id>/default")
@auth_required()
def make_default(address_id: int):
    """Make the address the default for the form's ``kind``, shipping or billing (the
    previous default stops being it)."""
    kind = request.form.get("kind", "")
    if kind not in KINDS:
        abort(400)
    try:
        services.save_address(current_user.id, address_id, {KINDS[kind]: True})
    except ValidationFailed as error:
        flash(_("%(reason)s Edit the address first.", reason=error.message), "danger")
    else:
        flash(
            _("This is now your default shipping address.")
            if kind == "shipping"
            else _("This is now your default billing address."),
            "success",
        )
    return _to_book()
