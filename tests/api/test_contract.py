"""The API contract: /api/v1/openapi.json is valid OpenAPI 3.1, documents every API route with
its security and the shared error shape, and /api/v1/docs shows it from local assets only."""

import re

import pytest
from openapi_spec_validator import OpenAPIV31SpecValidator

from app.app_factory import create_app
from app.countries import country_codes
from app.errors import ValidationFailed
from app.orders.models import OrderStatus
from app.payments.providers import PROVIDERS
from tests.helpers import GOOD_CARD, TEST_CONFIG, csrf_token, openapi_path

SPEC_URL = "/api/v1/openapi.json"
DOCS_URL = "/api/v1/docs"
API_PREFIX = "/api/v1/"
# Routes under /api/v1 that are not API operations, so openapi.json leaves them out.
UNDOCUMENTED_ROUTES = {SPEC_URL, DOCS_URL}
HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}
UNDOCUMENTED_METHODS = {"HEAD", "OPTIONS"}  # Flask answers them for every route
ERROR_SCHEMA = {"$ref": "#/components/schemas/Error"}
# Error responses that document a body of their own, on purpose: a health check's 503 has the
# same body as its 200, so monitors read one shape.
OWN_ERROR_BODIES = {("GET", "/api/v1/health", "503"), ("GET", "/api/v1/health/ready", "503")}


def make_app():
    return create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": "sqlite://"})


def get_spec(app) -> dict:
    response = app.test_client().get(SPEC_URL)
    assert response.status_code == 200
    return response.get_json()


@pytest.fixture(scope="module")
def spec_app():
    """The document does not depend on the database: one app (SQLite, no tables) serves it."""
    return make_app()


@pytest.fixture(scope="module")
def spec(spec_app) -> dict:
    return get_spec(spec_app)


def operations(spec: dict):
    """(METHOD, path, operation) for every operation in the document."""
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method in HTTP_METHODS:
                yield method.upper(), path, operation


def routed_operations(app) -> set[tuple[str, str]]:
    return {
        (method, openapi_path(rule.rule))
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith(API_PREFIX) and rule.rule not in UNDOCUMENTED_ROUTES
        for method in rule.methods - UNDOCUMENTED_METHODS
    }


def undocumented_operations(app, spec: dict) -> list[tuple[str, str]]:
    """API routes (method, path) that the document does not describe."""
    documented = {(method, path) for method, path, _ in operations(spec)}
    return sorted(routed_operations(app) - documented)


# (a) A valid OpenAPI 3.1 document


def test_document_is_valid_openapi_3_1(spec):
    errors = [error.message for error in OpenAPIV31SpecValidator(spec).iter_errors()]

    assert spec["openapi"].startswith("3.1.")
    assert errors == []


# (b) Every API route is documented, with each of its methods


def test_every_api_route_is_documented(spec_app, spec):
    assert undocumented_operations(spec_app, spec) == []


def test_every_documented_operation_has_a_route(spec_app, spec):
    documented = {(method, path) for method, path, _ in operations(spec)}

    assert sorted(documented - routed_operations(spec_app)) == []


def test_the_routes_left_out_of_the_document_exist(spec_app, spec):
    rules = {rule.rule for rule in spec_app.url_map.iter_rules()}

    assert UNDOCUMENTED_ROUTES <= rules
    assert UNDOCUMENTED_ROUTES.isdisjoint(spec["paths"])


def test_checker_reports_a_route_added_without_documentation():
    app = make_app()

    def view(**_kwargs):
        return {}

    app.add_url_rule("/api/v1/debug/echo", "debug_echo", view, methods=["GET", "POST"])
    app.add_url_rule("/api/v1/debug/items/<int:item_id>", "debug_item", view)
    app.add_url_rule("/api/v1/me", "replace_me", view, methods=["PUT"])  # documented path
    app.add_url_rule("/debug/echo", "page_echo", view)  # not under /api/v1: not checked

    assert undocumented_operations(app, get_spec(app)) == [
        ("GET", "/api/v1/debug/echo"),
        ("GET", "/api/v1/debug/items/{item_id}"),
        ("POST", "/api/v1/debug/echo"),
        ("PUT", "/api/v1/me"),
    ]


@pytest.mark.parametrize(
    ("rule", "path"),
    [
        ("/api/v1/", "/api/v1/"),
        ("/api/v1/orders/<number>", "/api/v1/orders/{number}"),
        ("/api/v1/cart/items/<int:product_id>", "/api/v1/cart/items/{product_id}"),
        ("/api/v1/a/<string(length=2):code>/<b>", "/api/v1/a/{code}/{b}"),
    ],
)
def test_flask_rules_become_openapi_paths(rule, path):
    assert openapi_path(rule) == path


# (c) Security and the shared error schema


def test_every_operation_declares_its_security(spec):
    schemes = set(spec["components"]["securitySchemes"])
    problems = []

    assert spec["security"] == []  # the document's default: public
    for method, path, operation in operations(spec):
        for requirement in operation.get("security", spec["security"]):
            if not set(requirement) <= schemes:
                problems.append(f"{method} {path}: unknown scheme in {requirement}")

    assert problems == []


def test_documented_security_matches_what_anonymous_callers_get(app, client, spec):
    """An operation documented as needing credentials is 401 without them; any other is not."""
    headers = {"X-CSRF-Token": csrf_token(client, "/login")}  # let writes reach the auth check
    mismatches = []

    for method, path, operation in operations(spec):
        security = operation.get("security", spec["security"])
        needs_credentials = bool(security) and {} not in security
        url = re.sub(r"\{[^}]+\}", "1", path)
        body = {} if method in ("POST", "PUT", "PATCH") else None
        status = client.open(url, method=method, headers=headers, json=body).status_code
        if needs_credentials != (status == 401):
            mismatches.append(
                f"{method} {path}: documented security {security}, anonymous {status}"
            )

    assert mismatches == []


def test_every_error_response_uses_the_shared_error_schema(spec):
    shared = spec["components"]["responses"]
    problems = []

    for method, path, operation in operations(spec):
        for status, response in operation["responses"].items():
            if not (status == "default" or status[0] in "45"):
                continue
            if (method, path, status) in OWN_ERROR_BODIES:
                continue
            if "$ref" in response:
                response = shared[response["$ref"].rsplit("/", 1)[-1]]
            content = response.get("content", {})
            if content != {"application/json": {"schema": ERROR_SCHEMA}}:
                problems.append(f"{method} {path} {status}: {content}")

    assert problems == []


def test_the_error_schema_is_the_one_app_errors_sends(spec):
    schemas = spec["components"]["schemas"]

    assert schemas["Error"]["required"] == ["error"]
    assert schemas["Error"]["properties"]["error"] == {"$ref": "#/components/schemas/ErrorDetail"}
    assert sorted(schemas["ErrorDetail"]["required"]) == ["code", "message", "status"]
    assert set(schemas["ErrorDetail"]["properties"]) == {"status", "code", "message", "fields"}


# (d) The docs page


def test_the_shipping_country_is_documented_as_iso_3166_1_alpha_2(spec):
    country = spec["components"]["schemas"]["Address"]["properties"]["country"]

    assert country["pattern"] == "^[A-Z]{2}$"
    assert country["enum"] == list(country_codes())
    assert "DE" in country["enum"]
    assert not {"ZZ", "EU", "XA", "XB", "UN", "QO"} & set(country["enum"])


def test_the_card_number_is_documented_with_its_pattern(spec):
    card_number = spec["components"]["schemas"]["PaymentRequest"]["properties"]["card_number"]

    assert card_number["pattern"] == r"^(?:(?: *[0-9]){12,19} *)?$"
    assert re.fullmatch(card_number["pattern"], "")  # manual: no card


def accepted_by_test_provider(number: str) -> bool:
    try:
        PROVIDERS["test"].validate({"card_number": number})
    except ValidationFailed:
        return False
    return True


@pytest.mark.parametrize(
    "number",
    [
        GOOD_CARD,
        " 4242 4242 4242 4242 ",
        "4" * 12,
        "4" * 19,
        "4" * 11,
        "4" * 20,
        "4242-4242-4242-4242",
        "4242 4242 4242 424x",
        "   ",
    ],
)
def test_the_documented_card_pattern_is_the_test_providers_rule(spec, number):
    pattern = spec["components"]["schemas"]["PaymentRequest"]["properties"]["card_number"]

    assert bool(re.fullmatch(pattern["pattern"], number)) == accepted_by_test_provider(number)


def resolve_operation_ref(spec: dict, ref: str) -> tuple[str, str]:
    """'#/paths/~1api~1v1~1orders~1{number}/get' -> ("/api/v1/orders/{number}", "get")."""
    pointer, method = ref.removeprefix("#/paths/").rsplit("/", 1)
    path = pointer.replace("~1", "/").replace("~0", "~")
    assert method in spec["paths"][path], ref
    return path, method


EXPECTED_LINKS = {
    ("POST", "/api/v1/orders", "201"): {
        "GetOrder": ("/api/v1/orders/{number}", "get"),
        "GetGuestOrder": ("/api/v1/orders/guest/{link}", "get"),
        "CancelOrder": ("/api/v1/orders/{number}/cancel", "post"),
    },
    ("POST", "/api/v1/cart/items", "201"): {
        "SetQuantity": ("/api/v1/cart/lines/{variant_id}", "patch"),
        "RemoveLine": ("/api/v1/cart/lines/{variant_id}", "delete"),
        "SetProductQuantity": ("/api/v1/cart/items/{product_id}", "patch"),
        "RemoveProduct": ("/api/v1/cart/items/{product_id}", "delete"),
    },
    ("POST", "/api/v1/addresses", "201"): {
        "GetAddress": ("/api/v1/addresses/{address_id}", "get"),
        "ChangeAddress": ("/api/v1/addresses/{address_id}", "patch"),
        "DeleteAddress": ("/api/v1/addresses/{address_id}", "delete"),
    },
}


def test_links_lead_to_operations_and_fill_their_path_parameters(spec):
    found = {
        (method, path, status): response["links"]
        for method, path, operation in operations(spec)
        for status, response in operation["responses"].items()
        if "links" in response
    }

    assert set(found) == set(EXPECTED_LINKS)
    for key, links in found.items():
        targets = {
            name: resolve_operation_ref(spec, link["operationRef"]) for name, link in links.items()
        }
        assert targets == EXPECTED_LINKS[key]
        for name, link in links.items():
            path, _method = targets[name]
            assert set(link["parameters"]) == set(re.findall(r"{(\w+)}", path))


def test_every_json_body_is_required(spec):
    bodies = [
        (method, path, operation["requestBody"])
        for method, path, operation in operations(spec)
        if "requestBody" in operation
    ]

    assert len(bodies) == 15
    assert all(body["required"] is True for _method, _path, body in bodies)


def test_docs_page_serves_swagger_ui_from_local_assets_only(spec_app):
    client = spec_app.test_client()

    response = client.get(DOCS_URL)

    assert response.status_code == 200
    assert response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    assert re.findall(r"(?:https?:)?//[^\s\"'<>]+", html) == []  # no other host, no CDN
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    files = {asset.partition("?v=")[0] for asset in assets}  # versioned: app/static_files.py
    assert "/static/vendor/swagger-ui/swagger-ui-bundle.js" in files
    assert "/static/vendor/swagger-ui/swagger-ui.css" in files
    assert "/static/api-docs.js" in files
    for asset in assets:
        with client.get(asset) as asset_response:
            assert asset_response.status_code == 200, asset
    assert 'data-spec-url="/api/v1/openapi.json"' in html


def test_docs_page_has_no_inline_script_and_keeps_the_strict_csp(spec_app):
    response = spec_app.test_client().get(DOCS_URL)

    html = response.get_data(as_text=True)
    scripts = re.findall(r"<script\b([^>]*)>(.*?)</script>", html, flags=re.S)
    assert len(scripts) == 2
    assert all('src="/static/' in attributes and not body.strip() for attributes, body in scripts)
    assert not re.search(r"\son[a-z]+=", html)  # no inline event handlers either
    csp = response.headers["Content-Security-Policy"]
    assert "style-src 'self';" in csp
    assert "unsafe-inline" not in csp
    assert "unsafe-eval" not in csp


def test_vendored_swagger_ui_keeps_its_license(spec_app):
    client = spec_app.test_client()

    with client.get("/static/vendor/swagger-ui/LICENSE") as response:
        license_text = response.get_data(as_text=True)
    with client.get("/static/vendor/swagger-ui/NOTICE") as response:
        notice = response.get_data(as_text=True)

    assert "Apache License" in license_text
    assert "swagger-ui" in notice


def test_limits_from_settings_are_documented_with_this_shops_values():
    app = create_app(
        {**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": "sqlite://", "CART_MAX_QUANTITY": 77}
        | {"LISTING_MAX_PAGE": 500}
    )
    spec = app.test_client().get("/api/v1/openapi.json").get_json()
    quantity = spec["components"]["schemas"]["AddItemRequest"]["properties"]["quantity"]
    [page] = [
        p for p in spec["paths"]["/api/v1/products"]["get"]["parameters"] if p.get("name") == "page"
    ]
    assert (quantity["minimum"], quantity["maximum"]) == (1, 77)
    assert (page["schema"]["minimum"], page["schema"]["maximum"]) == (1, 500)


def test_order_statuses_are_documented_from_the_state_machine(spec):
    schemas = spec["components"]["schemas"]
    statuses = [str(status) for status in OrderStatus]
    assert schemas["Order"]["properties"]["status"]["enum"] == statuses
    assert schemas["OrderEvent"]["properties"]["to_status"]["enum"] == statuses
    assert schemas["OrderEvent"]["properties"]["from_status"]["enum"] == [*statuses, None]
