"""Back-office forms. Each is a Flask-Admin SecureForm: no POST is accepted without its token."""

from collections.abc import Mapping
from functools import cache

from flask import current_app
from flask_admin.form import SecureForm
from sqlalchemy import select
from wtforms import (
    BooleanField,
    DecimalField,
    HiddenField,
    IntegerField,
    MultipleFileField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]  # WTForms 3.3; stubs 3.2
from wtforms.validators import AnyOf, InputRequired, Length, Optional

from app.catalog.models import (
    ALT_MAX_LENGTH,
    Category,
    OptionType,
    OptionValue,
    Product,
    Translatable,
)
from app.catalog.services import TEXT_LIMITS
from app.countries import countries
from app.errors import ValidationFailed
from app.extensions import db
from app.money import to_minor_units
from app.orders.refunds import NOTE_MAX, RefundRequest
from app.shipping.models import ShippingMethod, ShippingZone
from app.taxes.models import TaxClass


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def _category_choices(blank_label: str):
    """Choices read when the form is built: the blank one, then every category by name."""

    def choices() -> list[SelectChoice]:
        categories = db.session.scalars(select(Category).order_by(Category.name))
        return [SelectChoice("", blank_label), *(SelectChoice(c.id, c.name) for c in categories)]

    return choices


def _optional_id(value) -> int | None:
    return int(value) if value not in (None, "") else None


def _shop_currency() -> str:
    return current_app.config["SHOP_CURRENCY"]


def _tax_class_choices() -> list[SelectChoice]:
    classes = db.session.scalars(select(TaxClass).order_by(TaxClass.name))
    return [SelectChoice("", "(standard rate)"), *(SelectChoice(c.id, c.name) for c in classes)]


class ProductForm(SecureForm):
    """Product fields; ``save_product`` checks the numbers and the unique SKU and slug."""

    sku = StringField("SKU", [InputRequired(), Length(max=64)], filters=[_strip])
    name = StringField("Name", [InputRequired(), Length(max=160)], filters=[_strip])
    slug = StringField(
        "Slug",
        [Optional(), Length(max=160)],
        filters=[_strip],
        description="The product's address in the shop. Left empty, it is made from the name.",
    )
    category_id = SelectField("Category", choices=_category_choices("(none)"), coerce=_optional_id)
    description = TextAreaField("Description", default="")
    price_cents = IntegerField(
        "Price (minor units)", [InputRequired()], description="In cents: 450 is 4.50."
    )
    currency = StringField(
        "Currency", [InputRequired(), Length(min=3, max=3)], default=_shop_currency
    )
    stock = IntegerField("Stock", [InputRequired()], default=0)
    is_active = BooleanField("Active (shown in the shop)", default=True)
    is_featured = BooleanField("Featured on the home page")
    tax_class_id = SelectField(
        "Tax class",
        choices=_tax_class_choices,
        coerce=_optional_id,
        description="Its country's rate for this class; none: the standard rate.",
    )
    image = StringField(
        "Image",
        [Optional(), Length(max=255)],
        filters=[_strip, lambda value: value or None],
        description="A file name under static/products/.",
    )


class CategoryForm(SecureForm):
    name = StringField("Name", [InputRequired(), Length(max=120)], filters=[_strip])
    slug = StringField(
        "Slug",
        [Optional(), Length(max=140)],
        filters=[_strip],
        description="Left empty, it is made from the name.",
    )
    parent_id = SelectField("Parent", choices=_category_choices("(top level)"), coerce=_optional_id)


TRANSLATED = "__"  # a translated text's field: {text}__{locale}, "name__de_DE"


@cache
def translated(
    form_class: type, model: type[Translatable], languages: tuple[tuple[str, str], ...]
) -> type:
    """``form_class`` with a field for each of ``model``'s TEXTS in each of ``languages``
    ((locale, name) pairs): "Name (Deutsch)", empty for the default language's text."""
    fields = {}
    for locale, language in languages:
        for text in model.TEXTS:
            label = f"{getattr(form_class, text).args[0]} ({language})"
            field = TextAreaField if text == "description" else StringField
            fields[f"{text}{TRANSLATED}{locale}"] = field(
                label,
                [Optional(), Length(max=TEXT_LIMITS[(model, text)])],
                filters=[_strip],
                description="Empty: the default language's.",
            )
    return type(form_class.__name__, (form_class,), fields)


def translations_of(form, model: type[Translatable]) -> dict[str, dict[str, str]]:
    """The translated texts ``form`` holds, by locale, as ``set_translations`` takes them."""
    texts: dict[str, dict[str, str]] = {}
    for field in form:
        text, separator, locale = field.name.partition(TRANSLATED)
        if separator and text in model.TEXTS:
            texts.setdefault(locale, {})[text] = field.data or ""
    return texts


def translation_data(model: Translatable | None) -> dict[str, str]:
    """The values of a form's translated fields, from ``model``'s translations."""
    if model is None:
        return {}
    return {
        f"{text}{TRANSLATED}{locale}": getattr(translation, text)
        for locale, translation in model.translations.items()
        for text in model.TEXTS
    }


class TransitionForm(SecureForm):
    """One button on an order's page: move the order to ``status``."""

    status = HiddenField(validators=[InputRequired()])


QUANTITY_PREFIX = "quantity-"  # a line's units to refund: quantity-<order line id>


class RefundForm(SecureForm):
    """A refund on an order's page: each line's units to pay back (``quantity-<line id>``
    inputs, read by ``refund_request``), the shipping, an amount tied to no line, stock back,
    and the reason."""

    shipping = BooleanField("Refund the shipping")
    amount = StringField("Amount tied to no item", validators=[Optional(), Length(max=20)])
    restock = BooleanField("Put the refunded units back in stock")
    note = StringField("Reason", validators=[Optional(), Length(max=NOTE_MAX)])


def refund_request(form: RefundForm, sent: Mapping[str, str], currency: str) -> RefundRequest:
    """What the validated form asks to refund.

    :raises ValidationFailed: a quantity that is not a whole number of zero or more, an amount
        that is not one in the order's currency."""
    lines: dict[int, int] = {}
    errors: dict[str, list[str]] = {}
    for name, value in sent.items():
        if not name.startswith(QUANTITY_PREFIX) or not value.strip():
            continue
        line_id, units = name.removeprefix(QUANTITY_PREFIX), value.strip()
        if not (line_id.isdigit() and units.isdigit() and len(line_id) + len(units) < 30):
            errors["lines"] = ["Enter whole numbers of units, zero or more."]
            continue
        lines[int(line_id)] = int(units)
    amount = 0
    if form.amount.data and form.amount.data.strip():
        try:
            amount = to_minor_units(form.amount.data, currency)
        except ValueError:
            errors["amount"] = [f"Enter an amount in {currency} such as 12.50."]
    if errors:
        raise ValidationFailed("Nothing was refunded.", errors)
    return RefundRequest(
        lines=lines,
        shipping=bool(form.shipping.data),
        amount_cents=amount,
        restock=bool(form.restock.data),
        note=form.note.data or "",
    )


# What the upload form offers to pick; the server trusts only the file's content (Pillow).
IMAGE_TYPES = "image/jpeg,image/png,image/webp,image/gif"


class GalleryUploadForm(SecureForm):
    """Several images at once, each described by the same alt text (edited one by one after)."""

    images = MultipleFileField("Images", render_kw={"accept": IMAGE_TYPES})
    alt = StringField(
        "Alt text (for each image)",
        filters=[_strip],
        render_kw={"maxlength": ALT_MAX_LENGTH},
        description="What the images show, for those who cannot see them.",
    )


class ImageAltForm(SecureForm):
    """One image's alt text."""

    alt = StringField("Alt text", filters=[_strip], render_kw={"maxlength": ALT_MAX_LENGTH})


class ImageMoveForm(SecureForm):
    """Move an image one place up or down its gallery."""

    direction = HiddenField(
        validators=[InputRequired(), AnyOf(["up", "down"], message="Move up or down.")]
    )


class ImageDeleteForm(SecureForm):
    """Delete an image: the button sits behind a disclosure that asks first."""


class VariantImageForm(SecureForm):
    """The image a variant shows: one of its product's (``choices`` set per product), or none
    (the gallery's first)."""

    image_id = SelectField("Image", coerce=_optional_id, validate_choice=True)

    def set_choices(self, images) -> "VariantImageForm":
        self.image_id.choices = [
            SelectChoice("", "(the gallery's first)"),
            *(
                SelectChoice(image.id, f"Image {index}: {image.alt}")
                for index, image in enumerate(images, start=1)
            ),
        ]
        return self


def _product_choices() -> list[SelectChoice]:
    products = db.session.scalars(select(Product).order_by(Product.name))
    return [SelectChoice("", "(choose)"), *(SelectChoice(p.id, p.name) for p in products)]


def _option_value_choices() -> list[SelectChoice]:
    """Every option value, named with its product and option: "T-shirt: Size M"."""
    values = db.session.execute(
        select(OptionValue.id, Product.name, OptionType.name, OptionValue.value)
        .join(OptionValue.option_type)
        .join(OptionType.product)
        .order_by(Product.name, OptionType.position, OptionType.id, OptionValue.position)
    )
    return [SelectChoice(i, f"{product}: {option} {value}") for i, product, option, value in values]


class OptionTypeForm(SecureForm):
    """A product's option; ``save_option_type`` checks the name and the values."""

    product_id = SelectField("Product", choices=_product_choices, coerce=_optional_id)
    name = StringField("Name", [InputRequired(), Length(max=60)], filters=[_strip])
    position = IntegerField("Position", [Optional()], default=0)
    values = StringField(
        "Values",
        [InputRequired()],
        description="In their order, separated by commas: S, M, L.",
    )


class VariantForm(SecureForm):
    """A variant; ``save_variant`` checks the SKU, the numbers and the option values."""

    product_id = SelectField("Product", choices=_product_choices, coerce=_optional_id)
    sku = StringField("SKU", [InputRequired(), Length(max=64)], filters=[_strip])
    value_ids = SelectMultipleField(
        "Options", choices=_option_value_choices, coerce=int, description="One of each option."
    )
    price_cents = IntegerField(
        "Price (minor units)", [Optional()], description="Empty: the product's price."
    )
    stock = IntegerField("Stock", [InputRequired()], default=0)
    weight_grams = IntegerField("Weight (grams)", [Optional()])
    is_active = BooleanField("Active (sold in the shop)", default=True)


# Shipping and tax: the rules are app.shipping.admin_rules' and app.taxes.admin_rules'.


def _zone_choices() -> list[SelectChoice]:
    zones = db.session.scalars(select(ShippingZone).order_by(ShippingZone.name))
    return [SelectChoice("", "(choose)"), *(SelectChoice(z.id, z.name) for z in zones)]


def _method_choices() -> list[SelectChoice]:
    methods = db.session.execute(
        select(ShippingMethod.id, ShippingZone.name, ShippingMethod.name)
        .join(ShippingMethod.zone)
        .order_by(ShippingZone.name, ShippingMethod.position, ShippingMethod.id)
    )
    return [
        SelectChoice("", "(choose)"),
        *(SelectChoice(i, f"{zone}: {method}") for i, zone, method in methods),
    ]


def _country_choices() -> list[SelectChoice]:
    return [SelectChoice("", "(choose)"), *(SelectChoice(c, f"{n} ({c})") for c, n in countries())]


class ShippingZoneForm(SecureForm):
    name = StringField("Name", [InputRequired(), Length(max=100)], filters=[_strip])
    countries = TextAreaField(
        "Countries",
        description=(
            "ISO country codes separated by commas: DE, FR, AT. A country can be in one zone only."
        ),
    )
    is_default = BooleanField(
        "Default zone",
        description="Ships to every country no other zone lists (the rest of the world).",
    )


class ShippingMethodForm(SecureForm):
    zone_id = SelectField("Zone", choices=_zone_choices, coerce=_optional_id)
    name = StringField("Name", [InputRequired(), Length(max=100)], filters=[_strip])
    price_cents = IntegerField(
        "Price (minor units)",
        [InputRequired()],
        default=0,
        description="In cents: 495 is 4.95. With weight bands, the bands' prices apply instead.",
    )
    free_above_cents = IntegerField(
        "Free from (minor units)",
        [Optional()],
        description="Free when the order's subtotal reaches this, in cents. Empty: never free.",
    )
    is_active = BooleanField("Active (offered at checkout)", default=True)
    position = IntegerField("Position", [Optional()], default=0, description="Lower comes first.")


class WeightBandForm(SecureForm):
    method_id = SelectField("Method", choices=_method_choices, coerce=_optional_id)
    max_grams = IntegerField(
        "Up to (grams)", [InputRequired()], description="Parcels up to this weight."
    )
    price_cents = IntegerField(
        "Price (minor units)", [InputRequired()], description="In cents: 895 is 8.95."
    )


class TaxClassForm(SecureForm):
    name = StringField("Name", [InputRequired(), Length(max=60)], filters=[_strip])


class TaxRateForm(SecureForm):
    country = SelectField("Country", choices=_country_choices)
    tax_class_id = SelectField(
        "Tax class",
        choices=_tax_class_choices,
        coerce=_optional_id,
        description="None: the country's standard rate, for products without a class.",
    )
    rate = DecimalField("Rate (%)", [InputRequired()], places=None, description="19 or 5.5.")
