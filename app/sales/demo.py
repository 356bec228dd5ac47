"""Demo offers for a fresh demo shop: a sale on tea for 30 days and a welcome voucher. Loaded
only with the demo catalogue, so a real shop never gets a code it did not make."""

from datetime import timedelta

from sqlalchemy import select

from app.catalog.models import Category
from app.extensions import db
from app.sales.models import Sale
from app.timestamps import utcnow
from app.transactions import atomic
from app.vouchers.models import Voucher, VoucherKind

SALE_DAYS = 30
VOUCHER_CODE = "WELCOME10"
VOUCHER_ADDED = f"the voucher {VOUCHER_CODE} (10 % off from 20.00, once per customer)."
LOADED = f"Added a sale (Tea week, 15 % off tea for {SALE_DAYS} days) and {VOUCHER_ADDED}"


@atomic
def load_demo_offers() -> str:
    """Add the demo sale and voucher where there are none; say what was done."""
    if db.session.scalar(select(Sale.id).limit(1)) or db.session.scalar(
        select(Voucher.id).limit(1)
    ):
        return "Sales and vouchers already present: left as they are."
    tea = db.session.scalar(select(Category).where(Category.name == "Tea"))
    now = utcnow().replace(second=0, microsecond=0)
    if tea is not None:
        db.session.add(
            Sale(
                name="Tea week",
                percent=15,
                starts_at=now,
                ends_at=now + timedelta(days=SALE_DAYS),
                categories=[tea],
            )
        )
    db.session.add(
        Voucher(
            code=VOUCHER_CODE,
            kind=VoucherKind.PERCENT,
            value=10,
            min_subtotal_cents=2000,
            max_uses_per_customer=1,
            uses=0,
        )
    )
    return LOADED if tea is not None else f"Added {VOUCHER_ADDED}"
