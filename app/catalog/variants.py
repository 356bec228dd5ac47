"""Writing a product's options and variants (the back office calls these): the rules of a
variant's SKU, numbers and option values in one place."""

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.catalog.models import OptionType, OptionValue, Product, Variant
from app.catalog.services import MAX_PRICE_CENTS, MAX_STOCK
from app.errors import Conflict, NotFound, ValidationFailed
from app.extensions import db
from app.timestamps import utcnow
from app.transactions import atomic

MAX_WEIGHT_GRAMS = 2**31 - 1
NAME_LENGTH = 60  # an option's name and each value


def _product(product_id) -> Product:
    product = db.session.get(Product, product_id) if isinstance(product_id, int) else None
    if product is None:
        raise ValidationFailed("Choose a product.", {"product_id": ["Choose a product."]})
    return product


def _value_names(values: list[str]) -> list[str]:
    names = [name.strip() for name in values if isinstance(name, str) and name.strip()]
    problems = []
    if not names or len(names) != len(values):
        problems.append("Give at least one value, and no empty one.")
    if len(set(names)) != len(names):
        problems.append("Each value once.")
    if any(len(name) > NAME_LENGTH for name in names):
        problems.append(f"Each value at most {NAME_LENGTH} characters.")
    if problems:
        raise ValidationFailed("Check the values.", {"values": problems})
    return names


@atomic
def save_option_type(option: OptionType | None, data: dict) -> OptionType:
    """Create or update a product's option (Size) and its values in their order (S, M, L).

    A value that variants still use cannot be taken away (deactivate those variants first).
    """
    name = (data.get("name") or "").strip()
    if not name or len(name) > NAME_LENGTH:
        raise ValidationFailed(
            "Check the name.", {"name": [f"Between 1 and {NAME_LENGTH} characters."]}
        )
    names = _value_names(data.get("values") or [])
    option = option or OptionType(product=_product(data.get("product_id")))
    option.name = name
    option.position = data.get("position") or 0
    existing = {value.value: value for value in option.values}
    dropped = [value for value in option.values if value.value not in names]
    in_use = [value.value for value in dropped if _used(value)]
    if in_use:
        raise ValidationFailed(
            "Variants use these values.",
            {"values": [f"Still used by variants: {', '.join(in_use)}."]},
        )
    option.values = [existing.get(value) or OptionValue(value=value) for value in names]
    for position, value in enumerate(option.values):
        value.position = position
    option.product.updated_at = utcnow()
    db.session.add(option)
    try:
        db.session.flush()
    except IntegrityError as error:
        raise Conflict(f"The product has an option named {name!r} already.") from error
    return option


def _used(value: OptionValue) -> bool:
    return bool(
        db.session.scalar(select(Variant.id).where(Variant.values.any(OptionValue.id == value.id)))
    )


def _bounded(data: dict, field: str, maximum: int, required: bool) -> list[str]:
    value = data.get(field)
    if value is None:
        return ["This field is required."] if required else []
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= maximum:
        return [f"A whole number from 0 to {maximum:,}."]
    return []


@atomic
def save_variant(variant: Variant | None, data: dict) -> Variant:
    """Create or update a variant: a unique SKU, its numbers within bounds, and one value of
    each of its product's options, a combination no other variant of the product has. An
    update keeps the fields ``data`` leaves out."""
    if variant is not None:
        data = {**_fields(variant), **data}
    product = variant.product if variant is not None else _product(data.get("product_id"))
    sku = (data.get("sku") or "").strip()
    errors = {
        "sku": [] if 0 < len(sku) <= 64 else ["Between 1 and 64 characters."],
        "stock": _bounded(data, "stock", MAX_STOCK, required=True),
        "price_cents": _bounded(data, "price_cents", MAX_PRICE_CENTS, required=False),
        "weight_grams": _bounded(data, "weight_grams", MAX_WEIGHT_GRAMS, required=False),
        "value_ids": _value_errors(product, variant, data.get("value_ids") or []),
    }
    errors = {field: messages for field, messages in errors.items() if messages}
    if errors:
        raise ValidationFailed("Some fields are invalid.", errors)
    variant = variant or Variant(product=product)
    variant.sku = sku
    variant.stock = data["stock"]
    variant.price_cents = data.get("price_cents")
    variant.weight_grams = data.get("weight_grams")
    variant.is_active = bool(data.get("is_active", True))
    variant.values = [db.session.get_one(OptionValue, i) for i in data.get("value_ids") or []]
    product.updated_at = utcnow()
    db.session.add(variant)
    try:
        db.session.flush()
    except IntegrityError as error:
        raise Conflict("A variant with this SKU exists already.") from error
    return variant


def value_ids_for(product: Product, chosen: dict[str, str]) -> list[int]:
    """The ids of the product's option values named {option: value}; 422 for unknown ones."""
    values = {
        (option.name, value.value): value.id
        for option in product.options
        for value in option.values
    }
    unknown = [f"{name} {value}" for name, value in chosen.items() if (name, value) not in values]
    if unknown:
        raise ValidationFailed(
            "Unknown option values.",
            {"options": [f"The product has no {', '.join(unknown)}."]},
        )
    return [values[item] for item in chosen.items()]


def _fields(variant: Variant) -> dict:
    """A variant's writable fields, as save_variant takes them."""
    return {
        "sku": variant.sku,
        "stock": variant.stock,
        "price_cents": variant.price_cents,
        "weight_grams": variant.weight_grams,
        "is_active": variant.is_active,
        "value_ids": [value.id for value in variant.values],
    }


def _value_errors(product: Product, variant: Variant | None, value_ids: list[int]) -> list[str]:
    values = {value.id: value for option in product.options for value in option.values}
    if any(value_id not in values for value_id in value_ids):
        return ["Choose values of this product's options only."]
    chosen = {values[value_id].option_type_id for value_id in value_ids}
    if len(chosen) != len(value_ids) or chosen != {option.id for option in product.options}:
        return ["Choose one value of each of the product's options."]
    for other in product.variants:
        if other is not variant and {value.id for value in other.values} == set(value_ids):
            return [f"{other.sku} has these options already."]
    return []


def get_variant(variant_id: int) -> Variant:
    variant = db.session.get(Variant, variant_id) if 1 <= variant_id <= 2**63 - 1 else None
    if variant is None:
        raise NotFound("No such variant.")
    return variant
