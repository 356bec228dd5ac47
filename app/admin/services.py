"""The back office's own queries: the dashboard's figures."""

from datetime import timedelta

from flask import current_app
from sqlalchemy import func, select, true
from sqlalchemy.orm import contains_eager, selectinload

from app.catalog.models import Product, Variant
from app.extensions import db
from app.orders.models import Order, OrderStatus
from app.timestamps import utcnow


def dashboard() -> dict:
    """Orders and revenue today and over the last 7 days; products low on stock."""
    now = utcnow()
    today = now.replace(hour=0, minute=0, second=0, microsecond=0)

    def stats(since):
        count, revenue = db.session.execute(
            select(func.count(Order.id), func.coalesce(func.sum(Order.total_cents), 0)).where(
                Order.created_at >= since, Order.status != OrderStatus.CANCELLED
            )
        ).one()
        return {"orders": count, "revenue_cents": int(revenue)}

    low_stock = db.session.scalars(
        select(Variant)
        .join(Variant.product)
        .options(contains_eager(Variant.product).selectinload(Product.options))
        .options(selectinload(Variant.values))
        .where(
            Product.is_active == true(),
            Variant.is_active == true(),
            Variant.stock <= current_app.config["LOW_STOCK_THRESHOLD"],
        )
        .order_by(Variant.stock, Product.name, Variant.id)
        .limit(50)
    ).all()
    return {
        "today": stats(today),
        "week": stats(today - timedelta(days=6)),
        "currency": current_app.config["SHOP_CURRENCY"],
        "low_stock": list(low_stock),
    }
