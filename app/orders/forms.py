"""The checkout form: shipping address and payment method (card number for the test card)."""

from flask_wtf import FlaskForm
from wtforms import HiddenField, RadioField, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional

from app.countries import countries


class CheckoutForm(FlaskForm):
    checkout_key = HiddenField()
    name = StringField("Full name", validators=[DataRequired(), Length(max=120)])
    line1 = StringField("Address line 1", validators=[DataRequired(), Length(max=200)])
    line2 = StringField("Address line 2", validators=[Optional(), Length(max=200)])
    city = StringField("City", validators=[DataRequired(), Length(max=100)])
    postcode = StringField("Postcode", validators=[DataRequired(), Length(max=20)])
    country = SelectField("Country", validators=[DataRequired()])
    payment_method = RadioField("Payment", validators=[DataRequired()])
    card_number = StringField("Card number", validators=[Optional(), Length(max=23)])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # SelectField refuses anything not in its choices: ISO 3166-1 countries only.
        self.country.choices = [("", "Choose…"), *countries()]

    def address(self) -> dict:
        return {
            f: getattr(self, f).data or ""
            for f in ("name", "line1", "line2", "city", "postcode", "country")
        }
