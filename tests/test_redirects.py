"""Redirect targets (``next``, the back office's ``url``): every view that reads one goes to a
same-site path or refuses.

The cart's add falls back to the cart page; Flask-Security's views (login, logout, register,
2FA...) refuse control characters with 400 and keep refusing off-site targets themselves;
Flask-Admin's views refuse control characters in ``url`` with 400.
"""

from urllib.parse import quote

import pytest
from sqlalchemy import func, select

from app.accounts.models import User
from app.app_factory import create_app
from app.catalog.models import Product
from app.extensions import db
from app.security_utils import is_safe_redirect
from tests.helpers import PASSWORD, TEST_CONFIG, csrf_token, login

HEADER_INJECTION = "/x\r\nSet-Cookie: a=b"
CONTROL_TARGETS = [
    HEADER_INJECTION,
    "/x?a=\r\nSet-Cookie: a=b",
    "/x#\r\nb",
    "/x\tb",
    "/\t/evil.example",  # browsers drop the tab: //evil.example
    "/x\x00y",
    "/x\x7f",
    "\x01//evil.example",
    "/x\x85",
]
OFF_SITE_TARGETS = [
    "https://evil.example/",
    "//evil.example",
    "///evil.example",
    "/\\evil.example",
    "\\\\evil.example",
    "javascript:alert(1)",
    "http://localhost/about",  # this host, but not a path
    "about",  # relative: depends on where the browser is
    "",
]
SAFE_TARGETS = ["/", "/products/green-tea", "/products?q=tea&page=2", "/cart#top", "/a%0D%0Ab"]


@pytest.fixture(scope="module")
def bare_app():
    """No database: is_safe_redirect only needs a request."""
    return create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": "sqlite://"})


@pytest.mark.parametrize("target", CONTROL_TARGETS + OFF_SITE_TARGETS)
def test_unsafe_targets_are_refused(bare_app, target):
    with bare_app.test_request_context("/"):
        assert is_safe_redirect(target) is False


@pytest.mark.parametrize("target", SAFE_TARGETS)
def test_same_site_paths_are_accepted(bare_app, target):
    with bare_app.test_request_context("/"):
        assert is_safe_redirect(target) is True


# The cart: a failed add goes back to `next` when it is safe, else to the cart page.


def failed_add(client, product_id, next_url):
    data = {"product_id": str(product_id), "quantity": "1", "next": next_url}
    data["csrf_token"] = csrf_token(client, "/products")
    return client.post("/cart/add", data=data)


@pytest.mark.parametrize("target", CONTROL_TARGETS + OFF_SITE_TARGETS)
def test_failed_add_to_cart_with_an_unsafe_next_goes_to_the_cart(client, product_factory, target):
    sold_out = product_factory(stock=0)

    response = failed_add(client, sold_out, target)

    assert response.status_code == 302
    assert response.headers["Location"] == "/cart"
    assert "Set-Cookie: a=b" not in str(response.headers)


def test_failed_add_to_cart_follows_a_safe_next(client, product_factory):
    sold_out = product_factory(stock=0)

    response = failed_add(client, sold_out, "/products/green-tea?ref=1")

    assert response.headers["Location"] == "/products/green-tea?ref=1"


# Flask-Security's views: control characters in next are refused before they run.


def user_count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(User.id)))


def logged_in(client) -> bool:
    return client.get("/account").status_code == 200


def login_by_form(client, target):
    data = {"email": "shopper@example.com", "password": PASSWORD, "next": target}
    data["csrf_token"] = csrf_token(client, "/login")
    return client.post("/login", data=data)


def login_by_query(client, target):
    data = {"email": "shopper@example.com", "password": PASSWORD}
    data["csrf_token"] = csrf_token(client, "/login")
    return client.post(f"/login?next={quote(target, safe='')}", data=data)


def login_by_json(client, target):
    body = {"email": "shopper@example.com", "password": PASSWORD, "next": target}
    return client.post("/login", json=body, headers={"X-CSRF-Token": csrf_token(client, "/login")})


def register_by_form(client, target):
    data = {
        "email": "new@example.com",
        "password": PASSWORD,
        "password_confirm": PASSWORD,
        "next": target,
        "csrf_token": csrf_token(client, "/register"),
    }
    return client.post("/register", data=data)


def login_page(client, target):
    return client.get(f"/login?next={quote(target, safe='')}")


LOGGED_OUT_VIEWS = {
    "login-form": login_by_form,
    "login-query": login_by_query,
    "login-json": login_by_json,
    "register-form": register_by_form,
    "login-page": login_page,
}


@pytest.mark.parametrize("target", CONTROL_TARGETS)
@pytest.mark.parametrize("view", list(LOGGED_OUT_VIEWS))
def test_security_views_refuse_control_characters_in_next(app, client, user_factory, view, target):
    user_factory()

    response = LOGGED_OUT_VIEWS[view](client, target)

    assert response.status_code == 400
    assert "control characters" in response.get_data(as_text=True)
    assert not logged_in(client)
    assert user_count(app) == 1


@pytest.mark.parametrize("target", CONTROL_TARGETS)
def test_logout_refuses_control_characters_in_next(client, user_factory, target):
    user_factory()
    login(client)
    token = csrf_token(client, "/account")

    response = client.post("/logout", data={"csrf_token": token, "next": target})

    assert response.status_code == 400
    assert logged_in(client)


@pytest.mark.parametrize("target", OFF_SITE_TARGETS[:4])
def test_logout_never_redirects_off_site(client, user_factory, target):
    user_factory()
    login(client)
    token = csrf_token(client, "/account")

    response = client.post("/logout", data={"csrf_token": token, "next": target})

    location = response.headers["Location"]
    assert response.status_code == 302
    assert location.startswith("/")
    assert not location.startswith("//")
    assert "\\" not in location


def test_login_follows_a_safe_next(client, user_factory):
    user_factory()

    response = login_by_form(client, "/products?q=tea")

    assert response.headers["Location"] == "/products?q=tea"


def test_login_form_passes_on_only_a_safe_next(client):
    off_site = client.get("/login?next=https%3A%2F%2Fevil.example%2F").get_data(as_text=True)
    local = client.get("/login?next=%2Fabout").get_data(as_text=True)

    assert '<form action="/login" method="post"' in off_site
    assert '<form action="/login?next=/about" method="post"' in local


# The back office: Flask-Admin returns to its `url` argument after a save or delete.


@pytest.mark.parametrize("target", CONTROL_TARGETS)
def test_back_office_refuses_control_characters_in_its_return_url(
    app, as_admin, product_factory, target
):
    product_id = product_factory()
    token = csrf_token(as_admin, "/admin/")

    response = as_admin.post(
        f"/admin/products/delete/?url={quote(target, safe='')}",
        data={"id": str(product_id), "csrf_token": token},
    )

    assert response.status_code == 400
    assert "control characters" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Product, product_id) is not None


def test_back_office_still_returns_to_a_safe_url(app, as_admin, product_factory):
    product_id = product_factory()
    token = csrf_token(as_admin, "/admin/")

    response = as_admin.post(
        "/admin/products/delete/?url=%2Fadmin%2Fproducts%2F%3Fpage%3D1",
        data={"id": str(product_id), "csrf_token": token},
    )

    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/products/?page=1"
