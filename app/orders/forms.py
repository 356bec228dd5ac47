"""The checkout form: shipping address (a saved one or a new one) and payment method (card
number for the test card)."""

from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, RadioField, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional

from app.countries import countries
from app.orders.checkout import ADDRESS_FIELDS, OPTIONAL_ADDRESS_FIELDS


def _address_field(label: str, field: str) -> StringField:
    """A text field of the shipping address, as long as the checkout service allows."""
    presence = Optional() if field in OPTIONAL_ADDRESS_FIELDS else DataRequired()
    return StringField(label, validators=[presence, Length(max=ADDRESS_FIELDS[field])])


NEW_ADDRESS = "new"


class CheckoutForm(FlaskForm):
    checkout_key = HiddenField()
    # The customer's saved addresses (their ids) and NEW_ADDRESS: offer_addresses.
    saved_address = RadioField("Ship to", default=NEW_ADDRESS)
    save_address = BooleanField("Save this address in my address book")
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
        self.offer_addresses([])

    def offer_addresses(self, saved: list) -> None:
        """Ship to one of these saved addresses (each by its id) or to a new one."""
        self.saved_address.choices = [
            *((str(address.id), str(address)) for address in saved),
            (NEW_ADDRESS, "A new address"),
        ]

    def address(self) -> dict:
        return {field: getattr(self, field).data or "" for field in ADDRESS_FIELDS}

    def use_address(self, fields: dict) -> None:
        """Ship to these fields (a saved address), whatever the form's own say."""
        for field, value in fields.items():
            getattr(self, field).data = value
