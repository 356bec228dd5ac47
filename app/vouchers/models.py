"""Vouchers: discount codes with a validity window, a minimum subtotal and usage limits."""

import enum
from datetime import datetime

from sqlalchemy import BigInteger, Boolean, CheckConstraint, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import Model
from app.timestamps import utcnow


class VoucherKind(enum.StrEnum):
    PERCENT = "percent"  # value: percent off the subtotal (1 to 100)
    FIXED = "fixed"  # value: an amount off in the shop's currency (minor units)


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

    def __str__(self) -> str:
        return self.code
