"""Tax classes (a reduced rate for books, say) and each country's rates: the standard rate
(no class) and one per class that differs."""

from decimal import Decimal

from sqlalchemy import (
    CheckConstraint,
    Computed,
    ForeignKey,
    Integer,
    Numeric,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import Model

RATE = Numeric(6, 3)  # percent, e.g. 19.000 or 8.875


class TaxClass(Model):
    __tablename__ = "tax_class"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(60), unique=True)

    def __str__(self) -> str:
        return self.name


class TaxRate(Model):
    """A country's rate in percent for a tax class, or its standard rate (no class). A country
    without a rate charges no tax; a class without a rate of its own pays the standard one."""

    __tablename__ = "tax_rate"
    __table_args__ = (
        UniqueConstraint("country", "class_key", name="uq_tax_rate_country_class"),
        CheckConstraint("rate >= 0 AND rate <= 100", name="rate_is_a_percentage"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    country: Mapped[str] = mapped_column(String(2), index=True)
    tax_class_id: Mapped[int | None] = mapped_column(
        ForeignKey("tax_class.id", ondelete="CASCADE"), index=True
    )
    rate: Mapped[Decimal] = mapped_column(RATE)
    # The class, or 0 for the standard rate: a unique index on (country, tax_class_id) would
    # let a country have two standard rates, since NULLs all differ to it.
    # (MariaDB takes no NOT NULL on a generated column; it is never NULL.)
    class_key: Mapped[int | None] = mapped_column(
        Integer, Computed("COALESCE(tax_class_id, 0)", persisted=True)
    )
    tax_class: Mapped[TaxClass | None] = relationship()

    def __str__(self) -> str:
        return f"{self.country} {self.tax_class or 'standard'} {self.rate}%"
