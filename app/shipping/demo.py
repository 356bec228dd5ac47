"""Demo shipping and tax for a fresh shop (``seed``): three zones (the UK, the EU, the rest of
the world), the standard VAT rates of the EU's 27 member states and the UK, a "Reduced" class
for food and books with a few reduced rates, and a US sales-tax example (for a shop whose
prices exclude tax). Each part is loaded only into a shop that has none of it yet.
"""

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from app.catalog.models import Product
from app.extensions import db
from app.shipping.models import ShippingMethod, ShippingZone, ShippingZoneCountry, WeightBand
from app.taxes.models import TaxClass, TaxRate

# The 27 member states of the European Union, with their standard VAT rates in percent
# (as of late 2025: EE 24 since July 2025, FI 25.5 since September 2024, RO 21 since August
# 2025, SK 23 since January 2025).
EU_STANDARD_RATES = {
    "AT": "20",
    "BE": "21",
    "BG": "20",
    "CY": "19",
    "CZ": "21",
    "DE": "19",
    "DK": "25",
    "EE": "24",
    "ES": "21",
    "FI": "25.5",
    "FR": "20",
    "GR": "24",
    "HR": "25",
    "HU": "27",
    "IE": "23",
    "IT": "22",
    "LT": "21",
    "LU": "17",
    "LV": "21",
    "MT": "18",
    "NL": "21",
    "PL": "23",
    "PT": "23",
    "RO": "21",
    "SE": "25",
    "SI": "22",
    "SK": "23",
}
OTHER_STANDARD_RATES = {
    "GB": "20",
    "US": "8.875",  # New York City's sales tax: an example of tax added at checkout
}
REDUCED_CLASS = "Reduced"
# The Reduced class's rates: food and books (zero-rated in the UK).
REDUCED_RATES = {"DE": "7", "FR": "5.5", "GB": "0"}
# The demo catalogue's products that pay the Reduced rate: coffee beans, tea and books (not the
# teapots, grinders and scoops of the same categories).
REDUCED_PRODUCTS = (
    "Ethiopia Yirgacheffe Beans 250 g",
    "Colombia Huila Beans 250 g",
    "House Espresso Blend 1 kg",
    "Decaf Mexico Chiapas 250 g",
    "Guatemala Antigua Ground 250 g",
    "Darjeeling First Flush 100 g",
    "Assam Breakfast Tea 250 g",
    "Japanese Sencha 100 g",
    "Earl Grey Loose Leaf 150 g",
    "Chamomile Flowers 80 g",
    "Jasmine Pearls 100 g",
    "The Home Barista",
    "A Year of Tea",
    "Simple Suppers",
    "The Bread Book",
    "Pride and Prejudice",
    "Moby-Dick",
    "Walking the Coast",
)


def demo_zones() -> list[ShippingZone]:
    """The demo zones, new (not added to the session)."""
    uk = ShippingZone(
        name="United Kingdom",
        countries=[ShippingZoneCountry(country="GB")],
        methods=[
            ShippingMethod(name="Standard", price_cents=495, free_above_cents=5000, position=0),
            ShippingMethod(name="Express", price_cents=995, position=1),
        ],
    )
    eu = ShippingZone(
        name="European Union",
        countries=[ShippingZoneCountry(country=code) for code in sorted(EU_STANDARD_RATES)],
        methods=[
            ShippingMethod(
                name="Standard",
                price_cents=495,  # shown in the list; the bands price each parcel
                free_above_cents=7500,
                position=0,
                bands=[
                    WeightBand(max_grams=1000, price_cents=495),
                    WeightBand(max_grams=5000, price_cents=895),
                    WeightBand(max_grams=20000, price_cents=1495),
                ],
            ),
            ShippingMethod(name="Express", price_cents=1495, position=1),
        ],
    )
    world = ShippingZone(
        name="Rest of the world",
        is_default=True,
        methods=[ShippingMethod(name="International", price_cents=1995, position=0)],
    )
    return [uk, eu, world]


@dataclass(frozen=True)
class DemoShippingSummary:
    zones_loaded: bool  # False: the shop had zones, left as they were
    zones: int  # loaded, or found
    rates_loaded: bool  # False: the shop had tax rates, left as they were
    rates: int  # loaded, or found

    @property
    def message(self) -> str:
        """What ``seed`` prints."""
        if self.zones_loaded and self.rates_loaded:
            return f"Loaded {self.zones} shipping zones and {self.rates} tax rates."
        if not self.zones_loaded and not self.rates_loaded:
            return "Shipping zones and tax rates already present: left as they are."
        if self.zones_loaded:
            return (
                f"Loaded {self.zones} shipping zones; tax rates already present: left as they are."
            )
        return f"Shipping zones already present: left as they are; loaded {self.rates} tax rates."


def _count(column) -> int:
    return db.session.scalar(select(func.count(column))) or 0


def load_demo_shipping_and_tax() -> DemoShippingSummary:
    """Load the demo zones into a shop without zones and the demo tax into a shop without
    tax rates (one commit); the demo catalogue's food and books get the Reduced class."""
    load_zones = _count(ShippingZone.id) == 0
    load_rates = _count(TaxRate.id) == 0
    zones = rates = 0
    if load_zones:
        new_zones = demo_zones()
        db.session.add_all(new_zones)
        zones = len(new_zones)
    if load_rates:
        rates = _add_demo_tax()
    try:
        db.session.commit()
    except IntegrityError:
        # Another seed loaded them since the counts above.
        db.session.rollback()
        load_zones = load_rates = False
    return DemoShippingSummary(
        zones_loaded=load_zones,
        zones=zones if load_zones else _count(ShippingZone.id),
        rates_loaded=load_rates,
        rates=rates if load_rates else _count(TaxRate.id),
    )


def _add_demo_tax() -> int:
    """The standard rates, the Reduced class (an admin's own of that name is reused), its
    rates, and the class on the demo products that have no class yet; how many rates."""
    reduced = db.session.scalar(select(TaxClass).where(TaxClass.name == REDUCED_CLASS))
    if reduced is None:
        reduced = TaxClass(name=REDUCED_CLASS)
        db.session.add(reduced)
        db.session.flush()
    rows = [
        TaxRate(country=country, rate=Decimal(rate))
        for country, rate in {**EU_STANDARD_RATES, **OTHER_STANDARD_RATES}.items()
    ]
    rows += [
        TaxRate(country=country, tax_class_id=reduced.id, rate=Decimal(rate))
        for country, rate in REDUCED_RATES.items()
    ]
    db.session.add_all(rows)
    db.session.execute(
        update(Product)
        .where(Product.name.in_(REDUCED_PRODUCTS), Product.tax_class_id.is_(None))
        .values(tax_class_id=reduced.id)
    )
    return len(rows)
