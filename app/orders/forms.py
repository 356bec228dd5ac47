"""The checkout form: the guest's e-mail address, the shipping address (a saved one or a new
one), the billing address (the shipping one unless another is given) and the payment method
(card number for the test card)."""

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, EmailField, FormField, HiddenField, RadioField, StringField
from wtforms.validators import DataRequired, Length, Optional

from app.addresses.forms import AddressFields, AddressForm
from app.orders.checkout import EMAIL_MAX

NEW_ADDRESS = "new"
BILLING_PREFIX = "billing_"  # the services' names of the billing address's fields


class CheckoutForm(AddressForm):
    """The address form's fields, a saved address to use instead, billing, and the payment."""

    # Guests only (a customer's orders go to their account's address): see for_guest.
    email = EmailField(_l("E-mail address"), validators=[Optional(), Length(max=EMAIL_MAX)])
    checkout_key = HiddenField()
    # The customer's saved addresses (their ids) and NEW_ADDRESS: offer_addresses.
    saved_address = RadioField(_l("Ship to"), default=NEW_ADDRESS)
    save_address = BooleanField(_l("Save this address in my address book"))
    billing_other = BooleanField(_l("Bill to another address"))
    billing = FormField(AddressFields, _l("Billing address"), separator="-")
    # The methods for the address's country (offer_shipping); the service checks the choice.
    shipping_method = RadioField(
        _l("Shipping"), choices=[], validate_choice=False, validators=[Optional()]
    )
    payment_method = RadioField(_l("Payment"), validators=[DataRequired()])
    card_number = StringField(_l("Card number"), validators=[Optional(), Length(max=23)])

    def __init__(self, *args, guest: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.offer_addresses([])
        if guest:
            self.email.validators = [DataRequired(), Length(max=EMAIL_MAX)]
            del self.saved_address
            del self.save_address
        else:
            del self.email

    def offer_addresses(self, saved: list) -> None:
        """Ship to one of these saved addresses (each by its id) or to a new one."""
        if "saved_address" in self:
            self.saved_address.choices = [
                *((str(address.id), str(address)) for address in saved),
                (NEW_ADDRESS, str(_l("A new address"))),
            ]

    def offer_shipping(self, methods: list[tuple[int, str]], chosen: int | None) -> None:
        """Offer these (id, label) shipping methods, this one chosen."""
        self.shipping_method.choices = [(str(method_id), label) for method_id, label in methods]
        self.shipping_method.data = None if chosen is None else str(chosen)

    def validate(self, extra_validators=None) -> bool:
        """The billing fields count only when the billing address is not the shipping one."""
        if self.billing_other.data:
            return super().validate(extra_validators)
        billing = self._fields.pop("billing")
        try:
            return super().validate(extra_validators)
        finally:
            self._fields["billing"] = billing

    def billing_address(self) -> dict | None:
        """The billing address, or None for the shipping one."""
        return self.billing.form.address() if self.billing_other.data else None

    def show_errors(self, fields: dict[str, list[str]]) -> None:
        """A service's per-field messages, the billing address's (billing_<field>) included."""
        for field, messages in fields.items():
            if field.startswith(BILLING_PREFIX):
                self.billing.form[field.removeprefix(BILLING_PREFIX)].errors = list(messages)
                self.billing_other.data = True
        super().show_errors(fields)
