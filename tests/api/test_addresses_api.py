"""The address book API (/api/v1/addresses) for token clients and logged-in browsers: the
caller's own addresses only, checked fields (422 naming them), the defaults, 401 and CSRF."""

import pytest

from tests.api import make_callers
from tests.helpers import ADDRESS, assert_error

BOOK = "/api/v1/addresses"
WORK = {**ADDRESS, "name": "Ada at work", "line1": "2 Engine Row", "country": "FR"}


@pytest.fixture
def caller(app, user_factory):
    return make_callers(app, user_factory)


def saved(response, **expected) -> dict:
    """The answer's address, its id checked and dropped."""
    body = response.get_json()
    assert isinstance(body.pop("id"), int)
    assert body == expected
    return body


def add(who, data=None, **extra):
    response = who.post(BOOK, json={**(data or ADDRESS), **extra})
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]


@pytest.mark.parametrize("auth", ["token", "session"])
def test_add_read_list_change_and_delete(caller, auth):
    ada = caller("customer", auth)

    created = ada.post(BOOK, json=ADDRESS)
    assert created.status_code == 201
    first = created.get_json()["id"]
    saved(created, **ADDRESS, default_shipping=True, default_billing=True)
    second = add(ada, WORK, default_billing=True)

    assert [a["id"] for a in ada.get(BOOK).get_json()] == [first, second]
    saved(ada.get(f"{BOOK}/{second}"), **WORK, default_shipping=False, default_billing=True)
    assert ada.get(f"{BOOK}/{first}").get_json()["default_billing"] is False

    changed = ada.patch(f"{BOOK}/{second}", json={"city": "Paris", "default_shipping": True})
    assert changed.status_code == 200
    saved(changed, **{**WORK, "city": "Paris"}, default_shipping=True, default_billing=True)
    assert ada.get(f"{BOOK}/{first}").get_json()["default_shipping"] is False

    deleted = ada.delete(f"{BOOK}/{second}")
    assert deleted.status_code == 204
    assert deleted.get_data() == b""
    assert_error(ada.get(f"{BOOK}/{second}"), 404, "not_found")
    assert [a["id"] for a in ada.get(BOOK).get_json()] == [first]


def test_an_empty_book_is_an_empty_list(caller):
    response = caller("customer").get(BOOK)

    assert response.status_code == 200
    assert response.get_json() == []


def test_another_customers_address_is_404_at_every_endpoint(caller):
    theirs = add(caller("other"))
    ada = caller("customer")

    for method, body in (("GET", None), ("PATCH", {"city": "Paris"}), ("DELETE", None)):
        assert_error(ada.open(method, f"{BOOK}/{theirs}", json=body), 404, "not_found")
        assert_error(ada.open(method, f"{BOOK}/999999", json=body), 404, "not_found")
    assert ada.get(BOOK).get_json() == []
    assert caller("other").get(f"{BOOK}/{theirs}").get_json()["city"] == "London"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**ADDRESS, "country": "XX"}, "country"),
        ({**ADDRESS, "city": "   "}, "city"),
        ({**ADDRESS, "postcode": "9" * 21}, "postcode"),
        ({key: value for key, value in ADDRESS.items() if key != "name"}, "name"),
        ({**ADDRESS, "default_shipping": "yes"}, "default_shipping"),
        ({**ADDRESS, "colour": "blue"}, "colour"),
    ],
)
def test_a_bad_field_is_422_naming_it(caller, body, field):
    ada = caller("customer")

    error = assert_error(ada.post(BOOK, json=body), 422, "validation_failed")

    assert set(error["fields"]) == {field}
    assert ada.get(BOOK).get_json() == []


def test_a_change_is_partial_and_checked(caller):
    ada = caller("customer")
    address = add(ada)

    error = assert_error(
        ada.patch(f"{BOOK}/{address}", json={"line1": " ", "country": "de"}),
        422,
        "validation_failed",
    )
    assert set(error["fields"]) == {"line1", "country"}
    assert_error(ada.patch(f"{BOOK}/{address}"), 422, "validation_failed")
    assert ada.patch(f"{BOOK}/{address}", json={}).status_code == 200
    saved(ada.get(f"{BOOK}/{address}"), **ADDRESS, default_shipping=True, default_billing=True)


@pytest.mark.app_config(ADDRESS_BOOK_MAX=1)
def test_a_full_book_is_422(caller):
    ada = caller("customer")
    add(ada)

    error = assert_error(ada.post(BOOK, json=WORK), 422, "validation_failed")

    assert set(error["fields"]) == {"_schema"}


def test_anonymous_callers_get_401(caller, user_factory):
    address = add(caller("other"))
    anonymous = caller("anonymous")

    for method, path in (
        ("GET", BOOK),
        ("POST", BOOK),
        ("GET", f"{BOOK}/{address}"),
        ("PATCH", f"{BOOK}/{address}"),
        ("DELETE", f"{BOOK}/{address}"),
    ):
        body = WORK if method in ("POST", "PATCH") else None
        assert_error(anonymous.open(method, path, json=body), 401, "unauthorized")


def test_a_session_write_without_the_csrf_token_is_400(caller):
    browser = caller("customer", "session")
    address = add(browser)
    browser.headers.pop("X-CSRF-Token")

    assert_error(browser.post(BOOK, json=WORK), 400, "bad_request")
    assert_error(browser.patch(f"{BOOK}/{address}", json={"city": "Paris"}), 400, "bad_request")
    assert_error(browser.delete(f"{BOOK}/{address}"), 400, "bad_request")
    assert [a["city"] for a in browser.get(BOOK).get_json()] == ["London"]


def test_anyone_gets_the_countries_named_in_their_language(client):
    english = client.get("/api/v1/countries")
    german = client.get("/api/v1/countries", headers={"Accept-Language": "de-DE,de;q=0.9"})

    assert english.status_code == 200
    assert len(english.get_json()) == 249
    assert {"code": "DE", "name": "Germany"} in english.get_json()
    assert {"code": "DE", "name": "Deutschland"} in german.get_json()
    names = [country["name"] for country in german.get_json()]
    assert names.index("Österreich") < names.index("Polen")  # sorted as a reader expects
