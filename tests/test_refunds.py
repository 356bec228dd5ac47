"""Partial refunds (app/orders/refunds.py, state.refund): lines and units, shipping or an
amount paid back through the payment's provider, never more than was paid, also when admins
refund at once; a credit note for each, numbered like invoices, e-mailed and downloaded."""

import io
import re
from decimal import Decimal

import pytest
from pypdf import PdfReader
from sqlalchemy import event, func, select

from app.errors import InvalidTransition, ValidationFailed
from app.extensions import db
from app.invoices.models import CreditNote, DocumentCounter
from app.invoices.pdf import credit_note_pdf
from app.orders import state
from app.orders.models import Order, OrderStatus, Refund
from app.orders.refunds import RefundRequest, taxes
from app.payments.statuses import PaymentStatus, RefundStatus
from tests import test_shipping_tax
from tests.factories import ProductFactory, UserFactory, create, place, set_status
from tests.helpers import (
    ADMIN_EMAIL,
    BODY,
    admin_alerts,
    admin_form_token,
    assert_error,
    csrf_token,
    login,
    run_together,
    stock,
    token_headers,
)
from tests.test_guest_checkout import add, guest_checkout
from tests.test_invoices import pdf_text
from tests.test_shipping_tax import BERLIN, NEW_YORK
from tests.test_shipping_tax import place as place_shipped

shipping_shop = test_shipping_tax.shop  # the fixture: a shop with shipping and tax rates


@pytest.fixture
def tea(app):
    return create(app, ProductFactory, name="Green Tea", price_cents=1000, stock=50)


@pytest.fixture
def mug(app):
    return create(app, ProductFactory, name="Mug", price_cents=333, stock=50)


def order_of(app, number) -> dict:
    with app.app_context():
        order = db.session.scalar(select(Order).where(Order.number == number))
        return {
            "status": order.status,
            "total": order.total_cents,
            "refunded": order.refunded_cents,
            "lines": {line.name: line.refunded_quantity for line in order.lines},
            "line_ids": {line.name: line.id for line in order.lines},
            "payment": order.payments[-1].status,
            "refunds": [
                (r.amount_cents, r.status, r.credit_note.label if r.credit_note else None)
                for r in order.payments[-1].refunds
            ],
            "events": [(e.to_status, e.note) for e in order.events],
        }


def refund(app, number, lines=None, actor_id=None, **asked):
    """Refund ``lines`` ({product name: units}) and what ``asked`` says, as the state machine."""
    with app.app_context():
        ids = order_of(app, number)["line_ids"]
        request = RefundRequest(lines={ids[n]: q for n, q in (lines or {}).items()}, **asked)
        return state.refund(number, request, actor_id).amount_cents


@pytest.mark.app_config(ORDER_EMAIL_PDFS=True)
def test_one_line_in_part_pays_back_its_units_and_the_order_is_partially_refunded(
    app, tea, mug, user_factory, outbox
):
    number = place(app, user_factory(), (tea, 2), (mug, 3))

    amount = refund(app, number, {"Green Tea": 1})

    order = order_of(app, number)
    assert amount == 1000
    assert order["status"] == OrderStatus.PARTIALLY_REFUNDED
    assert order["refunded"] == 1000
    assert order["lines"] == {"Green Tea": 1, "Mug": 0}
    assert order["refunds"] == [(1000, RefundStatus.SUCCEEDED, "CN-000001")]  # sent, answered
    assert order["payment"] == PaymentStatus.SUCCEEDED  # not all of it went back
    assert order["events"][-1] == (
        OrderStatus.PARTIALLY_REFUNDED,
        "Refund of €10.00: 1 × Green Tea.",
    )
    (message,) = [m for m in outbox if "refund" in m.subject]
    assert number in message.subject
    assert "€10.00" in message.body
    (name, content, _mimetype) = message.attachments[0]
    assert name == "CN-000001.pdf"
    text = PdfReader(io.BytesIO(content)).pages[0].extract_text()
    assert "Credit note CN-000001" in text
    assert "INV-000001" in text  # the invoice it corrects
    assert "Green Tea" in text


def test_units_of_a_line_refunded_one_by_one_add_up_to_what_the_line_cost(app, mug, user_factory):
    """Three mugs at €3.33 with a 10% discount share cost what the line says, whatever the
    split: no cent lost or paid twice."""
    number = place(app, user_factory(), (mug, 3))
    with app.app_context():
        line = db.session.scalar(select(Order).where(Order.number == number)).lines[0]
        line.discount_cents = 100  # as a voucher would have shared it
        db.session.commit()

    amounts = [refund(app, number, {"Mug": 1}) for _ in range(3)]

    assert sum(amounts) == 999 - 100
    assert sorted(amounts) == [299, 300, 300]
    assert order_of(app, number)["lines"] == {"Mug": 3}


def test_everything_refunded_makes_the_order_refunded_and_its_payment(app, tea, user_factory):
    number = place(app, user_factory(), (tea, 2))
    total = order_of(app, number)["total"]

    refund(app, number, {"Green Tea": 1})
    refund(app, number, {"Green Tea": 1}, amount_cents=total - 2000)  # shipping, if any

    order = order_of(app, number)
    assert order["status"] == OrderStatus.REFUNDED
    assert order["refunded"] == total
    assert order["payment"] == PaymentStatus.REFUNDED
    assert [label for _a, _s, label in order["refunds"]] == ["CN-000001", "CN-000002"]


def test_restock_puts_the_units_back_and_without_it_the_stock_stays(app, tea, user_factory):
    number = place(app, user_factory(), (tea, 4))
    assert stock(app, tea) == 46

    refund(app, number, {"Green Tea": 1})
    assert stock(app, tea) == 46
    refund(app, number, {"Green Tea": 2}, restock=True)
    assert stock(app, tea) == 48


def test_an_amount_is_refunded_and_never_more_than_is_left(app, tea, user_factory):
    number = place(app, user_factory(), (tea, 1))
    total = order_of(app, number)["total"]

    assert refund(app, number, amount_cents=250, note="Scratched box") == 250
    with pytest.raises(ValidationFailed) as refused:
        refund(app, number, amount_cents=total - 250 + 1)

    assert "is more than is left to refund" in refused.value.message
    assert "amount_cents" in (refused.value.fields or {})
    order = order_of(app, number)
    assert order["refunded"] == 250
    assert len(order["refunds"]) == 1  # nothing half-written
    assert refund(app, number, amount_cents=total - 250) == total - 250
    assert order_of(app, number)["status"] == OrderStatus.REFUNDED


@pytest.mark.parametrize(
    ("lines", "asked", "field"),
    [
        ({"Green Tea": 3}, {}, "lines"),  # two bought
        ({"Green Tea": -1}, {}, "lines"),
        ({}, {"amount_cents": -5}, "amount_cents"),
        ({}, {}, "lines"),  # nothing at all
    ],
)
def test_what_cannot_be_refunded_is_refused_and_nothing_is_written(
    app, tea, user_factory, lines, asked, field
):
    number = place(app, user_factory(), (tea, 2))

    with pytest.raises(ValidationFailed) as refused:
        refund(app, number, lines, **asked)

    assert field in refused.value.fields
    order = order_of(app, number)
    assert (order["refunded"], order["refunds"], order["status"]) == (0, [], OrderStatus.PAID)


def test_shipping_is_refunded_once_and_the_credit_note_shows_each_tax(app, shipping_shop):
    """Germany, prices with VAT: the book (19.99 at 7 %, 1.31 tax) and shipping (4.95, 0.79
    tax) refunded; the credit note states both taxes."""
    number = place_shipped(app, shipping_shop, BERLIN).number

    assert refund(app, number, {"A Book": 1}, shipping=True) == 1999 + 495
    with pytest.raises(ValidationFailed) as refused:
        refund(app, number, shipping=True)

    assert "no shipping left" in refused.value.fields["shipping"][0]
    with app.app_context():
        credit_note = db.session.scalar(select(CreditNote))
        assert taxes(credit_note.refund) == ([(Decimal("7"), 131)], 79)
        text = PdfReader(io.BytesIO(credit_note_pdf(credit_note))).pages[0].extract_text()
    assert "Included tax at 7%" in text
    assert "Tax on shipping" in text
    assert "€24.94" in text


@pytest.mark.app_config(SHOP_PRICES_INCLUDE_TAX=False)
def test_prices_without_tax_refund_the_tax_paid_on_them(app, shipping_shop):
    """The US, tax added: two teas at 4.50 paid 9.00 + 0.80 tax (8.875 %)."""
    number = place_shipped(app, shipping_shop, NEW_YORK).number

    assert refund(app, number, {"Tea": 2}) == 980


def test_an_amount_tied_to_no_line_carries_the_orders_taxes_in_proportion(app, shipping_shop):
    """Half of a German order (33.94: book 19.99 at 7 %, teas 9.00 at 19 %, shipping 4.95 at
    19 %) paid back as an amount carries half of each tax."""
    order = place_shipped(app, shipping_shop, BERLIN)
    refund(app, order.number, amount_cents=1697)

    with app.app_context():
        (tax_by_rate, shipping_tax) = taxes(db.session.scalar(select(Refund)))
    assert tax_by_rate == [(Decimal("19"), 72), (Decimal("7"), 66)]
    assert shipping_tax == 40


def test_an_unpaid_or_cancelled_order_cannot_be_refunded(app, tea, user_factory):
    user = user_factory()
    unpaid = place(app, user, (tea, 1), method="manual", details={})
    cancelled = place(app, user, (tea, 1))
    set_status(app, cancelled, OrderStatus.CANCELLED)

    for number in (unpaid, cancelled):
        with pytest.raises(InvalidTransition, match="cannot be refunded"):
            refund(app, number, amount_cents=100)


def test_refund_statuses_are_never_chosen_by_hand(app, tea, user_factory):
    number = place(app, user_factory(), (tea, 2))

    for status in (OrderStatus.PARTIALLY_REFUNDED, OrderStatus.REFUNDED):
        with pytest.raises(InvalidTransition, match="refunds set it"):
            set_status(app, number, status)


def test_a_partly_refunded_order_is_still_shipped_and_delivered_but_not_cancelled(
    app, tea, user_factory
):
    paid = place(app, user_factory(), (tea, 2))
    refund(app, paid, {"Green Tea": 1})
    with app.app_context():
        order = db.session.scalar(select(Order).where(Order.number == paid))
        assert state.allowed_next(order) == {OrderStatus.SHIPPED}
    with pytest.raises(InvalidTransition):
        set_status(app, paid, OrderStatus.CANCELLED)

    set_status(app, paid, OrderStatus.SHIPPED)
    refund(app, paid, amount_cents=100)  # shipped, then a second refund
    with app.app_context():
        order = db.session.scalar(select(Order).where(Order.number == paid))
        assert order.status == OrderStatus.PARTIALLY_REFUNDED
        assert state.allowed_next(order) == {OrderStatus.DELIVERED}
    set_status(app, paid, OrderStatus.DELIVERED)
    assert order_of(app, paid)["status"] == OrderStatus.DELIVERED


def test_cancelling_a_paid_order_refunds_it_whole_with_a_credit_note(app, tea, user_factory):
    number = place(app, user_factory(), (tea, 2))
    set_status(app, number, OrderStatus.CANCELLED)

    order = order_of(app, number)
    assert order["refunded"] == order["total"]
    assert order["lines"] == {"Green Tea": 2}
    assert order["refunds"] == [(order["total"], RefundStatus.SUCCEEDED, "CN-000001")]


def test_the_customer_downloads_the_credit_note_and_no_one_else(app, client, tea, user_factory):
    owner = user_factory(email="owner@example.com")
    user_factory(email="other@example.com")
    number = place(app, owner, (tea, 2))
    refund(app, number, {"Green Tea": 1})
    url = f"/orders/{number}/credit-notes/1.pdf"

    anonymous = client.get(url)
    other = app.test_client()
    login(other, "other@example.com")
    login(client, "owner@example.com")
    page = client.get(f"/orders/{number}").get_data(as_text=True)

    assert anonymous.status_code in (302, 401)
    assert other.get(url).status_code == 404
    assert client.get(f"/orders/{number}/credit-notes/2.pdf").status_code == 404
    text = pdf_text(client.get(url))
    assert "Credit note CN-000001" in text
    assert "Total credited" in text
    assert f'href="{url}"' in page
    assert "Partially refunded" in page


def test_a_guest_downloads_the_credit_note_through_the_orders_link(app, client, tea, outbox):
    add(client, tea, quantity=2)
    assert guest_checkout(client).status_code == 302
    link = re.search(r"/orders/view/[^\s]+", outbox[-1].body).group(0)
    with app.app_context():
        number = db.session.scalar(select(Order.number))
    refund(app, number, {"Green Tea": 1})

    assert "CN-000001" in pdf_text(client.get(f"{link}/credit-notes/1.pdf"))
    assert f"{link}/credit-notes/1.pdf" in client.get(link).get_data(as_text=True)


def test_a_refund_the_provider_refuses_can_be_made_again(app, tea, user_factory, monkeypatch):
    from app.payments import providers
    from app.payments.providers import RefundResult

    number = place(app, user_factory(), (tea, 2))
    monkeypatch.setattr(
        providers.TestCardProvider,
        "refund",
        lambda self, *args, **kwargs: RefundResult(RefundStatus.FAILED, ""),
    )
    refund(app, number, {"Green Tea": 2})
    order = order_of(app, number)
    assert order["refunds"] == [(2000, RefundStatus.FAILED, None)]  # no credit note
    assert (order["refunded"], order["lines"]) == (0, {"Green Tea": 0})
    assert order["status"] == OrderStatus.PAID  # as before the refund
    assert "refused the refund of €20.00" in order["events"][-1][1]

    monkeypatch.undo()
    assert refund(app, number, {"Green Tea": 2}) == 2000
    assert order_of(app, number)["refunds"][-1] == (2000, RefundStatus.SUCCEEDED, "CN-000001")


@pytest.mark.mariadb
@pytest.mark.concurrency
def test_admins_refunding_at_once_never_pay_back_more_than_was_paid(pooled_app, admin_id):
    """Eight admins refund a unit of a five-unit line at the same moment, and six more each
    refund 40% of another order: five units and two amounts go back, the others are refused
    (422), and no refund is written twice or half."""
    tea = create(pooled_app, ProductFactory, name="Green Tea", price_cents=1000, stock=50)
    mug = create(pooled_app, ProductFactory, name="Mug", price_cents=500, stock=50)
    units = place(pooled_app, admin_id, (tea, 5), (mug, 1))
    amounts = place(pooled_app, admin_id, (tea, 5))
    line_id = order_of(pooled_app, units)["line_ids"]["Green Tea"]
    share = order_of(pooled_app, amounts)["total"] * 40 // 100

    def one(i):
        with pooled_app.app_context():
            if i < 8:
                asked = RefundRequest(lines={line_id: 1})
                return state.refund(units, asked, admin_id).amount_cents
            return state.refund(amounts, RefundRequest(amount_cents=share), admin_id).amount_cents

    results = run_together(14, one)

    unexpected = [r for r in results if isinstance(r, Exception)]
    unexpected = [r for r in unexpected if not isinstance(r, ValidationFailed)]
    assert not unexpected, results
    assert results[:8].count(1000) == 5, results
    assert results[8:].count(share) == 2, results
    first, second = order_of(pooled_app, units), order_of(pooled_app, amounts)
    assert (first["refunded"], first["lines"]) == (5000, {"Green Tea": 5, "Mug": 0})
    assert len(first["refunds"]) == 5
    assert second["refunded"] == 2 * share
    with pooled_app.app_context():
        numbers = db.session.scalars(select(CreditNote.number).order_by(CreditNote.number)).all()
        assert numbers == list(range(1, 8))
        assert db.session.get(DocumentCounter, "credit_note").last_number == 7
        assert db.session.scalar(select(func.count(Refund.id))) == 7


# The back office


def refund_page(as_admin, number) -> str:
    return as_admin.get(f"/admin/orders/details/?id={number}").get_data(as_text=True)


def test_an_admin_refunds_one_line_from_the_orders_page(app, as_admin, tea, mug, user_factory):
    number = place(app, user_factory(email="owner@example.com"), (tea, 2), (mug, 1))
    ids = order_of(app, number)["line_ids"]
    page = refund_page(as_admin, number)
    assert 'id="refund-form"' in page
    assert f'name="quantity-{ids["Green Tea"]}"' in page

    response = as_admin.post(
        f"/admin/orders/{number}/refund/",
        data={
            "csrf_token": admin_form_token(page),
            f"quantity-{ids['Green Tea']}": "1",
            f"quantity-{ids['Mug']}": "0",
            "restock": "y",
            "note": "Returned, unopened",
        },
    )

    assert response.status_code == 302
    order = order_of(app, number)
    assert (order["status"], order["refunded"]) == (OrderStatus.PARTIALLY_REFUNDED, 1000)
    assert stock(app, tea) == 49
    page = refund_page(as_admin, number)
    assert "Refunded €10.00. The order is partially refunded." in admin_alerts(page)
    assert "Refunded €10.00 of €23.33 paid." in page
    assert "Returned, unopened" in page
    link = f"/admin/orders/{number}/credit-notes/1.pdf"
    assert f'href="{link}"' in page
    assert "Credit note CN-000001" in pdf_text(as_admin.get(link))


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"quantity-{tea}": "abc"}, "Enter whole numbers of units"),
        ({"quantity-{tea}": "-1"}, "Enter whole numbers of units"),
        ({"quantity-{tea}": "3"}, "choose up to 2 units"),
        ({"quantity-999999999999999999999": "1"}, "The order has no line"),
        ({"amount": "12,5x"}, "Enter an amount in EUR"),
        ({"amount": "1000"}, "is more than is left to refund"),
        ({"note": "x" * 501}, "Nothing was refunded."),
        ({}, "Choose units, shipping or an amount to refund."),
    ],
)
def test_a_refund_the_form_cannot_make_is_a_message_and_nothing_changes(
    app, as_admin, tea, user_factory, fields, message
):
    number = place(app, user_factory(), (tea, 2))
    line = order_of(app, number)["line_ids"]["Green Tea"]
    token = admin_form_token(refund_page(as_admin, number))
    data = {name.format(tea=line): value for name, value in fields.items()}

    response = as_admin.post(f"/admin/orders/{number}/refund/", data={"csrf_token": token, **data})

    assert response.status_code == 302
    alerts = " ".join(admin_alerts(refund_page(as_admin, number)))
    assert message in alerts
    order = order_of(app, number)
    assert (order["refunded"], order["refunds"], order["status"]) == (0, [], OrderStatus.PAID)


def test_a_refund_without_the_forms_token_is_refused(app, as_admin, tea, user_factory):
    number = place(app, user_factory(), (tea, 2))
    line = order_of(app, number)["line_ids"]["Green Tea"]

    as_admin.post(f"/admin/orders/{number}/refund/", data={f"quantity-{line}": "1"})

    assert order_of(app, number)["refunds"] == []


def test_an_unpaid_orders_page_offers_no_refund(app, as_admin, tea, user_factory):
    number = place(app, user_factory(), (tea, 1), method="manual", details={})

    assert 'id="refund-form"' not in refund_page(as_admin, number)


# The API


def test_the_admin_api_refunds_a_line_and_the_order_shows_it(app, client, admin_id, tea, mug):
    owner = create(app, UserFactory, email="owner@example.com")
    number = place(app, owner, (tea, 2), (mug, 1))
    admin = token_headers(client, ADMIN_EMAIL)
    customer = token_headers(client, "owner@example.com")
    lines = client.get(f"/api/v1/orders/{number}", headers=customer).get_json()["lines"]
    tea_line = next(line["id"] for line in lines if line["name"] == "Green Tea")

    response = client.post(
        f"/api/v1/orders/{number}/refunds",
        json={"lines": [{"line_id": tea_line, "quantity": 1}], "note": "Broken lid"},
        headers=admin,
    )

    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    # Answered after the commit, before the response: the test provider pays back at once.
    assert (body["amount_cents"], body["status"], body["note"]) == (1000, "succeeded", "Broken lid")
    assert body["credit_note"]["label"] == "CN-000001"
    assert body["lines"] == [
        {"line_id": tea_line, "quantity": 1, "amount_cents": 1000, "tax_cents": 0}
    ]
    order = client.get(f"/api/v1/orders/{number}", headers=customer).get_json()
    assert (order["status"], order["refunded_cents"]) == ("partially_refunded", 1000)
    assert order["invoice"]["label"] == "INV-000001"
    (refund,) = order["refunds"]
    assert refund["status"] == "succeeded"  # the test provider answered after the commit
    assert refund["credit_note"]["label"] == "CN-000001"
    assert [line["refunded_quantity"] for line in order["lines"]] == [1, 0]
    invoice = client.get(f"/api/v1/orders/{number}/invoice", headers=customer)
    credit = client.get(f"/api/v1/orders/{number}/credit-notes/1", headers=customer)
    assert "Invoice INV-000001" in pdf_text(invoice)
    assert "Credit note CN-000001" in pdf_text(credit)


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"lines": [{"line_id": 1, "quantity": 5}]}, 422, "lines"),
        ({"lines": [{"line_id": 99, "quantity": 1}]}, 422, "lines"),
        ({"lines": [{"line_id": 1, "quantity": 1}] * 2}, 422, "lines"),
        ({"amount_cents": 10**6}, 422, "amount_cents"),
        ({"amount_cents": -1}, 422, "amount_cents"),
        ({"note": "x" * 501}, 422, "note"),
        ({}, 422, "lines"),
    ],
)
def test_the_admin_api_refuses_what_cannot_be_refunded(
    app, client, admin_id, tea, body, status, field
):
    number = place(app, admin_id, (tea, 2))

    response = client.post(
        f"/api/v1/orders/{number}/refunds", json=body, headers=token_headers(client, ADMIN_EMAIL)
    )

    error = assert_error(response, status, "validation_failed")
    assert field in error["fields"]
    assert order_of(app, number)["refunds"] == []


def test_the_admin_api_refunds_only_paid_orders_and_only_for_admins(app, client, admin_id, tea):
    owner = create(app, UserFactory, email="owner@example.com")
    unpaid = place(app, owner, (tea, 1), method="manual", details={})
    paid = place(app, owner, (tea, 1))
    admin = token_headers(client, ADMIN_EMAIL)

    refused = client.post(
        f"/api/v1/orders/{unpaid}/refunds", json={"amount_cents": 1}, headers=admin
    )
    missing = client.post("/api/v1/orders/SF-NONE/refunds", json={"amount_cents": 1}, headers=admin)
    customer = client.post(
        f"/api/v1/orders/{paid}/refunds",
        json={"amount_cents": 1},
        headers=token_headers(client, "owner@example.com"),
    )

    assert_error(refused, 409, "invalid_transition")
    assert_error(missing, 404, "not_found")
    assert customer.status_code == 403
    assert order_of(app, paid)["refunds"] == []


def test_a_guest_gets_the_invoice_and_credit_note_through_the_api(app, client, tea):
    added = client.post("/api/v1/cart/items", json={"product_id": tea, "quantity": 2})
    assert added.status_code == 201
    csrf = {"X-CSRF-Token": csrf_token(client, "/csrf-token")}
    placed = client.post(
        "/api/v1/orders", json={**BODY, "email": "guest@example.com"}, headers=csrf
    )
    assert placed.status_code == 201, placed.get_json()
    link, number = placed.get_json()["link"], placed.get_json()["number"]
    refund(app, number, {"Green Tea": 1})
    stranger = app.test_client()

    assert "INV-000001" in pdf_text(stranger.get(f"/api/v1/orders/guest/{link}/invoice"))
    assert "CN-000001" in pdf_text(stranger.get(f"/api/v1/orders/guest/{link}/credit-notes/1"))
    missing = stranger.get(f"/api/v1/orders/guest/{link}/credit-notes/2")
    assert_error(missing, 404, "not_found")


def test_the_api_lists_orders_and_their_documents_in_as_many_queries_for_five_as_for_one(
    app, client, tea
):
    owner = create(app, UserFactory, email="owner@example.com")
    headers = token_headers(client, "owner@example.com")
    with app.app_context():
        engine = db.engine
    counts = []
    for orders in (1, 4):  # 1, then 5 orders, each refunded in part (a credit note each)
        for _ in range(orders):
            refund(app, place(app, owner, (tea, 2)), {"Green Tea": 1})
        client.get("/api/v1/orders", headers=headers)  # warm-up: the token's user
        statements = []
        listener = lambda *args, found=statements: found.append(args[2])  # noqa: E731
        event.listen(engine, "before_cursor_execute", listener)
        try:
            listed = client.get("/api/v1/orders", headers=headers).get_json()["items"]
        finally:
            event.remove(engine, "before_cursor_execute", listener)
        assert all(order["refunds"][0]["credit_note"] for order in listed)
        counts.append(len(statements))

    assert counts[0] == counts[1], counts
