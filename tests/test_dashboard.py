"""The back office dashboard (#30): days in the shop's timezone (SHOP_TIMEZONE), the last 30
days per day (figures and an SVG chart), top products, average order, refunds and vouchers.
"Now" is frozen by passing it to services.dashboard; orders' created_at are set in the DB."""

import re
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import delete, update

from app.admin import services
from app.app_factory import ConfigError, create_app
from app.catalog.models import Product
from app.extensions import db
from app.orders import checkout as checkout_service
from app.orders import state as state_machine
from app.orders.models import Order
from app.vouchers.models import Voucher
from tests.factories import ProductFactory, UserFactory, create, fill_cart, place
from tests.helpers import ADDRESS, GOOD_CARD, TEST_CONFIG
from tests.test_admin import blocked_by_the_csp

BERLIN = ZoneInfo("Europe/Berlin")


def utc(*fields: int) -> datetime:
    """A moment in UTC, naive as the database stores it (app.timestamps.utcnow)."""
    return datetime(*fields, tzinfo=UTC).replace(tzinfo=None)  # type: ignore[misc]


@pytest.fixture
def customer_id(app):
    return create(app, UserFactory)


@pytest.fixture
def tea(app):
    return create(app, ProductFactory, name="Green Tea", price_cents=450, stock=500)


def placed_at(app, user_id, at: datetime, *items, status: str | None = None) -> str:
    """An order of ``items`` placed (and paid) at ``at``, naive UTC; cancelled if told."""
    number = place(app, user_id, *items)
    with app.app_context():
        if status:
            state_machine.transition(number, status, actor_id=None)
        db.session.execute(update(Order).where(Order.number == number).values(created_at=at))
        db.session.commit()
    return number


def figures(app, now: datetime) -> dict:
    with app.app_context():
        return services.dashboard(now=now)


def test_an_order_at_23_30_utc_counts_as_today_at_half_past_midnight_in_berlin(
    app, customer_id, tea
):
    now = utc(2026, 1, 15, 23, 30)  # 00:30 on 16 January in Berlin (CET, UTC+1)
    placed_at(app, customer_id, utc(2026, 1, 15, 23, 10), (tea, 1))  # 00:10 in Berlin
    placed_at(app, customer_id, utc(2026, 1, 15, 22, 50), (tea, 2))  # 23:50 the day before

    stats = figures(app, now)

    assert stats["today"] == {"orders": 1, "revenue_cents": 450}
    assert stats["week"] == {"orders": 2, "revenue_cents": 1350}
    assert [(d.day, d.orders) for d in stats["series"][-2:]] == [
        (date(2026, 1, 15), 1),
        (date(2026, 1, 16), 1),
    ]
    assert stats["timezone"] == "Europe/Berlin"
    app.config["SHOP_TIMEZONE"] = "UTC"  # counted from UTC midnight, both are today's
    assert figures(app, now)["today"] == {"orders": 2, "revenue_cents": 1350}


def test_a_day_runs_from_local_midnight_to_midnight_across_the_clock_change():
    # Summer time starts at 02:00 on 29 March 2026: that day has 23 hours, 25 October 25.
    spring = services.day_starts(utc(2026, 3, 29, 12, 0), BERLIN, 3)
    autumn = services.day_starts(utc(2026, 10, 25, 12, 0), BERLIN, 2)

    assert spring == [
        utc(2026, 3, 26, 23, 0),  # 27 March, CET
        utc(2026, 3, 27, 23, 0),
        utc(2026, 3, 28, 23, 0),  # 29 March starts in winter time...
        utc(2026, 3, 29, 22, 0),  # ...and the next day in summer time
    ]
    assert autumn == [
        utc(2026, 10, 23, 22, 0),
        utc(2026, 10, 24, 22, 0),  # 25 October: 25 hours
        utc(2026, 10, 25, 23, 0),
    ]


def test_orders_fall_on_their_local_day_across_the_clock_change(app, customer_id, tea):
    placed_at(app, customer_id, utc(2026, 3, 28, 22, 59), (tea, 1))  # 23:59 CET, 28th
    placed_at(app, customer_id, utc(2026, 3, 28, 23, 0), (tea, 2))  # 00:00 CET, 29th
    placed_at(app, customer_id, utc(2026, 3, 29, 21, 59), (tea, 3))  # 23:59 CEST, 29th
    placed_at(app, customer_id, utc(2026, 3, 29, 22, 0), (tea, 4))  # 00:00 CEST, 30th

    series = figures(app, utc(2026, 3, 30, 8, 0))["series"]

    assert [(d.day.day, d.orders, d.revenue_cents) for d in series[-3:]] == [
        (28, 1, 450),
        (29, 2, 2250),
        (30, 1, 1800),
    ]


def test_the_30_days_series_sums_to_the_30_days_revenue(app, customer_id, tea):
    now = utc(2026, 6, 30, 10, 0)  # 12:00 in Berlin (CEST)
    for days_ago, quantity in ((0, 1), (0, 2), (5, 1), (29, 3), (30, 5), (45, 1)):
        placed_at(app, customer_id, now - timedelta(days=days_ago), (tea, quantity))
    placed_at(app, customer_id, now - timedelta(days=1), (tea, 7), status="cancelled")
    placed_at(app, customer_id, utc(2026, 5, 31, 21, 59), (tea, 1))  # 23:59 on 31 May
    placed_at(app, customer_id, utc(2026, 5, 31, 22, 0), (tea, 1))  # 00:00 on 1 June

    stats = figures(app, now)

    series = stats["series"]
    assert len(series) == 30
    assert [d.day for d in series] == [date(2026, 6, 1) + timedelta(days=n) for n in range(30)]
    assert sum(d.revenue_cents for d in series) == stats["month"]["revenue_cents"] == 8 * 450
    assert sum(d.orders for d in series) == stats["month"]["orders"] == 5
    assert (series[0].orders, series[0].revenue_cents) == (2, 4 * 450)  # 29 days ago and 00:00
    assert (series[-1].orders, series[-1].revenue_cents) == (2, 3 * 450)
    assert series[-6].orders == 1
    assert stats["month"]["average_cents"] == 720  # 36.00 / 5
    assert stats["week"] == {"orders": 3, "revenue_cents": 4 * 450}


def test_the_top_products_by_units_and_by_revenue(app, customer_id, tea):
    mug = create(app, ProductFactory, name="Mug", price_cents=1250, stock=50)
    teapot = create(app, ProductFactory, name="Teapot", price_cents=4000, stock=50)
    others = [
        create(app, ProductFactory, name=f"Spoon {n}", price_cents=100, stock=50) for n in range(4)
    ]
    now = utc(2026, 6, 30, 10, 0)
    placed_at(app, customer_id, now, (tea, 4), (mug, 1), (teapot, 1), *((p, 1) for p in others))
    placed_at(app, customer_id, now - timedelta(days=3), (tea, 2), (mug, 1))
    placed_at(app, customer_id, now - timedelta(days=2), (mug, 9), status="cancelled")
    placed_at(app, customer_id, now - timedelta(days=31), (teapot, 9))  # too long ago
    with app.app_context():  # a product deleted since is still named by its order lines
        db.session.execute(delete(Product).where(Product.id == others[0]))
        db.session.commit()

    stats = figures(app, now)

    by_units = [(p.name, p.units, p.revenue_cents) for p in stats["top_by_units"]]
    by_revenue = [(p.name, p.units, p.revenue_cents) for p in stats["top_by_revenue"]]
    assert by_units == [
        ("Green Tea", 6, 2700),
        ("Mug", 2, 2500),
        ("Teapot", 1, 4000),
        ("Spoon 0", 1, 100),  # ties: by name
        ("Spoon 1", 1, 100),
    ]
    assert by_revenue[:3] == [("Teapot", 1, 4000), ("Green Tea", 6, 2700), ("Mug", 2, 2500)]
    assert len(by_revenue) == 5
    assert stats["top_by_units"][0].product_id == tea
    assert stats["top_by_units"][3].product_id is None


def test_refunds_and_vouchers_over_30_days(app, customer_id, tea):
    with app.app_context():
        db.session.add(Voucher(code="WELCOME10", kind="percent", value=10))
        db.session.commit()
    fill_cart(app, customer_id, (tea, 10))
    with app.app_context():
        with_voucher = checkout_service.place_order(
            customer_id, "v", ADDRESS, "test", {"card_number": GOOD_CARD}, voucher_code="WELCOME10"
        ).number
    placed_at(app, customer_id, utc(2026, 6, 1), (tea, 1))  # long before: not counted
    # Placed long before, but cancelled (and refunded whole) now: a refund of these 30 days.
    placed_at(app, customer_id, utc(2026, 6, 1), (tea, 2), status="cancelled")

    with app.app_context():
        now = db.session.scalar(
            db.select(Order.created_at).where(Order.number == with_voucher)
        ) + timedelta(minutes=1)
        stats = services.dashboard(now=now)
        assert stats["vouchers"] == {"orders": 1, "discount_cents": 450}
        assert stats["refunds"] == {"count": 1, "amount_cents": 900}
        assert stats["month"]["revenue_cents"] == 4050  # the voucher's order, after its discount
        later = services.dashboard(now=now + timedelta(days=31))
        assert later["vouchers"] == {"orders": 0, "discount_cents": 0}
        assert later["refunds"] == {"count": 0, "amount_cents": 0}


def test_the_dashboard_page_draws_a_bar_a_day_without_inline_style_or_script(
    app, as_admin, customer_id, tea
):
    place(app, customer_id, (tea, 3))

    response = as_admin.get("/admin/")

    html = response.get_data(as_text=True)
    assert "Cancelled orders are not counted. Days are in Europe/Berlin" in html
    charts = re.findall(r'<svg id="([a-z-]+)"[^>]*\brole="img"[^>]*>(.*?)</svg>', html, re.S)
    assert [name for name, _ in charts] == ["revenue-chart", "orders-chart"]
    for _, svg in charts:
        assert re.match(r'\s*<title id="[a-z-]+-title">[^<]+ per day, ', svg)
        assert len(re.findall(r'<rect class="bar"', svg)) == 30
    today = re.findall(r'<rect class="bar"[^>]*><title>([^<]+)</title>', charts[0][1])[-1]
    assert today.endswith(": €13.50")
    assert len(re.findall(r"<tr><td>\w{3} \d{4}-\d\d-\d\d</td>", html)) == 30  # the table
    assert re.search(r'id="top-by-units">.*?Green Tea</a></td>\s*<td[^>]*>3</td>', html, re.S)
    assert not re.search(r"\sstyle\s*=|<style\b", html, re.IGNORECASE)
    assert [t for t in re.findall(r"<script\b[^>]*>", html) if "src=" not in t] == []
    assert blocked_by_the_csp(html) == []
    assert "unsafe-inline" not in response.headers["Content-Security-Policy"]


def test_a_shop_timezone_zoneinfo_does_not_know_refuses_to_start():
    with pytest.raises(ConfigError, match="SHOP_TIMEZONE must be an IANA time zone"):
        create_app({**TEST_CONFIG, "SHOP_TIMEZONE": "Europe/Atlantis"})
