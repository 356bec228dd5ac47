"""Where an order can go and what each way costs: the zone of a country, its methods priced
for a subtotal and a parcel weight."""

from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import select, true
from sqlalchemy.orm import selectinload

from app.errors import NotFound, ValidationFailed
from app.extensions import db
from app.shipping.models import ShippingMethod, ShippingZone, ShippingZoneCountry


@dataclass(frozen=True)
class ShippingQuote:
    """A method offered for one parcel: its id, name and price (as prices are stated)."""

    method_id: int
    name: str
    price_cents: int


def zone_for(country: str) -> ShippingZone | None:
    """The zone listing the country, else the default zone, else None (not shipped to)."""
    listed = db.session.scalar(
        select(ShippingZone)
        .join(ShippingZoneCountry)
        .where(ShippingZoneCountry.country == country)
        .options(selectinload(ShippingZone.methods).selectinload(ShippingMethod.bands))
    )
    if listed is not None:
        return listed
    return db.session.scalar(
        select(ShippingZone)
        .where(ShippingZone.is_default == true())
        .order_by(ShippingZone.id)
        .options(selectinload(ShippingZone.methods).selectinload(ShippingMethod.bands))
        .limit(1)
    )


def price_of(method: ShippingMethod, subtotal_cents: int, weight_grams: int) -> int | None:
    """The method's price for this parcel; None when the parcel is heavier than its bands."""
    price = method.price_cents
    if method.bands:
        band = next((b for b in method.bands if weight_grams <= b.max_grams), None)
        if band is None:
            return None  # heavier than every band: not offered, free or not
        price = band.price_cents
    if method.free_above_cents is not None and subtotal_cents >= method.free_above_cents:
        return 0
    return price


def quotes_for(country: str, subtotal_cents: int, weight_grams: int) -> list[ShippingQuote]:
    """The active methods that can ship this parcel to the country, in their order."""
    zone = zone_for(country)
    if zone is None:
        return []
    quotes = []
    for method in zone.methods:
        price = price_of(method, subtotal_cents, weight_grams) if method.is_active else None
        if price is not None:
            quotes.append(ShippingQuote(method.id, method.name, price))
    return quotes


def ships_anywhere() -> bool:
    """A shop without any zone yet ships everywhere, free (until the first zone is made)."""
    return db.session.scalar(select(ShippingZone.id).limit(1)) is None


def choose(quotes: list[ShippingQuote], method_id) -> ShippingQuote:
    """The chosen one of the methods offered (the first when none is chosen); 422 naming
    ``shipping_method`` when none is offered (not shipped there) or the choice is not one."""
    if not quotes:
        message = _("Sorry, we do not ship to this country (or not a parcel this heavy).")
        raise ValidationFailed(message, {"shipping_method": [message], "country": [message]})
    if method_id in (None, ""):
        return quotes[0]
    chosen = next((q for q in quotes if str(q.method_id) == str(method_id)), None)
    if chosen is None:
        message = _("Choose one of the shipping methods offered for this address.")
        raise ValidationFailed(message, {"shipping_method": [message]})
    return chosen


def get_zone(zone_id: int) -> ShippingZone:
    zone = db.session.get(ShippingZone, zone_id)
    if zone is None:
        raise NotFound("No such shipping zone.")
    return zone
