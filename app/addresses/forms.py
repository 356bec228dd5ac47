"""The address form: the fields an order ships to, as long as the services allow, the country
from the ISO list. The address book's pages use it as it is; checkout extends it, and nests
its fields again for the billing address (``AddressFields``)."""

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import Form, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional

from app.countries import countries
from app.i18n import current_locale
from app.orders.checkout import ADDRESS_FIELDS, OPTIONAL_ADDRESS_FIELDS


def _address_field(label: Any, field: str) -> StringField:
    presence = Optional() if field in OPTIONAL_ADDRESS_FIELDS else DataRequired()
    return StringField(label, validators=[presence, Length(max=ADDRESS_FIELDS[field])])


class AddressFieldsMixin:
    """The fields, the country list and the address they make; any form class can mix it in."""

    name = _address_field(_l("Full name"), "name")
    line1 = _address_field(_l("Address line 1"), "line1")
    line2 = _address_field(_l("Address line 2"), "line2")
    city = _address_field(_l("City"), "city")
    postcode = _address_field(_l("Postcode"), "postcode")
    country = SelectField(_l("Country"), validators=[DataRequired()])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # SelectField refuses anything not in its choices: ISO 3166-1 countries only.
        self.country.choices = [("", str(_l("Choose…"))), *countries(current_locale())]

    def address(self) -> dict:
        return {field: getattr(self, field).data or "" for field in ADDRESS_FIELDS}

    def use_address(self, fields: dict) -> None:
        """Fill the fields with an address (a saved one), whatever they said."""
        for field, value in fields.items():
            getattr(self, field).data = value


class AddressFields(AddressFieldsMixin, Form):
    """The fields alone, to nest in another form (a FormField, e.g. checkout's billing)."""


class AddressForm(AddressFieldsMixin, FlaskForm):
    def show_errors(self, fields: dict[str, list[str]]) -> None:
        """A service's per-field messages on the fields they name."""
        for field, messages in fields.items():
            if field in self:
                self[field].errors = list(messages)
