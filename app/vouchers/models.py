"""Vouchers: discount codes with a validity window, a minimum subtotal and usage limits."""

import enum
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    ForeignKey,
    Integer,
    String,
    Table,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.catalog.models import Category, Product
from app.extensions import Model, db
from app.timestamps import utcnow


class VoucherKind(enum.StrEnum):
    PERCENT = "percent"  # value: percent off the subtotal (1 to 100)
    FIXED = "fixed"  # value: an amount off in the shop's currency (minor units)


voucher_product = Table(
    "voucher_product",
    db.metadata,
    Column("voucher_id", ForeignKey("voucher.id", ondelete="CASCADE"), primary_key=True),
    Column(
        "product_id", ForeignKey("product.id", ondelete="CASCADE"), primary_key=True, index=True
    ),
)

voucher_category = Table(
    "voucher_category",
    db.metadata,
    Column("voucher_id", ForeignKey("voucher.id", ondelete="CASCADE"), primary_key=True),
    Column(
        "category_id", ForeignKey("category.id", ondelete="CASCADE"), primary_key=True, index=True
    ),
)


class Voucher(Model):
    """``uses`` counts the orders that took it (a cancelled one gives its use back); the
    database refuses more than ``max_uses``, and checkout takes a use by a conditional
    UPDATE, so racing checkouts never pass the limit."""

    __tablename__ = "voucher"
    __table_args__ = (
        CheckConstraint("uses >= 0", name="uses_not_negative"),
        CheckConstraint("max_uses IS NULL OR uses <= max_uses", name="uses_within_limit"),
        CheckConstraint("value > 0", name="value_positive"),
        CheckConstraint("kind IN ('percent', 'fixed')", name="kind_known"),
        CheckConstraint("kind <> 'percent' OR value <= 100", name="percent_at_most_100"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)  # upper case: see services
    kind: Mapped[str] = mapped_column(String(10), default=VoucherKind.PERCENT)
    value: Mapped[int] = mapped_column(BigInteger)
    min_subtotal_cents: Mapped[int | None] = mapped_column(BigInteger)
    starts_at: Mapped[datetime | None] = mapped_column()
    ends_at: Mapped[datetime | None] = mapped_column()
    max_uses: Mapped[int | None] = mapped_column(Integer)
    max_uses_per_customer: Mapped[int | None] = mapped_column(Integer)
    uses: Mapped[int] = mapped_column(Integer, default=0)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Neither: the voucher is for the whole cart. Else only for these products and those of
    # these categories (and their sub-categories).
    products: Mapped[list[Product]] = relationship(secondary=voucher_product, order_by=Product.name)
    categories: Mapped[list[Category]] = relationship(
        secondary=voucher_category, order_by=Category.name
    )

    def __str__(self) -> str:
        return self.code
