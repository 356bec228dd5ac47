"""The address book's pages (/account/addresses): list, add, edit, delete and the defaults,
the customer's own addresses only, every change a POST with the CSRF token."""

import pytest

from app.addresses import services
from tests.helpers import ADDRESS, csrf_token, login

BOOK = "/account/addresses"
WORK = {**ADDRESS, "name": "Ada at work", "line1": "2 Engine Row", "country": "FR"}


@pytest.fixture
def ada(user_factory, client):
    user_id = user_factory()
    login(client)
    return user_id


def save(app, user_id, data, address_id=None) -> int:
    with app.app_context():
        return services.save_address(user_id, address_id, data).id


def book(app, user_id) -> list[tuple[str, str, bool, bool]]:
    with app.app_context():
        return [
            (a.name, a.city, a.is_default_shipping, a.is_default_billing)
            for a in services.list_addresses(user_id)
        ]


def post(client, path, data=None, form_page=BOOK):
    return client.post(path, data={**(data or {}), "csrf_token": csrf_token(client, form_page)})


def test_the_account_page_links_to_the_address_book(client, ada):
    assert f'href="{BOOK}"' in client.get("/account").get_data(as_text=True)


def test_an_empty_book_then_an_added_address_is_listed_as_the_default(app, client, ada):
    assert "no saved addresses" in client.get(BOOK).get_data(as_text=True)
    form = client.get(f"{BOOK}/new").get_data(as_text=True)
    assert '<option value="GB">' in form

    response = post(client, f"{BOOK}/new", ADDRESS, form_page=f"{BOOK}/new")

    assert response.status_code == 302
    assert response.headers["Location"] == BOOK
    page = client.get(BOOK).get_data(as_text=True)
    assert "Address added." in page
    assert "1 Analytical St" in page
    assert "Default shipping address" in page
    assert "Default billing address" in page
    assert book(app, ada) == [("Ada Lovelace", "London", True, True)]


def test_edit_shows_the_address_and_saves_the_change(app, client, ada):
    address_id = save(app, ada, ADDRESS)
    edit = f"{BOOK}/{address_id}/edit"

    assert 'value="1 Analytical St"' in client.get(edit).get_data(as_text=True)
    response = post(client, edit, {**ADDRESS, "city": "Paris"}, form_page=edit)

    assert response.headers["Location"] == BOOK
    assert "Address saved." in client.get(BOOK).get_data(as_text=True)
    assert book(app, ada) == [("Ada Lovelace", "Paris", True, True)]


def test_make_default_for_shipping_or_billing(app, client, ada):
    save(app, ada, ADDRESS)
    work = save(app, ada, WORK)

    post(client, f"{BOOK}/{work}/default", {"kind": "billing"})
    assert "default billing address" in client.get(BOOK).get_data(as_text=True)
    assert book(app, ada) == [
        ("Ada Lovelace", "London", True, False),
        ("Ada at work", "London", False, True),
    ]
    post(client, f"{BOOK}/{work}/default", {"kind": "shipping"})
    assert book(app, ada) == [
        ("Ada at work", "London", True, True),
        ("Ada Lovelace", "London", False, False),
    ]
    assert post(client, f"{BOOK}/{work}/default", {"kind": "postal"}).status_code == 400


def test_delete(app, client, ada):
    address_id = save(app, ada, ADDRESS)

    response = post(client, f"{BOOK}/{address_id}/delete")

    assert response.headers["Location"] == BOOK
    assert "Address deleted." in client.get(BOOK).get_data(as_text=True)
    assert book(app, ada) == []
    assert client.get(f"{BOOK}/{address_id}/delete").status_code == 405


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("city", "  ", "This field is required."),
        ("country", "XX", "Not a valid choice."),
        ("postcode", "9" * 100, "Field cannot be longer than"),
    ],
)
def test_a_bad_field_is_a_form_error(app, client, ada, field, value, message):
    response = post(client, f"{BOOK}/new", {**ADDRESS, field: value}, form_page=f"{BOOK}/new")

    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert message in page
    assert f'id="{field}"' in page
    assert "is-invalid" in page
    assert book(app, ada) == []


def test_the_services_refusal_shows_on_the_form_not_as_a_500(app, client, ada):
    """A full book: the form keeps what was typed and says why."""
    app.config["ADDRESS_BOOK_MAX"] = 1
    save(app, ada, ADDRESS)

    response = post(client, f"{BOOK}/new", WORK, form_page=f"{BOOK}/new")

    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Your address book is full (1 addresses)" in page
    assert 'value="2 Engine Row"' in page
    assert len(book(app, ada)) == 1


def test_another_customers_address_is_404_on_every_page(app, client, user_factory, ada):
    eve = user_factory(email="eve@example.com")
    theirs = save(app, eve, ADDRESS)

    assert client.get(f"{BOOK}/{theirs}/edit").status_code == 404
    for path, data in (("edit", WORK), ("delete", {}), ("default", {"kind": "shipping"})):
        assert post(client, f"{BOOK}/{theirs}/{path}", data).status_code == 404, path
    assert client.get(f"{BOOK}/999999/edit").status_code == 404
    assert "Ada at work" not in client.get(BOOK).get_data(as_text=True)
    assert "1 Analytical St" not in client.get(BOOK).get_data(as_text=True)
    assert book(app, eve) == [("Ada Lovelace", "London", True, True)]


def test_anonymous_visitors_are_sent_to_login(app, client, user_factory):
    ada = user_factory()
    address_id = save(app, ada, ADDRESS)
    token = csrf_token(client, "/login")

    for path in (BOOK, f"{BOOK}/new", f"{BOOK}/{address_id}/edit"):
        response = client.get(path)
        assert response.status_code == 302, path
        assert "/login" in response.headers["Location"]
    for path in (
        "new",
        f"{address_id}/edit",
        f"{address_id}/delete",
        f"{address_id}/default",
    ):
        response = client.post(f"{BOOK}/{path}", data={**WORK, "csrf_token": token})
        assert response.status_code == 302, path
        assert "/login" in response.headers["Location"]
    assert book(app, ada) == [("Ada Lovelace", "London", True, True)]


def test_every_form_needs_the_csrf_token(app, client, ada):
    address_id = save(app, ada, ADDRESS)
    work = save(app, ada, WORK)

    for path in ("new", f"{address_id}/edit", f"{address_id}/delete", f"{work}/default"):
        data = {**WORK, "kind": "billing"}
        assert client.post(f"{BOOK}/{path}", data=data).status_code == 400, path
    assert book(app, ada) == [
        ("Ada Lovelace", "London", True, True),
        ("Ada at work", "London", False, False),
    ]
