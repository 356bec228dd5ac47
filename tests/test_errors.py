"""The API's error codes come from werkzeug's status phrases, with a few names of its own."""

import pytest
from werkzeug.exceptions import NotFound

from app.api.spec import api
from app.errors import http_code

# The codes the API answered before they were derived from werkzeug's table.
API_CODES = {
    400: "bad_request",
    401: "unauthorized",
    402: "payment_required",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_failed",
    429: "too_many_requests",
    500: "internal_error",
    503: "service_unavailable",
}


@pytest.mark.parametrize(("status", "code"), API_CODES.items())
def test_http_code_keeps_the_api_names(status, code):
    assert http_code(status) == code


def test_unknown_status_has_the_generic_code():
    assert http_code(599) == "error"


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "status", "code"),
    [
        ("get", "/api/v1/no-such-thing", {}, 404, "not_found"),
        ("delete", "/api/v1/", {}, 405, "method_not_allowed"),
        ("get", "/api/v1/products?page=0", {}, 422, "validation_failed"),
        (
            "post",
            "/api/v1/cart/items",
            {"data": b"x" * (1024 * 1024 + 1), "content_type": "application/json"},
            413,
            "payload_too_large",
        ),
    ],
)
def test_api_answers_the_same_codes(client, method, path, kwargs, status, code):
    response = getattr(client, method)(path, **kwargs)

    assert response.status_code == status
    assert response.get_json()["error"]["code"] == code


def test_flask_smorest_hook_answers_in_the_api_shape(app):
    with app.test_request_context("/api/v1/no-such-thing"):
        response, status = api.handle_http_exception(NotFound("No such thing."))

    assert status == 404
    assert response.get_json() == {
        "error": {"status": 404, "code": "not_found", "message": "No such thing."}
    }
