"""The cart API for token clients, logged-in browsers (session + X-CSRF-Token) and anonymous
browsers (cart cookie + X-CSRF-Token): whose cart, validation, 404/409, prices from the DB."""

import pytest
from sqlalchemy import func, select

from app.cart.models import Cart
from app.catalog.models import Product, Variant
from app.extensions import db
from tests.api import Caller, make_callers
from tests.helpers import ROLES, TOKEN_HEADER, assert_error, cart_rows

# Every caller that has a cart of its own: anonymous browsers, and each user two ways.
CALLERS = [("anonymous", "cookie")] + [
    (role, auth) for role in ROLES[1:] for auth in ("token", "session")
]


def totals(subtotal: int) -> dict:
    """A cart's totals with no tax rates set up: no tax, prices as stated (app.totals)."""
    return {
        "subtotal_cents": subtotal,
        "voucher_code": None,
        "voucher_problem": None,
        "discount_cents": 0,
        "tax_cents": 0,
        "total_cents": subtotal,
        "prices_include_tax": True,
        "currency": "EUR",
    }


EMPTY = {"items": [], **totals(0)}
TEA = "<tea id>"


VARIANT_OR_PRODUCT = "Give variant_id, or product_id for a product with one variant."
# The variant of each product of the shop (each has one), for the lines the API answers.
VARIANT_OF: dict[int, int] = {}


@pytest.fixture
def shop(app, product_factory):
    products = {
        "tea": product_factory("Green Tea", price_cents=450, stock=10),
        "mug": product_factory("Mug", price_cents=1200, stock=3),
        "sold_out": product_factory("Sold Out", stock=0),
        "retired": product_factory("Retired", is_active=False),
    }
    with app.app_context():
        VARIANT_OF.clear()
        VARIANT_OF.update(db.session.execute(select(Variant.product_id, Variant.id)).all())
    return products


@pytest.fixture
def caller(app, user_factory):
    return make_callers(app, user_factory)


def line(product_id, name, quantity, unit_price_cents):
    return {
        "product_id": product_id,
        "variant_id": VARIANT_OF[product_id],
        "sku": f"SKU-{name.upper().replace(' ', '-')}",
        "name": name,
        "options": "",
        "quantity": quantity,
        "regular_price_cents": unit_price_cents,  # no sale
        "unit_price_cents": unit_price_cents,
        "line_total_cents": quantity * unit_price_cents,
    }


def add(who, product_id, quantity=1, **extra):
    return who.post(
        "/api/v1/cart/items", json={"product_id": product_id, "quantity": quantity, **extra}
    )


def with_tea(body, shop):
    """The body with the placeholder TEA replaced by the tea's id (known only at run time)."""
    return body and {key: shop["tea"] if value == TEA else value for key, value in body.items()}


def cart_count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Cart))


# The whole round, for every kind of caller


@pytest.mark.parametrize(("role", "auth"), CALLERS)
def test_cart_round_trip(app, shop, caller, role, auth):
    me = caller(role, auth)
    tea, mug = shop["tea"], shop["mug"]

    empty = me.get("/api/v1/cart")
    added = add(me, tea, 2)
    added_more = add(me, mug, 1)
    changed = me.patch(f"/api/v1/cart/items/{tea}", json={"quantity": 5})
    removed = me.delete(f"/api/v1/cart/items/{mug}")
    shown = me.get("/api/v1/cart")

    assert (empty.status_code, empty.get_json()) == (200, EMPTY)
    assert added.status_code == 201
    assert added.get_json() == {
        "items": [line(tea, "Green Tea", 2, 450)],
        **totals(900),
    }
    assert added_more.status_code == 201
    assert added_more.get_json()["items"] == [
        line(tea, "Green Tea", 2, 450),
        line(mug, "Mug", 1, 1200),
    ]
    assert added_more.get_json()["subtotal_cents"] == 2100
    assert changed.status_code == 200
    assert changed.get_json()["items"] == [
        line(tea, "Green Tea", 5, 450),
        line(mug, "Mug", 1, 1200),
    ]
    assert changed.get_json()["subtotal_cents"] == 3450
    assert removed.status_code == 200
    assert removed.get_json() == {
        "items": [line(tea, "Green Tea", 5, 450)],
        **totals(2250),
    }
    assert (shown.status_code, shown.get_json()) == (200, removed.get_json())
    assert len(cart_rows(app)) == 1


def test_adding_again_adds_to_the_quantity(shop, caller):
    me = caller("customer")
    add(me, shop["tea"], 2)

    response = add(me, shop["tea"], 3)

    assert response.status_code == 201
    assert response.get_json()["items"] == [line(shop["tea"], "Green Tea", 5, 450)]


def test_removing_the_last_item_leaves_an_empty_cart(shop, caller):
    me = caller("customer")
    add(me, shop["tea"])

    response = me.delete(f"/api/v1/cart/items/{shop['tea']}")

    assert response.status_code == 200
    assert response.get_json() == EMPTY


# Whose cart


def test_token_client_and_browser_of_one_user_share_the_cart(shop, caller):
    with_token = caller("customer", "token")
    browser = caller("customer", "session")
    add(with_token, shop["tea"], 2)

    response = add(browser, shop["tea"], 1)

    assert response.get_json()["items"] == [line(shop["tea"], "Green Tea", 3, 450)]
    assert with_token.get("/api/v1/cart").get_json() == response.get_json()


@pytest.mark.parametrize(("role", "auth"), [r for r in CALLERS if r[0] != "customer"])
def test_nobody_else_sees_or_changes_my_cart(app, shop, caller, role, auth):
    me = caller("customer")
    add(me, shop["tea"], 2)
    mine = me.get("/api/v1/cart").get_json()
    before = cart_rows(app)
    someone = caller(role, auth)

    seen = someone.get("/api/v1/cart")
    changed = someone.patch(f"/api/v1/cart/items/{shop['tea']}", json={"quantity": 9})
    removed = someone.delete(f"/api/v1/cart/items/{shop['tea']}")

    assert seen.get_json() == EMPTY
    assert assert_error(changed, 404, "not_found")["message"] == "That product is not in your cart."
    assert assert_error(removed, 404, "not_found")["message"] == "That product is not in your cart."
    assert cart_rows(app) == before
    assert me.get("/api/v1/cart").get_json() == mine


def test_anonymous_first_add_sets_a_signed_httponly_cart_cookie_once(app, shop, caller):
    visitor = caller("anonymous")

    first = add(visitor, shop["tea"])
    second = add(visitor, shop["tea"])

    cookies = [c for c in first.headers.getlist("Set-Cookie") if c.startswith("cart=")]
    assert len(cookies) == 1
    assert "HttpOnly" in cookies[0]
    assert "SameSite=Lax" in cookies[0]
    assert not [c for c in second.headers.getlist("Set-Cookie") if c.startswith("cart=")]
    assert visitor.get("/api/v1/cart").get_json()["items"] == [
        line(shop["tea"], "Green Tea", 2, 450)
    ]
    assert cart_rows(app) == [(None, True, shop["tea"], 2)]


def test_anonymous_cart_lives_in_the_cookie_not_the_session(app, shop, caller):
    visitor = caller("anonymous")
    add(visitor, shop["tea"])
    cart_cookie = visitor.client.get_cookie("cart").value
    stranger = caller("anonymous")

    without_cookie = stranger.get("/api/v1/cart")
    stranger.client.set_cookie("cart", cart_cookie)
    with_cookie = stranger.get("/api/v1/cart")
    stranger.client.set_cookie("cart", cart_cookie[:-2] + "xx")
    tampered = stranger.get("/api/v1/cart")

    assert without_cookie.get_json() == EMPTY
    assert with_cookie.get_json()["items"] == [line(shop["tea"], "Green Tea", 1, 450)]
    assert tampered.get_json() == EMPTY


def test_token_client_gets_no_cookies(shop, caller):
    me = caller("customer", "token")

    responses = [
        add(me, shop["tea"]),
        me.get("/api/v1/cart"),
        me.patch(f"/api/v1/cart/items/{shop['tea']}", json={"quantity": 2}),
        me.delete(f"/api/v1/cart/items/{shop['tea']}"),
    ]

    assert [r.headers.getlist("Set-Cookie") for r in responses] == [[], [], [], []]


# Authentication and CSRF


@pytest.mark.parametrize(("role", "auth"), [("anonymous", "cookie"), ("customer", "session")])
@pytest.mark.parametrize("csrf", [None, "", "not-the-token"])
def test_cookie_riding_writes_need_the_csrf_header(app, shop, caller, role, auth, csrf):
    me = caller(role, auth)
    add(me, shop["tea"], 2)
    before = cart_rows(app)
    same_cookies = Caller(me.client, {} if csrf is None else {"X-CSRF-Token": csrf})

    responses = [
        add(same_cookies, shop["mug"]),
        same_cookies.patch(f"/api/v1/cart/items/{shop['tea']}", json={"quantity": 1}),
        same_cookies.delete(f"/api/v1/cart/items/{shop['tea']}"),
    ]

    for response in responses:
        assert_error(response, 400, "bad_request")
    assert cart_rows(app) == before


def test_anonymous_write_without_csrf_makes_no_cart_and_no_cookie(app, shop, client):
    client.get("/login")  # a browser: it holds the site's session cookie (cookie-less: no CSRF)
    response = client.post("/api/v1/cart/items", json={"product_id": shop["tea"], "quantity": 1})

    assert_error(response, 400, "bad_request")
    assert cart_count(app) == 0
    assert client.get_cookie("cart") is None


def test_token_writes_need_no_csrf(app, shop, caller):
    me = caller("customer", "token")

    response = add(me, shop["tea"])

    assert response.status_code == 201
    assert "X-CSRF-Token" not in me.headers


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/api/v1/cart", None),
        ("POST", "/api/v1/cart/items", {"product_id": TEA, "quantity": 1}),
        ("PATCH", "/api/v1/cart/items/{tea}", {"quantity": 1}),
        ("DELETE", "/api/v1/cart/items/{tea}", None),
    ],
)
def test_a_token_that_does_not_authenticate_is_401_not_anonymous(
    app, shop, caller, method, path, body
):
    visitor = caller("anonymous")
    add(visitor, shop["tea"], 2)
    before = cart_rows(app)
    response = visitor.open(
        method,
        path.format(tea=shop["tea"]),
        json=with_tea(body, shop),
        headers={TOKEN_HEADER: "not-a-token"},
    )

    assert_error(response, 401, "unauthorized")
    assert cart_rows(app) == before


def test_revoked_token_is_401(shop, caller):
    me = caller("customer", "token")
    assert me.delete("/api/v1/auth/tokens").status_code == 204

    assert_error(me.get("/api/v1/cart"), 401, "unauthorized")


# Validation: 422 with the exact fields, nothing changed

QUANTITY_RANGE = "Must be greater than or equal to 1 and less than or equal to 1000."
PRODUCT_ID_RANGE = "Must be greater than or equal to 1 and less than or equal to 2147483647."


@pytest.mark.parametrize(
    ("quantity", "message"),
    [
        ("2", "Not a valid integer."),
        (2.5, "Not a valid integer."),
        (True, "Not a valid integer."),
        (False, "Not a valid integer."),
        ([2], "Not a valid integer."),
        (None, "Field may not be null."),
        (0, QUANTITY_RANGE),
        (-1, QUANTITY_RANGE),
        (1001, QUANTITY_RANGE),
        (10**30, QUANTITY_RANGE),
    ],
)
@pytest.mark.parametrize("auth", ["token", "session"])
def test_bad_quantity_is_422(app, shop, caller, auth, quantity, message):
    me = caller("customer", auth)
    add(me, shop["tea"], 2)
    before = cart_rows(app)

    added = add(me, shop["mug"], quantity)
    changed = me.patch(f"/api/v1/cart/items/{shop['tea']}", json={"quantity": quantity})

    for response in (added, changed):
        error = assert_error(response, 422, "validation_failed")
        assert error["fields"] == {"quantity": [message]}
    assert cart_rows(app) == before


def test_whole_number_floats_are_integers(app, shop, caller):
    me = caller("customer")

    added = me.post("/api/v1/cart/items", json={"product_id": float(shop["tea"]), "quantity": 2.0})
    changed = me.patch(f"/api/v1/cart/items/{shop['tea']}", json={"quantity": 3.0})

    assert (added.status_code, changed.status_code) == (201, 200)
    assert [item["quantity"] for item in added.get_json()["items"]] == [2]
    assert [item["quantity"] for item in changed.get_json()["items"]] == [3]
    assert [row[2:] for row in cart_rows(app)] == [(shop["tea"], 3)]


def test_patch_without_a_body_is_422_and_changes_nothing(app, shop, caller):
    me = caller("customer")
    add(me, shop["tea"], 2)
    before = cart_rows(app)

    response = me.patch(f"/api/v1/cart/items/{shop['tea']}")

    error = assert_error(response, 422, "validation_failed")
    assert error["fields"] == {"_body": ["A JSON body is required."]}
    assert cart_rows(app) == before


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({}, {"quantity": ["Missing data for required field."]}),
        ({"product_id": TEA}, {"quantity": ["Missing data for required field."]}),
        ({"quantity": 1}, {"variant_id": [VARIANT_OR_PRODUCT]}),
        (
            {"product_id": TEA, "variant_id": TEA, "quantity": 1},
            {"variant_id": [VARIANT_OR_PRODUCT]},
        ),
        ({"variant_id": "1", "quantity": 1}, {"variant_id": ["Not a valid integer."]}),
        ({"product_id": "1", "quantity": 1}, {"product_id": ["Not a valid integer."]}),
        ({"product_id": 1.5, "quantity": 1}, {"product_id": ["Not a valid integer."]}),
        ({"product_id": True, "quantity": 1}, {"product_id": ["Not a valid integer."]}),
        (
            {"product_id": 10**30, "quantity": 1},
            {"product_id": [PRODUCT_ID_RANGE]},
        ),
        (
            {"product_id": 0, "quantity": 1},
            {"product_id": [PRODUCT_ID_RANGE]},
        ),
        # A client cannot set a price (or anything else): unknown fields are refused.
        (
            {"product_id": TEA, "quantity": 1, "price_cents": 1},
            {"price_cents": ["Unknown field."]},
        ),
        (
            {"product_id": TEA, "quantity": 1, "unit_price_cents": 1, "currency": "USD"},
            {"unit_price_cents": ["Unknown field."], "currency": ["Unknown field."]},
        ),
    ],
)
def test_invalid_add_body_is_422_with_fields(app, shop, caller, body, fields):
    me = caller("customer")
    response = me.post("/api/v1/cart/items", json=with_tea(body, shop))

    error = assert_error(response, 422, "validation_failed")
    assert error["fields"] == fields
    assert cart_count(app) == 0


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({}, {"quantity": ["Missing data for required field."]}),
        ({"quantity": 1, "product_id": 1}, {"product_id": ["Unknown field."]}),
        ({"quantity": 1, "price_cents": 1}, {"price_cents": ["Unknown field."]}),
    ],
)
def test_invalid_quantity_body_is_422_with_fields(app, shop, caller, body, fields):
    me = caller("customer")
    add(me, shop["tea"], 2)
    before = cart_rows(app)

    response = me.patch(f"/api/v1/cart/items/{shop['tea']}", json=body)

    error = assert_error(response, 422, "validation_failed")
    assert error["fields"] == fields
    assert cart_rows(app) == before


@pytest.mark.parametrize(
    ("kwargs", "fields"),
    [
        ({"json": [1, 2]}, {"_schema": ["Invalid input type."]}),
        ({"json": "1"}, {"_schema": ["Invalid input type."]}),
        (
            {"data": {"product_id": "1", "quantity": "1"}},  # a form is not JSON
            {"_body": ["A JSON body is required."]},
        ),
        ({}, {"_body": ["A JSON body is required."]}),
    ],
)
def test_add_body_that_is_not_a_json_object_is_422(app, shop, caller, kwargs, fields):
    response = caller("customer").post("/api/v1/cart/items", **kwargs)

    error = assert_error(response, 422, "validation_failed")
    assert error["fields"] == fields
    assert cart_count(app) == 0


def test_malformed_json_is_400(app, shop, caller):
    response = caller("customer").post(
        "/api/v1/cart/items", data="{not json", content_type="application/json"
    )

    assert_error(response, 400, "bad_request")
    assert cart_count(app) == 0


def test_the_largest_quantity_is_1000(app, shop, product_factory, caller):
    crate = product_factory("Crate", price_cents=1, stock=5000)
    with app.app_context():
        VARIANT_OF[crate] = db.session.get(Product, crate).variants[0].id

    response = add(caller("customer"), crate, 1000)

    assert response.status_code == 201
    assert response.get_json()["items"] == [line(crate, "Crate", 1000, 1)]


# 404 and 409


@pytest.mark.parametrize("product", ["retired", "unknown"])
@pytest.mark.parametrize(("role", "auth"), [("anonymous", "cookie"), ("customer", "token")])
def test_adding_an_inactive_or_unknown_product_is_404(app, shop, caller, role, auth, product):
    product_id = shop["retired"] if product == "retired" else shop["retired"] + 1000

    response = add(caller(role, auth), product_id)

    error = assert_error(response, 404, "not_found")
    assert error["message"] == "No such product."
    assert cart_count(app) == 0


@pytest.mark.parametrize("method", ["PATCH", "DELETE"])
def test_changing_a_product_not_in_the_cart_is_404(app, shop, caller, method):
    me = caller("customer")
    add(me, shop["tea"])
    before = cart_rows(app)

    response = me.open(method, f"/api/v1/cart/items/{shop['mug']}", json={"quantity": 1})

    assert (
        assert_error(response, 404, "not_found")["message"] == "That product is not in your cart."
    )
    assert cart_rows(app) == before


@pytest.mark.parametrize("method", ["PATCH", "DELETE"])
@pytest.mark.parametrize("product_id", ["abc", "-1", "1.5"])
def test_a_product_id_that_is_not_a_number_is_404(shop, caller, method, product_id):
    response = caller("customer").open(
        method, f"/api/v1/cart/items/{product_id}", json={"quantity": 1}
    )

    assert_error(response, 404, "not_found")


def test_adding_beyond_the_stock_is_409_and_leaves_the_cart_alone(app, shop, caller):
    me = caller("customer")
    add(me, shop["mug"], 2)
    before = cart_rows(app)

    response = add(me, shop["mug"], 2)

    error = assert_error(response, 409, "out_of_stock")
    assert error["message"] == "Only 3 of Mug left in stock."
    assert cart_rows(app) == before
    assert me.get("/api/v1/cart").get_json()["items"] == [line(shop["mug"], "Mug", 2, 1200)]


def test_adding_a_sold_out_product_is_409_and_makes_no_cart(app, shop, caller):
    visitor = caller("anonymous")

    response = add(visitor, shop["sold_out"])

    assert assert_error(response, 409, "out_of_stock")["message"] == "Sold Out is out of stock."
    assert cart_count(app) == 0
    assert visitor.client.get_cookie("cart") is None


def test_setting_a_quantity_beyond_the_stock_is_409_and_leaves_the_cart_alone(app, shop, caller):
    me = caller("customer", "session")
    add(me, shop["mug"], 2)
    before = cart_rows(app)

    response = me.patch(f"/api/v1/cart/items/{shop['mug']}", json={"quantity": 4})

    assert assert_error(response, 409, "out_of_stock")["message"] == "Only 3 of Mug left in stock."
    assert cart_rows(app) == before


# Prices come from the catalogue, now


def test_cart_prices_follow_the_catalogue(app, shop, caller):
    me = caller("customer")
    add(me, shop["tea"], 2)
    with app.app_context():
        db.session.get(Product, shop["tea"]).price_cents = 500
        db.session.commit()

    response = me.get("/api/v1/cart")

    assert response.get_json() == {
        "items": [line(shop["tea"], "Green Tea", 2, 500)],
        **totals(1000),
    }


def test_the_quantity_limit_is_the_setting_in_the_api_too(app, product_factory, caller):
    """CART_MAX_QUANTITY raised above its default reaches the API's validation."""
    app.config["CART_MAX_QUANTITY"] = 2000
    tea = product_factory("Green Tea", stock=5000)
    me = caller("customer")

    assert add(me, tea, 1500).status_code == 201
    error = assert_error(add(me, tea, 2001), 422, "validation_failed")
    assert error["fields"] == {
        "quantity": ["Must be greater than or equal to 1 and less than or equal to 2000."]
    }
