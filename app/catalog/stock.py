"""Stock, taken at checkout and given back when an order is declined or cancelled.

Both run inside the caller's unit of work (app.transactions) and lock product rows in
ascending id, the order every writer of stock follows (see app.orders.checkout for the whole
lock order), so that two transactions sharing products wait for each other instead of
deadlocking.
"""

from collections.abc import Mapping

from sqlalchemy import update

from app.catalog.models import Product
from app.extensions import db


def take(quantities: Mapping[int, int]) -> int | None:
    """Take each quantity off its product's stock (a conditional UPDATE: never below zero,
    only while the product is on sale). Returns None when every one was taken, else the id of
    the first product that was short: the caller raises, and its unit rolls the rest back."""
    for product_id, quantity in sorted(quantities.items()):
        taken = db.session.execute(  # type: ignore[attr-defined]  # DML: a CursorResult
            update(Product)
            .where(
                Product.id == product_id,
                Product.stock >= quantity,
                Product.is_active.is_(True),
            )
            .values(stock=Product.stock - quantity)
            .execution_options(synchronize_session=False)
        ).rowcount
        if taken != 1:
            return product_id
    return None


def give_back(quantities: Mapping[int, int]) -> None:
    """Put quantities back on their products' stock (a product deleted since is skipped)."""
    for product_id, quantity in sorted(quantities.items()):
        db.session.execute(
            update(Product)
            .where(Product.id == product_id)
            .values(stock=Product.stock + quantity)
            .execution_options(synchronize_session=False)
        )
