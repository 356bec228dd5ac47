"""Which tax rate a line pays: its country's rate for the product's tax class, else the
country's standard rate, else none."""

from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import select

from app.extensions import db
from app.taxes.models import TaxRate

NO_TAX = Decimal(0)


@dataclass(frozen=True)
class CountryRates:
    standard: Decimal = NO_TAX
    by_class: dict[int, Decimal] = field(default_factory=dict)

    def rate(self, tax_class_id: int | None) -> Decimal:
        if tax_class_id is None:
            return self.standard
        return self.by_class.get(tax_class_id, self.standard)


def rates_for(country: str) -> CountryRates:
    """Every rate of a country, in one query."""
    rows = db.session.execute(
        select(TaxRate.tax_class_id, TaxRate.rate).where(TaxRate.country == country)
    ).all()
    standard = next((rate for class_id, rate in rows if class_id is None), NO_TAX)
    by_class = {class_id: rate for class_id, rate in rows if class_id is not None}
    return CountryRates(Decimal(standard), {k: Decimal(v) for k, v in by_class.items()})
