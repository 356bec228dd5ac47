"""The back office's sales, and what vouchers and sales are for: products by SKU or slug (a
shop may have a million, too many for a list), categories from a list."""

from flask_admin.form import SecureForm
from sqlalchemy import select
from wtforms import BooleanField, DateTimeLocalField, IntegerField, SelectMultipleField, StringField
from wtforms.validators import InputRequired, Length, Optional

from app.admin.views import ServiceFormView
from app.catalog.models import Category
from app.extensions import db
from app.sales import services

PRODUCTS_HELP = "SKUs or slugs, separated by commas: SKU-SENCHA, earl-grey."


def _category_choices() -> list[tuple[int, str]]:
    rows = db.session.execute(select(Category.id, Category.name).order_by(Category.name))
    return [(category_id, name) for category_id, name in rows]


def categories_field() -> SelectMultipleField:
    return SelectMultipleField(
        "Categories",
        choices=_category_choices,
        coerce=int,
        description="Their sub-categories are included.",
    )


def products_text(model) -> str:
    """The products of a voucher or sale, as the form's text."""
    return ", ".join(product.slug for product in model.products)


def prefill(form, model) -> None:
    """The form's products as text and categories as ids (the model holds rows)."""
    form.products.data = products_text(model)
    form.categories.data = [category.id for category in model.categories]


class SaleForm(SecureForm):
    name = StringField("Name", [InputRequired(), Length(max=services.NAME_LENGTH)])
    percent = IntegerField("Percent off", [InputRequired()], description="1 to 99.")
    starts_at = DateTimeLocalField("From (UTC)", [Optional()], format="%Y-%m-%dT%H:%M")
    ends_at = DateTimeLocalField("Until (UTC)", [Optional()], format="%Y-%m-%dT%H:%M")
    products = StringField("Products", [Optional()], description=PRODUCTS_HELP)
    categories = categories_field()
    is_active = BooleanField("Active", default=True)


class SaleView(ServiceFormView):
    """Sales through ``save_sale``: a percentage off products and categories for a period;
    the biggest running sale of a product applies, and vouchers stack on top."""

    form = SaleForm
    column_list = ("name", "percent", "starts_at", "ends_at", "is_active", "products", "categories")
    column_labels = {
        "percent": "Percent off",
        "starts_at": "From (UTC)",
        "ends_at": "Until (UTC)",
        "is_active": "Active",
    }
    column_formatters = {
        "products": lambda _v, _c, sale, _n: products_text(sale),
        "categories": lambda _v, _c, sale, _n: ", ".join(c.name for c in sale.categories),
    }
    column_sortable_list = ("name", "percent", "starts_at", "ends_at", "is_active")
    column_default_sort = ("starts_at", True)
    column_searchable_list = ("name",)
    column_filters = ("is_active",)

    def on_form_prefill(self, form, id):
        prefill(form, self.get_one(id))

    def save(self, model, data):
        return services.save_sale(model, data)
