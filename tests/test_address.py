"""The shipping address's rules exist once: the order's columns give every layer its lengths."""

import pytest
from werkzeug.datastructures import MultiDict

from app.api.schemas import AddressSchema
from app.errors import ValidationFailed
from app.orders.checkout import ADDRESS_FIELDS, OPTIONAL_ADDRESS_FIELDS, validate_address
from app.orders.forms import CheckoutForm
from app.orders.models import Order
from tests.helpers import ADDRESS

TEXT_FIELDS = [field for field in ADDRESS_FIELDS if field != "country"]


def test_address_lengths_are_the_order_columns():
    assert ADDRESS_FIELDS == {
        field: Order.__table__.c[f"ship_{field}"].type.length for field in ADDRESS_FIELDS
    }
    assert OPTIONAL_ADDRESS_FIELDS == {"line2"}


def form_errors(app, address) -> dict:
    with app.test_request_context(method="POST", data=MultiDict(address)):
        form = CheckoutForm(meta={"csrf": False})
        form.payment_method.choices = [("manual", "Bank transfer")]  # the view sets them
        form.validate()
        return {name: errors for name, errors in form.errors.items() if name in ADDRESS_FIELDS}


@pytest.mark.parametrize("field", TEXT_FIELDS)
def test_form_service_and_schema_take_the_column_length(app, field):
    longest = {**ADDRESS, field: "x" * ADDRESS_FIELDS[field]}
    too_long = {**ADDRESS, field: "x" * (ADDRESS_FIELDS[field] + 1)}

    with app.app_context():
        assert getattr(validate_address(longest), field) == longest[field]
        with pytest.raises(ValidationFailed) as refused:
            validate_address(too_long)
    assert refused.value.fields == {field: [f"At most {ADDRESS_FIELDS[field]} characters."]}
    assert form_errors(app, longest) == {}
    assert list(form_errors(app, too_long)) == [field]
    assert AddressSchema().validate(longest) == {}
    assert list(AddressSchema().validate(too_long)) == [field]


@pytest.mark.parametrize("field", TEXT_FIELDS)
def test_only_the_optional_fields_may_be_empty(app, field):
    empty = {**ADDRESS, field: ""}
    required = field not in OPTIONAL_ADDRESS_FIELDS

    with app.app_context():
        if required:
            with pytest.raises(ValidationFailed):
                validate_address(empty)
        else:
            validate_address(empty)
    assert bool(form_errors(app, empty)) is required
    assert bool(AddressSchema().validate(empty)) is required
