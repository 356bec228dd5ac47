"""A guest shops, registers at checkout, pays; an admin ships the order in the back office.

Real headless Chromium against the app on a real HTTP server, on SQLite and on MariaDB, with a
small catalogue made beforehand: 3 products in 2 categories, one of them out of stock.
"""

import email
import re
from email import policy
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import expect

from app.accounts.datastore import user_datastore
from app.extensions import db
from tests.factories import CategoryFactory, ProductFactory, UserFactory, create
from tests.helpers import DECLINED_CARD, GOOD_CARD, PASSWORD, fill_checkout

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

CUSTOMER_EMAIL = "new.shopper@example.com"
ADMIN_EMAIL = "boss@example.com"
COFFEE = "SKU-COLOMBIAN-COFFEE"  # 2 x EUR 8.50
SENCHA = "SKU-SENCHA-GREEN-TEA"  # 1 x EUR 4.50, then 3


@pytest.fixture
def shop(live_app):
    """The catalogue and an admin, in the live server's database."""
    tea = create(live_app, CategoryFactory, name="Tea")
    coffee = create(live_app, CategoryFactory, name="Coffee")
    create(
        live_app,
        ProductFactory,
        name="Sencha Green Tea",
        category_id=tea,
        price_cents=450,
        stock=10,
    )
    create(live_app, ProductFactory, name="Jasmine Tea", category_id=tea, price_cents=375, stock=0)
    create(
        live_app,
        ProductFactory,
        name="Colombian Coffee",
        category_id=coffee,
        price_cents=850,
        stock=20,
    )
    with live_app.app_context():
        user_datastore.find_or_create_role("admin")
        db.session.commit()
    create(live_app, UserFactory, email=ADMIN_EMAIL, roles=["admin"])


def mails(outbox_dir) -> list:
    """Every message in the dev outbox, oldest first."""
    return [
        email.message_from_bytes(path.read_bytes(), policy=policy.default)
        for path in sorted(outbox_dir.glob("*.eml"), key=lambda p: p.stat().st_mtime_ns)
    ]


def mails_with_subject(outbox_dir, subject: str) -> list:
    return [m for m in mails(outbox_dir) if m["Subject"] == subject]


def body(message) -> str:
    return message.get_body(("plain",)).get_content()


def log_in(page, live_server, address: str) -> None:
    page.locator("nav").get_by_role("link", name="Log in").click()
    expect(page).to_have_url(f"{live_server}/login")
    page.fill("#email", address)
    page.fill("#password", PASSWORD)
    page.click("#submit")
    expect(page).to_have_url(f"{live_server}/account")
    expect(page.locator("#account-email")).to_have_text(address)


def log_out(page, live_server) -> None:
    page.locator("nav").get_by_role("button", name="Log out").click()
    expect(page).to_have_url(f"{live_server}/")
    expect(page.locator("nav").get_by_role("link", name="Log in")).to_be_visible()


def cart_line(page, sku: str):
    return page.locator(f"#cart-lines tbody tr[data-sku='{sku}']")


def expect_cart(page, quantities: dict[str, str], totals: dict[str, str], subtotal: str) -> None:
    expect(page.locator("#cart-lines tbody tr")).to_have_count(len(quantities))
    for sku, quantity in quantities.items():
        expect(cart_line(page, sku).locator("input.qty")).to_have_value(quantity)
        expect(cart_line(page, sku).locator(".line-total")).to_have_text(totals[sku])
    expect(page.locator("#cart-subtotal")).to_have_text(subtotal)


def test_guest_shops_registers_pays_and_admin_ships(
    shop, page, live_server, outbox_dir, screenshot, browser_errors
):
    """The shop from the first visit to the shipped e-mail, through the pages only."""
    # --- 1. A guest browses: search, category filter, product pages --------------------------
    page.goto("/")
    expect(page.locator("h1")).to_have_text("Welcome to Storefront")
    page.locator("nav").get_by_role("link", name="Products").click()
    expect(page).to_have_url(f"{live_server}/products")
    expect(page.locator("#result-count")).to_have_text("3 products")
    expect(page.locator("#products .card-title")).to_have_text(
        ["Colombian Coffee", "Jasmine Tea", "Sencha Green Tea"]
    )
    screenshot("shop-01-products")

    search = page.get_by_role("search")
    search.get_by_role("searchbox").fill("tea")
    search.get_by_role("button", name="Search").click()
    url = urlsplit(page.url)
    assert url.path == "/products"
    assert parse_qs(url.query)["q"] == ["tea"]
    expect(page.locator("#result-count")).to_have_text("2 products for “tea”")
    cards = page.locator("#products .product-card")  # by relevance: the order is each DB's
    expect(cards).to_have_count(2)
    jasmine, sencha = cards.filter(has_text="Jasmine Tea"), cards.filter(has_text="Sencha")
    expect(jasmine.locator(".price")).to_have_text("€3.75")
    expect(sencha.locator(".price")).to_have_text("€4.50")
    expect(jasmine.locator(".out-of-stock")).to_have_text("Out of stock")
    expect(sencha.locator(".badge")).to_have_text("In stock")
    screenshot("shop-02-search")

    page.locator("#categories").get_by_role("link", name="Coffee", exact=True).click()
    expect(page).to_have_url(f"{live_server}/products?category=coffee")
    expect(page.locator("#result-count")).to_have_text("1 product")
    expect(page.locator("#products .card-title")).to_have_text(["Colombian Coffee"])
    screenshot("shop-03-category")

    page.locator("#products").get_by_role("link", name="Colombian Coffee").click()
    expect(page).to_have_url(f"{live_server}/products/colombian-coffee")
    expect(page.locator("#product-name")).to_have_text("Colombian Coffee")
    expect(page.locator("#product-price")).to_have_text("€8.50")
    expect(page.locator("#stock")).to_have_text("In stock (20 available)")
    page.fill("#quantity", "2")
    screenshot("shop-04-product")
    page.locator("#add-to-cart").get_by_role("button", name="Add to cart").click()
    expect(page).to_have_url(f"{live_server}/cart")
    expect(page.locator(".alert")).to_have_text("Added to your cart.")

    page.locator("nav").get_by_role("link", name="Products").click()
    page.locator("#categories").get_by_role("link", name="Tea", exact=True).click()
    expect(page.locator("#products .card-title")).to_have_text(["Jasmine Tea", "Sencha Green Tea"])
    page.locator("#products").get_by_role("link", name="Sencha Green Tea").click()
    expect(page).to_have_url(f"{live_server}/products/sencha-green-tea")
    page.locator("#add-to-cart").get_by_role("button", name="Add to cart").click()
    expect(page).to_have_url(f"{live_server}/cart")

    page.goto("/products/jasmine-tea")
    expect(page.locator("#product-name")).to_have_text("Jasmine Tea")
    expect(page.locator("#stock")).to_have_text("Out of stock")
    expect(page.locator("#add-to-cart")).to_have_count(0)
    expect(page.get_by_role("button", name="Add to cart")).to_have_count(0)
    screenshot("shop-05-out-of-stock")

    # --- 2. The cart: two lines, an exact subtotal, a quantity change --------------------------
    page.locator("#nav-cart").click()
    expect(page).to_have_url(f"{live_server}/cart")
    expect_cart(
        page,
        {COFFEE: "2", SENCHA: "1"},
        {COFFEE: "€17.00", SENCHA: "€4.50"},
        "€21.50",
    )
    screenshot("shop-06-cart")

    cart_line(page, SENCHA).locator("input.qty").fill("3")
    cart_line(page, SENCHA).get_by_role("button", name="Update").click()
    expect(page.locator(".alert")).to_have_text("Cart updated.")
    expect_cart(
        page,
        {COFFEE: "2", SENCHA: "3"},
        {COFFEE: "€17.00", SENCHA: "€13.50"},
        "€30.50",
    )
    screenshot("shop-07-cart-updated")

    # --- 3. Checkout offers guest checkout or a login; register, confirm, log in; cart merged -
    page.click("#checkout-link")
    expect(page).to_have_url(f"{live_server}/checkout")
    expect(page.locator("#guest-intro")).to_contain_text("Checking out as a guest.")
    page.click("#checkout-login")
    url = urlsplit(page.url)
    assert (url.path, parse_qs(url.query)) == ("/login", {"next": ["/checkout"]})
    screenshot("shop-08-login-to-checkout")

    page.locator("main").get_by_role("link", name="Register").click()
    expect(page).to_have_url(re.compile(re.escape(f"{live_server}/register")))
    page.fill("#email", CUSTOMER_EMAIL)
    page.fill("#password", PASSWORD)
    page.fill("#password_confirm", PASSWORD)
    page.click("#submit")
    expect(page).to_have_url(f"{live_server}/")
    expect(page.locator(".alert")).to_contain_text(
        f"To confirm your email address {CUSTOMER_EMAIL}, please click on the link"
    )
    [welcome] = mails(outbox_dir)
    assert welcome["To"] == CUSTOMER_EMAIL
    links = re.findall(re.escape(live_server) + r"/confirm/[\w.-]+", body(welcome))
    assert len(set(links)) == 1, body(welcome)
    page.goto(links[0])
    expect(page).to_have_url(f"{live_server}/login")
    expect(page.locator(".alert")).to_have_text("Thank you. Your email has been confirmed.")
    page.fill("#email", CUSTOMER_EMAIL)
    page.fill("#password", PASSWORD)
    page.click("#submit")
    expect(page.locator("nav")).to_contain_text(CUSTOMER_EMAIL)

    page.locator("#nav-cart").click()
    expect_cart(
        page,
        {COFFEE: "2", SENCHA: "3"},
        {COFFEE: "€17.00", SENCHA: "€13.50"},
        "€30.50",
    )
    screenshot("shop-09-cart-after-login")

    # --- 4. Checkout: a declined card places nothing; the good card pays ---------------------
    page.click("#checkout-link")
    expect(page).to_have_url(f"{live_server}/checkout")
    expect(page.locator("#summary-totals #order-total")).to_have_text("€30.50")
    fill_checkout(page, DECLINED_CARD)
    screenshot("shop-10-checkout")
    page.click("#place-order")
    expect(page).to_have_url(f"{live_server}/checkout")
    expect(page.locator(".alert-danger")).to_have_text(
        "Your card was declined. No order was placed."
    )
    screenshot("shop-11-declined")
    assert [m["Subject"] for m in mails(outbox_dir)] == [welcome["Subject"]]

    page.locator("nav").get_by_role("link", name="Orders").click()
    expect(page).to_have_url(f"{live_server}/orders")
    expect(page.locator("main")).to_contain_text("No orders yet.")
    expect(page.locator("#orders")).to_have_count(0)
    screenshot("shop-12-no-orders")

    page.locator("#nav-cart").click()  # the declined checkout left the cart as it was
    expect_cart(
        page,
        {COFFEE: "2", SENCHA: "3"},
        {COFFEE: "€17.00", SENCHA: "€13.50"},
        "€30.50",
    )
    page.click("#checkout-link")
    fill_checkout(page, GOOD_CARD)
    page.click("#place-order")

    expect(page).to_have_url(re.compile(re.escape(f"{live_server}/orders/") + r"[\w-]+$"))
    number = page.locator("#order-number").inner_text()
    assert page.url == f"{live_server}/orders/{number}"
    expect(page.locator(".alert-success")).to_have_text(
        f"Thank you! Your order {number} is placed."
    )
    expect(page.locator("#order-status")).to_have_text("Paid")
    rows = page.locator("#order-lines tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.filter(has_text=COFFEE).locator("td")).to_have_text(
        ["Colombian Coffee", COFFEE, "€8.50", "2", "€17.00"]
    )
    expect(rows.filter(has_text=SENCHA).locator("td")).to_have_text(
        ["Sencha Green Tea", SENCHA, "€4.50", "3", "€13.50"]
    )
    expect(page.locator("#order-total")).to_have_text("€30.50")
    expect(page.locator("#shipping-address")).to_contain_text("Ada Lovelace")
    expect(page.locator("#shipping-address")).to_contain_text("10117 Berlin")
    expect(page.locator("#shipping-address")).to_contain_text("Germany (DE)")
    screenshot("shop-13-order-paid")
    [confirmation] = mails_with_subject(outbox_dir, f"Your order {number}")
    assert confirmation["To"] == CUSTOMER_EMAIL

    page.locator("nav").get_by_role("link", name="Orders").click()
    listed = page.locator("#orders tbody tr")
    expect(listed).to_have_count(1)
    expect(listed.locator("td")).to_have_text(
        [
            number,
            re.compile(r"[A-Z][a-z]{2} \d{1,2}, \d{4}, \d{1,2}:\d\d\s[AP]M"),
            "5",
            "Paid",
            "€30.50",
        ]
    )
    screenshot("shop-14-orders")
    assert browser_errors == [], "the shop pages"

    # --- 5. The admin ships the order in the back office --------------------------------------
    log_out(page, live_server)
    log_in(page, live_server, ADMIN_EMAIL)
    page.locator("nav").get_by_role("link", name="Admin").click()
    expect(page).to_have_url(f"{live_server}/admin/")
    screenshot("shop-15-admin-dashboard")

    page.get_by_role("link", name="Orders", exact=True).click()
    expect(page).to_have_url(re.compile(re.escape(f"{live_server}/admin/orders/")))
    order_row = page.locator("table tbody tr").filter(has_text=number)
    expect(order_row).to_have_count(1)
    expect(order_row).to_contain_text(CUSTOMER_EMAIL)
    expect(order_row).to_contain_text("Paid")
    expect(order_row).to_contain_text("€30.50")
    screenshot("shop-16-admin-orders")

    order_row.locator("a[title='View Record']").click()
    expect(page).to_have_url(re.compile(re.escape("/admin/orders/details/?id=" + number)))
    expect(page.locator("#order-status")).to_have_text("Paid")
    expect(page.locator("#order-lines tbody tr")).to_have_count(2)
    expect(page.locator("#shipping-address")).to_contain_text("Germany (DE)")
    transitions = page.locator("#transitions")
    expect(transitions.get_by_role("button")).to_have_text(["Mark as shipped", "Mark as cancelled"])
    screenshot("shop-17-admin-order")

    transitions.get_by_role("button", name="Mark as shipped").click()
    expect(page).to_have_url(re.compile(re.escape("/admin/orders/details/?id=" + number)))
    expect(page.locator(".alert")).to_contain_text(f"Order {number} is now shipped.")
    expect(page.locator("#order-status")).to_have_text("Shipped")
    expect(transitions.get_by_role("button")).to_have_text(["Mark as delivered"])
    expect(page.locator("#events tbody tr").last.locator("td")).to_have_text(
        [re.compile(r"\S"), "Paid", "Shipped", ADMIN_EMAIL, ""]
    )
    screenshot("shop-18-admin-shipped")

    # And the customer sees it shipped, and has the e-mail saying so
    page.get_by_role("button", name="Log out").click()
    expect(page).to_have_url(f"{live_server}/")
    log_in(page, live_server, CUSTOMER_EMAIL)
    page.locator("nav").get_by_role("link", name="Orders").click()
    expect(page.locator("#orders tbody tr .status")).to_have_text(["Shipped"])
    page.locator("#orders").get_by_role("link", name=number).click()
    expect(page).to_have_url(f"{live_server}/orders/{number}")
    expect(page.locator("#order-status")).to_have_text("Shipped")
    expect(page.locator("#cancel-order")).to_have_count(0)
    screenshot("shop-19-customer-shipped")

    [shipped] = mails_with_subject(outbox_dir, f"Your order {number} has shipped")
    assert shipped["To"] == CUSTOMER_EMAIL
    text = body(shipped)
    assert "2 x Colombian Coffee" in text, text
    assert "3 x Sencha Green Tea" in text, text
    assert f"{live_server}/orders/{number}" in text, text

    assert browser_errors == [], "the back office and the shop after it"
