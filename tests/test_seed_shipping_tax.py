"""`seed` loads demo shipping zones and tax rates once (app/shipping/demo.py); the demo shop
then ships a Berlin order by Standard and a Tokyo order by International."""

from decimal import Decimal

import pytest
from sqlalchemy import select

from app.catalog.models import Product, Variant
from app.countries import country_codes
from app.extensions import db
from app.orders.pricing import quote
from app.shipping import services as shipping
from app.shipping.demo import EU_STANDARD_RATES, REDUCED_PRODUCTS
from app.shipping.models import ShippingMethod, ShippingZone, ShippingZoneCountry, WeightBand
from app.taxes.models import TaxClass, TaxRate
from app.taxes.services import rates_for


def shipping_rows(app) -> list[tuple]:
    """Every zone, country, method and band as tuples, to compare before and after."""
    with app.app_context():
        return [
            *db.session.execute(
                select(ShippingZone.id, ShippingZone.name, ShippingZone.is_default)
            ),
            *db.session.execute(select(ShippingZoneCountry.id, ShippingZoneCountry.country)),
            *db.session.execute(
                select(
                    ShippingMethod.id,
                    ShippingMethod.name,
                    ShippingMethod.price_cents,
                    ShippingMethod.free_above_cents,
                )
            ),
            *db.session.execute(
                select(WeightBand.id, WeightBand.max_grams, WeightBand.price_cents)
            ),
        ]


def tax_rows(app) -> list[tuple]:
    with app.app_context():
        return [
            tuple(row)
            for row in db.session.execute(
                select(TaxRate.id, TaxRate.country, TaxRate.tax_class_id, TaxRate.rate).order_by(
                    TaxRate.id
                )
            )
        ]


def seeded(runner) -> str:
    result = runner.invoke(args=["seed"])
    assert result.exit_code == 0, result.output
    return result.output


def test_the_demo_lists_the_27_eu_member_states():
    assert len(EU_STANDARD_RATES) == 27
    assert set(EU_STANDARD_RATES) <= set(country_codes())
    assert "GB" not in EU_STANDARD_RATES


def test_seed_loads_three_zones_and_the_tax_rates(app, runner):
    assert "Loaded 3 shipping zones and 32 tax rates.\n" in seeded(runner)

    with app.app_context():
        zones = {z.name: z for z in db.session.scalars(select(ShippingZone))}
        assert sorted(zones) == ["European Union", "Rest of the world", "United Kingdom"]
        assert [c.country for c in zones["United Kingdom"].countries] == ["GB"]
        assert len(zones["European Union"].countries) == 27
        assert [z.name for z in zones.values() if z.is_default] == ["Rest of the world"]
        methods = {
            (zone.name, m.name): (
                m.price_cents,
                m.free_above_cents,
                [(b.max_grams, b.price_cents) for b in m.bands],
            )
            for zone in zones.values()
            for m in zone.methods
        }
        assert methods == {
            ("United Kingdom", "Standard"): (495, 5000, []),
            ("United Kingdom", "Express"): (995, None, []),
            ("European Union", "Standard"): (
                495,
                7500,
                [(1000, 495), (5000, 895), (20000, 1495)],
            ),
            ("European Union", "Express"): (1495, None, []),
            ("Rest of the world", "International"): (1995, None, []),
        }
        reduced = db.session.scalar(select(TaxClass).where(TaxClass.name == "Reduced"))
        assert rates_for("DE").standard == Decimal("19")
        assert rates_for("DE").rate(reduced.id) == Decimal("7")
        assert rates_for("FR").rate(reduced.id) == Decimal("5.5")
        assert rates_for("GB").rate(reduced.id) == Decimal("0")
        assert rates_for("GB").standard == Decimal("20")
        assert rates_for("FI").standard == Decimal("25.5")
        assert rates_for("HU").standard == Decimal("27")
        assert rates_for("US").standard == Decimal("8.875")
        assert rates_for("JP").standard == Decimal("0")  # no rate: no tax
        standard = db.session.scalars(select(TaxRate.country).where(TaxRate.tax_class_id.is_(None)))
        assert sorted(standard) == sorted([*EU_STANDARD_RATES, "GB", "US"])


def test_seed_gives_food_and_books_the_reduced_class_and_every_variant_a_weight(app, runner):
    seeded(runner)

    with app.app_context():
        products = db.session.scalars(select(Product)).all()
        reduced_id = db.session.scalar(select(TaxClass.id).where(TaxClass.name == "Reduced"))
        reduced = sorted(p.name for p in products if p.tax_class_id is not None)
        assert reduced == sorted(REDUCED_PRODUCTS)
        assert {p.tax_class_id for p in products if p.tax_class_id} == {reduced_id}
        assert "Cast Iron Teapot 0.8 l" not in reduced
        weights = db.session.scalars(select(Variant.weight_grams)).all()
        assert len(weights) == 72
        assert all(w is not None and 0 < w <= 20000 for w in weights)


def test_seed_twice_leaves_shipping_and_tax_as_they_are(app, runner):
    seeded(runner)
    before = shipping_rows(app), tax_rows(app)

    output = seeded(runner)

    assert "Shipping zones and tax rates already present: left as they are.\n" in output
    assert (shipping_rows(app), tax_rows(app)) == before


def test_seed_leaves_an_admins_zones_and_rates_alone(app, runner):
    with app.app_context():
        db.session.add(ShippingZone(name="Home", countries=[ShippingZoneCountry(country="DE")]))
        db.session.commit()
    zones_before = shipping_rows(app)

    output = seeded(runner)

    assert "Shipping zones already present: left as they are; loaded 32 tax rates.\n" in output
    assert shipping_rows(app) == zones_before
    with app.app_context():
        db.session.execute(TaxRate.__table__.delete())
        db.session.execute(ShippingZone.__table__.delete())
        db.session.add(TaxRate(country="DE", rate=Decimal("16")))
        db.session.commit()
    rates_before = tax_rows(app)

    output = seeded(runner)

    assert "Loaded 3 shipping zones; tax rates already present: left as they are.\n" in output
    assert tax_rows(app) == rates_before


def lines(app, *names_and_quantities) -> list[tuple[Variant, int]]:
    out = []
    for name, quantity in names_and_quantities:
        product = db.session.scalar(select(Product).where(Product.name == name))
        out.append((product.variants[0], quantity))
    return out


@pytest.mark.parametrize(
    ("country", "items", "methods"),
    [
        # Berlin: 9.90 of tea, 280 g: Standard's first band.
        ("DE", [("Assam Breakfast Tea 250 g", 1)], [("Standard", 495), ("Express", 1495)]),
        # 2 skillets, 5.4 kg: the third band.
        ("DE", [("Cast Iron Skillet 26 cm", 2)], [("Standard", 0), ("Express", 1495)]),
        ("FR", [("Cast Iron Skillet 26 cm", 1)], [("Standard", 895), ("Express", 1495)]),
        ("AT", [("Enamelled Dutch Oven 4.5 l", 1)], [("Standard", 0), ("Express", 1495)]),
        ("GB", [("Moby-Dick", 1)], [("Standard", 495), ("Express", 995)]),
        ("GB", [("Wool Throw Blanket", 1)], [("Standard", 0), ("Express", 995)]),
        # Tokyo and New York: the rest of the world.
        ("JP", [("Assam Breakfast Tea 250 g", 1)], [("International", 1995)]),
        ("US", [("Moby-Dick", 1)], [("International", 1995)]),
    ],
)
def test_the_demo_shop_ships_by_zone_weight_and_subtotal(app, runner, country, items, methods):
    seeded(runner)

    with app.app_context():
        offered = quote(lines(app, *items), country)

        assert [(m.name, m.price_cents) for m in offered.methods] == methods
        assert offered.shipping is not None
        assert offered.shipping.name == methods[0][0]


def test_a_berlin_address_gets_standard_and_a_tokyo_address_international(app, runner):
    seeded(runner)

    with app.app_context():
        berlin = quote(lines(app, ("Japanese Sencha 100 g", 2)), "DE")
        tokyo = quote(lines(app, ("Japanese Sencha 100 g", 2)), "JP")
        assert shipping.zone_for("DE").name == "European Union"
        assert shipping.zone_for("JP").name == "Rest of the world"

    assert (berlin.shipping.name, berlin.shipping.price_cents) == ("Standard", 495)
    assert (tokyo.shipping.name, tokyo.shipping.price_cents) == ("International", 1995)
    # 2 x 11.47: the demo's tea sale takes 15 % off 13.50 (2.025, rounded half up to 2.03).
    assert berlin.totals.subtotal_cents == tokyo.totals.subtotal_cents == 2294
