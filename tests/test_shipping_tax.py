"""Shipping zones and methods, tax rates, and an order's totals at checkout (app.orders.pricing
over app.totals), with prices that include tax and prices that do not."""

from decimal import Decimal

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from app.catalog.models import Product
from app.errors import Conflict, ValidationFailed
from app.extensions import db
from app.orders import checkout as checkout_service
from app.orders import pricing
from app.orders.models import Order
from app.shipping import admin_rules as shipping_rules
from app.shipping.models import ShippingMethod, ShippingZone, ShippingZoneCountry, WeightBand
from app.taxes import admin_rules as tax_rules
from app.taxes.models import TaxClass, TaxRate
from tests.factories import ProductFactory, UserFactory, create, fill_cart
from tests.helpers import ADDRESS, GOOD_CARD, run_together

BERLIN = {**ADDRESS, "city": "Berlin", "postcode": "10117", "country": "DE"}
NEW_YORK = {**ADDRESS, "city": "New York", "postcode": "10001", "country": "US"}
TOKYO = {**ADDRESS, "city": "Tokyo", "postcode": "100-0001", "country": "JP"}


@pytest.fixture
def shop(app):
    """EU (DE, FR): standard by weight (<= 1 kg 4.95, <= 5 kg 8.95), free from 50; express
    12.00. US: flat 15.00. No default zone: Japan is not shipped to. Tax: DE 19 %, books 7 %;
    US 8.875 %. A book (19.99, 400 g) and tea (4.50, 250 g)."""
    with app.app_context():
        books = TaxClass(name="Books")
        eu = ShippingZone(
            name="EU", countries=[ShippingZoneCountry(country=c) for c in ("DE", "FR")]
        )
        eu.methods = [
            ShippingMethod(
                name="Standard",
                free_above_cents=5000,
                bands=[
                    WeightBand(max_grams=1000, price_cents=495),
                    WeightBand(max_grams=5000, price_cents=895),
                ],
            ),
            ShippingMethod(name="Express", price_cents=1200, position=1),
        ]
        us = ShippingZone(name="US", countries=[ShippingZoneCountry(country="US")])
        us.methods = [ShippingMethod(name="USPS", price_cents=1500)]
        db.session.add_all([books, eu, us])
        db.session.flush()
        db.session.add_all(
            [
                TaxRate(country="DE", rate=Decimal("19")),
                TaxRate(country="DE", tax_class_id=books.id, rate=Decimal("7")),
                TaxRate(country="US", rate=Decimal("8.875")),
            ]
        )
        db.session.commit()
        express = eu.methods[1].id
        book_class = books.id
    book = create(app, ProductFactory, name="A Book", price_cents=1999, tax_class_id=book_class)
    tea = create(app, ProductFactory, name="Tea", price_cents=450)
    with app.app_context():
        for product_id, grams in ((book, 400), (tea, 250)):
            db.session.get(Product, product_id).variants[0].weight_grams = grams
        db.session.commit()
    user_id = create(app, UserFactory)
    return {"user_id": user_id, "book": book, "tea": tea, "express": express}


def place(app, shop, address, **options):
    fill_cart(app, shop["user_id"], (shop["book"], 1), (shop["tea"], 2))
    with app.app_context():
        order = checkout_service.place_order(
            shop["user_id"],
            f"key-{address['country']}-{options}",
            address,
            "test",
            {"card_number": GOOD_CARD},
            **options,
        )
        db.session.refresh(order)  # expired by the commit: read again, lines and payments too
        order.lines, order.payments  # noqa: B018
        db.session.expunge(order)
        return order


def test_germany_with_vat_included(app, shop):
    order = place(app, shop, BERLIN)

    assert order.shipping_method == "Standard"  # 900 g: the 1 kg band
    assert (order.subtotal_cents, order.shipping_cents, order.total_cents) == (2899, 495, 3394)
    # 19.99 at 7 % incl. = 1.31; 9.00 at 19 % incl. = 1.44; shipping 4.95 at 19 % incl. = 0.79
    assert [(line.tax_rate, line.tax_cents) for line in order.lines] == [
        (Decimal("7"), 131),
        (Decimal("19"), 144),
    ]
    assert (order.shipping_tax_cents, order.tax_cents) == (79, 131 + 144 + 79)
    assert order.prices_include_tax
    assert order.payments[0].amount_cents == order.total_cents


@pytest.mark.app_config(SHOP_PRICES_INCLUDE_TAX=False)
def test_the_us_with_tax_added(app, shop):
    order = place(app, shop, NEW_YORK)

    assert order.shipping_method == "USPS"
    # 28.99 + 15.00, tax 8.875 % on each line: 1.77 + 0.80 + 1.33
    assert [line.tax_cents for line in order.lines] == [177, 80]
    assert (order.subtotal_cents, order.shipping_cents, order.tax_cents) == (2899, 1500, 390)
    assert order.total_cents == 2899 + 1500 + 390
    assert order.payments[0].amount_cents == order.total_cents


def test_the_customer_picks_a_method_and_free_shipping_starts_at_its_threshold(app, shop):
    express = place(app, shop, BERLIN, shipping_method=shop["express"])
    assert (express.shipping_method, express.shipping_cents) == ("Express", 1200)

    fill_cart(app, shop["user_id"], (shop["tea"], 5))  # 28.99 + 22.50 = 51.49: free from 50
    free = place(app, shop, BERLIN)
    assert (free.shipping_method, free.shipping_cents, free.shipping_tax_cents) == (
        "Standard",
        0,
        0,
    )


def test_a_country_no_zone_covers_is_refused_before_payment(app, shop):
    with pytest.raises(ValidationFailed) as refused:
        place(app, shop, TOKYO)

    assert "do not ship to this country" in refused.value.message
    assert "shipping_method" in refused.value.fields
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Order.id))) == 0
        assert db.session.get(Product, shop["tea"]).stock == 10  # nothing taken


def test_a_method_of_another_zone_is_refused(app, shop):
    with app.app_context():
        usps = db.session.scalar(db.select(ShippingMethod.id).where(ShippingMethod.name == "USPS"))
    with pytest.raises(ValidationFailed, match="Choose one of the shipping methods"):
        place(app, shop, BERLIN, shipping_method=usps)


def test_a_parcel_heavier_than_every_band_gets_the_other_methods(app, shop):
    with app.app_context():
        tea = db.session.get(Product, shop["tea"]).variants[0]
        tea.weight_grams = 3000  # 2 x 3 kg + 0.4 kg: over the 5 kg band
        db.session.commit()
    order = place(app, shop, BERLIN)
    assert order.shipping_method == "Express"


def test_the_default_zone_covers_the_rest_of_the_world(app, shop):
    with app.app_context():
        world = ShippingZone(name="World", is_default=True)
        world.methods = [ShippingMethod(name="International", price_cents=2500)]
        db.session.add(world)
        db.session.commit()
    order = place(app, shop, TOKYO)
    assert (order.shipping_method, order.shipping_cents, order.tax_cents) == (
        "International",
        2500,
        0,
    )


def test_the_api_quotes_the_cart_and_the_order_carries_each_part(app, client, shop):
    from tests.helpers import BODY, token_headers

    fill_cart(app, shop["user_id"], (shop["book"], 1), (shop["tea"], 2))
    headers = token_headers(client)

    cart = client.get("/api/v1/cart", headers=headers).get_json()
    quoted = client.get("/api/v1/cart/quote?country=DE", headers=headers).get_json()
    express = client.get(
        f"/api/v1/cart/quote?country=DE&shipping_method_id={shop['express']}", headers=headers
    ).get_json()
    japan = client.get("/api/v1/cart/quote?country=JP", headers=headers)
    placed = client.post(
        "/api/v1/orders",
        json={**BODY, "shipping_address": BERLIN, "shipping_method_id": shop["express"]},
        headers=headers,
    ).get_json()

    assert (cart["subtotal_cents"], cart["tax_cents"], cart["total_cents"]) == (2899, 275, 2899)
    assert [m["name"] for m in quoted["shipping_methods"]] == ["Standard", "Express"]
    assert quoted["shipping_method"]["name"] == "Standard"
    assert (quoted["shipping_cents"], quoted["tax_cents"], quoted["total_cents"]) == (
        495,
        354,
        3394,
    )
    assert (express["shipping_cents"], express["total_cents"]) == (1200, 4099)
    assert japan.status_code == 422
    assert "shipping_method" in japan.get_json()["error"]["fields"]
    parts = {k: placed[k] for k in ("subtotal_cents", "shipping_cents", "total_cents")}
    assert parts == {"subtotal_cents": 2899, "shipping_cents": 1200, "total_cents": 4099}
    assert (placed["shipping_method"], placed["prices_include_tax"]) == ("Express", True)
    assert placed["tax_cents"] == 131 + 144 + 192  # 12.00 at 19 % included: 1.92
    assert [(line["tax_rate"], line["tax_cents"]) for line in placed["lines"]] == [
        ("7.000", 131),
        ("19.000", 144),
    ]


@pytest.mark.app_config(SHOP_PRICES_INCLUDE_TAX=False)
def test_a_rate_changed_after_the_quote_is_charged_as_the_order_records_it(app, shop):
    fill_cart(app, shop["user_id"], (shop["tea"], 2))
    with app.app_context():
        tea = db.session.get(Product, shop["tea"]).variants[0]
        before = pricing.quote([(tea, 2)], "US").totals.total_cents
        rate = db.session.scalar(db.select(TaxRate).where(TaxRate.country == "US"))
        rate.rate = Decimal("10")
        db.session.commit()
    with app.app_context():
        order = checkout_service.place_order(
            shop["user_id"], "rates", NEW_YORK, "test", {"card_number": GOOD_CARD}
        )
        assert before == 900 + 1500 + 80 + 133  # 8.875 % when quoted
        assert order.tax_cents == 90 + 150  # 10 % when ordered
        assert order.total_cents == 900 + 1500 + 240
        assert order.payments[0].amount_cents == order.total_cents


def test_a_parcel_heavier_than_every_band_is_not_offered_even_above_free_shipping(app, shop):
    with app.app_context():
        tea = db.session.get(Product, shop["tea"]).variants[0]
        tea.weight_grams = 3000
        db.session.commit()
    fill_cart(app, shop["user_id"], (shop["tea"], 6))  # 8 teas and a book: 55.99, 24.4 kg
    order = place(app, shop, BERLIN)
    assert (order.shipping_method, order.shipping_cents) == ("Express", 1200)


# One default zone and one standard rate per country: decided by the database


def test_the_database_refuses_a_second_default_zone_and_a_second_standard_rate(app):
    """Written past the rules (as a script or a racing admin would), the unique indexes on the
    generated columns still refuse; zones that are not the default, and rates of classes, are
    as many as one likes."""
    with app.app_context():
        books = TaxClass(name="Books")
        db.session.add_all(
            [
                ShippingZone(name="World", is_default=True),
                ShippingZone(name="EU"),
                ShippingZone(name="UK"),
                TaxRate(country="DE", rate=Decimal(19)),
                TaxRate(country="DE", rate=Decimal(7), tax_class=books),
                TaxRate(country="FR", rate=Decimal(20)),
            ]
        )
        db.session.commit()
        for row in (
            ShippingZone(name="Elsewhere", is_default=True),
            TaxRate(country="DE", rate=Decimal(16)),
            TaxRate(country="DE", rate=Decimal(5), tax_class=books),
        ):
            db.session.add(row)
            with pytest.raises(IntegrityError):
                db.session.flush()
            db.session.rollback()
        assert db.session.scalar(select(func.count()).select_from(ShippingZone)) == 3
        assert db.session.scalar(select(func.count()).select_from(TaxRate)) == 3


def _refused(result) -> bool:
    return isinstance(result, ValidationFailed | Conflict)


@pytest.mark.mariadb
@pytest.mark.concurrency
def test_racing_admins_make_one_default_zone_and_one_standard_rate(pooled_app):
    """8 admins save a default zone, and 8 a standard rate for Germany, at once: one of each
    is saved, and the others get a form error (a 422 or 409), none a 500."""

    def save(i):
        with pooled_app.app_context():
            if i % 2:
                return shipping_rules.save_zone(None, {"name": f"World {i}", "is_default": True}).id
            return tax_rules.save_rate(None, {"country": "DE", "rate": f"{10 + i}"}).id

    results = run_together(16, save)

    assert sum(isinstance(result, int) for result in results[1::2]) == 1, results
    assert sum(isinstance(result, int) for result in results[0::2]) == 1, results
    assert all(isinstance(result, int) or _refused(result) for result in results), results
    with pooled_app.app_context():
        assert db.session.scalar(select(func.count()).select_from(ShippingZone)) == 1
        assert db.session.scalar(select(func.count()).select_from(TaxRate)) == 1


@pytest.mark.app_config(PAYMENT_METHODS=["manual", "test"])
def test_the_quote_offers_the_shops_payment_methods_in_its_order(client):
    quoted = client.get("/api/v1/cart/quote?country=DE").get_json()

    assert quoted["payment_methods"] == [
        {"id": "manual", "name": "Bank transfer", "takes_card": False, "hosted": False},
        {"id": "test", "name": "Test card", "takes_card": True, "hosted": False},
    ]
