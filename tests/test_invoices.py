"""Invoices (app/invoices/): one for each paid order, numbered without gaps in the
transaction that marks it paid, downloaded as a PDF by its customer, its guest and admins, and
attached to the confirmation e-mail."""

import io
import re

import pytest
from PIL import ImageFile
from pypdf import PdfReader
from sqlalchemy import func, select

from app.cart.services import CartOwner, add_to_cart
from app.extensions import db
from app.invoices.models import DocumentCounter, Invoice
from app.orders import checkout as checkout_service
from app.orders.models import Order
from tests.factories import ProductFactory, UserFactory, create, place
from tests.helpers import ADDRESS, GOOD_CARD, login, run_together
from tests.test_guest_checkout import add, guest_checkout
from tests.test_i18n import GERMAN


def pdf_text(response) -> str:
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    reader = PdfReader(io.BytesIO(response.get_data()))
    return "\n".join(page.extract_text() for page in reader.pages)


def invoices(app) -> list[tuple[str, int]]:
    """(order number, invoice number) of every invoice, by invoice number."""
    with app.app_context():
        rows = db.session.execute(
            select(Order.number, Invoice.number).join(Invoice.order).order_by(Invoice.number)
        )
        return [tuple(row) for row in rows]


@pytest.fixture
def tea(app):
    return create(app, ProductFactory, name="Green Tea", price_cents=1250, stock=50)


def test_each_paid_order_gets_the_next_number_and_an_unpaid_one_none(app, tea, user_factory):
    user = user_factory()
    first = place(app, user, (tea, 1))
    unpaid = place(app, user, (tea, 1), method="manual", details={})  # by bank transfer
    second = place(app, user, (tea, 2))

    assert invoices(app) == [(first, 1), (second, 2)]  # none for the unpaid order
    assert unpaid not in (first, second)
    with app.app_context():
        assert db.session.get(DocumentCounter, "invoice").last_number == 2


def test_the_customer_downloads_the_invoice_and_no_one_else_does(app, client, tea, user_factory):
    owner = user_factory(email="owner@example.com")
    user_factory(email="other@example.com")
    number = place(app, owner, (tea, 2))

    anonymous = client.get(f"/orders/{number}/invoice.pdf")
    other = app.test_client()
    login(other, "other@example.com")
    stranger = other.get(f"/orders/{number}/invoice.pdf")
    login(client, "owner@example.com")
    response = client.get(f"/orders/{number}/invoice.pdf")

    assert anonymous.status_code in (302, 401)
    assert stranger.status_code == 404
    text = pdf_text(response)
    assert response.headers["Content-Disposition"] == 'attachment; filename="INV-000001.pdf"'
    assert response.headers["Cache-Control"] == "private, no-store"
    assert "Invoice INV-000001" in text
    assert number in text
    assert "Green Tea" in text
    assert "€25.00" in text  # the line: 2 x €12.50
    assert "Included tax at" in text
    assert "Storefront" in text  # the seller, from SHOP_ADDRESS
    assert ADDRESS["name"] in text
    assert f'href="/orders/{number}/invoice.pdf"' in client.get(f"/orders/{number}").get_data(
        as_text=True
    )


def test_an_admin_downloads_any_orders_invoice_from_its_page(app, as_admin, tea, user_factory):
    number = place(app, user_factory(email="owner@example.com"), (tea, 1))
    page = as_admin.get(f"/admin/orders/details/?id={number}").get_data(as_text=True)

    assert f'href="/admin/orders/{number}/invoice.pdf"' in page
    assert "Invoice INV-000001" in pdf_text(as_admin.get(f"/admin/orders/{number}/invoice.pdf"))


def test_an_unpaid_order_has_no_invoice_to_download(app, client, tea, user_factory):
    owner = user_factory(email="owner@example.com")
    number = place(app, owner, (tea, 1), method="manual", details={})
    login(client, "owner@example.com")

    response = client.get(f"/orders/{number}/invoice.pdf")

    assert response.status_code == 404
    assert "issued once the order is paid" in response.get_data(as_text=True)


def test_a_guest_downloads_it_through_the_orders_link_in_german(app, client, tea, outbox):
    client.set_cookie("locale", "de_DE", domain="localhost")
    add(client, tea, quantity=1)
    assert guest_checkout(client).status_code == 302
    link = re.search(r"/orders/view/[^\s]+", outbox[-1].body).group(0)

    text = pdf_text(client.get(f"{link}/invoice.pdf", headers=GERMAN))
    tampered = client.get(f"{link[:-2]}xx/invoice.pdf")

    assert "Rechnung INV-000001" in text
    assert "12,50\xa0€" in text
    assert "Enthaltene Steuer" in text
    assert tampered.status_code == 404


@pytest.mark.app_config(ORDER_EMAIL_PDFS=True)
def test_the_confirmation_e_mail_attaches_the_invoice(app, tea, user_factory, outbox):
    place(app, user_factory(), (tea, 1))

    # WeasyPrint's import lets Pillow open truncated images: uploads must still refuse them.
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False

    (message,) = [m for m in outbox if "Your order" in m.subject]
    (name, content, mimetype) = message.attachments[0]
    assert (name, mimetype) == ("INV-000001.pdf", "application/pdf")
    assert "Invoice INV-000001" in PdfReader(io.BytesIO(content)).pages[0].extract_text()


@pytest.mark.mariadb
@pytest.mark.concurrency
def test_checkouts_at_once_number_their_invoices_without_gaps_or_duplicates(pooled_app):
    """Twelve customers check out at the same moment, two of them by bank transfer (unpaid):
    the ten paid orders hold invoices 1 to 10, each once."""
    product_id = create(pooled_app, ProductFactory, name="Green Tea", stock=100)
    users = [create(pooled_app, UserFactory, email=f"buyer{i}@example.com") for i in range(12)]
    with pooled_app.app_context():
        for user_id in users:
            add_to_cart(CartOwner(user_id=user_id), product_id, 1)

    def checkout(i):
        method, details = ("manual", {}) if i in (3, 7) else ("test", {"card_number": GOOD_CARD})
        with pooled_app.app_context():
            return checkout_service.place_order(
                users[i], f"key-{i}", ADDRESS, method, details
            ).status

    results = run_together(12, checkout)

    assert not [r for r in results if isinstance(r, Exception)], results
    assert results.count("paid") == 10, results
    with pooled_app.app_context():
        numbers = db.session.scalars(select(Invoice.number).order_by(Invoice.number)).all()
        assert numbers == list(range(1, 11))
        assert db.session.scalar(select(func.count(Invoice.id))) == 10
        assert db.session.get(DocumentCounter, "invoice").last_number == 10


def test_without_pdfs_the_confirmation_e_mail_attaches_none(app, tea, user_factory, outbox):
    place(app, user_factory(), (tea, 1))

    (message,) = [m for m in outbox if "Your order" in m.subject]
    assert message.attachments == []
    assert "/orders/" in message.body  # the order's page, which has the invoice
