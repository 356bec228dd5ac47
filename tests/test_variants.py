"""Products in sizes and colours: each variant its own SKU, stock and price, from the cart to
the order; a product without options is a product with one variant."""

import pytest
from sqlalchemy import select

from app.cart.models import CartItem
from app.cart.services import CartOwner, add_to_cart, remove_from_cart, set_quantity
from app.catalog.models import Product, Variant
from app.errors import NotFound, OutOfStock, ValidationFailed
from app.extensions import db
from app.orders import checkout as checkout_service
from app.orders import state as state_machine
from app.orders.models import OrderLine
from tests.factories import UserFactory, create, make_tshirt
from tests.helpers import ADDRESS, GOOD_CARD, csrf_token, run_together


def variant_stock(app) -> dict[str, int]:
    with app.app_context():
        return dict(db.session.execute(select(Variant.sku, Variant.stock)).all())


def test_a_variant_is_named_by_its_options_in_the_products_order(app):
    variants = make_tshirt(app)
    with app.app_context():
        variant = db.session.get(Variant, variants["M", "blue"])
        assert variant.options_label == "Size M, Colour blue"
        assert str(variant) == "T-shirt (Size M, Colour blue)"
        assert variant.unit_price_cents == 1500
        assert db.session.get(Variant, variants["L", "red"]).unit_price_cents == 1700
        assert db.session.get(Product, variant.product_id).stock == 30


def test_buying_a_variant_takes_only_its_stock_and_snapshots_it_on_the_line(app):
    variants = make_tshirt(app)
    user_id = create(app, UserFactory)
    with app.app_context():
        add_to_cart(CartOwner(user_id=user_id), variant_id=variants["L", "blue"], quantity=2)
        order = checkout_service.place_order(
            user_id, "k", ADDRESS, "test", {"card_number": GOOD_CARD}
        )
        number = order.number

    stock = variant_stock(app)
    assert stock.pop("TS-L-BLUE") == 3
    assert set(stock.values()) == {5}
    with app.app_context():
        line = db.session.scalar(select(OrderLine))
        assert (line.sku, line.name, line.options) == (
            "TS-L-BLUE",
            "T-shirt",
            "Size L, Colour blue",
        )
        assert (line.unit_price_cents, line.quantity, line.variant_id) == (
            1700,
            2,
            variants["L", "blue"],
        )
        # Later edits of the catalogue never change a past order.
        db.session.get(Variant, variants["L", "blue"]).sku = "RENAMED"
        db.session.commit()
        assert db.session.scalar(select(OrderLine.sku)) == "TS-L-BLUE"

    with app.app_context():
        state_machine.transition(number, "cancelled", None)
    assert variant_stock(app)["RENAMED"] == 5


def test_a_product_with_several_variants_needs_the_variant(app):
    variants = make_tshirt(app)
    user_id = create(app, UserFactory)
    with app.app_context():
        product_id = db.session.get(Variant, variants["S", "red"]).product_id
        with pytest.raises(ValidationFailed) as refused:
            add_to_cart(CartOwner(user_id=user_id), product_id, 1)
        assert list(refused.value.fields) == ["variant_id"]
        assert db.session.scalar(select(CartItem)) is None


def test_variant_lines_are_kept_apart_and_changed_by_variant(app):
    variants = make_tshirt(app)
    owner = CartOwner(user_id=create(app, UserFactory))
    with app.app_context():
        add_to_cart(owner, variant_id=variants["S", "red"], quantity=1)
        add_to_cart(owner, variant_id=variants["M", "red"], quantity=1)
        add_to_cart(owner, variant_id=variants["S", "red"], quantity=2)
        summary = set_quantity(owner, None, 4, variant_id=variants["M", "red"])
        assert sorted((line.variant.sku, line.quantity) for line in summary.lines) == [
            ("TS-M-RED", 4),
            ("TS-S-RED", 3),
        ]
        product_id = db.session.get(Variant, variants["S", "red"]).product_id
        with pytest.raises(ValidationFailed, match="several variants"):
            remove_from_cart(owner, product_id)  # which of the two lines?
        summary = remove_from_cart(owner, variant_id=variants["S", "red"])
        assert [line.variant.sku for line in summary.lines] == ["TS-M-RED"]


def test_an_inactive_or_sold_out_variant_cannot_be_added(app):
    variants = make_tshirt(app)
    owner = CartOwner(user_id=create(app, UserFactory))
    with app.app_context():
        db.session.get(Variant, variants["S", "red"]).is_active = False
        db.session.get(Variant, variants["M", "red"]).stock = 0
        db.session.commit()
        with pytest.raises(NotFound):
            add_to_cart(owner, variant_id=variants["S", "red"])
        with pytest.raises(OutOfStock, match=r"T-shirt \(Size M, Colour red\) is out of stock"):
            add_to_cart(owner, variant_id=variants["M", "red"])
        with pytest.raises(OutOfStock, match="Only 5"):
            add_to_cart(owner, variant_id=variants["L", "red"], quantity=6)
        with pytest.raises(NotFound):
            add_to_cart(owner, variant_id=10**6)


@pytest.mark.mariadb
@pytest.mark.concurrency
def test_twelve_buyers_race_for_the_last_five_of_one_variant(pooled_app):
    """The other variants of the product have stock: they must not be sold instead."""
    variants = make_tshirt(pooled_app, stock=50)
    with pooled_app.app_context():
        db.session.get(Variant, variants["M", "blue"]).stock = 5
        db.session.commit()
    users = [create(pooled_app, UserFactory, email=f"buyer{i}@example.com") for i in range(12)]
    with pooled_app.app_context():
        for user_id in users:
            add_to_cart(CartOwner(user_id=user_id), variant_id=variants["M", "blue"])

    def checkout(i):
        with pooled_app.app_context():
            return checkout_service.place_order(
                users[i], f"key-{i}", ADDRESS, "test", {"card_number": GOOD_CARD}
            ).number

    results = run_together(12, checkout)

    sold = [r for r in results if isinstance(r, str)]
    refused = [r for r in results if isinstance(r, OutOfStock)]
    assert (len(sold), len(refused)) == (5, 7), results
    stock = variant_stock(pooled_app)
    assert stock.pop("TS-M-BLUE") == 0
    assert set(stock.values()) == {50}


# The product page: options picked with selects, no JavaScript needed


def page_form(client, slug: str) -> str:
    return client.get(f"/products/{slug}").get_data(as_text=True)


def option_ids(app, variants, key) -> dict[str, int]:
    """The form fields that pick the variant ``key`` (size, colour): option_<type id>: value id."""
    with app.app_context():
        variant = db.session.get(Variant, variants[key])
        return {f"option_{value.option_type_id}": value.id for value in variant.values}


def test_the_product_page_offers_each_option_and_lists_the_variants(app, client):
    make_tshirt(app)
    html = page_form(client, "tshirt")

    assert html.index('<label class="form-label" for="option-') < html.index(">Size<")
    assert html.index(">Size<") < html.index(">Colour<")  # the options' order, not storage
    for value in ("S", "M", "L", "red", "blue"):
        assert f">{value}</option>" in html
    assert 'data-sku="TS-L-BLUE"' in html
    assert "from €15.00" in html
    assert "from €15.00" in client.get("/products").get_data(as_text=True)


def test_picking_options_adds_that_variant(app, client):
    variants = make_tshirt(app)
    page_form(client, "tshirt")  # the session's CSRF token
    form = {
        "csrf_token": csrf_token(client, "/products/tshirt"),
        "product_id": db_product_id(app, variants),
        "quantity": "2",
        **option_ids(app, variants, ("M", "blue")),
    }

    response = client.post("/cart/add", data=form)

    assert response.status_code == 302
    assert cart_rows(app) == [(variants["M", "blue"], 2)]
    assert "Size M, Colour blue" in client.get("/cart").get_data(as_text=True)


@pytest.mark.parametrize("case", ["inactive", "sold out", "made up"])
def test_a_combination_not_on_sale_is_a_form_error(app, client, case):
    variants = make_tshirt(app)
    with app.app_context():
        variant = db.session.get(Variant, variants["S", "red"])
        if case == "inactive":
            variant.is_active = False
        elif case == "sold out":
            variant.stock = 0
        db.session.commit()
    picked = option_ids(app, variants, ("S", "red"))
    if case == "made up":
        picked = {name: 10**6 for name in picked}
    form = {
        "csrf_token": csrf_token(client, "/products/tshirt"),
        "product_id": db_product_id(app, variants),
        "quantity": "1",
        "next": "/products/tshirt",
        **picked,
    }

    response = client.post("/cart/add", data=form, follow_redirects=True)

    assert response.status_code == 200
    message = "out of stock" if case == "sold out" else "That combination is not available"
    assert message in response.get_data(as_text=True)
    assert cart_rows(app) == []


def db_product_id(app, variants) -> int:
    with app.app_context():
        return db.session.get(Variant, next(iter(variants.values()))).product_id


def cart_rows(app) -> list[tuple[int, int]]:
    with app.app_context():
        return [
            tuple(row) for row in db.session.execute(select(CartItem.variant_id, CartItem.quantity))
        ]
