"""The back office's own queries: the dashboard's figures."""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import case, func, select, true
from sqlalchemy.orm import contains_eager, selectinload

from app.catalog.models import Product, Variant
from app.extensions import db
from app.orders.models import Order, OrderLine, OrderStatus, Refund
from app.payments.statuses import RefundStatus
from app.timestamps import utcnow

DASHBOARD_DAYS = 30  # the chart's days, today the last; top products, refunds, vouchers too
TOP_PRODUCTS = 5


@dataclass(frozen=True)
class Day:
    """One of the shop's days (SHOP_TIMEZONE): its orders and revenue, cancelled ones left out."""

    day: date
    orders: int
    revenue_cents: int


def day_starts(now: datetime, zone: ZoneInfo, days: int) -> list[datetime]:
    """The naive UTC instants the shop's last ``days`` days start at, today's last, then the
    next day's start: ``days`` + 1 bounds. Each is local midnight, so a day is 23 or 25 hours
    long when the clocks change."""
    today = now.replace(tzinfo=UTC).astimezone(zone).date()
    local = (today - timedelta(days=days - 1 - n) for n in range(days + 1))
    return [
        datetime.combine(d, time(), tzinfo=zone).astimezone(UTC).replace(tzinfo=None) for d in local
    ]


def dashboard(now: datetime | None = None) -> dict:
    """Orders and revenue today, over the last 7 and 30 days (each of the 30 a bar of the
    chart), in the shop's days (SHOP_TIMEZONE); the last 30 days' top products, average order,
    refunds and vouchers; products low on stock. ``now``: naive UTC, utcnow() by default."""
    now = now or utcnow()
    zone = ZoneInfo(current_app.config["SHOP_TIMEZONE"])
    starts = day_starts(now, zone, DASHBOARD_DAYS)
    since, until = starts[0], starts[-1]
    counted = (
        Order.created_at >= since,
        Order.created_at < until,
        Order.status != OrderStatus.CANCELLED,
    )

    # Each order's day by portable SQL (SQLite and MariaDB alike): the first day start it
    # precedes. 30 rows come back, whatever the number of orders.
    day_index = case(
        *((Order.created_at < start, n) for n, start in enumerate(starts[1:])), else_=-1
    ).label("day")
    per_order = select(day_index, Order.total_cents).where(*counted).subquery()
    sums = {
        n: (count, int(revenue))
        for n, count, revenue in db.session.execute(
            select(per_order.c.day, func.count(), func.sum(per_order.c.total_cents)).group_by(
                per_order.c.day
            )
        )
    }
    series = [
        Day(
            (start.replace(tzinfo=UTC).astimezone(zone)).date(),
            *sums.get(n, (0, 0)),
        )
        for n, start in enumerate(starts[:-1])
    ]

    def total(days: list[Day]) -> dict:
        orders = sum(d.orders for d in days)
        revenue = sum(d.revenue_cents for d in days)
        return {"orders": orders, "revenue_cents": revenue}

    month = total(series)
    month["average_cents"] = (
        (month["revenue_cents"] + month["orders"] // 2) // month["orders"] if month["orders"] else 0
    )
    return {
        "today": total(series[-1:]),
        "week": total(series[-7:]),
        "month": month,
        "series": series,
        "top_by_units": top_products(counted, by_revenue=False),
        "top_by_revenue": top_products(counted, by_revenue=True),
        "refunds": refunds(since, until),
        "vouchers": vouchers(counted),
        "timezone": str(zone),
        "currency": current_app.config["SHOP_CURRENCY"],
        "low_stock": low_stock(),
    }


@dataclass(frozen=True)
class TopProduct:
    product_id: int | None  # None: the product is deleted since
    name: str  # as its order lines name it (the last alphabetically, if it was renamed)
    units: int
    revenue_cents: int  # its lines' totals, before vouchers


def top_products(counted, by_revenue: bool, limit: int = TOP_PRODUCTS) -> list[TopProduct]:
    """The products sold most (units, or line totals), from the counted orders' lines: a
    product still in the catalogue by its id, a deleted one by its name."""
    units = func.sum(OrderLine.quantity)
    revenue = func.sum(OrderLine.quantity * OrderLine.unit_price_cents)
    key = func.coalesce(OrderLine.product_id, 0)
    nameless = case((OrderLine.product_id.is_(None), OrderLine.name), else_="")
    first, second = (revenue, units) if by_revenue else (units, revenue)
    rows = db.session.execute(
        select(
            func.max(OrderLine.product_id),
            func.max(OrderLine.name),
            units,
            revenue,
        )
        .join(Order, OrderLine.order_id == Order.id)
        .where(*counted)
        .group_by(key, nameless)
        .order_by(first.desc(), second.desc(), func.max(OrderLine.name))
        .limit(limit)
    ).all()
    return [TopProduct(pid, name, int(u), int(r)) for pid, name, u, r in rows]


def refunds(since: datetime, until: datetime) -> dict:
    """Refunds made in the period (partial ones, a cancelled paid order's whole amount, those
    made in the provider's dashboard), failed ones left out: their number and amount."""
    count, amount = db.session.execute(
        select(func.count(Refund.id), func.coalesce(func.sum(Refund.amount_cents), 0)).where(
            Refund.created_at >= since,
            Refund.created_at < until,
            Refund.status != RefundStatus.FAILED,
        )
    ).one()
    return {"count": count, "amount_cents": int(amount)}


def vouchers(counted) -> dict:
    """The counted orders that used a voucher: their number and their discounts' total."""
    count, discount = db.session.execute(
        select(func.count(Order.id), func.coalesce(func.sum(Order.discount_cents), 0)).where(
            *counted, Order.voucher_code != ""
        )
    ).one()
    return {"orders": count, "discount_cents": int(discount)}


def low_stock() -> list[Variant]:
    """Active variants of active products at or below LOW_STOCK_THRESHOLD, fewest first."""
    return list(
        db.session.scalars(
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
    )
