"""Writing tax classes and rates (the back office calls these): their rules in one place.

- A class has a name of its own.
- A rate is for an ISO 3166-1 country (``app.countries``), optionally a class, and is a
  percentage from 0 to 100 with at most 3 decimals (the column's ``Numeric(6, 3)``).
- A country has one rate per class and one standard rate (no class): checked here for the
  form's message, and decided by the database's unique index on (country, class or 0) when
  two admins save at once.
- A class that products use is not deleted (they would pay the standard rate unseen); a class
  deleted takes its rates with it.
"""

from decimal import Decimal, InvalidOperation

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.catalog.models import Product
from app.countries import country_codes, country_name
from app.errors import Conflict, ValidationFailed
from app.extensions import db
from app.taxes.models import TaxClass, TaxRate
from app.transactions import atomic, locked_again

CLASS_NAME_LENGTH = 60
RATE_PLACES = 3
INVALID = "Some fields are invalid."


@atomic
def save_tax_class(tax_class: TaxClass | None, data: dict) -> TaxClass:
    """Create or update a tax class from its ``name``.

    :raises ValidationFailed: an empty or too long name, or one another class has.
    """
    name = (data.get("name") or "").strip()
    if not 0 < len(name) <= CLASS_NAME_LENGTH:
        raise ValidationFailed(
            INVALID, {"name": [f"Between 1 and {CLASS_NAME_LENGTH} characters."]}
        )
    same = select(TaxClass.id).where(TaxClass.name == name)
    if tax_class is not None and tax_class.id is not None:
        same = same.where(TaxClass.id != tax_class.id)
    if db.session.scalar(same.limit(1)):
        raise ValidationFailed(INVALID, {"name": [f"A tax class named {name!r} exists already."]})
    tax_class = tax_class or TaxClass()
    tax_class.name = name
    db.session.add(tax_class)
    try:
        db.session.flush()
    except IntegrityError as error:
        raise Conflict(f"A tax class named {name!r} exists already.") from error
    return tax_class


def percent(rate) -> str:
    """``Decimal("19.000")`` -> ``"19"``, ``Decimal("5.500")`` -> ``"5.5"``."""
    return f"{Decimal(rate).normalize():f}"


def _rate_errors(rate) -> list[str]:
    if isinstance(rate, bool) or not isinstance(rate, Decimal | int | str):
        return ["A percentage from 0 to 100, such as 19 or 5.5."]
    try:
        rate = Decimal(rate)
    except InvalidOperation:
        return ["A percentage from 0 to 100, such as 19 or 5.5."]
    if not rate.is_finite() or not 0 <= rate <= 100:
        return ["A percentage from 0 to 100, such as 19 or 5.5."]
    exponent = rate.normalize().as_tuple().exponent
    if isinstance(exponent, int) and exponent < -RATE_PLACES:
        return [f"At most {RATE_PLACES} decimals."]
    return []


@atomic
def save_rate(rate: TaxRate | None, data: dict) -> TaxRate:
    """Create or update a rate: ``country`` (an ISO code), ``tax_class_id`` (None: the
    country's standard rate) and ``rate`` in percent.

    :raises ValidationFailed: an unknown country or class, a rate out of 0..100, or a second
        rate for the same country and class (the standard one included).
    """
    country = (data.get("country") or "").strip().upper()
    class_id = data.get("tax_class_id")
    tax_class = db.session.get(TaxClass, class_id) if isinstance(class_id, int) else None
    errors = {
        "country": [] if country in country_codes() else ["Choose a country."],
        "tax_class_id": (
            [] if class_id is None or tax_class is not None else ["No such tax class."]
        ),
        "rate": _rate_errors(data.get("rate")),
    }
    if not errors["country"] and not errors["tax_class_id"]:
        errors["tax_class_id"] = _duplicate(rate, country, tax_class)
    errors = {field: messages for field, messages in errors.items() if messages}
    if errors:
        raise ValidationFailed(INVALID, errors)
    rate = rate or TaxRate()
    rate.country = country
    rate.tax_class = tax_class
    rate.rate = Decimal(data["rate"])
    db.session.add(rate)
    try:
        db.session.flush()
    except IntegrityError as error:
        raise Conflict("This country has this rate already.") from error
    return rate


def _duplicate(rate: TaxRate | None, country: str, tax_class: TaxClass | None) -> list[str]:
    """The message for a country's second rate of one class (or second standard rate)."""
    class_column = TaxRate.tax_class_id
    query = select(TaxRate.rate).where(
        TaxRate.country == country,
        class_column.is_(None) if tax_class is None else class_column == tax_class.id,
    )
    if rate is not None and rate.id is not None:
        query = query.where(TaxRate.id != rate.id)
    existing = db.session.scalar(query.limit(1))
    if existing is None:
        return []
    kind = "a standard rate" if tax_class is None else f"a {tax_class.name!r} rate"
    return [
        f"{country_name(country)} ({country}) has {kind} already ({percent(existing)} %): "
        "edit that one."
    ]


@atomic
def delete_tax_class(tax_class: TaxClass) -> None:
    """Delete a tax class that no product uses, and its rates (their key cascades).

    :raises NotFound: the class was deleted already.
    :raises Conflict: products use the class.
    """
    tax_class = locked_again(tax_class, "tax class")
    # Locked as well: a product moved into the class meanwhile waits, then is counted.
    used = db.session.scalars(
        select(Product.id).where(Product.tax_class_id == tax_class.id).with_for_update()
    ).all()
    if len(used) == 1:
        raise Conflict("1 product uses this class: move it to another class first.")
    if used:
        raise Conflict(f"{len(used)} products use this class: move them to another class first.")
    db.session.delete(tax_class)
    db.session.flush()


@atomic
def delete_rate(rate: TaxRate) -> None:
    """Delete a rate: the country then charges its standard rate for that class (no standard
    rate: no tax).

    :raises NotFound: the rate was deleted already.
    """
    db.session.delete(locked_again(rate, "tax rate"))
    db.session.flush()
