"""Security defaults: headers, cookies, production checks, rate limits, error pages."""

import re
import runpy

import pytest
import redis

from app.app_factory import PROJECT_ROOT, ConfigError, create_app
from app.extensions import db
from tests.factories import UserFactory, create, two_factor_user
from tests.helpers import PASSWORD, PRODUCTION_CONFIG, TEST_CONFIG, csrf_token, login

JSON = "application/json"


def test_pages_send_security_headers(client):
    response = client.get("/")

    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp
    assert "script-src 'self'" in csp
    assert "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "Strict-Transport-Security" not in response.headers  # development is plain http


def test_pages_have_no_inline_script(client, user_factory):
    user_factory()
    login(client)
    for path in ("/", "/about", "/account", "/tf-setup", "/change"):
        html = client.get(path).get_data(as_text=True)
        assert "<script>" not in html, path
        assert "<style>" not in html, path


def test_session_cookie_is_httponly_and_lax(client, user_factory):
    user_factory()

    response = login(client)

    cookie = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("session="))
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # development over plain http


@pytest.fixture
def production_app(backend, request):
    app = request.getfixturevalue("app")
    # the factory decides cookie flags at start-up: build a second app in production mode
    return create_app(
        {**PRODUCTION_CONFIG, "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"]}
    )


def test_production_sets_secure_cookies_and_hsts(production_app):
    from app.extensions import db

    with production_app.app_context():
        db.create_all()
    client = production_app.test_client()
    response = client.get("/login", base_url="https://shop.example")

    assert production_app.config["SESSION_COOKIE_SECURE"] is True
    assert production_app.config["REMEMBER_COOKIE_SECURE"] is True
    assert "max-age=" in response.headers["Strict-Transport-Security"]
    cookie = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("session="))
    assert "Secure" in cookie
    spa = client.get("/login", base_url="https://shop.example", headers={"Accept": JSON})
    xsrf = next(c for c in spa.headers.getlist("Set-Cookie") if c.startswith("XSRF-TOKEN="))
    assert "Secure" in xsrf


def test_single_page_apps_get_the_csrf_token_in_a_cookie_scripts_read(app, client):
    """Flask-Security's SPA pattern (the React storefront): a JSON GET /login sets XSRF-TOKEN,
    readable by scripts (not HttpOnly), never sent by other sites (Strict); a write that
    sends it back in X-XSRF-Token passes the CSRF check, one without it does not."""
    app.config["WTF_CSRF_ENABLED"] = True
    response = client.get("/login", headers={"Accept": JSON})

    cookie = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("XSRF-TOKEN="))
    assert "HttpOnly" not in cookie
    assert "SameSite=Strict" in cookie
    assert "Secure" not in cookie  # development over plain http
    token = client.get_cookie("XSRF-TOKEN").value
    assert response.get_json()["response"]["csrf_token"] == token
    body = {"email": "nobody@example.com", "password": "wrong"}
    refused = client.post("/login", json=body)
    checked = client.post("/login", json=body, headers={"X-XSRF-Token": token})
    assert refused.status_code == 400
    assert refused.get_json()["response"]["errors"] == ["The CSRF token is missing."]
    assert checked.status_code == 400
    assert "csrf" not in checked.get_data(as_text=True).lower()  # refused for the password
    added = client.post("/api/v1/cart/items", json={"product_id": 1, "quantity": 1})
    assert added.status_code == 400  # a cookie-carrying API write needs the token too
    with_token = client.post(
        "/api/v1/cart/items", json={"product_id": 1, "quantity": 1}, headers={"X-XSRF-Token": token}
    )
    assert with_token.status_code == 404  # past the CSRF check: there is no product 1


@pytest.mark.parametrize(
    "missing",
    [
        "SECRET_KEY",
        "SECURITY_PASSWORD_SALT",
        "SECURITY_TOTP_SECRETS",
        "SECURITY_MULTI_FACTOR_RECOVERY_CODES_KEYS",
    ],
)
def test_production_refuses_to_start_without_a_secret(missing):
    config = {**TEST_CONFIG, "ENV": "production", missing: ""}

    with pytest.raises(ConfigError, match=missing):
        create_app(config)


def test_instance_config_script_writes_a_fresh_recovery_codes_key(tmp_path):
    from cryptography.fernet import Fernet
    from flask import Config

    script = runpy.run_path(str(PROJECT_ROOT / "scripts" / "write_instance_config.py"))
    keys = []
    for name in ("one.cfg.py", "two.cfg.py"):
        assert script["main"](tmp_path / name) == 0
        config = Config(str(tmp_path))
        config.from_pyfile(name)
        [key] = config["SECURITY_MULTI_FACTOR_RECOVERY_CODES_KEYS"]
        assert Fernet(key).decrypt(Fernet(key).encrypt(b"code")) == b"code"
        keys.append(key)

    assert keys[0] != keys[1]


def test_database_url_from_environment(monkeypatch, tmp_path):
    url = f"sqlite:///{tmp_path / 'env.sqlite'}"
    monkeypatch.setenv("DATABASE_URL", url)

    app = create_app(TEST_CONFIG)

    assert app.config["SQLALCHEMY_DATABASE_URI"] == url


def test_prefixed_environment_overrides_config(monkeypatch):
    monkeypatch.setenv("STOREFRONT_SECURITY_CONFIRMABLE", "false")

    app = create_app(TEST_CONFIG)

    assert app.config["SECURITY_CONFIRMABLE"] is False


# Rate limits


def failed_login(client):
    return client.post(
        "/login",
        data={
            "email": "shopper@example.com",
            "password": "wrong password",
            "csrf_token": csrf_token(client, "/login"),
        },
    )


def test_failed_logins_are_limited_per_client(client, user_factory):
    user_factory()
    for _ in range(10):
        assert failed_login(client).status_code == 200

    blocked = failed_login(client)

    assert blocked.status_code == 429
    assert "Too many attempts (10 per 1 minute)" in blocked.get_data(as_text=True)
    assert client.get("/login").status_code == 200  # the form itself is never limited


def test_blocked_login_form_says_when_to_retry(client, user_factory):
    user_factory()
    for _ in range(10):
        failed_login(client)

    blocked = failed_login(client)

    assert blocked.status_code == 429
    retry_after = int(blocked.headers["Retry-After"])
    assert 55 <= retry_after <= 60
    wait = re.search(r"Try again in (\d+) seconds\.", blocked.get_data(as_text=True))
    assert wait, blocked.get_data(as_text=True)
    assert abs(int(wait.group(1)) - retry_after) <= 1  # both read the clock, a moment apart


def test_successful_logins_do_not_count(client, user_factory):
    user_factory()
    for _ in range(12):
        assert login(client).status_code == 302
        client.post("/logout", data={"csrf_token": csrf_token(client, "/account")})

    assert failed_login(client).status_code == 200


def test_limit_is_per_client(app, user_factory):
    user_factory()
    attacker = app.test_client()
    for _ in range(11):
        failed_login(attacker)

    other = app.test_client()
    response = other.post(
        "/login",
        data={
            "email": "shopper@example.com",
            "password": PASSWORD,
            "csrf_token": csrf_token(other, "/login"),
        },
        environ_base={"REMOTE_ADDR": "10.1.2.3"},
    )

    assert response.status_code == 302


def test_failures_are_counted_across_workers_through_redis(backend, tmp_path, redis_server):
    """Two apps stand for two uwsgi workers; with Redis storage they share one count."""
    config = {
        **TEST_CONFIG,
        "SQLALCHEMY_DATABASE_URI": backend.fresh_url(tmp_path),
        "RATELIMIT_STORAGE_URI": redis_server.url,
    }
    with redis.Redis.from_url(redis_server.url) as storage:
        storage.flushdb()  # counts left by the other backend's run
    workers = [create_app(config), create_app(config)]
    with workers[0].app_context():
        db.create_all()
    create(workers[0], UserFactory)
    clients = [worker.test_client() for worker in workers]

    statuses = [failed_login(clients[i % 2]).status_code for i in range(11)]

    assert statuses == [200] * 10 + [429]
    assert failed_login(clients[1]).status_code == 429
    for worker in workers:
        with worker.app_context():
            db.engine.dispose()


def test_register_is_limited_by_config(app, client):
    app.config["RATELIMIT_ACCOUNT_EMAILS"] = "3 per hour"
    token = csrf_token(client, "/register")
    statuses = [
        client.post(
            "/register",
            data={
                "email": f"u{i}@example.com",
                "password": PASSWORD,
                "password_confirm": PASSWORD,
                "csrf_token": token,
            },
        ).status_code
        for i in range(4)
    ]

    assert statuses == [302, 302, 302, 429]


def test_blocked_register_form_says_when_to_retry_in_minutes(app, client):
    app.config["RATELIMIT_ACCOUNT_EMAILS"] = "1 per hour"
    token = csrf_token(client, "/register")
    data = {"password": PASSWORD, "password_confirm": PASSWORD, "csrf_token": token}
    client.post("/register", data={**data, "email": "u1@example.com"})

    blocked = client.post("/register", data={**data, "email": "u2@example.com"})

    assert blocked.status_code == 429
    assert 3500 <= int(blocked.headers["Retry-After"]) <= 3600
    assert "Try again in 60 minutes." in blocked.get_data(as_text=True)


def test_reset_requests_are_limited(app, client):
    app.config["RATELIMIT_ACCOUNT_EMAILS"] = "2 per hour"
    token = csrf_token(client, "/reset")

    statuses = [
        client.post("/reset", data={"email": "x@example.com", "csrf_token": token}).status_code
        for _ in range(3)
    ]

    assert statuses[-1] == 429


# Every failed step of signing in counts against the one failed-login limit


def two_factor_pending(app, client):
    """A 2FA user who gave the right password: the code step is pending."""
    from app.extensions import security

    _user_id, secret = two_factor_user(app)
    with app.app_context():
        code = security.totp_factory.generate_totp_password(secret)
    login(client)
    return code


def post_form(client, path, form_page, **data):
    return client.post(path, data={**data, "csrf_token": csrf_token(client, form_page)})


FAILED_STEPS = {
    "tf-validate": lambda c: post_form(c, "/tf-validate", "/tf-validate", code="000000"),
    "mf-recovery": lambda c: post_form(c, "/mf-recovery", "/mf-recovery", code="0000-0000-0000"),
    "tf-rescue": lambda c: post_form(c, "/tf-rescue", "/tf-validate", help_setup="help"),
    "reset-link": lambda c: c.get("/reset/not-a-token"),
    "reset-link-post": lambda c: post_form(
        c, "/reset/not-a-token", "/login", password=PASSWORD, password_confirm=PASSWORD
    ),
    "confirm-link": lambda c: c.get("/confirm/not-a-token"),
    "confirm-resend": lambda c: post_form(c, "/confirm", "/confirm", email="nobody@example.com"),
}


@pytest.mark.parametrize("step", list(FAILED_STEPS))
def test_failed_account_steps_reach_the_failed_login_limit(app, client, step):
    app.config["RATELIMIT_LOGIN_FAILURES"] = "3 per minute"
    if step in ("tf-validate", "mf-recovery", "tf-rescue"):
        two_factor_pending(app, client)
    fail = FAILED_STEPS[step]

    statuses = [fail(client).status_code for _ in range(4)]

    assert statuses[:3] in ([200] * 3, [302] * 3)
    assert statuses[3] == 429


def test_one_limit_counts_failed_logins_and_failed_codes_together(app, client):
    app.config["RATELIMIT_LOGIN_FAILURES"] = "3 per minute"
    create(app, UserFactory, email="other@example.com")
    assert failed_login(client).status_code == 200
    assert failed_login(client).status_code == 200
    two_factor_pending(app, client)  # a login with the right password does not count

    assert FAILED_STEPS["tf-validate"](client).status_code == 200
    assert FAILED_STEPS["tf-validate"](client).status_code == 429
    assert FAILED_STEPS["reset-link"](client).status_code == 429


def test_accepted_codes_and_valid_links_do_not_count(app, client, outbox):
    app.config["RATELIMIT_LOGIN_FAILURES"] = "2 per minute"
    code = two_factor_pending(app, client)
    assert post_form(client, "/tf-validate", "/tf-validate", code=code).status_code == 302
    client.post("/logout", data={"csrf_token": csrf_token(client, "/account")})
    post_form(client, "/reset", "/reset", email="shopper@example.com")
    reset_path = "/reset/" + outbox[-1].body.split("/reset/")[1].split()[0]

    for _ in range(3):
        assert client.get(reset_path).status_code == 200

    assert FAILED_STEPS["reset-link"](client).status_code == 302
    assert FAILED_STEPS["reset-link"](client).status_code == 302
    assert FAILED_STEPS["reset-link"](client).status_code == 429


# Error pages


def test_unknown_page_is_a_friendly_404(client):
    response = client.get("/no-such-page")

    assert response.status_code == 404
    html = response.get_data(as_text=True)
    assert "404 · Not Found" in html
    assert "Back to the home page" in html


def test_unexpected_error_is_a_plain_500_page_without_traceback(app, client):
    @app.get("/boom")
    def boom():
        raise RuntimeError("secret internals")

    response = client.get("/boom")

    assert response.status_code == 500
    html = response.get_data(as_text=True)
    assert "secret internals" not in html
    assert "Traceback" not in html
