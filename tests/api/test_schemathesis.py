"""Schemathesis over every operation in /api/v1/openapi.json, on both backends: generated
requests (valid and invalid) never get a 5xx, and every answer matches the document (status
code, content type, body schema); invalid requests are refused, valid ones accepted, undeclared
methods are 405. A seeded customer's token, and an admin's for the admin operations; path
parameters are either generated or a seeded row's, so both 404s and real resources are
exercised. Then a stateful run follows the document's links: check out, then read and cancel
the new order; add to the cart, then change and remove the line; add an address, then change
and delete it."""

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    missing_required_header,
    negative_data_rejection,
    positive_data_acceptance,
    response_schema_conformance,
    status_code_conformance,
    unsupported_method,
)

from app.accounts.services import ensure_roles
from app.app_factory import create_app
from app.catalog.models import Product
from app.extensions import db
from tests.factories import CategoryFactory, ProductFactory, UserFactory, create
from tests.helpers import ADDRESS, BODY, TEST_CONFIG, TOKEN_HEADER, get_token, openapi_path

# Answers that the document lists for requests it calls valid, from rules no JSON schema can
# state: {(method, path): {status: the error fields such an answer may name, None: any}}.
# The positive-data check (ST202) lets these through and nothing else: a 422 naming another
# field is still a valid request wrongly refused (as 1.0 for an integer was).
STATE_RULES = {
    ("POST", "/api/v1/orders"): {
        402: None,  # the card was declined
        # An empty cart (no fields), no card number for the test card, a reused key, a
        # voucher code that does not apply, a guest without an email (or cart), a saved
        # address of a guest, a country no shipping zone covers (none are set up here).
        422: {
            "payment.card_number",
            "Idempotency-Key",
            "voucher_code",
            "email",
            "shipping_address_id",
            "billing_address_id",
            "shipping_method_id",
            "payment.method",  # a provider the API knows that this shop does not enable
        },
        409: None,  # out of stock, or the voucher used up
    },
    # A cursor that is not a `next` of this listing; a lowest price above the highest.
    ("GET", "/api/v1/products"): {422: {"after", "price"}},
    # A code that does not exist or does not apply (none are set up here); an empty cart.
    ("POST", "/api/v1/cart/voucher"): {422: {"voucher_code"}},
    # A shipping method of another zone (or none offered there).
    ("GET", "/api/v1/cart/quote"): {422: {"shipping_method"}},
    # The cart's bounds; variant_id and product_id together, or neither, or a product_id whose
    # product has several variants.
    ("POST", "/api/v1/cart/items"): {422: {"quantity", "product_id", "variant_id"}},
    # No category has that slug; a currency other than the shop's (SHOP_CURRENCY, a setting);
    # a translation into a language the shop does not have (LANGUAGES, a setting).
    ("POST", "/api/v1/products"): {422: {"category", "currency", "translations"}},
    ("PATCH", "/api/v1/products/{slug}"): {422: {"category", "currency", "translations"}},
    # Option values that repeat or are blank; a variant's options that are not one value of
    # each of the product's options, or another variant's.
    ("POST", "/api/v1/products/{slug}/options"): {422: {"values"}},
    ("POST", "/api/v1/products/{slug}/variants"): {422: {"options"}},
    ("PATCH", "/api/v1/variants/{variant_id}"): {422: {"options"}},
    # A line the order does not have, more units than are left, shipping refunded before,
    # nothing at all, more than is left to refund.
    ("POST", "/api/v1/orders/{number}/refunds"): {422: {"lines", "shipping", "amount_cents"}},
    # The address book is full (ADDRESS_BOOK_MAX).
    ("POST", "/api/v1/addresses"): {422: {"_schema"}},
}


def positive_data_acceptance_within_rules(ctx, response, case):
    """schemathesis' positive_data_acceptance, less the answers STATE_RULES documents (a rule
    on a field covers the fields inside it: "translations" covers "translations.fr")."""
    rules = STATE_RULES.get((case.method, case.operation.path), {})
    if response.status_code in rules:
        allowed = rules[response.status_code]
        fields = set(((response.json() or {}).get("error") or {}).get("fields") or {})
        if allowed is None or all(
            any(field == rule or field.startswith(f"{rule}.") for rule in allowed)
            for field in fields
        ):
            return None
    return positive_data_acceptance(ctx, response, case)


def test_the_state_rules_are_documented_on_their_operations():
    document = SPEC_APP.test_client().get("/api/v1/openapi.json").get_json()
    for (method, path), rules in STATE_RULES.items():
        responses = document["paths"][path][method.lower()]["responses"]
        for status in rules:
            assert str(status) in responses, (method, path, status)
            assert "Also for a valid body" in responses[str(status)]["description"] or (
                status == 402
            ), (method, path, status)


# 5xx answers the document lists for an operation: the test card 4000 0000 0000 0119 makes the
# card payment not answer (503 with Retry-After; the order is kept, a retry charges once).
DOCUMENTED_503 = {("POST", "/api/v1/orders"): "payment_unavailable"}


def not_a_server_error_but_documented_503(ctx, response, case):
    """schemathesis' not_a_server_error, less the 503s DOCUMENTED_503 lists (with Retry-After)."""
    code = DOCUMENTED_503.get((case.method, case.operation.path))
    retry_after = "retry-after" in {name.lower() for name in response.headers}
    if response.status_code == 503 and code and retry_after:
        if ((response.json() or {}).get("error") or {}).get("code") == code:
            return None
    return not_a_server_error(ctx, response, case)


CHECKS = [
    not_a_server_error_but_documented_503,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    negative_data_rejection,
    positive_data_acceptance_within_rules,
    missing_required_header,
    unsupported_method,
]
ADMIN_EMAIL = "admin@example.com"
CUSTOMER_EMAIL = "shopper@example.com"
OTHER_EMAIL = "other@example.com"

# The document does not depend on the database; each test calls its own backend's app.
SPEC_APP = create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": "sqlite://"})
schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", SPEC_APP)
ADMIN_OPERATIONS = {
    (method, openapi_path(rule.rule))
    for rule in SPEC_APP.url_map.iter_rules()
    if rule.endpoint.startswith("api.admin.")
    for method in rule.methods
}
# Values of the seeded rows (path parameters, body fields), filled in by the `seeded` fixture.
seeded_values: dict[str, list] = {}
# schemathesis's WSGI calls send an Accept-Encoding and read the body as it comes: ask for it
# uncompressed (compression itself: tests/test_static_files.py).
PLAIN = {"Accept-Encoding": "identity"}


DOCUMENT = SPEC_APP.test_client().get("/api/v1/openapi.json").get_json()


def value_schemas(operation, location: str) -> dict[str, dict]:
    """The document's schema of each path parameter or top-level body field, by name."""
    item = DOCUMENT["paths"][operation.path]
    described = item[operation.method.lower()]
    if location == "path":
        parameters = item.get("parameters", []) + described.get("parameters", [])
        return {p["name"]: p["schema"] for p in parameters if p.get("in") == "path"}
    body = described["requestBody"]["content"]["application/json"]["schema"]
    if "$ref" in body:
        body = DOCUMENT["components"]["schemas"][body["$ref"].rsplit("/", 1)[1]]
    return body.get("properties", {})


def with_seeded_values(generated: dict | None, schemas: dict[str, dict]):
    """Keep the generated values (mostly 404s) or use a seeded row's, so real rows are hit too.

    Only values valid by the document are swapped: a value that schemathesis made invalid on
    purpose stays, or a valid seeded row would turn its negative case into a valid request."""
    if not isinstance(generated, dict):
        return st.just(generated)
    names = [
        name
        for name in generated
        if seeded_values.get(name)
        and Draft202012Validator(schemas.get(name, {})).is_valid(generated[name])
    ]
    if not names:
        return st.just(generated)
    seeded = st.fixed_dictionaries({name: st.sampled_from(seeded_values[name]) for name in names})
    return st.one_of(st.just(generated), seeded.map(lambda values: {**generated, **values}))


@schema.hook
def flatmap_path_parameters(context, path_parameters):
    return with_seeded_values(path_parameters, value_schemas(context.operation, "path"))


@schema.hook
def flatmap_body(context, body):
    return with_seeded_values(body, value_schemas(context.operation, "body"))


def add_to_cart(client, token: str, product_id: int) -> None:
    added = client.post(
        "/api/v1/cart/items",
        json={"product_id": product_id, "quantity": 1},
        headers={TOKEN_HEADER: token},
    )
    assert added.status_code == 201, added.get_json()


def add_address(client, token: str) -> int:
    added = client.post("/api/v1/addresses", json=ADDRESS, headers={TOKEN_HEADER: token})
    assert added.status_code == 201, added.get_json()
    return added.get_json()["id"]


def place_order(client, token: str, product_id: int) -> str:
    add_to_cart(client, token, product_id)
    placed = client.post("/api/v1/orders", json=BODY, headers={TOKEN_HEADER: token})
    assert placed.status_code == 201, placed.get_json()
    return placed.get_json()["number"]


@pytest.fixture
def seeded(app):
    """Users (customer, other customer, admin), categories, products, carts, orders and
    addresses.

    Returns the tokens by role; fills ``seeded_values``.
    """
    client = app.test_client()
    create(app, UserFactory, email=CUSTOMER_EMAIL)
    create(app, UserFactory, email=OTHER_EMAIL)
    with app.app_context():
        ensure_roles()
    create(app, UserFactory, email=ADMIN_EMAIL, roles=["admin"])
    tea = create(app, CategoryFactory, name="Tea")
    green = create(app, CategoryFactory, name="Green", parent_id=tea)
    product_ids = [
        # Stock for the stateful runs' many generated quantities (up to 1000 a line).
        create(app, ProductFactory, name="Sencha", category_id=green, stock=100_000),
        create(app, ProductFactory, name="Assam", category_id=tea, stock=100_000, price_cents=390),
        create(app, ProductFactory, name="Teapot", stock=3, price_cents=2500),
        create(app, ProductFactory, name="Old Blend", is_active=False),
    ]
    tokens = {
        email: get_token(client, email=email).get_json()["token"]
        for email in (CUSTOMER_EMAIL, OTHER_EMAIL, ADMIN_EMAIL)
    }
    numbers = [
        place_order(client, tokens[CUSTOMER_EMAIL], product_ids[0]),
        place_order(client, tokens[CUSTOMER_EMAIL], product_ids[1]),
        place_order(client, tokens[OTHER_EMAIL], product_ids[0]),
    ]
    for product_id in product_ids[:3]:  # a cart to change, empty and check out
        add_to_cart(client, tokens[CUSTOMER_EMAIL], product_id)
    address_ids = [
        add_address(client, tokens[CUSTOMER_EMAIL]),
        add_address(client, tokens[OTHER_EMAIL]),
    ]
    with app.app_context():
        variant_ids = [db.session.get(Product, pid).variants[0].id for pid in product_ids]
    seeded_values.update(
        slug=["sencha", "teapot", "old-blend"],
        product_id=product_ids,
        variant_id=variant_ids[:2],  # in stock: the stateful runs follow their lines
        number=numbers,
        category=["tea", "green"],
        address_id=address_ids,
    )
    yield {
        "customer": tokens[CUSTOMER_EMAIL],
        "admin": tokens[ADMIN_EMAIL],
        "in_stock": product_ids[:2],
        "addresses": address_ids[:1],
    }
    seeded_values.clear()


@pytest.mark.slow
@schema.parametrize()
@settings(
    max_examples=25,
    derandomize=True,  # the same cases on every run
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_api_conforms_to_its_document(case, app, seeded):
    role = "admin" if (case.method, case.operation.path) in ADMIN_OPERATIONS else "customer"

    headers = {TOKEN_HEADER: seeded[role], **PLAIN}
    case.call_and_validate(app=app, headers=headers, checks=CHECKS)


# Stateful runs: the customer's operations, chained by the document's links. A run of a few
# short scenarios must follow each chain at least once on one resource (an order, a cart line).
ORDER_CHAIN = [
    ("POST", "/api/v1/orders", 201),
    ("GET", "/api/v1/orders/{number}", 200),
    ("POST", "/api/v1/orders/{number}/cancel", 200),
]
CART_CHAIN = [
    ("POST", "/api/v1/cart/items", 201),
    ("PATCH", "/api/v1/cart/lines/{variant_id}", 200),
    ("DELETE", "/api/v1/cart/lines/{variant_id}", 200),
]
PRODUCT_CART_CHAIN = [
    ("POST", "/api/v1/cart/items", 201),
    ("PATCH", "/api/v1/cart/items/{product_id}", 200),
    ("DELETE", "/api/v1/cart/items/{product_id}", 200),
]
ADDRESS_CHAIN = [
    ("POST", "/api/v1/addresses", 201),
    ("PATCH", "/api/v1/addresses/{address_id}", 200),
    ("DELETE", "/api/v1/addresses/{address_id}", 204),
]
# name: (chain, the parameter naming the resource, whether each scenario starts with a full cart)
WORKFLOWS = {
    "order": (ORDER_CHAIN, "number", True),
    "cart-line": (CART_CHAIN, "variant_id", False),
    "cart-product-line": (PRODUCT_CART_CHAIN, "product_id", False),
    "address": (ADDRESS_CHAIN, "address_id", False),
}
# A new resource's parameter, from the answer that made it (others: from the request's body).
FROM_ANSWER = {"number": "number", "address_id": "id"}
STATEFUL_SETTINGS = settings(
    max_examples=30,  # scenarios
    stateful_step_count=5,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)


# A schema object of its own (include() shares the config): valid requests only, as the
# single-operation test sends the invalid ones; the document's links only, none inferred.
stateful_schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", SPEC_APP)
stateful_schema.hook(flatmap_path_parameters)
stateful_schema.hook(flatmap_body)
stateful_schema.config.generation.update(modes=[GenerationMode.POSITIVE])
stateful_schema.config.phases.stateful.inference.algorithms = []


def workflow_schema(chain):
    """The chain's operations only."""
    operations = {(method, path) for method, path, _status in chain}
    return stateful_schema.include(
        lambda ctx: (ctx.operation.method.upper(), ctx.operation.path) in operations
    )


def resource_of(case, response, key: str):
    """The order number or product id a step is about (new: from the answer or the body)."""
    if key in (case.path_parameters or {}):
        return str(case.path_parameters[key])
    if key in FROM_ANSWER:
        answer = response.json() if response.status_code == 201 else None
        return str(answer.get(FROM_ANSWER[key])) if isinstance(answer, dict) else None
    return str(case.body.get(key)) if isinstance(case.body, dict) else None


@pytest.mark.slow
@pytest.mark.parametrize("workflow", list(WORKFLOWS))
def test_stateful_runs_follow_the_links(app, seeded, workflow):
    chain, key, fill_cart = WORKFLOWS[workflow]
    client = app.test_client()
    headers = {TOKEN_HEADER: seeded["customer"], **PLAIN}
    steps: dict[str | None, set[tuple[str, str, int]]] = {}

    class Workflow(workflow_schema(chain).as_state_machine()):
        def setup(self):
            """Each scenario starts from the same cart and address book, so that a scenario
            replays alike: something to check out when the chain needs it, else an empty cart;
            the seeded addresses only, so that the book is never full."""
            cart = client.get("/api/v1/cart", headers=headers).get_json()
            for line in cart["items"]:
                client.delete(f"/api/v1/cart/lines/{line['variant_id']}", headers=headers)
            for product_id in seeded["in_stock"] if fill_cart else []:
                add_to_cart(client, seeded["customer"], product_id)
            for address in client.get("/api/v1/addresses", headers=headers).get_json():
                if address["id"] not in seeded["addresses"]:
                    client.delete(f"/api/v1/addresses/{address['id']}", headers=headers)

        def get_call_kwargs(self, case):
            return {"app": app, "headers": headers}

        def after_call(self, response, case):
            step = (case.method, case.operation.path, response.status_code)
            steps.setdefault(resource_of(case, response, key), set()).add(step)

        def validate_response(self, response, case, additional_checks=None, **kwargs):
            case.validate_response(response, checks=CHECKS, transport_kwargs=kwargs or None)

    Workflow.run(settings=STATEFUL_SETTINGS)

    assert any(set(chain) <= done for done in steps.values()), steps
