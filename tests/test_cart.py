"""The cart: anonymous (signed cookie) and per user, quantities within stock, merge at login."""

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select, update

from app.cart import services
from app.cart.models import Cart, CartItem
from app.cart.services import (
    CartOwner,
    add_to_cart,
    get_cart,
    merge_anonymous_cart,
    remove_from_cart,
    set_quantity,
)
from app.errors import NotFound, OutOfStock, ValidationFailed
from app.extensions import db
from tests.helpers import PASSWORD, cart_rows, csrf_token, login


def add(client, product_id, quantity=1, next_url=None):
    data = {
        "product_id": str(product_id),
        "quantity": str(quantity),
        "csrf_token": csrf_token(client, "/products"),
    }
    if next_url:
        data["next"] = next_url
    return client.post("/cart/add", data=data)


def csrf_for_cart_forms(client) -> str:
    return csrf_token(client, "/products")


def test_anonymous_visitor_gets_a_cart_and_a_signed_httponly_cookie(app, client, product_factory):
    product_id = product_factory(stock=5)

    response = add(client, product_id, 2)

    assert response.status_code == 302
    cookie = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("cart="))
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert cart_rows(app) == [(None, True, product_id, 2)]
    html = client.get("/cart").get_data(as_text=True)
    assert 'id="cart-subtotal">€9.00<' in html


def test_adding_again_adds_up_in_the_same_cart(app, client, product_factory):
    product_id = product_factory(stock=5)
    add(client, product_id, 2)

    add(client, product_id, 1)

    assert cart_rows(app) == [(None, True, product_id, 3)]


def test_tampered_cart_cookie_is_ignored(app, client, product_factory):
    product_id = product_factory(stock=5)
    add(client, product_id, 2)
    client.set_cookie("cart", "forged-value")

    html = client.get("/cart").get_data(as_text=True)

    assert 'id="cart-empty"' in html


def test_other_visitors_do_not_see_my_cart(app, client, product_factory):
    product_id = product_factory(stock=5)
    add(client, product_id, 2)

    html = app.test_client().get("/cart").get_data(as_text=True)

    assert 'id="cart-empty"' in html


def test_quantity_over_stock_is_refused_and_nothing_changes(app, client, product_factory):
    product_id = product_factory(stock=3)
    add(client, product_id, 2)

    response = add(client, product_id, 2, next_url="/products/green-tea")

    assert response.headers["Location"] == "/products/green-tea"
    assert "Only 3 of Green Tea left in stock." in client.get("/cart").get_data(as_text=True)
    assert cart_rows(app) == [(None, True, product_id, 2)]


def test_add_never_redirects_off_site(client, product_factory):
    product_id = product_factory(stock=0)

    response = add(client, product_id, 1, next_url="https://evil.example/")

    assert response.headers["Location"] == "/cart"


def test_bad_quantities_are_refused_with_a_message(app, client, product_factory):
    product_id = product_factory(stock=5)
    add(client, product_id, 1)
    token = csrf_for_cart_forms(client)

    for quantity in ("0", "-1", "abc", "2.5", ""):
        client.post(
            "/cart/update",
            data={"product_id": product_id, "quantity": quantity, "csrf_token": token},
        )
        html = client.get("/cart").get_data(as_text=True)
        assert "Quantity must be a whole number of 1 or more." in html, quantity

    assert cart_rows(app) == [(None, True, product_id, 1)]


def test_update_and_remove(app, client, product_factory):
    tea = product_factory("Green Tea", stock=5)
    mug = product_factory("Mug", stock=5, price_cents=1000)
    add(client, tea, 1)
    add(client, mug, 1)
    token = csrf_for_cart_forms(client)

    client.post("/cart/update", data={"product_id": tea, "quantity": "4", "csrf_token": token})
    client.post("/cart/remove", data={"product_id": mug, "csrf_token": token})

    assert cart_rows(app) == [(None, True, tea, 4)]
    assert 'id="cart-subtotal">€18.00<' in client.get("/cart").get_data(as_text=True)


def test_cart_forms_need_csrf(app, client, product_factory):
    product_id = product_factory(stock=5)

    response = client.post("/cart/add", data={"product_id": product_id, "quantity": "1"})

    assert response.status_code == 400
    assert cart_rows(app) == []


def test_inactive_or_unknown_product_cannot_be_added(app, client, product_factory):
    hidden = product_factory("Hidden", is_active=False)

    add(client, hidden, 1)
    add(client, 999999, 1)

    assert cart_rows(app) == []
    assert "No such product." in client.get("/cart").get_data(as_text=True)


def test_price_always_comes_from_the_catalogue(app, client, product_factory):
    product_id = product_factory(stock=5, price_cents=450)
    client.post(
        "/cart/add",
        data={
            "product_id": product_id,
            "quantity": "1",
            "price_cents": "1",
            "csrf_token": csrf_for_cart_forms(client),
        },
    )
    with app.app_context():
        from app.catalog.models import Product

        db.session.get(Product, product_id).price_cents = 500
        db.session.commit()

    assert 'id="cart-subtotal">€5.00<' in client.get("/cart").get_data(as_text=True)


def test_logged_in_cart_persists_across_sessions(app, client, user_factory, product_factory):
    user_factory()
    product_id = product_factory(stock=5)
    login(client)
    add(client, product_id, 2)

    other_browser = app.test_client()
    login(other_browser)

    assert "€9.00" in other_browser.get("/cart").get_data(as_text=True)


def test_login_merges_anonymous_cart_adding_up_capped_by_stock(
    app, client, user_factory, product_factory
):
    user_id = user_factory()
    tea = product_factory("Green Tea", stock=5)
    mug = product_factory("Mug", stock=5)
    with app.app_context():
        add_to_cart(CartOwner(user_id=user_id), tea, 3)
    add(client, tea, 4)
    add(client, mug, 1)

    response = login(client)

    assert "cart=;" in "".join(response.headers.getlist("Set-Cookie"))
    assert cart_rows(app) == [(user_id, False, tea, 5), (user_id, False, mug, 1)]
    with app.app_context():
        assert db.session.scalar(select(func.count(Cart.id))) == 1


def test_merge_skips_products_now_out_of_stock(app, client, user_factory, product_factory):
    user_id = user_factory()
    tea = product_factory("Green Tea", stock=5)
    add(client, tea, 2)
    with app.app_context():
        from app.catalog.models import Product

        db.session.get(Product, tea).variants[0].stock = 0
        db.session.commit()

    login(client)

    with app.app_context():
        assert get_cart(CartOwner(user_id=user_id)).lines == []
    assert cart_rows(app) == []


def test_login_page_with_password_still_required(client, user_factory):
    user_factory()

    assert login(client, password=PASSWORD + "x").status_code == 200


# The cart's bounds, its tokens, its age and its purge (services and the CLI)

LONG_AGO = datetime(2020, 1, 2, 3, 4, 5, tzinfo=UTC).replace(tzinfo=None)  # naive UTC, as stored


def set_updated_at(app, when: datetime) -> None:
    with app.app_context():
        db.session.execute(update(Cart).values(updated_at=when))
        db.session.commit()


def updated_at(app) -> list[datetime]:
    with app.app_context():
        return db.session.scalars(select(Cart.updated_at).order_by(Cart.id)).all()


def test_one_product_stops_at_cart_max_quantity(app, product_factory):
    app.config["CART_MAX_QUANTITY"] = 5
    tea = product_factory(stock=100)
    owner = CartOwner(token="visitor")
    with app.app_context():
        add_to_cart(owner, tea, 3)

        with pytest.raises(ValidationFailed) as on_top:
            add_to_cart(owner, tea, 3)
        with pytest.raises(ValidationFailed) as at_once:
            add_to_cart(owner, tea, 6)
        with pytest.raises(ValidationFailed) as setting:
            set_quantity(owner, tea, 6)

    assert on_top.value.message == "A cart holds at most 5 of one product."
    assert on_top.value.fields == {"quantity": ["Must be at most 5 in all."]}
    assert at_once.value.message == setting.value.message == on_top.value.message
    assert cart_rows(app) == [(None, True, tea, 3)]


def test_a_cart_stops_at_cart_max_lines_but_its_lines_still_grow(app, product_factory):
    app.config["CART_MAX_LINES"] = 2
    tea, mug, cup = (product_factory(name) for name in ("Tea", "Mug", "Cup"))
    owner = CartOwner(token="visitor")
    with app.app_context():
        add_to_cart(owner, tea, 1)
        add_to_cart(owner, mug, 1)

        with pytest.raises(ValidationFailed) as refused:
            add_to_cart(owner, cup, 1)
        add_to_cart(owner, tea, 2)

    assert refused.value.message == "A cart holds at most 2 different products."
    assert refused.value.status == 422
    assert cart_rows(app) == [(None, True, tea, 3), (None, True, mug, 1)]


def test_the_line_limit_is_a_form_message_on_the_site(app, client, product_factory):
    app.config["CART_MAX_LINES"] = 1
    tea, mug = product_factory("Tea"), product_factory("Mug")
    add(client, tea, 1)

    response = add(client, mug, 1)

    assert response.status_code == 302
    assert "A cart holds at most 1 different products." in client.get("/cart").get_data(
        as_text=True
    )
    assert cart_rows(app) == [(None, True, tea, 1)]


def test_merge_at_login_caps_at_the_cart_bounds(app, user_factory, product_factory):
    app.config.update(CART_MAX_LINES=2, CART_MAX_QUANTITY=4)
    user_id = user_factory()
    tea, mug, cup = (product_factory(name, stock=50) for name in ("Tea", "Mug", "Cup"))
    with app.app_context():
        for product_id in (tea, cup):
            add_to_cart(CartOwner(user_id=user_id), product_id, 3)
        for product_id in (tea, mug):
            add_to_cart(CartOwner(token="visitor"), product_id, 3)

        merge_anonymous_cart("visitor", user_id)

    assert cart_rows(app) == [(user_id, False, tea, 4), (user_id, False, cup, 3)]
    with app.app_context():
        assert db.session.scalar(select(func.count(Cart.id))) == 1


def test_a_colliding_random_cart_token_is_drawn_again(app, product_factory, monkeypatch):
    tea = product_factory(stock=10)
    with app.app_context():
        taken = add_to_cart(CartOwner(), tea, 1).token
    draws = iter([taken, "a-fresh-token"])
    monkeypatch.setattr(services.secrets, "token_urlsafe", lambda _n: next(draws))

    with app.app_context():
        summary = add_to_cart(CartOwner(), tea, 2)

    assert summary.token == "a-fresh-token"
    with app.app_context():
        rows = db.session.execute(
            select(Cart.token, CartItem.quantity).join(CartItem.cart).order_by(Cart.id)
        ).all()
    assert [tuple(r) for r in rows] == [(taken, 1), ("a-fresh-token", 2)]


def test_a_cookie_token_whose_cart_is_gone_gets_its_cart_back(app, product_factory):
    """After a purge the visitor's signed cookie still names the (new) cart."""
    tea = product_factory(stock=10)

    with app.app_context():
        summary = add_to_cart(CartOwner(token="purged-visitor"), tea, 2)

    assert summary.token == "purged-visitor"
    assert cart_rows(app) == [(None, True, tea, 2)]


def test_a_huge_product_id_from_the_form_is_no_such_product(app, client, product_factory):
    product_factory()

    response = add(client, 10**30, 1)

    assert response.status_code == 302
    assert "No such product." in client.get("/cart").get_data(as_text=True)
    assert cart_rows(app) == []


@pytest.mark.parametrize("change", ["add", "set", "remove"])
def test_changing_the_items_moves_the_cart_updated_at(app, product_factory, change):
    tea, mug = product_factory("Tea"), product_factory("Mug")
    owner = CartOwner(token="visitor")
    with app.app_context():
        add_to_cart(owner, tea, 1)
        add_to_cart(owner, mug, 1)
    set_updated_at(app, LONG_AGO)

    with app.app_context():
        {
            "add": lambda: add_to_cart(owner, tea, 1),
            "set": lambda: set_quantity(owner, tea, 3),
            "remove": lambda: remove_from_cart(owner, tea),
        }[change]()

    assert updated_at(app)[0] > LONG_AGO


def test_a_refused_change_leaves_the_cart_and_its_age_alone(app, product_factory):
    tea = product_factory(stock=2)
    owner = CartOwner(token="visitor")
    with app.app_context():
        add_to_cart(owner, tea, 1)
    set_updated_at(app, LONG_AGO)

    with app.app_context():
        with pytest.raises(NotFound):
            remove_from_cart(owner, 999)
        with pytest.raises(OutOfStock, match="Only 2 of Green Tea left"):
            add_to_cart(owner, tea, 2)

    assert updated_at(app) == [LONG_AGO]
    assert cart_rows(app) == [(None, True, tea, 1)]


def test_cart_purge_deletes_only_anonymous_carts_older_than_the_cookie(
    app, runner, user_factory, product_factory
):
    user_id = user_factory()
    tea = product_factory()
    with app.app_context():
        for token in ("old-1", "old-2", "old-3"):
            add_to_cart(CartOwner(token=token), tea, 1)
        add_to_cart(CartOwner(user_id=user_id), tea, 1)
    set_updated_at(app, LONG_AGO)  # every cart so far, the user's too
    with app.app_context():
        add_to_cart(CartOwner(token="recent"), tea, 2)

    first = runner.invoke(args=["cart", "purge", "--batch-size", "2"])
    again = runner.invoke(args=["cart", "purge"])

    assert (first.exit_code, first.output) == (
        0,
        "Purged 3 anonymous carts unchanged for more than 30 days.\n",
    )
    assert (again.exit_code, again.output) == (
        0,
        "Purged 0 anonymous carts unchanged for more than 30 days.\n",
    )
    assert cart_rows(app) == [(user_id, False, tea, 1), (None, True, tea, 2)]
    with app.app_context():
        assert db.session.scalar(select(func.count(CartItem.id))) == 2


def test_cart_purge_refuses_a_batch_size_below_one(runner):
    result = runner.invoke(args=["cart", "purge", "--batch-size", "0"])

    assert result.exit_code == 2
    assert "0 is not in the range x>=1" in result.output
