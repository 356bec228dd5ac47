"""Order, its lines (a snapshot of what was bought), its events and its payments."""

import enum
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, cast

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Integer,
    Numeric,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.accounts.models import User
from app.extensions import Model
from app.payments.statuses import PaymentStatus
from app.timestamps import utcnow

if TYPE_CHECKING:
    from app.invoices.models import CreditNote, Invoice


class OrderStatus(enum.StrEnum):
    PENDING_PAYMENT = "pending_payment"
    PAID = "paid"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"
    # Set by refunds only (app/orders/refunds.py), never chosen as a status by hand.
    PARTIALLY_REFUNDED = "partially_refunded"
    REFUNDED = "refunded"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ").capitalize()


class Order(Model):
    __tablename__ = "orders"
    __table_args__ = (
        CheckConstraint("subtotal_cents >= 0", name="subtotal_not_negative"),
        CheckConstraint("shipping_cents >= 0", name="shipping_not_negative"),
        CheckConstraint("total_cents >= 0", name="total_not_negative"),
        CheckConstraint("tax_cents >= 0", name="tax_not_negative"),
        CheckConstraint("discount_cents >= 0", name="discount_not_negative"),
        # Refunds never pay back more than was paid: the database refuses it too.
        CheckConstraint(
            "refunded_cents >= 0 AND refunded_cents <= total_cents", name="refunded_within_total"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Shown to customers: random, not the row id (not guessable, not a sales counter).
    number: Mapped[str] = mapped_column(String(20), unique=True)
    # None: a guest's order, found by its signed link (app.orders.guest) until an account that
    # confirms the same e-mail address takes it over.
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), index=True)
    # Where the order's e-mails go: the guest's address, or the customer's when they ordered;
    # normalized and lower-cased, so that a confirmed account with it finds the guest's orders.
    email: Mapped[str] = mapped_column(String(255), index=True)
    status: Mapped[str] = mapped_column(String(20), default=OrderStatus.PENDING_PAYMENT, index=True)
    currency: Mapped[str] = mapped_column(String(3))
    subtotal_cents: Mapped[int] = mapped_column(BigInteger)
    # The parts of app.totals, as prices are stated (prices_include_tax): subtotal - discount
    # + shipping (+ tax when prices exclude it) = total. tax_cents includes shipping's tax.
    discount_cents: Mapped[int] = mapped_column(BigInteger, default=0)
    shipping_cents: Mapped[int] = mapped_column(BigInteger, default=0)
    shipping_tax_cents: Mapped[int] = mapped_column(BigInteger, default=0)
    tax_cents: Mapped[int] = mapped_column(BigInteger, default=0)
    total_cents: Mapped[int] = mapped_column(BigInteger)
    # What its refunds paid back (or are paying back: pending ones count), of total_cents.
    refunded_cents: Mapped[int] = mapped_column(BigInteger, default=0)
    prices_include_tax: Mapped[bool] = mapped_column(Boolean, default=True)
    shipping_method: Mapped[str] = mapped_column(String(100), default="")  # its name, as it was
    # The voucher the discount came from (its code as applied); its use is given back once,
    # when the order is cancelled.
    voucher_id: Mapped[int | None] = mapped_column(
        ForeignKey("voucher.id", ondelete="SET NULL"), index=True
    )
    voucher_code: Mapped[str] = mapped_column(String(32), default="")
    payment_method: Mapped[str] = mapped_column(String(20))
    # The language the customer ordered in (app/i18n.py: a LANGUAGES locale): the order's
    # e-mails are written in it. None: orders placed before it was kept (the default language).
    locale: Mapped[str | None] = mapped_column(String(16), nullable=True)
    ship_name: Mapped[str] = mapped_column(String(120))
    ship_line1: Mapped[str] = mapped_column(String(200))
    ship_line2: Mapped[str] = mapped_column(String(200), default="")
    ship_city: Mapped[str] = mapped_column(String(100))
    ship_postcode: Mapped[str] = mapped_column(String(20))
    ship_country: Mapped[str] = mapped_column(String(2))
    # The billing address (the shipping one unless the buyer gave another), a snapshot too.
    bill_name: Mapped[str] = mapped_column(String(120))
    bill_line1: Mapped[str] = mapped_column(String(200))
    bill_line2: Mapped[str] = mapped_column(String(200), default="")
    bill_city: Mapped[str] = mapped_column(String(100))
    bill_postcode: Mapped[str] = mapped_column(String(20))
    bill_country: Mapped[str] = mapped_column(String(2))
    # One checkout form (or API Idempotency-Key) makes at most one order.
    checkout_key: Mapped[str] = mapped_column(String(64), unique=True)
    checkout_fingerprint: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    user: Mapped[User | None] = relationship()
    lines: Mapped[list["OrderLine"]] = relationship(
        back_populates="order", cascade="all, delete-orphan", order_by="OrderLine.id"
    )
    events: Mapped[list["OrderEvent"]] = relationship(
        back_populates="order", cascade="all, delete-orphan", order_by="OrderEvent.id"
    )
    payments: Mapped[list["Payment"]] = relationship(
        back_populates="order", cascade="all, delete-orphan", order_by="Payment.id"
    )
    if TYPE_CHECKING:  # Invoice.order's backref: None until the order is paid (app/invoices/)
        invoice: Invoice | None

    def quantities(self) -> dict[int, int]:
        """Each variant's quantity in the order (lines whose variant is deleted left out)."""
        quantities: dict[int, int] = {}
        for line in self.lines:
            if line.variant_id is not None:
                quantities[line.variant_id] = quantities.get(line.variant_id, 0) + line.quantity
        return quantities

    @property
    def status_label(self) -> str:
        return OrderStatus(self.status).label

    @property
    def refunds(self) -> list["Refund"]:
        """Its payments' refunds, oldest first."""
        return [refund for payment in self.payments for refund in payment.refunds]

    @property
    def is_guest(self) -> bool:
        return self.user_id is None

    @property
    def payment_page_url(self) -> str | None:
        """The provider's hosted page where the customer pays, while the order waits for it."""
        payment = self.payments[-1] if self.payments else None
        if self.status != OrderStatus.PENDING_PAYMENT or payment is None:
            return None
        waiting = payment.status == PaymentStatus.PENDING and payment.checkout_url
        return payment.checkout_url if waiting else None

    @property
    def recipient(self) -> str:
        """Where its e-mails go: the customer's address now, or the guest's."""
        return str(self.user.email) if self.user is not None else self.email

    def address(self, kind: str) -> dict[str, str]:
        """The shipping (``ship``) or billing (``bill``) address, by ADDRESS_FIELDS."""
        return {field: getattr(self, f"{kind}_{field}") for field in ADDRESS_FIELDS}

    @property
    def shipping_address(self) -> dict[str, str]:
        return self.address("ship")

    @property
    def billing_address(self) -> dict[str, str]:
        return self.address("bill")

    def __str__(self) -> str:
        return self.number


class OrderLine(Model):
    __tablename__ = "order_line"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("unit_price_cents >= 0", name="unit_price_not_negative"),
        CheckConstraint(
            "refunded_quantity >= 0 AND refunded_quantity <= quantity",
            name="refunded_within_quantity",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    product_id: Mapped[int | None] = mapped_column(
        ForeignKey("product.id", ondelete="SET NULL"), index=True
    )
    variant_id: Mapped[int | None] = mapped_column(
        ForeignKey("variant.id", ondelete="SET NULL"), index=True
    )
    # A snapshot when the order is placed: later edits of the catalogue never change it.
    sku: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(160))
    options: Mapped[str] = mapped_column(String(255), default="")  # "Size M, Colour blue"
    unit_price_cents: Mapped[int] = mapped_column(BigInteger)
    regular_price_cents: Mapped[int | None] = mapped_column(BigInteger)  # before a sale; else NULL
    # The line's tax (rate in percent, amount by app.totals' rule) when the order was placed.
    tax_rate: Mapped[Decimal] = mapped_column(Numeric(6, 3), default=Decimal(0))
    tax_cents: Mapped[int] = mapped_column(BigInteger, default=0)
    # The line's share of the order's discount (a voucher), already out of its tax_cents.
    discount_cents: Mapped[int] = mapped_column(BigInteger, default=0)
    currency: Mapped[str] = mapped_column(String(3))
    quantity: Mapped[int] = mapped_column(Integer)
    refunded_quantity: Mapped[int] = mapped_column(Integer, default=0)
    order: Mapped[Order] = relationship(back_populates="lines")

    @property
    def line_total_cents(self) -> int:
        return self.unit_price_cents * self.quantity

    @property
    def paid_cents(self) -> int:
        """What the buyer paid for the line: its total less its share of the discount, plus
        its tax when prices exclude tax."""
        tax = 0 if self.order.prices_include_tax else self.tax_cents
        return self.line_total_cents - self.discount_cents + tax

    @property
    def refundable_quantity(self) -> int:
        return self.quantity - self.refunded_quantity


class OrderEvent(Model):
    """One status transition: who moved the order from what to what, and when."""

    __tablename__ = "order_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str] = mapped_column(String(20))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    order: Mapped[Order] = relationship(back_populates="events")
    actor: Mapped[User | None] = relationship()


class Payment(Model):
    """A payment recorded with the order: provider, amount, outcome, reference."""

    __tablename__ = "payment"
    __table_args__ = (CheckConstraint("amount_cents >= 0", name="amount_not_negative"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    provider: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20))  # a PaymentStatus
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    # The provider's id: Stripe's Checkout Session while the customer pays on Stripe's page,
    # then the PaymentIntent that took the money (what refunds name).
    reference: Mapped[str] = mapped_column(String(100), default="")
    # The provider's page where the customer pays (a hosted checkout), while the payment waits.
    checkout_url: Mapped[str] = mapped_column(String(2048), default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    order: Mapped[Order] = relationship(back_populates="payments")
    refunds: Mapped[list["Refund"]] = relationship(
        back_populates="payment", cascade="all, delete-orphan", order_by="Refund.id"
    )

    @property
    def charge_key(self) -> str:
        """The idempotency key of this payment's charge: one per order, whatever the retries."""
        return f"{self.order.number}:charge"


class Refund(Model):
    """Money sent back through the payment's provider (pending until the provider confirms)."""

    __tablename__ = "refund"
    __table_args__ = (CheckConstraint("amount_cents > 0", name="amount_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    payment_id: Mapped[int] = mapped_column(
        ForeignKey("payment.id", ondelete="CASCADE"), index=True
    )
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(20))  # a RefundStatus
    reference: Mapped[str] = mapped_column(String(100), default="")
    # What it pays back (amount_cents in all): its lines (RefundLine), shipping, and the rest
    # an amount the admin chose, not tied to a line.
    shipping_cents: Mapped[int] = mapped_column(BigInteger, default=0)
    restocked: Mapped[bool] = mapped_column(Boolean, default=False)  # its lines' stock went back
    note: Mapped[str] = mapped_column(Text, default="")
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    payment: Mapped[Payment] = relationship(back_populates="refunds")
    lines: Mapped[list["RefundLine"]] = relationship(
        back_populates="refund", cascade="all, delete-orphan", order_by="RefundLine.id"
    )
    actor: Mapped[User | None] = relationship()
    if TYPE_CHECKING:  # CreditNote.refund's backref: None for a refund of an unpaid order
        credit_note: CreditNote | None

    @property
    def other_cents(self) -> int:
        """The part of the amount tied to neither a line nor shipping."""
        return (
            self.amount_cents - self.shipping_cents - sum(line.amount_cents for line in self.lines)
        )

    @property
    def refund_key(self) -> str:
        return f"{self.payment.order.number}:refund:{self.id}"


class RefundLine(Model):
    """Units of an order line a refund pays back, and what they cost the buyer."""

    __tablename__ = "refund_line"
    __table_args__ = (CheckConstraint("quantity > 0", name="quantity_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    refund_id: Mapped[int] = mapped_column(ForeignKey("refund.id", ondelete="CASCADE"), index=True)
    order_line_id: Mapped[int] = mapped_column(
        ForeignKey("order_line.id", ondelete="CASCADE"), index=True
    )
    quantity: Mapped[int] = mapped_column(Integer)
    amount_cents: Mapped[int] = mapped_column(BigInteger)  # paid back, as paid (with tax)
    tax_cents: Mapped[int] = mapped_column(BigInteger)  # the tax in it, at the line's rate
    refund: Mapped[Refund] = relationship(back_populates="lines")
    order_line: Mapped[OrderLine] = relationship()


# An address's fields and their maximum lengths, read from the order's columns (ship_<field>):
# the address book's columns, the checkout form, the services and the API schema use these.
ADDRESS_FIELDS: dict[str, int] = {
    field: cast(String, Order.__table__.c[f"ship_{field}"].type).length or 0
    for field in ("name", "line1", "line2", "city", "postcode", "country")
}
