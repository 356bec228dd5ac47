"""The JSON API of the foundation: root, health, tokens, /me, and one error shape."""

import pytest
from sqlalchemy import select

from app.accounts.models import User
from app.extensions import db, security
from tests.factories import two_factor_user
from tests.helpers import PASSWORD, TOKEN_HEADER, assert_error, csrf_token, get_token, login


def test_root_says_version_one(client):
    response = client.get("/api/v1/")

    assert response.status_code == 200
    assert response.get_json() == {"status": "success", "version": "1"}


def test_health_checks_the_database(client):
    response = client.get("/api/v1/health")

    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok"}


def test_health_is_503_when_the_database_is_down(tmp_path):
    from app.app_factory import create_app
    from tests.helpers import TEST_CONFIG

    missing = tmp_path / "no" / "such" / "dir" / "db.sqlite"
    app = create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{missing}"})

    response = app.test_client().get("/api/v1/health")

    assert response.status_code == 503
    assert response.get_json()["database"] == "unavailable"


# Tokens


def test_token_for_good_credentials_works_on_me_and_sets_no_cookie(client, user_factory):
    user_id = user_factory()

    response = get_token(client)

    assert response.status_code == 200
    assert response.headers.getlist("Set-Cookie") == []
    token = response.get_json()["token"]
    me = client.get("/api/v1/me", headers={TOKEN_HEADER: token})
    assert me.status_code == 200
    assert me.get_json() == {
        "id": user_id,
        "email": "shopper@example.com",
        "roles": ["customer"],
        "confirmed": True,
        "two_factor": False,
    }


@pytest.mark.parametrize(
    ("email", "password"),
    [("shopper@example.com", "wrong password"), ("nobody@example.com", PASSWORD)],
)
def test_token_refused_for_bad_credentials(client, user_factory, email, password):
    user_factory()

    response = get_token(client, email=email, password=password)

    assert_error(response, 401, "unauthorized")
    assert response.headers.getlist("Set-Cookie") == []


@pytest.fixture
def bcrypt_runs(monkeypatch):
    """The bcrypt computations made (their cost factors), counted where passlib calls bcrypt."""
    import bcrypt

    runs = []
    hashpw = bcrypt.hashpw

    def counting_hashpw(secret, salt):
        runs.append(salt[:7])  # b"$2b$04$": variant and cost factor
        return hashpw(secret, salt)

    monkeypatch.setattr(bcrypt, "hashpw", counting_hashpw)
    return runs


@pytest.mark.parametrize(
    "email", ["shopper@example.com", "nobody@example.com"], ids=["known", "unknown"]
)
def test_token_refusal_costs_one_hash_for_known_and_unknown_emails(
    client, user_factory, bcrypt_runs, email
):
    user_factory()
    get_token(client, password="warm up")  # passlib's first use may hash once more
    bcrypt_runs.clear()

    response = get_token(client, email=email, password="wrong password")

    assert_error(response, 401, "unauthorized")
    assert bcrypt_runs == [b"$2b$04$"]


def test_token_refused_for_unconfirmed_account(client, user_factory):
    user_factory(confirmed=False)

    error = assert_error(get_token(client), 401, "unauthorized")

    assert "Confirm your e-mail" in error["message"]


def test_token_refused_for_disabled_account(app, client, user_factory):
    user_id = user_factory()
    with app.app_context():
        db.session.get(User, user_id).active = False
        db.session.commit()

    assert_error(get_token(client), 401, "unauthorized")


def test_token_with_two_factor_needs_a_valid_code(app, client):
    _user_id, secret = two_factor_user(app)
    with app.app_context():
        code = security.totp_factory.generate_totp_password(secret)

    assert_error(get_token(client), 401, "unauthorized")
    assert_error(get_token(client, code="000000"), 401, "unauthorized")
    response = get_token(client, code=code)

    assert response.status_code == 200
    me = client.get("/api/v1/me", headers={TOKEN_HEADER: response.get_json()["token"]})
    assert me.get_json()["two_factor"] is True


def test_revoking_tokens_invalidates_the_old_token(client, user_factory):
    user_factory()
    token = get_token(client).get_json()["token"]

    response = client.delete("/api/v1/auth/tokens", headers={TOKEN_HEADER: token})

    assert response.status_code == 204
    assert_error(client.get("/api/v1/me", headers={TOKEN_HEADER: token}), 401, "unauthorized")


# Session auth and CSRF


def test_me_works_with_a_browser_session(client, user_factory):
    user_factory()
    login(client)

    response = client.get("/api/v1/me")

    assert response.status_code == 200
    assert response.get_json()["email"] == "shopper@example.com"


def test_session_authenticated_write_needs_csrf_header(app, client, user_factory):
    user_id = user_factory()
    login(client)
    with app.app_context():
        before = db.session.get(User, user_id).fs_uniquifier

    refused = client.delete("/api/v1/auth/tokens")
    with app.app_context():
        assert db.session.get(User, user_id).fs_uniquifier == before
    accepted = client.delete(
        "/api/v1/auth/tokens", headers={"X-CSRF-Token": csrf_token(client, "/account")}
    )

    error = assert_error(refused, 400, "bad_request")
    assert "CSRF" in error["message"]
    assert accepted.status_code == 204


def test_session_write_with_a_token_header_beside_it_still_needs_csrf(app, client, user_factory):
    """A session cookie rides along whatever else the request carries."""
    user_id = user_factory()
    login(client)
    with app.app_context():
        before = db.session.get(User, user_id).fs_uniquifier

    response = client.delete("/api/v1/auth/tokens", headers={TOKEN_HEADER: "not-a-token"})

    error = assert_error(response, 400, "bad_request")
    assert "CSRF" in error["message"]
    with app.app_context():
        assert db.session.get(User, user_id).fs_uniquifier == before


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("DELETE", "/api/v1/auth/tokens"),
        # POST /api/v1/orders is a guest's checkout too: tests/api/test_guest_orders_api.py
        ("POST", "/api/v1/orders/SF-1/cancel"),
        ("POST", "/api/v1/products"),
    ],
)
@pytest.mark.parametrize("cookies", ["none", "session and cart"])
def test_anonymous_write_is_401_not_a_csrf_error(app, product_factory, method, path, cookies):
    client = app.test_client()
    if cookies != "none":
        csrf = csrf_token(client, "/login")
        product_id = product_factory()
        added = client.post(
            "/api/v1/cart/items",
            json={"product_id": product_id, "quantity": 1},
            headers={"X-CSRF-Token": csrf},
        )
        assert added.status_code == 201
        assert client.get_cookie("cart") is not None

    response = client.open(path, method=method, json={})

    assert_error(response, 401, "unauthorized")


def test_cookie_less_anonymous_cart_add_needs_no_csrf(app, client, product_factory):
    product_id = product_factory()

    response = client.post("/api/v1/cart/items", json={"product_id": product_id, "quantity": 2})

    assert response.status_code == 201
    assert response.get_json()["items"][0]["quantity"] == 2
    assert client.get_cookie("cart") is not None


def test_anonymous_cart_write_with_the_cart_cookie_needs_csrf(app, client, product_factory):
    product_id = product_factory()
    body = {"product_id": product_id, "quantity": 1}
    client.post("/api/v1/cart/items", json=body)

    refused = client.post("/api/v1/cart/items", json=body)
    accepted = client.post(
        "/api/v1/cart/items", json=body, headers={"X-CSRF-Token": csrf_token(client, "/login")}
    )

    assert "CSRF" in assert_error(refused, 400, "bad_request")["message"]
    assert accepted.status_code == 201
    assert client.get("/api/v1/cart").get_json()["items"][0]["quantity"] == 2


def test_token_authenticated_write_needs_no_csrf(client, user_factory):
    user_factory()
    token = get_token(client).get_json()["token"]

    response = client.delete("/api/v1/auth/tokens", headers={TOKEN_HEADER: token})

    assert response.status_code == 204


# Errors: one JSON shape


def test_me_without_auth_is_401_json(client):
    response = client.get("/api/v1/me")

    assert_error(response, 401, "unauthorized")
    assert response.headers["WWW-Authenticate"].startswith("Authentication-Token")


def test_unknown_api_path_is_404_json(client):
    assert_error(client.get("/api/v1/no-such-thing"), 404, "not_found")


def test_wrong_method_is_405_json(client):
    response = client.get("/api/v1/auth/token")

    assert_error(response, 405, "method_not_allowed")
    assert "POST" in response.headers["Allow"]


def test_malformed_json_is_400_json(client):
    response = client.post("/api/v1/auth/token", data="{not json", content_type="application/json")

    assert_error(response, 400, "bad_request")


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"email": "a@example.com"}, {"password": ["Missing data for required field."]}),
        ({"email": 5, "password": "x"}, {"email": ["Not a valid string."]}),
        (
            {"email": "a@example.com", "password": "x", "admin": True},
            {"admin": ["Unknown field."]},
        ),
    ],
)
def test_invalid_token_request_is_422_with_fields(client, body, fields):
    response = client.post("/api/v1/auth/token", json=body)

    error = assert_error(response, 422, "validation_failed")
    assert error["fields"] == fields


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"data": {"email": "a@example.com", "password": "x"}},
        {"data": '{"email": "a@example.com", "password": "x"}', "content_type": "text/plain"},
    ],
    ids=["no-body", "form-body", "text-body"],
)
def test_token_request_without_a_json_body_is_422(client, kwargs):
    response = client.post("/api/v1/auth/token", **kwargs)

    error = assert_error(response, 422, "validation_failed")
    assert error["fields"] == {"_body": ["A JSON body is required."]}


def test_json_array_body_is_422(client):
    assert_error(client.post("/api/v1/auth/token", json=[1, 2]), 422, "validation_failed")


def test_failed_token_requests_are_rate_limited_but_successes_are_not(client, user_factory):
    user_factory()
    for _ in range(12):
        assert get_token(client).status_code == 200
    for _ in range(10):
        assert get_token(client, password="wrong").status_code == 401

    error = assert_error(get_token(client), 429, "too_many_requests")

    assert error["message"]


def test_user_sees_no_other_users_data(app, client, user_factory):
    user_factory()
    other_id = user_factory(email="other@example.com")
    token = get_token(client).get_json()["token"]

    me = client.get("/api/v1/me", headers={TOKEN_HEADER: token}).get_json()

    assert me["id"] != other_id
    with app.app_context():
        assert db.session.scalar(select(User.email).where(User.id == me["id"])) == (
            "shopper@example.com"
        )
