"""Hostile bodies (issue 34): JSON nested past JSON_MAX_DEPTH, chunked bodies past the limit."""

import json
import logging
import threading

import pytest
from werkzeug.serving import make_server

from app.app_factory import create_app
from app.wrappers import json_nesting_over
from tests.factories import ProductFactory, create
from tests.helpers import TEST_CONFIG, TOKEN_HEADER, assert_error, post_chunked

DEPTH_MESSAGE = "The JSON body nests arrays and objects more than 32 deep."
TWO_MB = 2 * 1024 * 1024


def nested(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


@pytest.mark.parametrize("depth", [1000, 100_000])
@pytest.mark.parametrize("path", ["/api/v1/auth/token", "/api/v1/cart/items"])
def test_deeply_nested_json_is_400_in_the_api_shape(client, caplog, path, depth):
    response = client.post(path, data=nested(depth), content_type="application/json")

    error = assert_error(response, 400, "bad_request")
    assert error["message"] == DEPTH_MESSAGE
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []


@pytest.mark.parametrize("depth", [1000, 100_000])
def test_deeply_nested_json_to_flask_security_is_400_without_a_traceback(client, caplog, depth):
    response = client.post("/login", data=nested(depth), content_type="application/json")

    assert response.status_code == 400
    assert DEPTH_MESSAGE in response.get_data(as_text=True)
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []


def test_deeply_nested_json_with_a_token_header_is_still_400(client, caplog):
    """The token loader reads the body (silently) while the error page is rendered."""
    response = client.post(
        "/login",
        data=nested(1000),
        content_type="application/json",
        headers={TOKEN_HEADER: "not-a-token"},
    )

    assert response.status_code == 400
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []


def test_json_at_the_depth_limit_is_parsed(client):
    response = client.post("/api/v1/cart/items", data=nested(32), content_type="application/json")

    assert_error(response, 422, "validation_failed")


def test_a_body_under_the_limit_still_works(app, client):
    product_id = create(app, ProductFactory)

    response = client.post("/api/v1/cart/items", json={"product_id": product_id, "quantity": 1})

    assert response.status_code == 201


def test_brackets_inside_strings_do_not_count_as_nesting(client):
    body = {"email": "shopper@example.com", "password": "[[[{{{" * 40}

    response = client.post("/api/v1/auth/token", json=body)

    assert_error(response, 401, "unauthorized")


def test_the_openapi_document_states_the_body_limits_from_their_settings():
    app = create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": "sqlite://", "JSON_MAX_DEPTH": 7})

    description = app.test_client().get("/api/v1/openapi.json").get_json()["info"]["description"]

    assert description.endswith(
        " A request body over 1,048,576 bytes is 413, whether it is sent with Content-Length"
        " or chunked; a JSON body nesting arrays and objects more than 7 deep"
        " (JSON_MAX_DEPTH) is 400."
    )


@pytest.mark.parametrize(
    ("text", "over"),
    [
        ('{"a": [[1, {"b": [2]}]]}', False),
        ('["' + "[" * 50 + '"]', False),  # brackets inside a string do not nest
        ('["\\"' + "[" * 50 + '"]', False),  # nor after an escaped quote
        ("[" * 33 + "]" * 33, True),
        ("{" + '"a":[' * 40, True),  # unterminated: still too deep
    ],
)
def test_json_nesting_over_counts_brackets_outside_strings(text, over):
    assert json_nesting_over(text.encode(), 32) is over


# Chunked bodies under a real server: werkzeug's (`make run`); uwsgi's in test_operations.py


@pytest.fixture
def live_server(app):
    """The app under werkzeug's server, as `make run` serves it; yields its port."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_port
    server.shutdown()
    thread.join(timeout=10)


def test_a_2_mb_chunked_body_is_413_under_werkzeug(app, live_server):
    product_id = create(app, ProductFactory)
    body = json.dumps({"product_id": product_id, "quantity": 1}).encode() + b" " * TWO_MB

    status, answer = post_chunked(f"127.0.0.1:{live_server}", "/api/v1/cart/items", body)

    assert status == 413
    assert answer == {
        "error": {
            "status": 413,
            "code": "payload_too_large",
            "message": "The request body is over the 1,048,576 bytes this site accepts.",
        }
    }


def test_a_small_chunked_body_is_accepted_under_werkzeug(app, live_server):
    product_id = create(app, ProductFactory)
    body = json.dumps({"product_id": product_id, "quantity": 1}).encode() + b" " * 100_000

    status, answer = post_chunked(f"127.0.0.1:{live_server}", "/api/v1/cart/items", body)

    assert status == 201
    assert [item["quantity"] for item in answer["items"]] == [1]
