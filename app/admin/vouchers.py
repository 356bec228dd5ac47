"""The back office's vouchers: create, edit and deactivate them (through
``app.vouchers.services.save_voucher``), and see how often each was used."""

from flask import flash, url_for
from flask_admin.form import SecureForm
from markupsafe import Markup
from wtforms import BooleanField, DateTimeLocalField, IntegerField, SelectField, StringField
from wtforms.validators import InputRequired, Length, Optional

from app.admin.sales import PRODUCTS_HELP, categories_field, prefill, products_text
from app.admin.views import AdminModelView, _show_error
from app.errors import DomainError
from app.vouchers import services
from app.vouchers.models import Voucher, VoucherKind


class VoucherForm(SecureForm):
    """A voucher's fields; ``save_voucher`` checks them (and the code, in any case)."""

    code = StringField("Code", [InputRequired(), Length(max=services.CODE_MAX)])
    kind = SelectField("Kind", choices=[(k.value, k.value) for k in VoucherKind])
    value = IntegerField(
        "Value", [InputRequired()], description="Percent off (1-100), or cents off: 500 is 5.00."
    )
    min_subtotal_cents = IntegerField("Minimum subtotal (cents)", [Optional()])
    starts_at = DateTimeLocalField("Valid from (UTC)", [Optional()], format="%Y-%m-%dT%H:%M")
    ends_at = DateTimeLocalField("Valid until (UTC)", [Optional()], format="%Y-%m-%dT%H:%M")
    max_uses = IntegerField("Limit (orders)", [Optional()])
    max_uses_per_customer = IntegerField("Limit per customer", [Optional()])
    products = StringField(
        "Only for products", [Optional()], description=PRODUCTS_HELP + " Empty: every product."
    )
    categories = categories_field()
    is_active = BooleanField("Active", default=True)


def _uses_link(voucher: Voucher) -> Markup:
    """How often the voucher was used, linking to the orders that used it."""
    url = url_for("admin_orders.index_view", flt0_voucher_equals=voucher.code)
    return Markup('<a href="{}">{}</a>').format(url, voucher.uses)


class VoucherView(AdminModelView):
    column_list = (
        "code",
        "kind",
        "value",
        "min_subtotal_cents",
        "uses",
        "max_uses",
        "is_active",
        "products",
        "categories",
    )
    column_formatters = {
        "uses": lambda _v, _c, voucher, _n: _uses_link(voucher),
        "products": lambda _v, _c, voucher, _n: products_text(voucher),
        "categories": lambda _v, _c, voucher, _n: ", ".join(c.name for c in voucher.categories),
    }
    column_labels = {
        "value": "Value (percent, or cents)",
        "min_subtotal_cents": "Minimum (cents)",
        "uses": "Used",
        "max_uses": "Limit",
        "max_uses_per_customer": "Limit per customer",
        "is_active": "Active",
        "products": "Only for products",
        "categories": "Only for categories",
        "starts_at": "Valid from (UTC)",
        "ends_at": "Valid until (UTC)",
    }
    column_searchable_list = ("code",)
    column_filters = ("is_active", "kind")
    column_default_sort = ("created_at", True)
    form = VoucherForm  # no scaffolded Unique check: the service's (any case) is the rule

    def on_form_prefill(self, form, id):
        prefill(form, self.get_one(id))

    def create_model(self, form):
        return self._save(None, form) or False

    def update_model(self, form, model):
        return self._save(model, form) is not None

    def _save(self, voucher: Voucher | None, form) -> Voucher | None:
        data = {f.name: f.data for f in form if f.name in services.VOUCHER_FIELDS}
        try:
            saved = services.save_voucher(voucher, data)
        except DomainError as error:
            _show_error(error, form)
            return None
        flash(f"Voucher {saved.code} saved.", "success")
        return saved
