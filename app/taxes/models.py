"""Tax classes (a reduced rate for books, say) and each country's rates: the standard rate
(no class) and one per class that differs."""

from decimal import Decimal

from sqlalchemy import CheckConstraint, ForeignKey, Numeric, String, UniqueConstraint
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
        UniqueConstraint("country", "tax_class_id", name="uq_tax_rate_country_class"),
        CheckConstraint("rate >= 0 AND rate <= 100", name="rate_is_a_percentage"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    country: Mapped[str] = mapped_column(String(2), index=True)
    tax_class_id: Mapped[int | None] = mapped_column(
        ForeignKey("tax_class.id", ondelete="CASCADE"), index=True
    )
    rate: Mapped[Decimal] = mapped_column(RATE)
    tax_class: Mapped[TaxClass | None] = relationship()

    def __str__(self) -> str:
        return f"{self.country} {self.tax_class or 'standard'} {self.rate}%"
