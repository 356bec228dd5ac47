"""The back office writes and deletes shipping zones, methods, weight bands, tax classes and
rates through app.shipping.admin_rules and app.taxes.admin_rules: refusals are form errors or
flashes, nothing written."""

import re
from decimal import Decimal
from urllib.parse import urlsplit

import pytest
from sqlalchemy import delete, select, update

from app.catalog.models import Product
from app.errors import Conflict, NotFound
from app.extensions import db
from app.orders.models import Order
from app.shipping import admin_rules as shipping_rules
from app.shipping.models import ShippingMethod, ShippingZone, ShippingZoneCountry, WeightBand
from app.taxes import admin_rules as tax_rules
from app.taxes.models import TaxClass, TaxRate
from tests.factories import ProductFactory, create, place
from tests.helpers import ADDRESS, count, login


def form_token(html: str) -> str:
    match = re.search(r'<input[^>]*name="csrf_token"[^>]*value="([^"]+##[^"]+)"', html)
    assert match, "no SecureForm csrf_token on the page"
    return match.group(1)


def post_form(client, path: str, data: dict):
    token = form_token(client.get(path).get_data(as_text=True))
    return client.post(path, data={"csrf_token": token, **data})


def refused(response, message: str) -> str:
    """The page of a refused form: shown again (200) with ``message`` on it."""
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert message in page, page
    return page


@pytest.fixture
def eu(app):
    """A zone EU (DE, FR) with a method Standard; Rest of the world, the default zone."""
    with app.app_context():
        zone = ShippingZone(
            name="EU",
            countries=[ShippingZoneCountry(country=c) for c in ("DE", "FR")],
            methods=[ShippingMethod(name="Standard", price_cents=495)],
        )
        world = ShippingZone(name="Rest of the world", is_default=True)
        db.session.add_all([zone, world])
        db.session.commit()
        return {"zone": zone.id, "method": zone.methods[0].id, "world": world.id}


def zones(app) -> dict[str, tuple[bool, list[str]]]:
    with app.app_context():
        return {
            zone.name: (zone.is_default, [c.country for c in zone.countries])
            for zone in db.session.scalars(select(ShippingZone))
        }


# Zones


def test_admin_creates_a_zone_with_its_countries(app, as_admin):
    response = post_form(
        as_admin,
        "/admin/shipping-zones/new/",
        {"name": "United Kingdom", "countries": " gb, GB,im ; je"},
    )

    assert response.status_code == 302
    assert zones(app) == {"United Kingdom": (False, ["GB", "IM", "JE"])}
    listing = as_admin.get("/admin/shipping-zones/").get_data(as_text=True)
    assert "GB, IM, JE" in listing


def test_a_country_another_zone_has_is_a_form_error_and_nothing_is_written(app, as_admin, eu):
    before = zones(app)

    created = post_form(
        as_admin, "/admin/shipping-zones/new/", {"name": "France", "countries": "FR, MC"}
    )
    edited = post_form(
        as_admin,
        f"/admin/shipping-zones/edit/?id={eu['world']}",
        {"name": "Rest of the world", "countries": "de", "is_default": "y"},
    )

    refused(created, "FR (France) is in the zone &#39;EU&#39; already")
    refused(edited, "DE (Germany) is in the zone &#39;EU&#39; already")
    assert zones(app) == before


def test_a_second_default_zone_is_a_form_error(app, as_admin, eu):
    before = zones(app)

    response = post_form(
        as_admin, "/admin/shipping-zones/new/", {"name": "Elsewhere", "is_default": "y"}
    )

    refused(response, "is the default zone already: there can be only one.")
    assert zones(app) == before
    # The default zone itself can be saved again, and a zone can stop being the default.
    again = post_form(
        as_admin,
        f"/admin/shipping-zones/edit/?id={eu['world']}",
        {"name": "Rest of the world", "countries": "", "is_default": "y"},
    )
    assert again.status_code == 302


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"name": "Nowhere", "countries": "XX, DE-BY, EU"}, "Not ISO 3166-1 country codes: XX"),
        ({"name": "Empty", "countries": ""}, "List at least one country, or make it the default."),
        ({"name": "EU", "countries": "AT"}, "A zone named &#39;EU&#39; exists already."),
        ({"name": "x" * 101, "countries": "AT"}, "cannot be longer than 100 characters"),
    ],
)
def test_bad_zones_are_form_errors(app, as_admin, eu, fields, message):
    before = zones(app)

    refused(post_form(as_admin, "/admin/shipping-zones/new/", fields), message)

    assert zones(app) == before


def test_admin_moves_a_country_by_taking_it_out_of_its_zone_first(app, as_admin, eu):
    form = as_admin.get(f"/admin/shipping-zones/edit/?id={eu['zone']}").get_data(as_text=True)
    assert re.search(r'<textarea[^>]*name="countries"[^>]*>\s*DE, FR</textarea>', form)

    edit = post_form(
        as_admin, f"/admin/shipping-zones/edit/?id={eu['zone']}", {"name": "EU", "countries": "DE"}
    )
    new = post_form(as_admin, "/admin/shipping-zones/new/", {"name": "France", "countries": "FR"})

    assert (edit.status_code, new.status_code) == (302, 302)
    assert zones(app) == {
        "EU": (False, ["DE"]),
        "Rest of the world": (True, []),
        "France": (False, ["FR"]),
    }


# Methods and weight bands


def test_admin_creates_a_method_and_its_weight_bands(app, as_admin, eu):
    created = post_form(
        as_admin,
        "/admin/shipping-methods/new/",
        {
            "zone_id": eu["zone"],
            "name": "Express",
            "price_cents": "1495",
            "free_above_cents": "",
            "is_active": "y",
            "position": "1",
        },
    )
    with app.app_context():
        express = db.session.scalar(select(ShippingMethod).where(ShippingMethod.name == "Express"))
        assert (express.zone_id, express.price_cents, express.free_above_cents) == (
            eu["zone"],
            1495,
            None,
        )
        assert (express.is_active, express.position) == (True, 1)
    bands = [
        post_form(
            as_admin,
            "/admin/weight-bands/new/",
            {"method_id": eu["method"], "max_grams": grams, "price_cents": cents},
        )
        for grams, cents in (("5000", "895"), ("1000", "495"))
    ]

    assert created.status_code == 302
    assert [band.status_code for band in bands] == [302, 302]
    with app.app_context():
        standard = db.session.get(ShippingMethod, eu["method"])
        assert [(b.max_grams, b.price_cents) for b in standard.bands] == [(1000, 495), (5000, 895)]
    listing = as_admin.get("/admin/shipping-methods/").get_data(as_text=True)
    assert "€14.95" in listing
    assert "≤ 1,000 g €4.95" in listing


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"price_cents": "-1"}, "A whole number from 0 to 2,147,483,647."),
        ({"price_cents": str(2**63)}, "A whole number from 0 to 2,147,483,647."),
        ({"price_cents": "abc"}, "Not a valid integer value."),
        ({"free_above_cents": "-5"}, "A whole number from 0 to 2,147,483,647."),
        ({"zone_id": ""}, "Choose a zone."),
        ({"zone_id": "999999"}, "Not a valid choice"),
        ({"name": "Standard"}, "has a method named &#39;Standard&#39; already."),
    ],
)
def test_bad_methods_are_form_errors(app, as_admin, eu, fields, message):
    data = {"zone_id": eu["zone"], "name": "Express", "price_cents": "995", **fields}

    refused(post_form(as_admin, "/admin/shipping-methods/new/", data), message)

    assert count(app, ShippingMethod) == 1


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"max_grams": "0"}, "A whole number from 1 to 2,147,483,647."),
        ({"max_grams": "-100"}, "A whole number from 1 to 2,147,483,647."),
        ({"price_cents": "-1"}, "A whole number from 0 to 2,147,483,647."),
        ({"max_grams": "1000"}, "Standard has a band up to 1,000 g already: edit that one."),
        ({"method_id": ""}, "Choose a shipping method."),
    ],
)
def test_bad_weight_bands_are_form_errors(app, as_admin, eu, fields, message):
    with app.app_context():
        db.session.add(WeightBand(method_id=eu["method"], max_grams=1000, price_cents=495))
        db.session.commit()
    data = {"method_id": eu["method"], "max_grams": "2000", "price_cents": "695", **fields}

    refused(post_form(as_admin, "/admin/weight-bands/new/", data), message)

    assert count(app, WeightBand) == 1


# Tax classes and rates


def rates(app) -> list[tuple]:
    with app.app_context():
        return sorted(
            (
                (r.country, r.tax_class.name if r.tax_class else None, r.rate)
                for r in db.session.scalars(select(TaxRate))
            ),
            key=lambda row: (row[0], row[1] or ""),
        )


@pytest.fixture
def reduced(app):
    with app.app_context():
        tax_class = TaxClass(name="Reduced")
        db.session.add(tax_class)
        db.session.flush()
        db.session.add(TaxRate(country="DE", rate=Decimal("19")))
        db.session.commit()
        return tax_class.id


def test_admin_creates_a_tax_class_and_rates(app, as_admin):
    created = post_form(as_admin, "/admin/tax-classes/new/", {"name": " Reduced "})
    with app.app_context():
        class_id = db.session.scalar(select(TaxClass.id).where(TaxClass.name == "Reduced"))
    standard = post_form(
        as_admin, "/admin/tax-rates/new/", {"country": "FR", "tax_class_id": "", "rate": "20"}
    )
    lower = post_form(
        as_admin,
        "/admin/tax-rates/new/",
        {"country": "FR", "tax_class_id": class_id, "rate": "5.5"},
    )

    assert [r.status_code for r in (created, standard, lower)] == [302, 302, 302]
    assert rates(app) == [("FR", None, Decimal("20")), ("FR", "Reduced", Decimal("5.5"))]
    listing = as_admin.get("/admin/tax-rates/").get_data(as_text=True)
    assert "France (FR)" in listing
    assert "5.5" in listing


def test_a_second_standard_rate_for_a_country_is_a_form_error(app, as_admin, reduced):
    before = rates(app)

    response = post_form(
        as_admin, "/admin/tax-rates/new/", {"country": "DE", "tax_class_id": "", "rate": "7"}
    )

    refused(response, "Germany (DE) has a standard rate already (19 %): edit that one.")
    assert rates(app) == before


def test_a_second_rate_for_a_country_and_class_is_a_form_error(app, as_admin, reduced):
    first = post_form(
        as_admin, "/admin/tax-rates/new/", {"country": "DE", "tax_class_id": reduced, "rate": "7"}
    )
    second = post_form(
        as_admin, "/admin/tax-rates/new/", {"country": "DE", "tax_class_id": reduced, "rate": "5"}
    )

    assert first.status_code == 302
    refused(second, "Germany (DE) has a &#39;Reduced&#39; rate already (7 %)")
    assert rates(app) == [("DE", None, Decimal("19")), ("DE", "Reduced", Decimal("7"))]


def test_a_rate_edited_keeps_its_own_place(app, as_admin, reduced):
    with app.app_context():
        rate_id = db.session.scalar(select(TaxRate.id))

    response = post_form(
        as_admin,
        f"/admin/tax-rates/edit/?id={rate_id}",
        {"country": "DE", "tax_class_id": "", "rate": "16"},
    )

    assert response.status_code == 302
    assert rates(app) == [("DE", None, Decimal("16"))]


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"rate": "100.5"}, "A percentage from 0 to 100"),
        ({"rate": "-1"}, "A percentage from 0 to 100"),
        ({"rate": "NaN"}, "A percentage from 0 to 100"),
        ({"rate": "Infinity"}, "A percentage from 0 to 100"),
        ({"rate": "abc"}, "Not a valid decimal value."),
        ({"rate": "7.1234"}, "At most 3 decimals."),
        ({"country": ""}, "Choose a country."),
        ({"country": "XX"}, "Not a valid choice"),
        ({"tax_class_id": "999999"}, "Not a valid choice"),
    ],
)
def test_bad_rates_are_form_errors(app, as_admin, reduced, fields, message):
    before = rates(app)
    data = {"country": "AT", "tax_class_id": "", "rate": "20", **fields}

    refused(post_form(as_admin, "/admin/tax-rates/new/", data), message)

    assert rates(app) == before


def test_a_duplicate_tax_class_name_is_a_form_error(app, as_admin, reduced):
    refused(
        post_form(as_admin, "/admin/tax-classes/new/", {"name": "Reduced"}),
        "A tax class named &#39;Reduced&#39; exists already.",
    )
    assert count(app, TaxClass) == 1


# A product's tax class


def test_the_product_form_sets_and_clears_the_tax_class(app, as_admin, reduced):
    product_id = create(app, ProductFactory, name="Tea", sku="TEA-1", description="")
    url = f"/admin/products/edit/?id={product_id}"
    form = {
        "sku": "TEA-1",
        "name": "Tea",
        "slug": "tea",
        "category_id": "",
        "description": "",
        "price_cents": "450",
        "currency": "EUR",
        "stock": "10",
        "is_active": "y",
        "image": "",
    }

    def tax_class_id():
        with app.app_context():
            return db.session.get(Product, product_id).tax_class_id

    assert "Reduced" in as_admin.get(url).get_data(as_text=True)
    assert post_form(as_admin, url, {**form, "tax_class_id": reduced}).status_code == 302
    assert tax_class_id() == reduced
    details = as_admin.get(f"/admin/products/details/?id={product_id}").get_data(as_text=True)
    assert re.search(r"Tax class</b>\s*</td>\s*<td>\s*Reduced\s*</td>", details), details
    refused(post_form(as_admin, url, {**form, "tax_class_id": "999999"}), "Not a valid choice")
    assert tax_class_id() == reduced
    assert post_form(as_admin, url, {**form, "tax_class_id": ""}).status_code == 302
    assert tax_class_id() is None


# Deleting

BERLIN = {**ADDRESS, "line1": "Unter den Linden 1", "city": "Berlin", "postcode": "10117"}


def delete_row(client, listing: str, row_id) -> str:
    """Press a row's delete button on ``listing``; the list page it goes back to."""
    page = client.get(listing).get_data(as_text=True)
    response = client.post(
        f"{listing}delete/", data={"id": row_id, "url": listing, "csrf_token": form_token(page)}
    )
    assert response.status_code == 302
    assert urlsplit(response.headers["Location"]).path == listing
    return client.get(listing).get_data(as_text=True)


def deleted(page: str) -> None:
    assert "Record was successfully deleted." in page, page


@pytest.fixture
def band(app, eu):
    with app.app_context():
        band = WeightBand(method_id=eu["method"], max_grams=1000, price_cents=395)
        db.session.add(band)
        db.session.commit()
        return band.id


def test_admin_deletes_a_zone_with_its_countries_methods_and_bands_and_orders_keep_theirs(
    app, as_admin, eu, band, user_factory
):
    product = create(app, ProductFactory, name="Tea")
    number = place(app, user_factory(), (product, 1), address={**BERLIN, "country": "DE"})
    with app.app_context():
        before = db.session.scalar(select(Order).where(Order.number == number))
        snapshot = (before.shipping_method, before.shipping_cents, before.total_cents)
    assert snapshot == ("Standard", 395, 845)

    deleted(delete_row(as_admin, "/admin/shipping-zones/", eu["zone"]))

    assert zones(app) == {"Rest of the world": (True, [])}
    assert [count(app, m) for m in (ShippingZoneCountry, ShippingMethod, WeightBand)] == [0, 0, 0]
    with app.app_context():
        order = db.session.scalar(select(Order).where(Order.number == number))
        assert (order.shipping_method, order.shipping_cents, order.total_cents) == snapshot
    assert as_admin.get(f"/admin/orders/details/?id={number}").status_code == 200


def test_admin_deletes_a_method_with_its_bands(app, as_admin, eu, band):
    with app.app_context():
        db.session.add(ShippingMethod(zone_id=eu["zone"], name="Express", price_cents=1200))
        db.session.commit()

    deleted(delete_row(as_admin, "/admin/shipping-methods/", eu["method"]))

    with app.app_context():
        zone = db.session.get(ShippingZone, eu["zone"])
        assert [method.name for method in zone.methods] == ["Express"]
    assert count(app, WeightBand) == 0
    assert zones(app)["EU"] == (False, ["DE", "FR"])


def test_admin_deletes_a_weight_band(app, as_admin, eu, band):
    deleted(delete_row(as_admin, "/admin/weight-bands/", band))

    assert count(app, WeightBand) == 0
    assert count(app, ShippingMethod) == 1


def test_admin_deletes_a_rate(app, as_admin, reduced):
    with app.app_context():
        db.session.add(TaxRate(country="DE", tax_class_id=reduced, rate=Decimal("7")))
        db.session.commit()
        rate_id = db.session.scalar(select(TaxRate.id).where(TaxRate.tax_class_id == reduced))

    deleted(delete_row(as_admin, "/admin/tax-rates/", rate_id))

    assert rates(app) == [("DE", None, Decimal("19"))]


def test_admin_deletes_an_unused_tax_class_with_its_rates(app, as_admin, reduced):
    with app.app_context():
        db.session.add(TaxRate(country="DE", tax_class_id=reduced, rate=Decimal("7")))
        db.session.commit()

    deleted(delete_row(as_admin, "/admin/tax-classes/", reduced))

    assert count(app, TaxClass) == 0
    assert rates(app) == [("DE", None, Decimal("19"))]


@pytest.mark.parametrize(
    ("products", "message"),
    [
        (1, "1 product uses this class: move it to another class first."),
        (3, "3 products use this class: move them to another class first."),
    ],
)
def test_a_tax_class_that_products_use_is_not_deleted(app, as_admin, reduced, products, message):
    with app.app_context():
        db.session.add(TaxRate(country="DE", tax_class_id=reduced, rate=Decimal("7")))
        db.session.commit()
    ids = [
        create(app, ProductFactory, name=f"Book {n}", tax_class_id=reduced) for n in range(products)
    ]
    create(app, ProductFactory, name="Tea")  # the standard rate: not counted
    before = rates(app)

    page = delete_row(as_admin, "/admin/tax-classes/", reduced)

    assert message in page
    assert "Record was successfully deleted." not in page
    assert count(app, TaxClass) == 1
    assert rates(app) == before
    with app.app_context():
        used = db.session.scalars(select(Product.id).where(Product.tax_class_id == reduced))
        assert sorted(used) == sorted(ids)


def test_deleting_selected_tax_classes_deletes_the_unused_ones_only(app, as_admin, reduced):
    with app.app_context():
        unused = TaxClass(name="Zero")
        db.session.add(unused)
        db.session.commit()
        unused_id = unused.id
    create(app, ProductFactory, name="Book", tax_class_id=reduced)
    token = form_token(as_admin.get("/admin/tax-classes/").get_data(as_text=True))

    response = as_admin.post(
        "/admin/tax-classes/action/",
        data={"action": "delete", "rowid": [reduced, unused_id], "csrf_token": token},
        follow_redirects=True,
    )

    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "1 product uses this class: move it to another class first." in page
    assert "Record was successfully deleted." in page
    with app.app_context():
        assert list(db.session.scalars(select(TaxClass.id))) == [reduced]


def test_a_row_deleted_meanwhile_is_not_found(app, eu):
    with app.app_context():
        zone = db.session.get(ShippingZone, eu["zone"])
        db.session.execute(delete(ShippingZone).where(ShippingZone.id == eu["zone"]))
        db.session.commit()

        with pytest.raises(NotFound, match="This zone was deleted already."):
            shipping_rules.delete_zone(zone)


def test_a_product_moved_into_the_class_meanwhile_is_counted(app, reduced):
    product = create(app, ProductFactory, name="Book")
    with app.app_context():
        tax_class = db.session.get(TaxClass, reduced)
        db.session.execute(update(Product).values(tax_class_id=reduced))
        db.session.commit()

        with pytest.raises(Conflict, match="1 product uses this class"):
            tax_rules.delete_tax_class(tax_class)
    with app.app_context():
        assert db.session.get(Product, product).tax_class_id == reduced


def test_the_delete_buttons_ask_through_admin_js(as_admin, eu):
    page = as_admin.get("/admin/shipping-zones/").get_data(as_text=True)

    assert re.search(r'<form[^>]*action="/admin/shipping-zones/delete/"[^>]*data-confirm=', page)
    assert "onclick" not in page


LISTS = [
    ("/admin/shipping-zones/", "zone", ShippingZone),
    ("/admin/shipping-methods/", "method", ShippingMethod),
    ("/admin/weight-bands/", "band", WeightBand),
    ("/admin/tax-classes/", "tax_class", TaxClass),
    ("/admin/tax-rates/", "rate", TaxRate),
]


@pytest.mark.parametrize("who", ["anonymous", "customer"])
@pytest.mark.parametrize(("listing", "row", "model"), LISTS)
def test_only_admins_delete(app, client, user_factory, eu, band, reduced, who, listing, row, model):
    with app.app_context():
        rate_id = db.session.scalar(select(TaxRate.id))
    row_ids = {**eu, "band": band, "tax_class": reduced, "rate": rate_id}
    if who == "customer":
        user_factory(email="shopper@example.com")
        login(client, "shopper@example.com")
    before = count(app, model)

    response = client.post(f"{listing}delete/", data={"id": row_ids[row], "url": listing})
    action = client.post(f"{listing}action/", data={"action": "delete", "rowid": row_ids[row]})

    if who == "anonymous":
        assert [r.status_code for r in (response, action)] == [302, 302]
        assert urlsplit(response.headers["Location"]).path == "/login"
    else:
        assert [r.status_code for r in (response, action)] == [403, 403]
    assert count(app, model) == before
