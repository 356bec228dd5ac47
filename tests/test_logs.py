"""Logs: JSON lines (LOG_FORMAT) carrying request_id, user_id and order, X-Request-ID on every
response, and no card number, password, token or secret in any line."""

import io
import json
import logging
import re

import pytest
from flask import request

from app import logs
from tests.helpers import ADDRESS, GOOD_CARD, PASSWORD, TEST_CONFIG, TOKEN_HEADER, csrf_token, login

pytestmark = pytest.mark.app_config(LOG_FORMAT="json", LOG_LEVEL="INFO")
NEW_PASSWORD = "a brand new passphrase 42"
log = logging.getLogger("tests.echo")


@pytest.fixture
def output(app) -> io.StringIO:
    """What the app's log handler writes."""
    [handler] = [h for h in logging.getLogger().handlers if h.get_name() == logs.HANDLER_NAME]
    stream = io.StringIO()
    handler.setStream(stream)  # type: ignore[attr-defined]
    return stream


def records(output: io.StringIO) -> list[dict]:
    lines = output.getvalue().splitlines()
    assert lines
    return [json.loads(line) for line in lines]  # each line is one JSON object


def add_echo(app) -> None:
    """A route that logs what careless code would: the form and the credentials' headers."""

    @app.post("/test-echo")
    def echo():
        log.warning("form %r", request.form.to_dict())
        log.warning("headers %s", dict(request.headers))
        log.warning("body %s", request.get_data(as_text=True))
        return ""


def checkout_form(client) -> dict:
    html = client.get("/checkout").get_data(as_text=True)
    key = re.search(r'name="checkout_key" type="hidden" value="([^"]+)"', html).group(1)
    return {
        **ADDRESS,
        "payment_method": "test",
        "card_number": GOOD_CARD,
        "checkout_key": key,
        "csrf_token": csrf_token(client, "/checkout"),
    }


def test_checkout_login_and_reset_log_json_lines_with_context_and_no_secret(
    app, client, filled_cart, outbox, output
):
    add_echo(app)
    user_id = filled_cart["user_id"]

    assert login(client).status_code == 302
    form = checkout_form(client)
    placed = client.post("/checkout", data=form)
    client.post("/test-echo", data=form, headers={"Authorization": "Bearer abc.def-SECRET9"})
    api_token = client.post(
        "/api/v1/auth/token", json={"email": "shopper@example.com", "password": PASSWORD}
    ).get_json()["token"]
    client.post("/test-echo", json={"password": PASSWORD}, headers={TOKEN_HEADER: api_token})
    client.post("/logout", data={"csrf_token": csrf_token(client, "/account")})
    client.post(
        "/reset", data={"email": "shopper@example.com", "csrf_token": csrf_token(client, "/reset")}
    )
    reset_path = re.search(r"http://localhost(/reset/[^\s\"<]+)", outbox[-1].body).group(1)
    reset_form = {
        "password": NEW_PASSWORD,
        "password_confirm": NEW_PASSWORD,
        "csrf_token": csrf_token(client, reset_path),
    }
    reset = client.post(reset_path, data=reset_form)
    client.post("/test-echo", data={**reset_form, "link": f"http://localhost{reset_path}"})
    found = records(output)
    text = output.getvalue()

    assert (placed.status_code, reset.status_code) == (302, 302)
    number = re.search(r"/orders/([A-Z0-9-]+)", placed.headers["Location"]).group(1)
    assert all(re.fullmatch(r"[0-9a-f]{32}", r["request_id"]) for r in found)
    assert {"time", "level", "logger", "message"} <= set(found[0])
    paid = [r for r in found if r["message"] == "Order status pending_payment -> paid"]
    assert [(r["order"], r["user_id"]) for r in paid] == [(number, user_id)]
    mailed = [r for r in found if r["message"].startswith("Task orders.mail[")]
    assert [r.get("order") for r in mailed] == [number]  # the confirmation, inline
    echoes = [r for r in found if r["logger"] == "tests.echo"]
    assert len(echoes) == 9
    assert {r.get("user_id") for r in echoes} == {user_id, None}
    secrets = [
        GOOD_CARD,
        GOOD_CARD.replace(" ", ""),
        PASSWORD,
        NEW_PASSWORD,
        api_token,
        "abc.def-SECRET9",
        form["csrf_token"],
        reset_form["csrf_token"],
        reset_path.rsplit("/", 1)[-1],
        TEST_CONFIG["SECRET_KEY"],
    ]
    assert [secret for secret in secrets if secret in text] == []
    assert text.count(logs.REDACTED) >= len(secrets)


def test_every_response_carries_its_request_id(client, product_factory):
    product_factory("Green Tea")

    given = client.get("/api/v1/", headers={"X-Request-ID": "edge-7f3a.b_c"})
    too_long = client.get("/api/v1/", headers={"X-Request-ID": "x" * 65})
    odd = client.get("/api/v1/", headers={"X-Request-ID": "a b"})
    first, cached = client.get("/products/green-tea"), client.get("/products/green-tea")

    assert given.headers["X-Request-ID"] == "edge-7f3a.b_c"
    for response in (too_long, odd, first, cached):
        assert re.fullmatch(r"[0-9a-f]{32}", response.headers["X-Request-ID"])
    assert cached.headers.get_all("X-Request-ID") == [cached.headers["X-Request-ID"]]
    assert first.headers["X-Request-ID"] != cached.headers["X-Request-ID"]  # not stored


def test_outside_requests_records_carry_what_is_bound(app, output):
    with app.app_context(), logs.bind(order="SF-ABCDEFGHJK"):
        logging.getLogger("app.orders.commands").info("expired %d", 1)
    logging.getLogger("app.orders.commands").info("after")

    first, second = records(output)
    assert (first["message"], first["order"], "request_id" in first) == (
        "expired 1",
        "SF-ABCDEFGHJK",
        False,
    )
    assert "order" not in second


@pytest.mark.parametrize(
    ("config", "chosen"),
    [
        ({"LOG_FORMAT": None, "ENV": "development"}, "text"),
        ({"LOG_FORMAT": None, "ENV": "production"}, "json"),
        ({"LOG_FORMAT": "text", "ENV": "production"}, "text"),
    ],
)
def test_log_format_is_json_in_production_text_elsewhere(config, chosen):
    assert logs.log_format(config) == chosen
