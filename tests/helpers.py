"""Plain helpers and constants shared by the tests. Fixtures live in conftest.py, rows are made
by tests/factories.py; a test module imports from here, never from another test module."""

import http.client
import json
import re
import threading

from sqlalchemy import func, select

from app.cart.models import Cart, CartItem
from app.catalog.models import Product
from app.extensions import db
from app.orders.models import Order, OrderEvent, Payment

PASSWORD = "correct horse battery staple"
ADMIN_EMAIL = "admin@example.com"
# Who calls, in the authorization matrices: nobody, a customer, another customer, an admin.
ROLES = ["anonymous", "customer", "other", "admin"]
ERROR_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    422: "validation_failed",
}
TOKEN_HEADER = "Authentication-Token"
# The test payment provider's cards (app/payments/providers.py).
GOOD_CARD = "4242 4242 4242 4242"
DECLINED_CARD = "4000 0000 0000 0002"
ADDRESS = {
    "name": "Ada Lovelace",
    "line1": "1 Analytical St",
    "line2": "",
    "city": "London",
    "postcode": "N1 1AA",
    "country": "GB",
}
# POST /api/v1/orders: ship to ADDRESS, pay with the good test card.
BODY = {"shipping_address": ADDRESS, "payment": {"method": "test", "card_number": GOOD_CARD}}

TEST_CONFIG = {
    "TESTING": True,
    "SECRET_KEY": "test-secret-key",
    "SECURITY_PASSWORD_SALT": "test-salt",
    "SECURITY_TOTP_SECRETS": {"1": "test-totp-secret"},
    "SECURITY_MULTI_FACTOR_RECOVERY_CODES_KEYS": ["dGVzdC1yZWNvdmVyeS1jb2Rlcy1rZXktMzItYnl0ZXM="],
    "SECURITY_PASSWORD_HASH_PASSLIB_OPTIONS": {"bcrypt__rounds": 4},
    "MAIL_BACKEND": "locmem",
    "DEMO_PHOTOS": False,  # 3 s a seed; on in tests/test_demo_photos.py and one make-run test
    # 40-110 ms a paid order: on where the e-mails' PDFs are read (test_invoices, test_refunds)
    "ORDER_EMAIL_PDFS": False,
    "RATELIMIT_STORAGE_URI": "memory://",
    "SITE_URL": "http://localhost",  # the test client's default host
}
# What production's start-up checks accept (app_factory.check_production_config).
PRODUCTION_CONFIG = {
    **TEST_CONFIG,
    "ENV": "production",
    "SECRET_KEY": "test-secret-key-long-enough-for-production",
    "SECURITY_PASSWORD_SALT": "test-salt-long-enough-for-production-use",
    "SECURITY_TOTP_SECRETS": {"1": "test-totp-secret-long-enough-for-production"},
    "SITE_URL": "https://shop.example",
    "PAYMENT_METHODS": ["manual"],
}


def csrf_token(client, path="/login") -> str:
    """Load a form page and return its CSRF token (stored in the session). A page shared by
    every visitor carries none: its token comes from /csrf-token, as static/visitor.js does."""
    html = client.get(path).get_data(as_text=True)
    match = re.search(r'<input[^>]*name="csrf_token"[^>]*value="([^"]+)"', html) or re.search(
        r'<meta name="csrf-token" content="([^"]+)"', html
    )
    if match:
        return match.group(1)
    return client.get("/csrf-token").get_json()["csrf_token"]


def admin_form_token(html: str) -> str:
    """The token of a Flask-Admin SecureForm on the page (WTForms session CSRF:
    ``expiry##hmac``)."""
    match = re.search(r'<input[^>]*name="csrf_token"[^>]*value="([^"]+##[^"]+)"', html)
    assert match, "no SecureForm csrf_token on the page"
    return match.group(1)


def admin_alerts(html: str) -> list[str]:
    """The flashed messages on a back-office page, whitespace collapsed."""
    found = re.findall(r'<div class="alert alert-[a-z]+ alert-dismissable">(.*?)</div>', html, re.S)
    return [" ".join(re.sub(r"<button.*?</button>", "", a, flags=re.S).split()) for a in found]


def login(client, email="shopper@example.com", password=PASSWORD, remember=False):
    data = {"email": email, "password": password, "csrf_token": csrf_token(client, "/login")}
    if remember:
        data["remember"] = "y"
    return client.post("/login", data=data)


def get_token(client, email="shopper@example.com", password=PASSWORD, **extra):
    return client.post("/api/v1/auth/token", json={"email": email, "password": password, **extra})


def token_headers(client, email="shopper@example.com") -> dict:
    """The API header of a fresh token for ``email``."""
    return {TOKEN_HEADER: get_token(client, email=email).get_json()["token"]}


def assert_error(response, status: int, code: str):
    """The API's one error shape (app/errors.py), with this status and code; returns it."""
    assert response.status_code == status
    assert response.is_json
    error = response.get_json()["error"]
    assert error["status"] == status
    assert error["code"] == code
    assert isinstance(error["message"], str)
    assert error["message"]
    return error


def openapi_path(rule: str) -> str:
    """Flask's /orders/<number> or /cart/items/<int:product_id> as OpenAPI's /orders/{number}."""
    return re.sub(r"<(?:[^<>:]+:)?([^<>:]+)>", r"{\1}", rule)


def run_together(count, work):
    """Run work(i) in `count` threads released at once; return their results or exceptions."""
    barrier = threading.Barrier(count)
    results = [None] * count

    def target(i):
        barrier.wait()
        try:
            results[i] = work(i)
        except Exception as error:  # noqa: BLE001 - collected and asserted by the test
            results[i] = error

    threads = [threading.Thread(target=target, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


def stock(app, product_id) -> int:
    with app.app_context():
        return db.session.get(Product, product_id).stock


def one_variant(product: dict) -> dict:
    """The ``options``, ``variants`` and ``images`` a product without options, images or sale
    answers in the API: its one variant has the product's SKU, price and stock (``|`` it to
    the expected product)."""
    variant_id = product["variants"][0]["id"] if product.get("variants") else None
    return {
        "sale": None,
        "sale_price_cents": None,
        "options": [],
        "images": [],
        "variants": [
            {
                "id": variant_id,
                "sku": product["sku"],
                "price_cents": product["price_cents"],
                "sale_price_cents": None,
                "in_stock": product["in_stock"],
                "stock": product["stock"],
                "options": [],
                "image_id": None,
            }
        ],
    }


def count(app, model) -> int:
    """How many rows ``model`` has."""
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def cart_rows(app) -> list[tuple]:
    """(cart user_id, has token, product_id, quantity) for every cart item, ordered."""
    with app.app_context():
        rows = db.session.execute(
            select(Cart.user_id, Cart.token.is_not(None), CartItem.product_id, CartItem.quantity)
            .join(CartItem.cart)
            .order_by(Cart.id, CartItem.product_id)
        ).all()
        return [tuple(row) for row in rows]


def snapshot(app) -> dict:
    """What a refused request must leave alone: orders, events, payments, stock, carts."""
    with app.app_context():

        def rows(*columns):
            return [tuple(row) for row in db.session.execute(select(*columns).order_by(*columns))]

        return {
            "orders": rows(Order.number, Order.status),
            "events": rows(OrderEvent.order_id, OrderEvent.to_status),
            "payments": rows(Payment.order_id, Payment.status),
            "stock": rows(Product.id, Product.stock),
            "carts": rows(CartItem.cart_id, CartItem.product_id, CartItem.quantity),
        }


def post_chunked(address: str, path: str, body: bytes, chunk=65536) -> tuple[int, dict]:
    """POST ``body`` with Transfer-Encoding: chunked (no Content-Length); status and JSON."""
    connection = http.client.HTTPConnection(address, timeout=30)
    chunks = (body[i : i + chunk] for i in range(0, len(body), chunk))
    try:
        connection.request(
            "POST",
            path,
            body=chunks,
            headers={"Content-Type": "application/json"},
            encode_chunked=True,
        )
        response = connection.getresponse()
        return response.status, json.loads(response.read())
    finally:
        connection.close()


def sign_in(page, email: str, password: str = PASSWORD) -> None:
    """Log in through the login page in a browser (Playwright page)."""
    page.goto("/login")
    page.fill("#email", email)
    page.fill("#password", password)
    page.click("#submit")


def fill_address(page) -> None:
    """Fill the checkout form's shipping address in a browser (Playwright page): Berlin."""
    page.fill("#name", "Ada Lovelace")
    page.fill("#line1", "Unter den Linden 1")
    page.fill("#city", "Berlin")
    page.fill("#postcode", "10117")
    page.select_option("#country", label="Germany")


def fill_checkout(page, card: str) -> None:
    """Fill the checkout form in a browser (Playwright page): an address in Berlin, the test
    card ``card``."""
    fill_address(page)
    page.get_by_label("Test card").check()
    page.fill("#card_number", card)
