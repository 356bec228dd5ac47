"""The checkout form: shipping address (a saved one or a new one) and payment method (card
number for the test card)."""

from wtforms import BooleanField, HiddenField, RadioField, StringField
from wtforms.validators import DataRequired, Length, Optional

from app.addresses.forms import AddressForm

NEW_ADDRESS = "new"


class CheckoutForm(AddressForm):
    """The address form's fields, a saved address to use instead, and the payment."""

    checkout_key = HiddenField()
    # The customer's saved addresses (their ids) and NEW_ADDRESS: offer_addresses.
    saved_address = RadioField("Ship to", default=NEW_ADDRESS)
    save_address = BooleanField("Save this address in my address book")
    payment_method = RadioField("Payment", validators=[DataRequired()])
    card_number = StringField("Card number", validators=[Optional(), Length(max=23)])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.offer_addresses([])

    def offer_addresses(self, saved: list) -> None:
        """Ship to one of these saved addresses (each by its id) or to a new one."""
        self.saved_address.choices = [
            *((str(address.id), str(address)) for address in saved),
            (NEW_ADDRESS, "A new address"),
        ]

    def use_address(self, fields: dict) -> None:
        """Ship to these fields (a saved address), whatever the form's own say."""
        for field, value in fields.items():
            getattr(self, field).data = value
