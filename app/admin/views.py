"""Back-office views: dashboard, products, categories, orders, users. Admins only.

Writes go through the shop's services (``save_product``, ``transition``) or the Flask-Security
datastore, so the back office obeys the same rules as the shop and the API.
"""

import csv
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from typing import Any

from flask import (
    Config,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    request,
    stream_with_context,
    url_for,
)
from flask_admin import AdminIndexView, expose
from flask_admin.actions import action
from flask_admin.contrib.sqla import ModelView
from flask_admin.contrib.sqla.filters import (
    DateBetweenFilter,
    DateGreaterFilter,
    DateSmallerFilter,
    FilterEqual,
    FilterLike,
    IntEqualFilter,
)
from flask_admin.form import SecureForm
from flask_admin.helpers import flash_errors, get_form_data
from flask_admin.model.form import create_editable_list_form
from flask_admin.model.template import DeleteRowAction, LinkRowAction, TemplateLinkRowAction
from flask_security import current_user
from flask_security.decorators import default_unauthn_handler
from sqlalchemy import and_, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload
from werkzeug.datastructures import CombinedMultiDict
from werkzeug.utils import secure_filename
from wtforms import BooleanField, IntegerField
from wtforms.validators import InputRequired, ValidationError

from app.accounts.datastore import user_datastore
from app.accounts.models import ADMIN, User
from app.admin import services
from app.admin.forms import (
    CategoryForm,
    GalleryUploadForm,
    ImageAltForm,
    ImageDeleteForm,
    ImageMoveForm,
    OptionTypeForm,
    ProductForm,
    RefundForm,
    ShippingMethodForm,
    ShippingZoneForm,
    TaxClassForm,
    TaxRateForm,
    TransitionForm,
    VariantForm,
    VariantImageForm,
    WeightBandForm,
    refund_request,
    translated,
    translation_data,
    translations_of,
)
from app.cart.services import MAX_ROW_ID
from app.catalog import images as gallery
from app.catalog import services as catalog_services
from app.catalog import variants as variant_services
from app.catalog.models import Category, Product, ProductImage, Variant
from app.countries import country_name
from app.errors import DomainError, NotFound, ValidationFailed
from app.extensions import db
from app.i18n import default_locale
from app.invoices import pdf as invoice_pdf
from app.money import format_money, to_decimal
from app.orders import queries as order_queries
from app.orders import refunds
from app.orders import state as order_state
from app.orders.models import Order, OrderStatus
from app.payments.providers import provider_for
from app.shipping import admin_rules as shipping_rules
from app.taxes import admin_rules as tax_rules
from app.taxes.models import TaxClass
from app.timestamps import utcnow


class AdminOnly:
    """Visitors are sent to the login page; logged-in users without the admin role get 403.

    Not Flask-Security's ``auth_required``: it would also demand Flask-WTF's token on each
    POST, in the field where Flask-Admin's SecureForm puts its own token.
    """

    def is_accessible(self) -> bool:
        return current_user.is_authenticated and current_user.has_role(ADMIN)

    def inaccessible_callback(self, name, **kwargs):
        if current_user.is_authenticated:
            abort(403, "The back office is for admins only.")
        return default_unauthn_handler(["session"])


def _money(attribute: str):
    """A column formatter that shows ``attribute`` (minor units) through the ``money`` filter,
    in the currency of the row (or of its product); empty when it is None."""

    def format_money(view, context, model, name):
        amount = getattr(model, attribute)
        if amount is None:
            return ""
        currency = getattr(model, "currency", None)
        if currency is None:
            product = getattr(model, "product", None)
            currency = product.currency if product else current_app.config["SHOP_CURRENCY"]
        return context.environment.filters["money"](amount, currency)

    return format_money


# What a spreadsheet reads as the start of a formula (OWASP, CSV injection): =, +, -, @, and the
# tab and carriage return that can hide one.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: Any) -> str:
    """A value as a CSV cell that a spreadsheet shows as text, never runs: one that starts like a
    formula (an e-mail or voucher code as typed, ``=HYPERLINK(...)``) gets a leading apostrophe."""
    text = "" if value is None else str(value)
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text


def _categories() -> list[Category]:
    return list(db.session.scalars(select(Category).order_by(Category.name)))


class _CategoryOptions:
    """The category filter's choices, read on each list page (Flask-Admin keeps the options it
    finds at start-up, when there is no database to ask, and iterates them for each page)."""

    def __bool__(self) -> bool:
        return True

    def __iter__(self):
        return iter([(str(c.id), c.name) for c in _categories()])


def _show_error(error: DomainError, form=None) -> None:
    """A refused write: the message as a flash, per-field messages on the form."""
    flash(error.message, "error")
    for field, messages in (error.fields or {}).items():
        if form is not None and field in form:
            form[field].errors = list(messages)


def _status_label(status: str | None) -> str:
    """``pending_payment`` -> ``Pending payment``; no status (an order's first event) -> ``""``."""
    return OrderStatus(status).label if status else ""


def _tax_class_name(class_id: int | None) -> str:
    tax_class = db.session.get(TaxClass, class_id) if class_id is not None else None
    return tax_class.name if tax_class else "(standard rate)"


class DashboardView(AdminOnly, AdminIndexView):
    @expose("/")
    def index(self):
        """Orders and revenue (today, 7 and 30 days, a chart of the 30), top products, refunds,
        vouchers, in the shop's days (SHOP_TIMEZONE); products low on stock."""
        return self.render("admin/dashboard.html", stats=services.dashboard())


class IdEqualFilter(IntEqualFilter):
    """An id filter: a number no id column can hold is an invalid filter (Flask-Admin then
    ignores it), not an overflow in SQL."""

    def clean(self, value: str) -> int:
        number = super().clean(value)
        if not 0 < number < 2**63:
            raise ValueError(f"not an id: {value}")
        return number


def _existing_ids(*ids: int) -> None:
    """404 for an id no row can have (SQLite cannot even bind it): never an overflow."""
    if not all(1 <= row_id <= MAX_ROW_ID for row_id in ids):
        abort(404)


class AdminModelView(AdminOnly, ModelView):
    form_base_class = SecureForm  # the CSRF token on every form, delete and action
    # Products are deactivated instead; shipping and tax delete through their rules.
    can_delete = False
    named_filter_urls = True
    page_size = 50
    # Flask-Admin's pages without javascript: URLs or inline handlers, which the CSP blocks.
    list_template = "admin/storefront_list.html"
    create_template = "admin/storefront_create.html"
    edit_template = "admin/storefront_edit.html"
    details_template = "admin/storefront_details.html"

    def get_export_value(self, model, name) -> str:
        """Each cell of an export (Flask-Admin's CSV), neutralised by ``csv_cell``."""
        return csv_cell(super().get_export_value(model, name))

    def get_list_row_actions(self):
        """Flask-Admin's delete button confirms in an inline onclick, which the CSP blocks: ours
        asks in static/admin.js."""
        return [
            TemplateLinkRowAction("storefront.delete_row", "Delete record")
            if isinstance(row_action, DeleteRowAction)
            else row_action
            for row_action in super().get_list_row_actions()
        ]


def upload_limit(config: Config) -> int:
    """The request body the gallery's upload form accepts (``MEDIA_MAX_UPLOAD_BYTES``)."""
    return config["MEDIA_MAX_UPLOAD_BYTES"] or (
        config["PRODUCT_IMAGES_PER_UPLOAD"] * config["MEDIA_MAX_BYTES"]
        + config["MAX_CONTENT_LENGTH"]
    )


def upload_body_limit() -> int | None:
    """The gallery upload's body limit, for an admin only (others keep MAX_CONTENT_LENGTH and
    get their 403 or login page): the app sets it before any hook reads the form."""
    if current_user.is_authenticated and current_user.has_role(ADMIN):
        return upload_limit(current_app.config)
    return None


class TranslatedTexts:
    """The create and edit forms hold the model's texts in each language but the default
    (admin.forms.translated); the view saves them with ``set_translations``."""

    model: Any
    _create_form_class: type
    _edit_form_class: type

    def _translated(self, form_class: type) -> type:
        default = default_locale()
        others = tuple((k, v) for k, v in current_app.config["LANGUAGES"].items() if k != default)
        return translated(form_class, self.model, others)

    def create_form(self, obj=None):
        return self._translated(self._create_form_class)(get_form_data(), obj=obj)

    def edit_form(self, obj=None):
        form_class = self._translated(self._edit_form_class)
        return form_class(get_form_data(), obj=obj, **translation_data(obj))


def _gallery_url(view, product_id, row=None) -> str:
    return url_for("admin_products.gallery_view", product_id=product_id)


class ProductView(TranslatedTexts, AdminModelView):
    form = ProductForm
    can_view_details = True
    edit_template = "admin/product_edit.html"
    column_extra_row_actions = [LinkRowAction("fa fa-image", _gallery_url, "Images")]
    column_list = ("sku", "name", "category", "price_cents", "stock", "is_active")
    column_details_list = (
        "sku",
        "slug",
        "name",
        "category",
        "description",
        "price_cents",
        "tax_class_id",
        "stock",
        "is_active",
        "is_featured",
        "image",
        "created_at",
        "updated_at",
    )
    column_labels = {
        "sku": "SKU",
        "price_cents": "Price",
        "is_active": "Active",
        "tax_class_id": "Tax class",
    }
    column_formatters = {
        "price_cents": _money("price_cents"),
        "tax_class_id": lambda _v, _c, product, _n: _tax_class_name(product.tax_class_id),
    }
    # SKU and stock are the variants' (a product's own for a product without options).
    column_sortable_list = ("name", ("category", "category.name"), "price_cents")
    column_default_sort = "name"
    column_searchable_list = ("name", "variants.sku")
    column_filters = (
        IdEqualFilter(Product.category_id, "Category", options=_CategoryOptions()),
        "is_active",
    )
    column_editable_list = ("stock", "is_active")

    def scaffold_list_form(self, widget=None, validators=None):
        """The list edits a product's stock (its variant's, for a product without options:
        the service refuses it for one with several) and whether it is active. Stock is not
        a column of the product: the fields are declared here."""

        class ListFields(self.form_base_class):  # type: ignore[name-defined]
            stock = IntegerField("Stock", [InputRequired()])
            is_active = BooleanField("Active")

        return create_editable_list_form(self.form_base_class, ListFields, widget)

    def create_model(self, form):
        """Create through ``save_product``; a refusal is shown on the form, not raised."""
        return self._save(None, form) or False

    def update_model(self, form, model):
        """Edit (the full form or one column in the list) through ``save_product``."""
        return self._save(model, form) is not None

    def _save(self, product: Product | None, form) -> Product | None:
        data = {f.name: f.data for f in form if f.name in catalog_services.PRODUCT_FIELDS}
        if texts := translations_of(form, Product):
            data["translations"] = texts
        if product is not None and not data.get("slug", product.slug):
            del data["slug"]  # an emptied slug keeps the old one: links to it keep working
        try:
            return catalog_services.save_product(product, data)
        except DomainError as error:
            _show_error(error, form)
            return None

    # The gallery: /admin/products/<id>/images/, its writes through app/catalog/images.py.

    @expose("/<int:product_id>/images/", methods=("GET",))
    def gallery_view(self, product_id):
        """The product's images in order, each to move, describe or delete; the upload form."""
        _existing_ids(product_id)
        return self._render_gallery(product_id, GalleryUploadForm())

    @expose("/<int:product_id>/images/", methods=("POST",))
    def gallery_upload_view(self, product_id):
        """Add the files chosen, all or none; a refusal is shown on the form."""
        _existing_ids(product_id)
        form = GalleryUploadForm(CombinedMultiDict([request.files, request.form]))
        if not form.validate():
            flash_errors(form, message="Nothing was uploaded. %(error)s")
            return self._render_gallery(product_id, form)
        uploads = [
            gallery.Upload(file.filename or "", file.read(), form.alt.data or "")
            for file in request.files.getlist(form.images.name)
            if file.filename  # the empty part a browser sends when no file was chosen
        ]
        try:
            added = gallery.add_images(product_id, uploads)
        except DomainError as error:
            if isinstance(error, NotFound):
                raise
            _show_error(error, form)
            page = self._render_gallery(product_id, form)
            if error.retry_after is None:
                return page
            # The image store did not answer: the form again, as a 503 to retry later.
            return page, error.status, {"Retry-After": str(error.retry_after)}
        flash(f"{len(added)} image{'s' if len(added) != 1 else ''} uploaded.", "success")
        return redirect(_gallery_url(self, product_id))

    @expose("/<int:product_id>/images/<int:image_id>/move/", methods=("POST",))
    def gallery_move_view(self, product_id, image_id):
        """Move an image one place up or down."""
        _existing_ids(product_id, image_id)
        form = ImageMoveForm(request.form)
        if form.validate():
            offset = -1 if form.direction.data == "up" else 1
            self._change_image(product_id, image_id, gallery.move_image, offset)
        else:
            flash_errors(form, message="The order was not changed. %(error)s")
        return redirect(_gallery_url(self, product_id))

    @expose("/<int:product_id>/images/<int:image_id>/alt/", methods=("POST",))
    def gallery_alt_view(self, product_id, image_id):
        """Change an image's alt text; a refusal is shown on its field, as typed."""
        _existing_ids(product_id, image_id)
        form = ImageAltForm(request.form)
        if not form.validate():
            flash_errors(form, message="The alt text was not changed. %(error)s")
        elif self._change_image(
            product_id, image_id, gallery.set_alt, form.alt.data or "", form=form
        ):
            flash("Alt text saved.", "success")
        else:
            return self._render_gallery(product_id, GalleryUploadForm(), {image_id: form})
        return redirect(_gallery_url(self, product_id))

    @expose("/<int:product_id>/images/<int:image_id>/delete/", methods=("POST",))
    def gallery_delete_view(self, product_id, image_id):
        """Delete an image and, once that is committed, its files."""
        _existing_ids(product_id, image_id)
        form = ImageDeleteForm(request.form)
        if not form.validate():
            flash_errors(form, message="The image was not deleted. %(error)s")
        elif self._change_image(product_id, image_id, gallery.delete_image):
            flash("Image deleted.", "success")
        return redirect(_gallery_url(self, product_id))

    @expose("/<int:product_id>/variants/<int:variant_id>/image/", methods=("POST",))
    def variant_image_view(self, product_id, variant_id):
        """Choose the image a variant shows (one of the product's, or the gallery's first)."""
        _existing_ids(product_id, variant_id)
        variant = db.session.get(Variant, variant_id)
        if variant is None or variant.product_id != product_id:
            abort(404)
        form = VariantImageForm(request.form).set_choices(variant.product.images)
        if not form.validate():
            flash_errors(form, message="The variant's image was not changed. %(error)s")
            return redirect(_gallery_url(self, product_id))
        try:
            gallery.set_variant_image(variant_id, form.image_id.data)
        except DomainError as error:
            _show_error(error, form)
        else:
            flash(f"Image of {variant.sku} saved.", "success")
        return redirect(_gallery_url(self, product_id))

    def _change_image(self, product_id, image_id, change, *args, form=None) -> bool:
        """``change(image_id, *args)``, for an image of this product (404 for another's); a
        refusal (the image deleted meanwhile, an empty alt) is a flash. Whether it was done."""
        image = db.session.get(ProductImage, image_id)
        if image is not None and image.product_id != product_id:
            abort(404)
        try:
            change(image_id, *args)
        except DomainError as error:
            _show_error(error, form)
            return False
        return True

    def _render_gallery(self, product_id: int, upload_form, alt_forms=None):
        product = db.session.get(Product, product_id)
        if product is None:
            abort(404, "No such product.")
        alt_forms = alt_forms or {}
        shown = [
            (
                image,
                gallery.image_urls(image),
                alt_forms.get(image.id) or ImageAltForm(data={"alt": image.alt}),
            )
            for image in product.images
        ]
        return self.render(
            "admin/product_images.html",
            product=product,
            images=shown,
            upload_form=upload_form,
            move_form=ImageMoveForm(),
            delete_form=ImageDeleteForm(),
            variant_forms=[
                (
                    variant,
                    VariantImageForm(data={"image_id": variant.image_id}).set_choices(
                        product.images
                    ),
                )
                for variant in product.variants
                if product.options
            ],
            upload_limit=upload_limit(current_app.config),
        )


class OptionTypeView(AdminModelView):
    """A product's options (Size, Colour) and their values, through ``save_option_type``."""

    form = OptionTypeForm
    column_list = ("product", "name", "position", "values")
    column_formatters = {
        "values": lambda _view, _context, option, _name: ", ".join(
            value.value for value in option.values
        )
    }
    column_default_sort = ("product_id", False)

    def on_form_prefill(self, form, id):
        option = self.get_one(id)
        form.product_id.data = option.product_id
        form.values.data = ", ".join(value.value for value in option.values)

    def create_model(self, form):
        return self._save(None, form) or False

    def update_model(self, form, model):
        return self._save(model, form) is not None

    def _save(self, option, form):
        data = {f.name: f.data for f in form if f.name in ("product_id", "name", "position")}
        data["values"] = (form.values.data or "").split(",")
        try:
            return variant_services.save_option_type(option, data)
        except DomainError as error:
            _show_error(error, form)
            return None


class VariantView(AdminModelView):
    """The variants of products: SKU, option values, price, stock, weight, active."""

    form = VariantForm
    column_list = ("product", "sku", "options_label", "price_cents", "stock", "is_active")
    column_labels = {"sku": "SKU", "options_label": "Options", "price_cents": "Own price"}
    column_formatters = {"price_cents": _money("price_cents")}
    column_sortable_list = ("sku", "stock")
    column_searchable_list = ("sku",)
    column_default_sort = "sku"

    def on_form_prefill(self, form, id):
        variant = self.get_one(id)
        form.product_id.data = variant.product_id
        form.value_ids.data = [value.id for value in variant.values]

    def create_model(self, form):
        return self._save(None, form) or False

    def update_model(self, form, model):
        return self._save(model, form) is not None

    def _save(self, variant, form):
        fields = ("product_id", "sku", "value_ids", "price_cents", "stock", "weight_grams")
        data = {f.name: f.data for f in form if f.name in (*fields, "is_active")}
        try:
            return variant_services.save_variant(variant, data)
        except DomainError as error:
            _show_error(error, form)
            return None


class ServiceFormView(AdminModelView):
    """A view whose writes go through one service, ``save(model or None, data)``, with the
    form's fields as ``data``, and deletes through another, ``delete(model)``; a refusal comes
    back as form errors and a flash."""

    can_delete = True

    def save(self, model, data: dict):
        raise NotImplementedError

    def delete(self, model) -> None:
        raise NotImplementedError

    def delete_model(self, model) -> bool:
        """Delete (one row, or each of the rows selected) through ``delete``; a refusal is a
        flash, not an error page."""
        try:
            self.delete(model)
        except DomainError as error:
            _show_error(error)
            return False
        return True

    def form_data(self, form) -> dict:
        return {f.name: f.data for f in form if f.name != "csrf_token"}

    def create_model(self, form):
        return self._save(None, form) or False

    def update_model(self, form, model):
        return self._save(model, form) is not None

    def _save(self, model, form):
        try:
            return self.save(model, self.form_data(form))
        except DomainError as error:
            _show_error(error, form)
            return None


class ShippingZoneView(ServiceFormView):
    """Zones and their countries, through ``save_zone``: a country in one zone only, one
    default zone."""

    form = ShippingZoneForm
    column_list = ("name", "is_default", "countries", "methods")
    column_labels = {"is_default": "Default (rest of the world)"}
    column_formatters = {
        "countries": lambda _v, _c, zone, _n: ", ".join(c.country for c in zone.countries),
        "methods": lambda _v, _c, zone, _n: ", ".join(m.name for m in zone.methods),
    }
    column_sortable_list = ("name", "is_default")
    column_default_sort = "name"
    column_searchable_list = ("name",)

    def on_form_prefill(self, form, id):
        zone = self.get_one(id)
        form.countries.data = ", ".join(c.country for c in zone.countries)

    def save(self, model, data):
        return shipping_rules.save_zone(model, data)

    def delete(self, model):
        shipping_rules.delete_zone(model)


class ShippingMethodView(ServiceFormView):
    """A zone's ways to ship, through ``save_method``; their weight bands have their own view."""

    form = ShippingMethodForm
    column_list = ("zone", "name", "price_cents", "free_above_cents", "bands", "is_active")
    column_labels = {
        "price_cents": "Price",
        "free_above_cents": "Free from",
        "bands": "Weight bands",
        "is_active": "Active",
    }
    column_formatters = {
        "price_cents": _money("price_cents"),
        "free_above_cents": _money("free_above_cents"),
        "bands": lambda _v, context, method, _n: ", ".join(
            f"≤ {band.max_grams:,} g "
            + context.environment.filters["money"](
                band.price_cents, current_app.config["SHOP_CURRENCY"]
            )
            for band in method.bands
        ),
    }
    column_sortable_list = (("zone", "zone.name"), "name", "price_cents", "is_active")
    column_default_sort = [("zone_id", False), ("position", False)]

    def on_form_prefill(self, form, id):
        form.zone_id.data = self.get_one(id).zone_id

    def save(self, model, data):
        return shipping_rules.save_method(model, data)

    def delete(self, model):
        shipping_rules.delete_method(model)


class WeightBandView(ServiceFormView):
    """A method priced by weight: a parcel pays the first band it fits, through ``save_band``."""

    form = WeightBandForm
    column_list = ("method.zone", "method", "max_grams", "price_cents")
    column_labels = {
        "method.zone": "Zone",
        "max_grams": "Up to (grams)",
        "price_cents": "Price",
    }
    column_formatters = {"price_cents": _money("price_cents")}
    column_sortable_list = ("max_grams", "price_cents")
    column_default_sort = [("method_id", False), ("max_grams", False)]

    def on_form_prefill(self, form, id):
        form.method_id.data = self.get_one(id).method_id

    def save(self, model, data):
        return shipping_rules.save_band(model, data)

    def delete(self, model):
        shipping_rules.delete_band(model)


class TaxClassView(ServiceFormView):
    form = TaxClassForm
    column_list = ("name",)
    column_default_sort = "name"

    def save(self, model, data):
        return tax_rules.save_tax_class(model, data)

    def delete(self, model):
        tax_rules.delete_tax_class(model)


class TaxRateView(ServiceFormView):
    """Each country's rates, through ``save_rate``: one standard rate and one per class."""

    form = TaxRateForm
    column_list = ("country", "tax_class", "rate")
    column_labels = {"tax_class": "Tax class", "rate": "Rate (%)"}
    column_formatters = {
        "country": lambda _v, _c, rate, _n: f"{country_name(rate.country)} ({rate.country})",
        "tax_class": lambda _v, _c, rate, _n: (
            rate.tax_class.name if rate.tax_class else "(standard)"
        ),
        "rate": lambda _v, _c, rate, _n: tax_rules.percent(rate.rate),
    }
    column_sortable_list = ("country", "rate")
    column_default_sort = [("country", False), ("tax_class_id", False)]
    column_searchable_list = ("country",)

    def on_form_prefill(self, form, id):
        form.tax_class_id.data = self.get_one(id).tax_class_id

    def save(self, model, data):
        return tax_rules.save_rate(model, data)

    def delete(self, model):
        tax_rules.delete_rate(model)


class CategoryView(TranslatedTexts, AdminModelView):
    form = CategoryForm
    column_list = ("name", "slug", "parent")
    column_sortable_list = ("name", "slug", ("parent", "parent.name"))
    column_default_sort = "name"
    column_searchable_list = ("name", "slug")

    def on_model_change(self, form, model, is_created):
        if not model.slug:
            model.slug = catalog_services.slugify(model.name)
        try:
            catalog_services.check_category_parent(model.id, model.parent_id)
            catalog_services.set_translations(model, translations_of(form, Category))
        except ValidationFailed as error:
            raise ValidationError(error.message) from None  # Flask-Admin shows it on the form

    def handle_view_exception(self, exc):
        if isinstance(exc, IntegrityError):
            flash("A category with this slug exists already.", "error")
            return True
        return super().handle_view_exception(exc)


def _next_day(day: date) -> datetime | None:
    """Midnight after ``day`` (None after the last day a date can hold)."""
    return datetime.combine(day + timedelta(days=1), time.min) if day < date.max else None


class PlacedFromFilter(DateGreaterFilter):
    """Orders placed on the day given (a UTC date, as created_at is stored) or later."""

    def apply(self, query, value, alias=None):
        return query.filter(self.get_column(alias) >= datetime.combine(value, time.min))

    def operation(self) -> str:
        return "on or after"


class PlacedUntilFilter(DateSmallerFilter):
    """Orders placed on the day given (a UTC date) or earlier: to the end of that day."""

    def apply(self, query, value, alias=None):
        end = _next_day(value)
        return query if end is None else query.filter(self.get_column(alias) < end)

    def operation(self) -> str:
        return "on or before"


class PlacedBetweenFilter(DateBetweenFilter):
    """Orders placed from the first day given to the end of the second (UTC dates), both
    included: Flask-Admin's own compares a datetime with the second day's midnight."""

    def apply(self, query, value, alias=None):
        start, last = value
        column = self.get_column(alias)
        query = query.filter(column >= datetime.combine(start, time.min))
        end = _next_day(last)
        return query if end is None else query.filter(column < end)


class CustomerFilter(FilterLike):
    """Orders whose e-mail (the guest's, or the member's when they ordered) or whose customer's
    account e-mail now contains the text; ``%`` and ``_`` are matched as typed."""

    def apply(self, query, value, alias=None):
        text = value.strip().lower()  # e-mails are stored lower-cased
        # User.__table__.c: Flask-Security's fsqla mixins type their class attributes as Never.
        users = User.__table__.c
        members = select(users.id).where(users.email.icontains(text, autoescape=True))
        return query.filter(
            or_(Order.email.icontains(text, autoescape=True), Order.user_id.in_(members))
        )


def _placed_utc(view, context, order, name) -> str:
    return order.created_at.isoformat(timespec="seconds")


def _amount(attribute: str):
    """An export formatter: ``attribute`` (minor units) as a decimal amount in the order's
    currency (1250 EUR -> 12.50, 1250 JPY -> 1250)."""
    return lambda view, context, order, name: str(
        to_decimal(getattr(order, attribute), order.currency)
    )


class _Echo:
    """A file for ``csv.writer`` whose ``write`` returns the line instead of storing it."""

    def write(self, line: str) -> str:
        return line


def _keyset_batches(query, column: str, descending: bool, size: int) -> Iterator[list[Order]]:
    """``query``'s orders sorted by ``column`` then id, ``size`` at a time. Each batch starts
    after the last one's final order (keyset, not OFFSET): memory holds one batch however many
    orders there are, and none is skipped or repeated."""
    sort_by = getattr(Order, column)
    if descending:
        query = query.order_by(None).order_by(sort_by.desc(), Order.id.desc())
    else:
        query = query.order_by(None).order_by(sort_by, Order.id)
    batch = query.limit(size).all()
    while batch:
        yield batch
        if len(batch) < size:
            return
        value, last_id = getattr(batch[-1], column), batch[-1].id
        if descending:
            after = or_(sort_by < value, and_(sort_by == value, Order.id < last_id))
        else:
            after = or_(sort_by > value, and_(sort_by == value, Order.id > last_id))
        batch = query.filter(after).limit(size).all()


# The CSV export's columns and their titles, in order.
ORDER_EXPORT_COLUMNS = [
    ("number", "Number"),
    ("created_at", "Placed (UTC)"),
    ("email", "Customer e-mail"),
    ("guest", "Guest"),
    ("status", "Status"),
    ("item_count", "Items"),
    ("subtotal_cents", "Subtotal"),
    ("discount_cents", "Discount"),
    ("shipping_cents", "Shipping"),
    ("tax_cents", "Tax"),
    ("total_cents", "Total"),
    ("currency", "Currency"),
    ("voucher_code", "Voucher code"),
    ("payment_method", "Payment method"),
]


class OrderView(AdminModelView):
    """Orders are read here; their status changes only through the state machine's buttons."""

    can_create = False
    can_edit = False
    can_view_details = True
    details_template = "admin/order_details.html"
    column_list = ("number", "created_at", "user", "status", "total_cents", "payment_method")
    column_labels = {"created_at": "Placed", "user": "Customer", "total_cents": "Total"}
    column_formatters = {
        "created_at": lambda view, context, model, name: f"{model.created_at:%Y-%m-%d %H:%M}",
        "user": lambda view, context, model, name: (
            model.recipient + (" (guest)" if model.is_guest else "")
        ),
        "status": lambda view, context, model, name: model.status_label,
        "total_cents": _money("total_cents"),
    }
    column_select_related_list = (Order.user,)
    column_sortable_list = ("number", "created_at", "status", "total_cents")
    column_default_sort = ("created_at", True)
    column_searchable_list = ("number", "email")
    column_filters = (
        FilterEqual(Order.status, "Status", options=[(s.value, s.label) for s in OrderStatus]),
        FilterEqual(Order.voucher_code, "Voucher"),  # ?flt0_voucher_equals=CODE: its uses
        # ?flt0_placed_utc_date_between=2026-03-01+to+2026-03-31 (created_at is naive UTC)
        PlacedBetweenFilter(Order.created_at, "Placed (UTC date)"),
        PlacedFromFilter(Order.created_at, "Placed (UTC date)"),
        PlacedUntilFilter(Order.created_at, "Placed (UTC date)"),
        CustomerFilter(Order.email, "Customer e-mail"),  # ?flt0_customer_email_contains=...
    )
    # "Export" on the list: a CSV of all the orders its filters and search select, in its sort,
    # cells through csv_cell. export() streams them, export_batch_size orders in memory at a time.
    can_export = True
    export_types = ["csv"]
    export_batch_size = 500
    column_formatters_export = {
        "created_at": _placed_utc,
        "guest": lambda view, context, order, name: "yes" if order.is_guest else "no",
        "item_count": lambda view, context, order, name: sum(line.quantity for line in order.lines),
        "subtotal_cents": _amount("subtotal_cents"),
        "discount_cents": _amount("discount_cents"),
        "shipping_cents": _amount("shipping_cents"),
        "tax_cents": _amount("tax_cents"),
        "total_cents": _amount("total_cents"),
    }

    def get_export_columns(self):
        return list(ORDER_EXPORT_COLUMNS)

    def get_export_name(self, export_type: str = "csv") -> str:
        return f"orders-{utcnow():%Y-%m-%d-%H%M%S}.{export_type}"

    def get_query(self):
        query = super().get_query()
        if request.endpoint == f"{self.endpoint}.export":
            query = query.options(selectinload(Order.lines))  # the item counts, one query a batch
        return query

    def _export_sort(self, sort: int | None, desc: int | None) -> tuple[str, bool]:
        """The list's sort (``?sort=``, ``?desc=``) if it names a sortable column, else its
        default (newest first)."""
        picked = self._get_column_by_idx(sort)
        if picked and picked[0] in self.column_sortable_list:
            return picked[0], bool(desc)
        return self.column_default_sort

    @expose("/export/<export_type>/")
    def export(self, export_type):
        """The CSV of the orders the list's filters and search select, streamed as it is read
        (the rows fetched in keyset batches), not stored by caches."""
        if export_type not in self.export_types:
            abort(404)
        args = self._get_list_extra_args()  # here: an invalid filter's flash goes in the session
        column, descending = self._export_sort(args.sort, args.sort_desc)
        columns = self._export_columns
        writer = csv.writer(_Echo())

        def rows() -> Iterator[str]:
            yield writer.writerow([title for _name, title in columns])
            # Queried here, while the body is read: the session the view had was closed when it
            # returned; this one closes with the context stream_with_context pushes again.
            _count, query = self.get_list(
                0, None, False, args.search, args.filters, execute=False, page_size=0
            )
            for batch in _keyset_batches(query, column, descending, self.export_batch_size):
                for order in batch:
                    yield writer.writerow(
                        [self.get_export_value(order, name) for name, _ in columns]
                    )

        filename = secure_filename(self.get_export_name(export_type))
        return Response(
            stream_with_context(rows()),
            mimetype="text/csv",
            headers={
                "Content-Disposition": f"attachment;filename={filename}",
                "Cache-Control": "private, no-store",  # customers' e-mails
            },
        )

    def get_pk_value(self, model):
        return model.number  # pages are /admin/orders/details/?id=SF-..., not a sales counter

    def get_one(self, id):
        try:
            return order_queries.get_order(id)
        except NotFound:
            return None

    def render(self, template, **kwargs):
        if template == self.details_template:
            order = kwargs["model"]
            allowed = order_state.allowed_next(order)
            kwargs["next_statuses"] = [status for status in OrderStatus if status in allowed]
            kwargs["transition_form"] = TransitionForm()
            payment = refunds.refunding_payment(order)
            if order.status in order_state.REFUNDABLE and payment is not None:
                kwargs["refund_form"] = RefundForm()
                kwargs["refund_via"] = provider_for(payment.provider)
                kwargs["shipping_left"] = (
                    0 if refunds.shipping_refunded(order) else refunds.shipping_paid(order)
                )
            kwargs["status_label"] = _status_label
            kwargs["dashboard_url"] = lambda p: provider_for(p.provider).dashboard_url(p.reference)
        return super().render(template, **kwargs)

    @expose("/<number>/transition/", methods=("POST",))
    def transition_view(self, number):
        """Move the order to the status of the button pressed; refusals come back as a flash."""
        form = TransitionForm(request.form)
        if form.validate() and form.status.data:  # InputRequired: data is set when valid
            try:
                order = order_state.transition(number, form.status.data, actor_id=current_user.id)
            except DomainError as error:
                if isinstance(error, NotFound):
                    raise
                _show_error(error)
            else:
                flash(f"Order {order.number} is now {order.status_label.lower()}.", "success")
        else:
            flash_errors(form, message="The status was not changed. %(error)s")
        return redirect(self.get_url(".details_view", id=number))

    @expose("/<number>/refund/", methods=("POST",))
    def refund_view(self, number):
        """Refund what the form asks (state.refund); refusals come back as a flash."""
        order = order_queries.get_order(number)
        form = RefundForm(request.form)
        if not form.validate():
            flash_errors(form, message="Nothing was refunded. %(error)s")
            return redirect(self.get_url(".details_view", id=number))
        try:
            asked = refund_request(form, request.form, order.currency)
            refund = order_state.refund(number, asked, actor_id=current_user.id)
        except DomainError as error:
            if isinstance(error, NotFound):
                raise
            fields = (error.fields or {}).values()
            details = [m for messages in fields for m in messages if m != error.message]
            flash(" ".join([error.message, *details]), "error")  # the form is not shown again
        else:
            order = order_queries.get_order(number)
            amount = format_money(refund.amount_cents, order.currency)
            flash(f"Refunded {amount}. The order is {order.status_label.lower()}.", "success")
        return redirect(self.get_url(".details_view", id=number))

    @expose("/<number>/invoice.pdf", methods=("GET",))
    def invoice_view(self, number):
        """The order's invoice, as its customer downloads it."""
        return invoice_pdf.download(order_queries.get_order(number))

    @expose("/<number>/credit-notes/<int:credit_note>.pdf", methods=("GET",))
    def credit_note_view(self, number, credit_note):
        """One of the order's credit notes, as its customer downloads it."""
        return invoice_pdf.download_credit_note(order_queries.get_order(number), credit_note)


class UserView(AdminModelView):
    """Accounts: activate, deactivate, grant or take the admin role. No passwords, no deletes."""

    can_create = False
    can_edit = False
    can_view_details = True
    column_list = ("email", "roles", "active", "confirmed_at", "last_login_at")
    column_details_list = (
        "email",
        "roles",
        "active",
        "confirmed_at",
        "create_datetime",
        "last_login_at",
        "current_login_at",
        "login_count",
    )
    column_labels = {
        "confirmed_at": "Confirmed",
        "last_login_at": "Last login",
        "create_datetime": "Signed up",
    }
    column_formatters = {
        "roles": lambda view, context, model, name: ", ".join(model.role_names),
        "confirmed_at": lambda view, context, model, name: (
            f"yes, {model.confirmed_at:%Y-%m-%d}" if model.confirmed_at else "no"
        ),
    }
    column_sortable_list = ("email", "active", "confirmed_at", "last_login_at")
    column_default_sort = "email"
    column_searchable_list = ("email",)
    column_filters = ("active",)

    @action("activate", "Activate", "Activate the selected users?")
    def action_activate(self, ids):
        self._change_users(ids, user_datastore.activate_user, "activated")

    @action("deactivate", "Deactivate", "Deactivate the selected users? They cannot log in.")
    def action_deactivate(self, ids):
        self._change_users(ids, user_datastore.deactivate_user, "deactivated", not_self=True)

    @action("add_admin", "Make admin", "Give the selected users the admin role?")
    def action_add_admin(self, ids):
        role = user_datastore.find_or_create_role(ADMIN)
        self._change_users(
            ids, lambda user: user_datastore.add_role_to_user(user, role), "made admins"
        )

    @action("remove_admin", "Remove admin", "Take the admin role from the selected users?")
    def action_remove_admin(self, ids):
        self._change_users(
            ids,
            lambda user: user_datastore.remove_role_from_user(user, ADMIN),
            "no longer admins",
            not_self=True,
        )

    def _change_users(self, ids, change, done: str, not_self: bool = False) -> None:
        """Apply ``change`` to the users with these ids and commit once."""
        user_ids = {int(i) for i in ids if str(i).isdigit()}
        if not_self and current_user.id in user_ids:
            user_ids.discard(current_user.id)
            flash("Not to your own account: another admin has to do that.", "warning")
        # User.__table__.c: Flask-Security's fsqla mixins type their class attributes as Never.
        users = db.session.scalars(select(User).where(User.__table__.c.id.in_(user_ids))).all()
        if users:
            changed = sum(1 for user in users if change(user))
            user_datastore.commit()
            flash(f"{changed} of {len(users)} selected user(s) {done}.", "success")
