"""Automatic sales (a percentage off products and categories for a period) and vouchers for
some products or categories: prices in the cart and on the order, the stacking rule, and why
a code does not apply."""

import html
import re
import time
from datetime import timedelta
from decimal import Decimal

import pytest

from app.cart import services as cart_services
from app.cart.services import CartOwner
from app.catalog.models import Category, Product
from app.errors import ValidationFailed
from app.extensions import db
from app.orders import checkout as checkout_service
from app.sales import services as sales
from app.sales.models import Sale
from app.taxes.models import TaxRate
from app.timestamps import utcnow
from app.vouchers.models import Voucher
from tests.factories import CategoryFactory, ProductFactory, UserFactory, create, fill_cart
from tests.helpers import ADDRESS, BODY, GOOD_CARD, assert_error, login, token_headers
from tests.test_admin_shipping_tax import post_form

BERLIN = {**ADDRESS, "city": "Berlin", "postcode": "10117", "country": "DE"}
HOUR = timedelta(hours=1)


@pytest.fixture
def shop(app):
    """Categories Tea > Green tea. Green tea (4.50, in Green tea), a book (19.99, no
    category); a customer with 2 green teas and the book in the cart; DE tax 19 %."""
    with app.app_context():
        db.session.add(TaxRate(country="DE", rate=Decimal("19")))
        db.session.commit()
    tea = create(app, CategoryFactory, name="Tea")
    green = create(app, CategoryFactory, name="Green tea", parent_id=tea)
    user_id = create(app, UserFactory)
    sencha = create(app, ProductFactory, name="Sencha", price_cents=450, category_id=green)
    book = create(app, ProductFactory, name="Book", price_cents=1999)
    fill_cart(app, user_id, (sencha, 2), (book, 1))
    return {"user_id": user_id, "tea": tea, "green": green, "sencha": sencha, "book": book}


def add_sale(app, percent, products=(), categories=(), starts=-HOUR, ends=HOUR, **fields) -> int:
    with app.app_context():
        sale = Sale(
            name=fields.pop("name", f"{percent} % off"),
            percent=percent,
            starts_at=utcnow() + starts,
            ends_at=utcnow() + ends,
            products=[db.session.get(Product, p) for p in products],
            categories=[db.session.get(Category, c) for c in categories],
            **fields,
        )
        db.session.add(sale)
        db.session.commit()
        return sale.id


def add_voucher(app, products=(), categories=(), **fields) -> None:
    with app.app_context():
        voucher = Voucher(
            **{"code": "TEA10", "kind": "percent", "value": 10, **fields},
            products=[db.session.get(Product, p) for p in products],
            categories=[db.session.get(Category, c) for c in categories],
        )
        db.session.add(voucher)
        db.session.commit()


def place(app, user_id, code=None, key="k"):
    with app.app_context():
        order = checkout_service.place_order(
            user_id, key, BERLIN, "test", {"card_number": GOOD_CARD}, voucher_code=code
        )
        lines = [(line.unit_price_cents, line.regular_price_cents) for line in order.lines]
        return order.subtotal_cents, order.discount_cents, order.total_cents, lines


def cart_prices(app, user_id):
    with app.test_request_context():
        summary = cart_services.get_cart(CartOwner(user_id=user_id))
        return [(line.unit_price_cents, line.regular_price_cents) for line in summary.lines]


# Sales


def test_a_sale_on_a_parent_category_lowers_its_sub_categories_prices_everywhere(app, shop):
    add_sale(app, 20, categories=[shop["tea"]])

    assert cart_prices(app, shop["user_id"]) == [(360, 450), (1999, 1999)]
    subtotal, discount, total, lines = place(app, shop["user_id"])
    assert (subtotal, discount, total) == (720 + 1999, 0, 2719)
    assert lines == [(360, 450), (1999, None)]  # the regular price kept where a sale applied


def test_the_biggest_running_sale_applies_and_others_do_not(app, shop):
    add_sale(app, 10, products=[shop["sencha"], shop["book"]])
    add_sale(app, 25, categories=[shop["green"]])
    add_sale(app, 50, products=[shop["book"]], starts=HOUR, ends=2 * HOUR)  # not yet
    add_sale(app, 60, products=[shop["book"]], starts=-2 * HOUR, ends=-HOUR)  # over
    add_sale(app, 70, products=[shop["book"]], is_active=False)

    # 4.50 - 25 % = 3.375 off 1.125 -> 1.13 (half up) -> 3.37; 19.99 - 10 % = 2.00 off -> 17.99
    assert cart_prices(app, shop["user_id"]) == [(337, 450), (1799, 1999)]


def test_a_sale_price_is_rounded_half_up_per_unit(app):
    with app.app_context():
        offer = sales.Offer(1, "Spring", 15, utcnow())
        assert [offer.price(cents) for cents in (450, 1, 3, 10, 0)] == [382, 1, 3, 8, 0]
        # 25 % of 0.10 is 0.025 off: half up takes 0.03 (half even would take 0.02).
        assert sales.Offer(1, "Spring", 25, utcnow()).price(10) == 7


def test_a_voucher_stacks_on_the_sale_prices(app, shop):
    """The documented rule: the sale lowers the unit prices, and the voucher's percentage
    comes off those (here 10 % of 7.20 + 19.99 = 2.72 rounded half up)."""
    add_sale(app, 20, categories=[shop["tea"]])
    add_voucher(app)

    subtotal, discount, total, _lines = place(app, shop["user_id"], "tea10")

    assert (subtotal, discount, total) == (2719, 272, 2447)


@pytest.mark.parametrize(
    ("data", "fields"),
    [
        ({"percent": 0}, {"percent"}),
        ({"percent": 100}, {"percent"}),
        ({"percent": True}, {"percent"}),
        ({"name": " "}, {"name"}),
        ({"ends_at": None}, {"ends_at"}),
        ({"ends_at": "tomorrow"}, {"ends_at"}),
        ({"ends_at": "start"}, {"ends_at"}),
        ({"products": [], "categories": []}, {"products"}),
        ({"products": [987654]}, {"products"}),
    ],
)
def test_a_sale_that_cannot_be_saved_says_which_field_and_saves_nothing(app, shop, data, fields):
    now = utcnow()
    good = {"name": "Summer", "percent": 20, "starts_at": now, "ends_at": now + HOUR}
    good["products"] = [shop["sencha"]]
    if data.get("ends_at") == "start":
        data = {"ends_at": now}
    with app.app_context():
        with pytest.raises(ValidationFailed) as refused:
            sales.save_sale(None, {**good, **data})
        assert set(refused.value.fields) == fields
        assert db.session.query(Sale).count() == 0
        saved = sales.save_sale(None, good)
        assert [product.id for product in saved.products] == [shop["sencha"]]


# Vouchers for some products or categories


def test_a_voucher_for_a_category_discounts_its_lines_and_its_sub_categories_only(app, shop):
    add_voucher(app, categories=[shop["tea"]])

    subtotal, discount, total, _lines = place(app, shop["user_id"], "TEA10")

    # 10 % of the teas' 9.00, none of the book's price.
    assert (subtotal, discount, total) == (2899, 90, 2809)
    with app.app_context():
        order = db.session.query(checkout_service.Order).one()
        # Tax after the discount on the tea line only: 8.10 and 19.99 at 19 % included.
        assert [line.tax_cents for line in order.lines] == [129, 319]


def test_a_fixed_voucher_for_some_products_takes_at_most_their_amount(app, shop):
    add_voucher(app, products=[shop["sencha"]], kind="fixed", value=1000)

    assert place(app, shop["user_id"], "TEA10")[:3] == (2899, 900, 1999)


def test_a_voucher_for_other_products_says_so_and_the_order_is_not_placed(app, shop):
    other = create(app, ProductFactory, name="Mug", price_cents=900)
    add_voucher(app, products=[other])

    with pytest.raises(ValidationFailed, match="not for the products in your cart"):
        place(app, shop["user_id"], "TEA10")
    with app.app_context():
        assert db.session.query(checkout_service.Order).count() == 0


# Pages


def test_the_listing_product_page_and_cart_strike_the_regular_price(app, client, shop):
    add_sale(app, 20, categories=[shop["tea"]], name="Tea week")

    listing = client.get("/products").get_data(as_text=True)
    card = listing[listing.index("Sencha") :]
    assert re.search(r'<del[^>]*>€4.50</del> <span class="text-danger sale-price">€3.60', card)
    assert "−20&nbsp;%" in card or "&minus;20&nbsp;%" in card
    book = listing[listing.index(">Book<") :]
    assert "<del" not in book[: book.index("</div>")]
    page = client.get("/products/sencha").get_data(as_text=True)
    assert re.search(r'id="product-price"><del[^>]*>€4.50</del>', page)
    assert "Tea week: 20&nbsp;% off until" in page
    login(client)
    cart = client.get("/cart").get_data(as_text=True)
    assert re.search(r'unit-price"><del[^>]*>€4.50</del> <span[^>]*>€3.60', cart)
    assert re.search(r"id=\"cart-subtotal\">€27.19<", cart)  # 2 x 3.60 + 19.99


def test_a_cached_page_shows_a_sale_from_the_moment_it_starts(app, shop):
    """The page cache keeps a page until the next sale starts or ends, at most. (MariaDB
    keeps whole seconds: the start is read back, and the sale starts well after the first
    two requests.)"""
    sale_id = add_sale(app, 20, products=[shop["sencha"]], starts=timedelta(seconds=3))
    with app.app_context():
        starts_at = db.session.get(Sale, sale_id).starts_at
    before = app.test_client().get("/products/sencha").get_data(as_text=True)
    assert "<del" not in before
    assert app.test_client().get("/products/sencha").get_data(as_text=True) == before  # cached
    time.sleep(max(0.0, (starts_at - utcnow()).total_seconds()) + 0.2)

    after = app.test_client().get("/products/sencha").get_data(as_text=True)

    assert re.search(r'id="product-price"><del[^>]*>€4.50</del>', after)


# The API


def test_the_api_gives_sale_prices_for_products_cart_and_order_lines(app, client, shop):
    add_sale(app, 20, categories=[shop["tea"]], name="Tea week")

    items = client.get("/api/v1/products").get_json()["items"]
    sencha = next(item for item in items if item["slug"] == "sencha")
    book = next(item for item in items if item["slug"] == "book")
    assert (sencha["price_cents"], sencha["sale_price_cents"]) == (450, 360)
    assert (sencha["sale"]["name"], sencha["sale"]["percent"]) == ("Tea week", 20)
    assert sencha["variants"][0]["sale_price_cents"] == 360
    assert (book["sale_price_cents"], book["sale"], book["variants"][0]["sale_price_cents"]) == (
        None,
        None,
        None,
    )
    headers = token_headers(client)
    cart = client.get("/api/v1/cart", headers=headers).get_json()
    assert [(i["regular_price_cents"], i["unit_price_cents"]) for i in cart["items"]] == [
        (450, 360),
        (1999, 1999),
    ]
    assert cart["subtotal_cents"] == 2719
    placed = client.post("/api/v1/orders", json=BODY, headers=headers)
    assert placed.status_code == 201, placed.get_json()
    lines = placed.get_json()["lines"]
    assert [(line["unit_price_cents"], line["regular_price_cents"]) for line in lines] == [
        (360, 450),
        (1999, None),
    ]


def test_the_api_says_a_voucher_is_not_for_these_products(app, client, shop):
    other = create(app, ProductFactory, name="Mug", price_cents=900)
    add_voucher(app, products=[other])
    headers = token_headers(client)

    refused = client.post("/api/v1/cart/voucher", json={"code": "tea10"}, headers=headers)

    error = assert_error(refused, 422, "validation_failed")
    assert "not for the products in your cart" in error["fields"]["voucher_code"][0]


# The back office


def test_admin_creates_a_sale_for_products_by_sku_or_slug_and_a_category(app, as_admin, shop):
    response = post_form(
        as_admin,
        "/admin/sales/new/",
        {
            "name": "Reading week",
            "percent": "15",
            "starts_at": "2026-01-01T00:00",
            "ends_at": "2036-01-01T00:00",
            "products": "SKU-BOOK, sencha",
            "categories": [str(shop["green"])],
            "is_active": "y",
        },
    )

    assert response.status_code == 302, response.get_data(as_text=True)
    with app.app_context():
        sale = db.session.query(Sale).one()
        assert sorted(p.name for p in sale.products) == ["Book", "Sencha"]
        assert [c.name for c in sale.categories] == ["Green tea"]
    assert cart_prices(app, shop["user_id"]) == [(382, 450), (1699, 1999)]
    edit = as_admin.get(f"/admin/sales/edit/?id={sale.id}").get_data(as_text=True)
    assert 'value="book, sencha"' in edit


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"products": "SKU-NOPE, sencha"}, "No product has the SKU or slug SKU-NOPE."),
        ({"percent": "100"}, "A whole percentage from 1 to 99."),
        ({"ends_at": "2025-01-01T00:00"}, "After the start."),
        ({"products": ""}, "Choose products, categories, or both."),
    ],
)
def test_bad_sales_are_form_errors_and_nothing_is_written(app, as_admin, shop, fields, message):
    good = {
        "name": "Reading week",
        "percent": "15",
        "starts_at": "2026-01-01T00:00",
        "ends_at": "2036-01-01T00:00",
        "products": "sencha",
    }

    response = post_form(as_admin, "/admin/sales/new/", {**good, **fields})

    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.query(Sale).count() == 0


def test_admin_restricts_a_voucher_to_a_category(app, as_admin, shop):
    response = post_form(
        as_admin,
        "/admin/vouchers/new/",
        {"code": "greens", "kind": "percent", "value": "10", "categories": [str(shop["green"])]},
    )

    assert response.status_code == 302, response.get_data(as_text=True)
    with app.app_context():
        voucher = db.session.query(Voucher).one()
        assert (voucher.code, [c.name for c in voucher.categories]) == ("GREENS", ["Green tea"])
    listing = as_admin.get("/admin/vouchers/").get_data(as_text=True)
    assert "Green tea" in listing


# Demo data


def test_seed_adds_a_demo_sale_and_voucher_with_the_demo_catalogue_only(app, runner):
    first = runner.invoke(args=["seed"])
    assert "Added a sale (Tea week, 15 % off tea for 30 days) and the voucher WELCOME10" in (
        first.output
    ), first.output
    with app.test_request_context():
        sale = db.session.query(Sale).one()
        assert [c.name for c in sale.categories] == ["Tea"]
        tea = db.session.query(Product).filter(Product.category_id == sale.categories[0].id).all()
        offers = sales.offers_for(tea)
        assert len(offers) == len(tea) > 0
        assert {offer.percent for offer in offers.values()} == {15}
        assert db.session.query(Voucher).one().code == "WELCOME10"

    second = runner.invoke(args=["seed"])

    assert "Added a sale" not in second.output
    with app.app_context():
        assert (db.session.query(Sale).count(), db.session.query(Voucher).count()) == (1, 1)


def test_seed_gives_a_shop_with_its_own_products_no_demo_code(app, runner):
    create(app, ProductFactory, name="Own product")

    runner.invoke(args=["seed"])

    with app.app_context():
        assert (db.session.query(Sale).count(), db.session.query(Voucher).count()) == (0, 0)


def test_admin_sees_a_vouchers_uses_and_follows_them_to_its_orders(app, as_admin, shop):
    add_voucher(app)
    place(app, shop["user_id"], "TEA10")
    other = create(app, UserFactory, email="other@example.com")
    fill_cart(app, other, (shop["book"], 1))
    place(app, other, key="other")  # no code
    with app.app_context():
        used, unused = (
            db.session.query(checkout_service.Order.number)
            .order_by(checkout_service.Order.voucher_code.desc())
            .all()
        )

    listing = as_admin.get("/admin/vouchers/").get_data(as_text=True)
    link = re.search(r'href="([^"]*flt0_voucher_equals=TEA10)">1</a>', listing)
    assert link, listing
    orders = as_admin.get(html.unescape(link[1])).get_data(as_text=True)

    assert used[0] in orders
    assert unused[0] not in orders
