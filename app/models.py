"""Every model, imported in one place so that metadata (Alembic, create_all) sees them all."""

from app.accounts.models import Role, User
from app.addresses.models import SavedAddress
from app.cart.models import Cart, CartItem
from app.catalog.models import Category, Product, ProductImage
from app.invoices.models import CreditNote, DocumentCounter, Invoice
from app.jobs.models import SentMail
from app.orders.models import Order, OrderEvent, OrderLine, Payment, Refund, RefundLine
from app.payments.models import WebhookEvent
from app.sales.models import Sale
from app.shipping.models import ShippingMethod, ShippingZone, ShippingZoneCountry, WeightBand
from app.taxes.models import TaxClass, TaxRate
from app.vouchers.models import Voucher


def all_models() -> dict:
    """Name -> model class, for the shell."""
    models = (
        *(User, Role, SavedAddress, Category, Product, ProductImage, Cart, CartItem),
        *(Order, OrderLine, OrderEvent, Payment, Refund, RefundLine),
        *(Invoice, CreditNote, DocumentCounter),
        *(ShippingZone, ShippingZoneCountry, ShippingMethod, WeightBand, TaxClass, TaxRate),
        *(Voucher, Sale, WebhookEvent, SentMail),
    )
    return {model.__name__: model for model in models}
