"""Accounts end to end through the test client: Flask-Security-Too as configured here."""

import re
import time

import pytest
from click.testing import CliRunner
from flask.cli import ScriptInfo
from passlib.totp import TOTP
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from app.accounts.models import User
from app.app_factory import create_app
from app.commands import CREATE_ADMIN_HINT
from app.extensions import db, security
from app.manage import cli
from tests.factories import UserFactory, create, two_factor_user
from tests.helpers import PASSWORD, TEST_CONFIG, TOKEN_HEADER, csrf_token, login

WEAK_PASSWORD = "password1"


def register(client, email="new@example.com", password=PASSWORD, confirm=None):
    return client.post(
        "/register",
        data={
            "email": email,
            "password": password,
            "password_confirm": confirm or password,
            "csrf_token": csrf_token(client, "/register"),
        },
    )


def link_in(message, path: str) -> str:
    match = re.search(rf"http://localhost(/{path}/[^\s\"<]+)", message.body)
    assert match, f"no /{path}/ link in: {message.body}"
    return match.group(1)


def user_count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(User.id)))


def get_user(app, email="shopper@example.com") -> User:
    with app.app_context():
        user = db.session.scalar(
            select(User).where(User.email == email).options(selectinload(User.roles))
        )
        db.session.expunge_all()
        return user


def logged_in(client) -> bool:
    return client.get("/account").status_code == 200


# Registration and confirmation


def test_register_creates_unconfirmed_customer_and_mails_confirmation_link(app, client, outbox):
    response = register(client)

    assert response.status_code == 302
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == "new@example.com"))
        assert user.role_names == ["customer"]
        assert user.confirmed_at is None
        assert user.password != PASSWORD
        assert user.password.startswith("$2b$")  # bcrypt
    assert [m.to for m in outbox] == [["new@example.com"]]
    assert "/confirm/" in outbox[0].body


def test_unconfirmed_user_cannot_log_in_until_confirmed(app, client, outbox):
    register(client)

    response = login(client, email="new@example.com")
    assert "Email requires confirmation." in response.get_data(as_text=True)
    assert not logged_in(client)

    client.get(link_in(outbox[0], "confirm"))
    response = login(client, email="new@example.com")

    assert response.status_code == 302
    assert logged_in(client)


def test_confirmation_can_be_turned_off_by_config(backend, request):
    app = request.getfixturevalue("app")
    app.config["SECURITY_LOGIN_WITHOUT_CONFIRMATION"] = True
    client = app.test_client()
    register(client)

    assert logged_in(client)


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("short1", "Password must be at least 8 characters"),
        (WEAK_PASSWORD, "This is a very common password."),
    ],
)
def test_weak_password_gets_form_error_and_creates_nothing(app, client, outbox, password, message):
    response = register(client, password=password)

    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    assert user_count(app) == 0
    assert outbox == []


def test_register_twice_with_same_email_is_refused(app, client, user_factory):
    user_factory(email="new@example.com")

    response = register(client, email="new@example.com")

    assert "new@example.com is already associated with an account." in response.get_data(
        as_text=True
    )
    assert user_count(app) == 1


def test_register_without_csrf_token_is_refused(app, client):
    response = client.post(
        "/register",
        data={"email": "new@example.com", "password": PASSWORD, "password_confirm": PASSWORD},
    )

    assert "The CSRF token is missing." in response.get_data(as_text=True)
    assert user_count(app) == 0


# Log in, log out, remember me


def test_login_with_wrong_password_shows_error_and_does_not_log_in(client, user_factory):
    user_factory()

    response = login(client, password="wrong password here")

    assert response.status_code == 200
    assert "Invalid password" in response.get_data(as_text=True)
    assert not logged_in(client)


def test_login_goes_to_account_page_and_tracks_the_login(app, client, user_factory):
    user_factory()

    response = login(client)

    assert response.status_code == 302
    assert response.headers["Location"] == "/account"
    user = get_user(app)
    assert user.login_count == 1
    assert user.current_login_ip == "127.0.0.1"
    assert user.current_login_at is not None


def test_login_never_redirects_off_site(client, user_factory):
    user_factory()
    token = csrf_token(client, "/login")

    response = client.post(
        "/login?next=https://evil.example/steal",
        data={"email": "shopper@example.com", "password": PASSWORD, "csrf_token": token},
    )

    assert response.status_code == 200
    assert "Redirections outside the domain are forbidden" in response.get_data(as_text=True)
    assert not logged_in(client)


def test_login_follows_a_local_next(client, user_factory):
    user_factory()
    token = csrf_token(client, "/login")

    response = client.post(
        "/login?next=/about",
        data={"email": "shopper@example.com", "password": PASSWORD, "csrf_token": token},
    )

    assert response.headers["Location"] == "/about"


def test_logout_is_post_only(client, user_factory):
    user_factory()
    login(client)

    assert client.get("/logout").status_code == 405
    assert logged_in(client)


def test_logout_without_csrf_token_keeps_the_session(client, user_factory):
    user_factory()
    login(client)

    client.post("/logout")

    assert logged_in(client)


def test_logout_with_csrf_token_ends_the_session(client, user_factory):
    user_factory()
    login(client)

    response = client.post("/logout", data={"csrf_token": csrf_token(client, "/account")})

    assert response.status_code == 302
    assert not logged_in(client)


def test_remember_me_sets_a_long_lived_httponly_cookie(client, user_factory):
    user_factory()

    response = login(client, remember=True)

    cookies = [h for h in response.headers.getlist("Set-Cookie") if h.startswith("remember_token=")]
    assert len(cookies) == 1
    assert "HttpOnly" in cookies[0]
    assert "SameSite=Lax" in cookies[0]
    assert "Expires=" in cookies[0]


def test_remember_cookie_logs_the_user_back_in(app, client, user_factory):
    user_factory()
    login(client, remember=True)
    remember = client.get_cookie("remember_token")
    fresh = app.test_client()
    fresh.set_cookie("remember_token", remember.value)

    assert logged_in(fresh)


# Forgotten and changed password


def test_forgotten_password_is_reset_through_the_mailed_link(app, client, user_factory, outbox):
    user_factory()
    client.post(
        "/reset",
        data={"email": "shopper@example.com", "csrf_token": csrf_token(client, "/reset")},
    )
    reset_path = link_in(outbox[0], "reset")
    new_password = "a brand new passphrase 42"

    response = client.post(
        reset_path,
        data={
            "password": new_password,
            "password_confirm": new_password,
            "csrf_token": csrf_token(client, reset_path),
        },
    )

    assert response.status_code == 302
    assert not logged_in(client)
    assert "Invalid password" in login(client).get_data(as_text=True)
    assert login(client, password=new_password).status_code == 302


def test_a_reset_asked_for_by_the_react_storefront_links_to_its_own_page(
    app, client, user_factory, outbox
):
    """The storefront at /app/ asks in JSON: the mailed link opens its reset page, whose token
    it sends back in JSON. The HTML form's mail (above) keeps Flask-Security's /reset/<token>."""
    user_factory()
    token = {
        "X-XSRF-Token": client.get("/login", headers={"Accept": "application/json"}).get_json()[
            "response"
        ]["csrf_token"]
    }
    assert (
        client.post("/reset", json={"email": "shopper@example.com"}, headers=token).status_code
        == 200
    )

    [message] = outbox
    app_path = link_in(message, "app/reset")
    html = message.alternatives[0][0]
    assert f'href="http://localhost{app_path}"' in html
    assert "http://localhost/reset/" not in message.body + html
    new_password = "a brand new passphrase 42"
    body = {"password": new_password, "password_confirm": new_password}
    reset = client.post(app_path.removeprefix("/app"), json=body, headers=token)
    assert reset.status_code == 200, reset.get_json()
    assert login(client, password=new_password).status_code == 302
    again = client.post(app_path.removeprefix("/app"), json=body, headers=token)
    assert again.status_code == 400  # spent with the password it set


def test_change_password_requires_the_current_one(app, client, user_factory):
    user_factory()
    login(client)
    new_password = "another long passphrase 7"
    token = csrf_token(client, "/change")

    wrong = client.post(
        "/change",
        data={
            "password": "not the password",
            "new_password": new_password,
            "new_password_confirm": new_password,
            "csrf_token": token,
        },
    )
    right = client.post(
        "/change",
        data={
            "password": PASSWORD,
            "new_password": new_password,
            "new_password_confirm": new_password,
            "csrf_token": token,
        },
    )

    assert "Invalid password" in wrong.get_data(as_text=True)
    assert right.status_code == 302
    with app.app_context():
        from flask_security import verify_password

        assert verify_password(new_password, get_user(app).password)


# Two-factor authentication (TOTP)


def enable_two_factor(client) -> str:
    """Set up the authenticator method for the logged-in user; return the TOTP key."""
    page = client.post(
        "/tf-setup", data={"setup": "authenticator", "csrf_token": csrf_token(client, "/tf-setup")}
    ).get_data(as_text=True)
    assert 'id="qrcode" src="data:image/svg+xml;base64,' in page
    key = re.search(r"<div>([A-Z2-7-]{16,})</div>", page).group(1).replace("-", "")
    response = client.post(
        "/tf-validate",
        data={
            "code": TOTP(key=key).generate().token,
            "csrf_token": csrf_token(client, "/tf-setup"),
        },
    )
    assert response.status_code == 302
    return key


def test_two_factor_pages_show_radio_buttons_and_buttons_as_such(client, user_factory):
    """A method to choose is a radio button with its label after it; a button has no label."""
    user_factory()
    login(client)

    setup = client.get("/tf-setup").get_data(as_text=True)
    codes = client.get("/mf-recovery-codes").get_data(as_text=True)

    radio = r'<input class="form-check-input" [^>]*type="radio" value="authenticator">'
    assert re.search(radio, setup)
    assert '<label class="form-check-label" for="setup-' in setup
    assert 'id="show_codes"' in codes
    assert 'for="show_codes"' not in codes


def test_two_factor_setup_then_login_asks_for_the_code(app, client, user_factory):
    user_factory()
    login(client)
    key = enable_two_factor(client)
    assert get_user(app).tf_primary_method == "authenticator"
    client.post("/logout", data={"csrf_token": csrf_token(client, "/account")})

    response = login(client)
    assert response.headers["Location"].startswith("/tf-validate")
    assert not logged_in(client)

    token = csrf_token(client, "/tf-validate")
    wrong = client.post("/tf-validate", data={"code": "000000", "csrf_token": token})
    assert "Invalid code" in wrong.get_data(as_text=True)
    # the setup used this time step's code: the next step's is accepted within the window
    next_code = TOTP(key=key).generate(time.time() + 30).token
    right = client.post("/tf-validate", data={"code": next_code, "csrf_token": token})

    assert right.status_code == 302
    assert logged_in(client)


def test_account_page_shows_two_factor_status_and_recovery_codes_work(app, client, user_factory):
    user_factory()
    login(client)
    assert "off" in client.get("/account").get_data(as_text=True)
    enable_two_factor(client)

    page = client.get("/account").get_data(as_text=True)
    codes_page = client.post(
        "/mf-recovery-codes",
        data={"csrf_token": csrf_token(client, "/mf-recovery-codes")},
    ).get_data(as_text=True)

    assert "on (authenticator app)" in page
    assert len(get_user(app).mf_recovery_codes) == 5
    assert (
        len(re.findall(r'<li class="fs-div">[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}</li>', codes_page))
        == 5
    )


# Account page and roles


def test_account_page_needs_login(client):
    response = client.get("/account")

    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")


def test_account_page_shows_email_and_roles(client, user_factory):
    user_factory()
    login(client)

    html = client.get("/account").get_data(as_text=True)

    assert 'id="account-email">shopper@example.com<' in html
    assert 'id="account-roles">customer<' in html
    assert 'id="account-2fa">off<' in html


def test_home_page_for_members_shows_email_and_logout_form(client, user_factory):
    user_factory()
    login(client)

    html = client.get("/").get_data(as_text=True)

    assert 'id="user-email">shopper@example.com<' in html
    assert re.search(
        r'<form action="/logout" method="post"[^>]*>\s*<input type="hidden" '
        r'name="csrf_token"',
        html,
    )


def test_cli_makes_the_first_admin(app, runner):
    assert runner.invoke(args=["seed"]).exit_code == 0
    created = runner.invoke(
        args=["users", "create", "boss@example.com", "--password", PASSWORD, "--active"]
    )
    added = runner.invoke(args=["roles", "add", "boss@example.com", "admin"])

    confirmed = runner.invoke(args=["users", "confirm", "boss@example.com"])

    assert created.exit_code == 0, created.output
    assert added.exit_code == 0, added.output
    assert confirmed.output == "Confirmed boss@example.com.\n"
    admin = get_user(app, "boss@example.com")
    assert admin.role_names == ["admin", "customer"]
    assert admin.confirmed_at is not None


def test_cli_confirm_of_unknown_user_fails_clearly(runner):
    result = runner.invoke(args=["users", "confirm", "ghost@example.com"])

    assert result.exit_code == 1
    assert "No user with e-mail ghost@example.com." in result.output


def test_create_admin_makes_a_confirmed_active_admin_who_can_log_in(app, runner, client):
    result = runner.invoke(
        args=["users", "create-admin", "boss@example.com"], input=f"{PASSWORD}\n{PASSWORD}\n"
    )

    assert result.exit_code == 0, result.output
    assert result.output == (
        "Password: \nRepeat for confirmation: \n"
        "Created admin boss@example.com (confirmed, active, roles: admin, customer).\n"
    )
    admin = get_user(app, "boss@example.com")
    assert admin.role_names == ["admin", "customer"]
    assert admin.active
    assert admin.confirmed_at is not None
    assert login(client, "boss@example.com").status_code == 302
    assert client.get("/admin/").status_code == 200


def test_create_admin_is_in_the_dbmanager_group_too(app):
    """dbmanager.py and `storefront` run app.manage's group: the same command is there."""
    result = CliRunner().invoke(
        cli,
        ["users", "create-admin", "boss@example.com", "--password", PASSWORD],
        obj=ScriptInfo(create_app=lambda: app),
    )

    assert result.exit_code == 0, result.output
    assert get_user(app, "boss@example.com").role_names == ["admin", "customer"]


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("short1", "Password must be at least 8 characters"),
        (WEAK_PASSWORD, "This is a very common password."),
    ],
)
def test_create_admin_refuses_a_weak_password_and_writes_nothing(app, runner, password, message):
    result = runner.invoke(
        args=["users", "create-admin", "boss@example.com", "--password", password]
    )

    assert result.exit_code == 1
    assert message in result.output
    assert user_count(app) == 0


def test_create_admin_refuses_an_invalid_email_and_writes_nothing(app, runner):
    result = runner.invoke(args=["users", "create-admin", "boss@", "--password", PASSWORD])

    assert result.exit_code == 1
    assert "Invalid email address" in result.output
    assert user_count(app) == 0


def test_create_admin_refuses_an_existing_email_and_says_what_to_do(app, runner, user_factory):
    user_factory(email="boss@example.com")

    result = runner.invoke(
        args=["users", "create-admin", "Boss@example.com", "--password", PASSWORD]
    )

    assert result.exit_code == 1
    assert "A user with e-mail boss@example.com already exists." in result.output
    assert "roles add boss@example.com admin" in result.output
    assert user_count(app) == 1
    assert get_user(app, "boss@example.com").role_names == ["customer"]


def test_seed_says_how_to_create_the_first_admin_until_there_is_one(runner):
    before = runner.invoke(args=["seed"])
    runner.invoke(args=["users", "create-admin", "boss@example.com", "--password", PASSWORD])

    after = runner.invoke(args=["seed"])

    assert before.output.endswith(CREATE_ADMIN_HINT + "\n")
    assert CREATE_ADMIN_HINT not in after.output


# API tokens: never a fresh login, only ever read from the Authentication-Token header

NEW_PASSWORD = "another long passphrase 7"


def api_token(client, code=None, email="shopper@example.com") -> str:
    body = {"email": email, "password": PASSWORD, "code": code}
    response = client.post("/api/v1/auth/token", json=body)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()["token"]


def totp_code(secret: str, offset: int = 0) -> str:
    """The TOTP code for now + offset seconds (the server accepts codes within its window)."""
    key = TOTP.using(secrets=TEST_CONFIG["SECURITY_TOTP_SECRETS"]).from_source(secret)
    return key.generate(time.time() + offset).token


@pytest.fixture
def token_client(app):
    """A client holding a 2FA user's API token and the CSRF token of its own cookie session,
    so a refusal below is about freshness, not a missing CSRF header."""
    user_id, secret = two_factor_user(app)
    client = app.test_client()
    token = api_token(client, code=totp_code(secret))
    client.user_id = user_id
    client.token_headers = {TOKEN_HEADER: token, "X-CSRF-Token": csrf_token(client, "/login")}
    return client


def test_api_token_cannot_disable_two_factor(app, token_client):
    response = token_client.post(
        "/tf-setup", json={"setup": "disable"}, headers=token_client.token_headers
    )

    assert response.status_code == 401
    assert response.get_json()["response"]["reauth_required"] is True
    assert get_user(app).tf_primary_method == "authenticator"


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_api_token_cannot_read_or_regenerate_recovery_codes(app, token_client, method):
    with app.app_context():
        user = db.session.get(User, token_client.user_id)
        security.mf_recovery_codes_util.create_recovery_codes(user)
        db.session.commit()
    before = get_user(app).mf_recovery_codes

    response = token_client.open(
        "/mf-recovery-codes", method=method, json={}, headers=token_client.token_headers
    )

    assert response.status_code == 401
    assert "recovery_codes" not in response.get_data(as_text=True)
    assert get_user(app).mf_recovery_codes == before


def test_api_token_cannot_change_the_password(app, token_client):
    response = token_client.post(
        "/change",
        json={
            "password": PASSWORD,
            "new_password": NEW_PASSWORD,
            "new_password_confirm": NEW_PASSWORD,
        },
        headers=token_client.token_headers,
    )

    assert response.status_code == 401
    with app.app_context():
        from flask_security import verify_password

        assert verify_password(PASSWORD, get_user(app).password)


def test_api_token_cannot_change_the_email(backend, request, monkeypatch):
    """/change-email is off in this shop; an app that turns it on still refuses tokens."""
    app = request.getfixturevalue("app")
    assert app.test_client().get("/change-email").status_code == 404
    # init_app only ever turns a feature on in the process-wide Security object: undo it
    monkeypatch.setattr(security, "change_email", security.change_email)
    with_change_email = create_app(
        {
            **TEST_CONFIG,
            "SECURITY_CHANGE_EMAIL": True,
            "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
        }
    )
    if backend.name == "sqlite":
        with with_change_email.app_context():
            db.create_all()
    create(with_change_email, UserFactory)
    outbox = with_change_email.extensions["mailman"].outbox = []
    client = with_change_email.test_client()
    token = api_token(client)
    headers = {TOKEN_HEADER: token, "X-CSRF-Token": csrf_token(client, "/login")}

    response = client.post("/change-email", json={"email": "thief@example.com"}, headers=headers)

    assert response.status_code == 401
    assert outbox == []
    with with_change_email.app_context():
        emails = db.session.scalars(select(User.email)).all()
        db.session.remove()
        db.engine.dispose()
    assert emails == ["shopper@example.com"]


def test_browser_session_can_still_change_two_factor(app, client, user_factory):
    user_factory()
    login(client)
    enable_two_factor(client)

    response = client.post(
        "/tf-setup", data={"setup": "disable", "csrf_token": csrf_token(client, "/tf-setup")}
    )

    assert response.status_code == 302
    assert get_user(app).tf_primary_method is None


@pytest.mark.parametrize("where", ["query", "json"])
def test_api_token_is_not_read_from_the_query_string_or_body(client, user_factory, where):
    user_factory()
    token = api_token(client)

    if where == "query":
        response = client.get(f"/api/v1/me?auth_token={token}")
    else:
        response = client.get("/api/v1/me", json={"auth_token": token})

    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "unauthorized"
    assert client.get("/api/v1/me", headers={TOKEN_HEADER: token}).status_code == 200


def test_api_token_with_a_query_token_beside_the_header_is_refused(client, user_factory):
    user_factory()
    token = api_token(client)

    response = client.get(f"/api/v1/me?auth_token={token}", headers={TOKEN_HEADER: token})

    assert response.status_code == 401


# TOTP codes are accepted once


def validate_code(client, code: str):
    return client.post(
        "/tf-validate", data={"code": code, "csrf_token": csrf_token(client, "/tf-validate")}
    )


def logout(client):
    client.post("/logout", data={"csrf_token": csrf_token(client, "/account")})


def test_totp_code_cannot_be_replayed_at_the_login_step(app, client):
    _user_id, secret = two_factor_user(app)
    code = totp_code(secret)
    login(client)
    assert validate_code(client, code).status_code == 302
    logout(client)

    login(client)
    replay = validate_code(client, code)

    assert replay.status_code == 200
    assert "Invalid code" in replay.get_data(as_text=True)
    assert not logged_in(client)
    assert validate_code(client, totp_code(secret, offset=30)).status_code == 302
    assert logged_in(client)


def test_totp_code_that_confirmed_the_setup_cannot_log_in(app, client, user_factory):
    user_factory()
    login(client)
    key = enable_two_factor(client)  # confirmed with this time step's code
    logout(client)

    login(client)
    replay = validate_code(client, TOTP(key=key).generate().token)

    assert "Invalid code" in replay.get_data(as_text=True)
    assert not logged_in(client)


def test_totp_code_cannot_be_replayed_for_an_api_token(app, client):
    _user_id, secret = two_factor_user(app)
    code = totp_code(secret)
    body = {"email": "shopper@example.com", "password": PASSWORD, "code": code}

    first = client.post("/api/v1/auth/token", json=body)
    replay = client.post("/api/v1/auth/token", json=body)

    assert first.status_code == 200
    assert replay.status_code == 401
    assert replay.get_json()["error"]["code"] == "unauthorized"


def test_older_totp_code_is_refused_after_a_newer_one(app, client):
    _user_id, secret = two_factor_user(app)
    newer = {"email": "shopper@example.com", "password": PASSWORD, "code": totp_code(secret, 30)}
    older = {**newer, "code": totp_code(secret)}

    assert client.post("/api/v1/auth/token", json=newer).status_code == 200
    assert client.post("/api/v1/auth/token", json=older).status_code == 401


@pytest.mark.mariadb
@pytest.mark.concurrency
def test_one_totp_code_sent_by_ten_clients_at_once_gives_one_token(app):
    """The counter is advanced by a conditional UPDATE: racing requests cannot all pass."""
    import threading

    pooled = create_app(
        {
            **TEST_CONFIG,
            "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
            "SQLALCHEMY_ENGINE_OPTIONS": {"pool_size": 12, "max_overflow": 2},
        }
    )
    user_id, secret = two_factor_user(pooled)
    body = {"email": "shopper@example.com", "password": PASSWORD, "code": totp_code(secret)}
    barrier = threading.Barrier(10)
    statuses = []

    def request_token():
        client = pooled.test_client()
        barrier.wait()
        statuses.append(client.post("/api/v1/auth/token", json=body).status_code)

    threads = [threading.Thread(target=request_token) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sorted(statuses) == [200] + [401] * 9
    with pooled.app_context():
        assert db.session.get(User, user_id).tf_totp_last_counter is not None
        db.session.remove()
        db.engine.dispose()


# Recovery codes are stored encrypted


def recovery_codes(client) -> list[str]:
    """Generate new recovery codes for the logged-in user; return them as the page shows them."""
    page = client.post(
        "/mf-recovery-codes", data={"csrf_token": csrf_token(client, "/mf-recovery-codes")}
    ).get_data(as_text=True)
    return re.findall(r'<li class="fs-div">([0-9a-f-]{14})</li>', page)


def test_recovery_codes_are_stored_encrypted_and_still_log_in_once(app, client, user_factory):
    user_factory()
    login(client)
    enable_two_factor(client)
    codes = recovery_codes(client)
    logout(client)

    stored = get_user(app).mf_recovery_codes
    assert len(codes) == len(stored) == 5
    assert not any(code in value for code in codes for value in stored)
    assert all(value.startswith("gAAAAA") for value in stored)  # Fernet tokens
    login(client)
    token = csrf_token(client, "/mf-recovery")
    used = client.post("/mf-recovery", data={"code": codes[2], "csrf_token": token})

    assert used.status_code == 302
    assert logged_in(client)
    assert len(get_user(app).mf_recovery_codes) == 4
    logout(client)
    login(client)
    again = client.post(
        "/mf-recovery", data={"code": codes[2], "csrf_token": csrf_token(client, "/mf-recovery")}
    )
    assert "Recovery code invalid" in again.get_data(as_text=True)
    assert not logged_in(client)


# Log out everywhere; remember-me lasts 30 days


def test_remember_me_cookie_lasts_thirty_days_by_default(app, client, user_factory):
    from datetime import UTC, datetime, timedelta
    from email.utils import parsedate_to_datetime

    user_factory()
    assert app.config["REMEMBER_COOKIE_DURATION"] == 30 * 24 * 60 * 60

    response = login(client, remember=True)

    cookie = next(h for h in response.headers.getlist("Set-Cookie") if "remember_token=" in h)
    expires = parsedate_to_datetime(re.search(r"Expires=([^;]+)", cookie).group(1))
    assert abs(expires - (datetime.now(UTC) + timedelta(days=30))) < timedelta(minutes=5)


def logout_everywhere(client, token=None):
    data = {"csrf_token": token if token is not None else csrf_token(client, "/account")}
    return client.post("/account/logout-everywhere", data=data)


def test_account_page_offers_log_out_everywhere_as_a_post_with_csrf(client, user_factory):
    user_factory()
    login(client)

    html = client.get("/account").get_data(as_text=True)

    assert re.search(
        r'<form action="/account/logout-everywhere" method="post"[^>]*>\s*'
        r'<input type="hidden" name="csrf_token" value="[^"]+">',
        html,
    )
    assert client.get("/account/logout-everywhere").status_code == 405


def test_log_out_everywhere_ends_other_sessions_tokens_and_this_browser(app, user_factory):
    user_id = user_factory()
    here, other_browser, remembered = app.test_client(), app.test_client(), app.test_client()
    login(here)
    login(other_browser)
    login(remembered, remember=True)
    remember_cookie = remembered.get_cookie("remember_token").value
    token = api_token(app.test_client())
    with app.app_context():
        before = db.session.get(User, user_id).fs_uniquifier

    response = logout_everywhere(here)

    assert response.status_code == 302
    assert response.headers["Location"] == "/login"
    assert not logged_in(here)
    assert not logged_in(other_browser)
    fresh = app.test_client()
    fresh.set_cookie("remember_token", remember_cookie)
    assert not logged_in(fresh)
    assert app.test_client().get("/api/v1/me", headers={TOKEN_HEADER: token}).status_code == 401
    with app.app_context():
        assert db.session.get(User, user_id).fs_uniquifier != before
    assert login(here).status_code == 302  # the password still works
    assert logged_in(here)


def test_log_out_everywhere_without_csrf_changes_nothing(app, client, user_factory):
    user_id = user_factory()
    login(client)
    other = app.test_client()
    login(other)
    with app.app_context():
        before = db.session.get(User, user_id).fs_uniquifier

    response = logout_everywhere(client, token="")

    assert response.status_code == 400
    assert logged_in(client)
    assert logged_in(other)
    with app.app_context():
        assert db.session.get(User, user_id).fs_uniquifier == before


def test_log_out_everywhere_needs_a_login(client):
    response = logout_everywhere(client, token=csrf_token(client, "/login"))

    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")
