"""Writing shipping zones, methods and weight bands (the back office calls these): their rules
in one place, so that a refused write is a form error and never half done.

- A zone lists ISO 3166-1 countries (``app.countries``), none of which another zone lists.
- One zone at most is the default (it covers every country no zone lists): checked here for
  the form's message, and decided by a unique index when two admins save at once.
- A zone's methods have different names (the checkout shows them by name).
- Prices and weights are whole numbers within their columns; a band weighs more than 0 g.
- Deleting a zone deletes its countries, methods and their bands; deleting a method, its bands.
  Orders keep the method's name and price they were placed with (no key to it).
"""

from sqlalchemy import select, true
from sqlalchemy.exc import IntegrityError

from app.catalog.services import MAX_PRICE_CENTS
from app.catalog.variants import MAX_WEIGHT_GRAMS
from app.countries import country_codes, country_name
from app.errors import Conflict, ValidationFailed
from app.extensions import db
from app.shipping.models import ShippingMethod, ShippingZone, ShippingZoneCountry, WeightBand
from app.transactions import atomic, locked_again

NAME_LENGTH = 100  # a zone's and a method's
MAX_POSITION = 2**31 - 1
INVALID = "Some fields are invalid."


def parse_countries(text: str | None) -> list[str]:
    """``"de, fr,AT"`` -> ``["AT", "DE", "FR"]`` (each once); 422 naming ``countries`` for
    anything that is not an ISO 3166-1 alpha-2 code."""
    codes = [code.strip().upper() for code in (text or "").replace(";", ",").split(",")]
    codes = [code for code in codes if code]
    unknown = [code for code in codes if code not in country_codes()]
    if unknown:
        raise ValidationFailed(
            INVALID,
            {
                "countries": [
                    f"Not ISO 3166-1 country codes: {', '.join(dict.fromkeys(unknown))}. "
                    "Use two letters, such as DE or GB."
                ]
            },
        )
    return sorted(set(codes))


def _name_errors(name: str) -> list[str]:
    return [] if 0 < len(name) <= NAME_LENGTH else [f"Between 1 and {NAME_LENGTH} characters."]


def _whole(value, minimum: int, maximum: int, required: bool = True) -> list[str]:
    if value is None:
        return ["This field is required."] if required else []
    if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= maximum:
        return [f"A whole number from {minimum:,} to {maximum:,}."]
    return []


def _errors(**fields: list[str]) -> None:
    errors = {field: messages for field, messages in fields.items() if messages}
    if errors:
        raise ValidationFailed(INVALID, errors)


def _taken_countries(codes: list[str], zone: ShippingZone | None) -> list[str]:
    """Messages for the codes another zone lists: "FR (France) is in European Union"."""
    if not codes:
        return []
    query = (
        select(ShippingZoneCountry.country, ShippingZone.name)
        .join(ShippingZoneCountry.zone)
        .where(ShippingZoneCountry.country.in_(codes))
        .order_by(ShippingZoneCountry.country)
    )
    if zone is not None and zone.id is not None:
        query = query.where(ShippingZone.id != zone.id)
    return [
        f"{code} ({country_name(code)}) is in the zone {name!r} already: take it out there first."
        for code, name in db.session.execute(query)
    ]


def _other_default(zone: ShippingZone | None) -> str | None:
    query = select(ShippingZone.name).where(ShippingZone.is_default == true())
    if zone is not None and zone.id is not None:
        query = query.where(ShippingZone.id != zone.id)
    return db.session.scalar(query.order_by(ShippingZone.id).limit(1))


@atomic
def save_zone(zone: ShippingZone | None, data: dict) -> ShippingZone:
    """Create (zone=None) or update a zone from ``name``, ``is_default`` and ``countries``
    (a list of codes, or the text an admin typed: "DE, FR").

    :raises ValidationFailed: a bad name, an unknown code, a country another zone lists, a
        second default zone, or neither a country nor the default flag.
    :raises Conflict: a zone with this name exists already.
    """
    name = (data.get("name") or "").strip()
    is_default = bool(data.get("is_default"))
    countries = data.get("countries")
    if isinstance(countries, list | tuple):
        countries = ", ".join(str(code) for code in countries)
    try:
        codes = parse_countries(countries)
    except ValidationFailed as error:
        codes, unknown = [], (error.fields or {})["countries"]
    else:
        unknown = []
    other_default = _other_default(zone) if is_default else None
    same_name = select(ShippingZone.id).where(ShippingZone.name == name)
    if zone is not None and zone.id is not None:
        same_name = same_name.where(ShippingZone.id != zone.id)
    _errors(
        name=_name_errors(name)
        or (
            [f"A zone named {name!r} exists already."]
            if db.session.scalar(same_name.limit(1))
            else []
        ),
        countries=unknown
        or _taken_countries(codes, zone)
        or ([] if codes or is_default else ["List at least one country, or make it the default."]),
        is_default=[f"{other_default!r} is the default zone already: there can be only one."]
        if other_default
        else [],
    )
    zone = zone or ShippingZone()
    zone.name = name
    zone.is_default = is_default
    kept = {row.country: row for row in zone.countries}
    zone.countries = [kept.get(code) or ShippingZoneCountry(country=code) for code in codes]
    db.session.add(zone)
    try:
        db.session.flush()
    except IntegrityError as error:  # the unit rolls back
        raise Conflict(
            "Another zone took this name, one of these countries, or the default meanwhile: "
            "reload and try again."
        ) from error
    return zone


def _zone(zone_id) -> ShippingZone:
    zone = db.session.get(ShippingZone, zone_id) if isinstance(zone_id, int) else None
    if zone is None:
        raise ValidationFailed("Choose a zone.", {"zone_id": ["Choose a zone."]})
    return zone


@atomic
def save_method(method: ShippingMethod | None, data: dict) -> ShippingMethod:
    """Create or update a zone's method: ``zone_id``, ``name``, ``price_cents``,
    ``free_above_cents`` (None: never free), ``is_active``, ``position``.

    :raises ValidationFailed: no such zone, a bad name or number, or a name another method of
        the zone has.
    """
    zone = _zone(data.get("zone_id"))
    name = (data.get("name") or "").strip()
    position = data.get("position")
    position = 0 if position is None else position
    same_name = select(ShippingMethod.id).where(
        ShippingMethod.zone_id == zone.id, ShippingMethod.name == name
    )
    if method is not None and method.id is not None:
        same_name = same_name.where(ShippingMethod.id != method.id)
    _errors(
        name=_name_errors(name)
        or (
            [f"The zone {zone.name!r} has a method named {name!r} already."]
            if db.session.scalar(same_name.limit(1))
            else []
        ),
        price_cents=_whole(data.get("price_cents"), 0, MAX_PRICE_CENTS),
        free_above_cents=_whole(data.get("free_above_cents"), 0, MAX_PRICE_CENTS, required=False),
        position=_whole(position, 0, MAX_POSITION),
    )
    method = method or ShippingMethod()
    method.zone = zone
    method.name = name
    method.price_cents = data["price_cents"]
    method.free_above_cents = data.get("free_above_cents")
    method.is_active = bool(data.get("is_active", True))
    method.position = position
    db.session.add(method)
    db.session.flush()
    return method


@atomic
def save_band(band: WeightBand | None, data: dict) -> WeightBand:
    """Create or update a method's weight band: ``method_id``, ``max_grams`` (more than 0, one
    band per weight and method) and ``price_cents`` (0 or more).

    :raises ValidationFailed: no such method, a bad number, or a band of this weight already.
    """
    method_id = data.get("method_id")
    method = db.session.get(ShippingMethod, method_id) if isinstance(method_id, int) else None
    if method is None:
        raise ValidationFailed("Choose a method.", {"method_id": ["Choose a shipping method."]})
    max_grams = data.get("max_grams")
    errors = _whole(max_grams, 1, MAX_WEIGHT_GRAMS)
    if not errors:
        same = select(WeightBand.id).where(
            WeightBand.method_id == method.id, WeightBand.max_grams == max_grams
        )
        if band is not None and band.id is not None:
            same = same.where(WeightBand.id != band.id)
        if db.session.scalar(same.limit(1)):
            errors = [f"{method.name} has a band up to {max_grams:,} g already: edit that one."]
    _errors(max_grams=errors, price_cents=_whole(data.get("price_cents"), 0, MAX_PRICE_CENTS))
    band = band or WeightBand()
    band.method = method
    band.max_grams = data["max_grams"]
    band.price_cents = data["price_cents"]
    db.session.add(band)
    try:
        db.session.flush()
    except IntegrityError as error:
        raise Conflict(f"{method.name} has a band up to {max_grams:,} g already.") from error
    return band


@atomic
def delete_zone(zone: ShippingZone) -> None:
    """Delete a zone with its countries, its methods and their weight bands.

    :raises NotFound: the zone was deleted already.
    """
    db.session.delete(locked_again(zone, "zone"))
    db.session.flush()


@atomic
def delete_method(method: ShippingMethod) -> None:
    """Delete a method with its weight bands.

    :raises NotFound: the method was deleted already.
    """
    db.session.delete(locked_again(method, "shipping method"))
    db.session.flush()


@atomic
def delete_band(band: WeightBand) -> None:
    """Delete a weight band.

    :raises NotFound: the band was deleted already.
    """
    db.session.delete(locked_again(band, "weight band"))
    db.session.flush()
