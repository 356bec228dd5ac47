"""The checkout form: shipping address and payment method (card number for the test card)."""

from flask_wtf import FlaskForm
from wtforms import HiddenField, RadioField, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional

from app.countries import countries
from app.orders.checkout import ADDRESS_FIELDS, OPTIONAL_ADDRESS_FIELDS


def _address_field(label: str, field: str) -> StringField:
    """A text field of the shipping address, as long as the checkout service allows."""
    presence = Optional() if field in OPTIONAL_ADDRESS_FIELDS else DataRequired()
    return StringField(label, validators=[presence, Length(max=ADDRESS_FIELDS[field])])


class CheckoutForm(FlaskForm):
    checkout_key = HiddenField()
    name = _address_field("Full name", "name")
    line1 = _address_field("Address line 1", "line1")
    line2 = _address_field("Address line 2", "line2")
    city = _address_field("City", "city")
    postcode = _address_field("Postcode", "postcode")
    country = SelectField("Country", validators=[DataRequired()])
    payment_method = RadioField("Payment", validators=[DataRequired()])
    card_number = StringField("Card number", validators=[Optional(), Length(max=23)])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # SelectField refuses anything not in its choices: ISO 3166-1 countries only.
        self.country.choices = [("", "Choose…"), *countries()]

    def address(self) -> dict:
        return {field: getattr(self, field).data or "" for field in ADDRESS_FIELDS}
