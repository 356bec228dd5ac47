"""Stock, per variant: taken at checkout, given back when an order is declined or cancelled.

Both run inside the caller's unit of work (app.transactions) and lock variant rows in
ascending id, the order every writer of stock follows (see README's lock order), so that two
transactions sharing variants wait for each other instead of deadlocking.
"""

from collections.abc import Mapping

from sqlalchemy import select, true, update

from app.catalog.models import Product, Variant
from app.extensions import db


def take(quantities: Mapping[int, int]) -> int | None:
    """Take each quantity off its variant's stock (a conditional UPDATE: never below zero,
    only while the variant and its product are on sale). Returns None when every one was
    taken, else the id of the first variant that was short: the caller raises, and its unit
    rolls the rest back."""
    on_sale = select(Product.id).where(Product.is_active == true())
    for variant_id, quantity in sorted(quantities.items()):
        taken = db.session.execute(  # type: ignore[attr-defined]  # DML: a CursorResult
            update(Variant)
            .where(
                Variant.id == variant_id,
                Variant.stock >= quantity,
                Variant.is_active == true(),
                Variant.product_id.in_(on_sale),
            )
            .values(stock=Variant.stock - quantity)
            .execution_options(synchronize_session=False)
        ).rowcount
        if taken != 1:
            return variant_id
    return None


def give_back(quantities: Mapping[int, int]) -> None:
    """Put quantities back on their variants' stock (a variant deleted since is skipped)."""
    for variant_id, quantity in sorted(quantities.items()):
        db.session.execute(
            update(Variant)
            .where(Variant.id == variant_id)
            .values(stock=Variant.stock + quantity)
            .execution_options(synchronize_session=False)
        )
