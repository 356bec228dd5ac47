"""Shipping countries: ISO 3166-1 alpha-2 only, one list for the checkout form, the order
service and the API (the API's own tests: tests/api/test_orders_api.py)."""

import pytest
from werkzeug.datastructures import MultiDict

from app.app_factory import create_app
from app.countries import countries, country_codes, country_name
from app.errors import ValidationFailed
from app.orders.checkout import validate_address
from app.orders.forms import CheckoutForm
from tests.helpers import ADDRESS, TEST_CONFIG

# Babel's territories that are no ISO 3166-1 country: unknown, unions, reserved, pseudo-locales,
# user-assigned (XK), exceptionally reserved (AC, EA, IC, TA, DG, CP, CQ).
NOT_COUNTRIES = ["ZZ", "EU", "UN", "EZ", "QO", "XA", "XB", "XK", "AC", "EA", "IC", "TA", "DG"]
COUNTRY_MESSAGE = "Use an ISO 3166 two-letter country code, e.g. DE or FR."


@pytest.fixture(scope="module")
def bare_app():
    """No database: the form and validate_address only need an app (and a request)."""
    return create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": "sqlite://"})


def test_the_list_is_iso_3166_1_alpha_2_named_in_english():
    codes = country_codes()

    assert len(codes) == 249
    assert all(len(code) == 2 and code.isascii() and code.isupper() for code in codes)
    assert not set(NOT_COUNTRIES) & set(codes)
    assert country_name("DE") == "Germany"
    assert country_name("ZZ") == "ZZ"


def test_names_are_sorted_as_readers_expect():
    names = [name for _code, name in countries()]

    assert names.index("Åland Islands") == names.index("Albania") - 1
    assert names[-1] == "Zimbabwe"


def checkout_form(app, country):
    data = MultiDict({**ADDRESS, "country": country, "payment_method": "manual"})
    with app.test_request_context("/checkout", method="POST"):
        form = CheckoutForm(formdata=data, meta={"csrf": False})
        form.payment_method.choices = [("manual", "Bank transfer")]
        form.validate()
        return form.errors


@pytest.mark.parametrize("code", NOT_COUNTRIES)
def test_the_checkout_form_refuses_non_countries(bare_app, code):
    assert checkout_form(bare_app, code) == {"country": ["Not a valid choice."]}


def test_the_checkout_form_accepts_germany(bare_app):
    assert checkout_form(bare_app, "DE") == {}


def test_the_checkout_form_offers_only_countries(bare_app):
    with bare_app.test_request_context("/checkout"):
        offered = [value for value, _label in CheckoutForm(meta={"csrf": False}).country.choices]

    assert offered == ["", *(code for code, _name in countries())]


@pytest.mark.parametrize("code", NOT_COUNTRIES)
def test_the_order_service_refuses_non_countries(bare_app, code):
    with bare_app.app_context(), pytest.raises(ValidationFailed) as refused:
        validate_address({**ADDRESS, "country": code})

    assert refused.value.fields == {"country": [COUNTRY_MESSAGE]}


def test_the_order_service_accepts_germany(bare_app):
    with bare_app.app_context():
        assert validate_address({**ADDRESS, "country": "de"}).country == "DE"
