"""The address book's form: checkout's address fields, the same fields and country list."""

from typing import cast

from flask_wtf import FlaskForm
from wtforms import SelectField

from app.countries import countries
from app.orders.checkout import ADDRESS_FIELDS
from app.orders.forms import CheckoutForm


class AddressForm(FlaskForm):
    """The checkout form's own (unbound) address fields; a form binds them afresh."""

    name = CheckoutForm.name
    line1 = CheckoutForm.line1
    line2 = CheckoutForm.line2
    city = CheckoutForm.city
    postcode = CheckoutForm.postcode
    country = CheckoutForm.country

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        cast(SelectField, self.country).choices = [("", "Choose…"), *countries()]

    def address(self) -> dict:
        return {field: getattr(self, field).data or "" for field in ADDRESS_FIELDS}

    def show_errors(self, fields: dict[str, list[str]]) -> None:
        """A service's per-field messages on the fields they name."""
        for field, messages in fields.items():
            if field in self:
                self[field].errors = list(messages)
