"""Migrations: upgrading an empty database gives exactly the models, and they reverse cleanly;
the schema itself refuses negative money and stock and holds 64-bit amounts."""

from decimal import Decimal

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import CheckConstraint, inspect, text
from sqlalchemy.exc import IntegrityError

from app.app_factory import create_app
from app.cart.models import Cart, CartItem
from app.catalog import search
from app.catalog import services as catalog_services
from app.catalog.models import Product
from app.extensions import db
from app.orders.models import Order, OrderLine, Payment
from tests.factories import ProductFactory, UserFactory, create
from tests.helpers import TEST_CONFIG


@pytest.fixture
def empty_db_app(backend, tmp_path):
    """An app context on an empty database of the backend; engines disposed afterwards."""
    url = backend.fresh_url(tmp_path)
    app = create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


def schema_diff() -> list:
    """What alembic autogenerate would still write: [] when the schema matches the models."""
    with db.engine.connect() as conn:
        include = search.schema_filter(conn.dialect.name)  # as migrations/env.py compares
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "include_object": include}
        )
        return compare_metadata(context, db.metadata)


def current_revision() -> str | None:
    with db.engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def table_names() -> list[str]:
    """The tables, less SQLite's full-text search tables and their shadow tables."""
    return sorted(
        name
        for name in inspect(db.engine).get_table_names()
        if not name.startswith(search.FTS_TABLES)
    )


def check_constraints() -> dict[str, set[str]]:
    """CHECK constraint names per table, as the database reports them."""
    inspector = inspect(db.engine)
    existing = set(inspector.get_table_names())  # at an older revision, fewer tables
    return {
        table: {check["name"] for check in inspector.get_check_constraints(table)}
        for table in db.metadata.tables
        if table in existing
    }


def model_check_constraints() -> dict[str, set[str]]:
    return {
        name: {c.name for c in table.constraints if isinstance(c, CheckConstraint)}
        for name, table in db.metadata.tables.items()
    }


def test_upgrade_gives_exactly_the_models(empty_db_app):
    """`upgrade` on an empty database: every model table, no diff, stamped at head."""
    upgrade()
    assert schema_diff() == []
    assert table_names() == sorted([*db.metadata.tables, "alembic_version"])
    assert current_revision() is not None


def test_downgrade_to_base_then_upgrade_again(empty_db_app):
    """`downgrade base` drops every table but alembic_version; a new upgrade has no diff."""
    upgrade()
    head = current_revision()

    downgrade(revision="base")
    assert table_names() == ["alembic_version"]
    assert current_revision() is None

    upgrade()
    assert schema_diff() == []
    assert current_revision() == head


def test_upgrade_creates_every_check_constraint_of_the_models(empty_db_app):
    """Autogenerate does not compare CHECKs: they are compared here, by name."""
    upgrade()

    assert check_constraints() == model_check_constraints()
    assert "ck_orders_total_not_negative" in check_constraints()["orders"]


MONEY_REVISION = "a94838ad5100"  # money as BIGINT, CHECKs on money and totals
SHOP_ROWS = [
    "INSERT INTO {user} (id, email, active, fs_uniquifier) VALUES (1, 'a@example.com', 1, 'u1')",
    "INSERT INTO product (id, sku, slug, name, description, price_cents, currency, stock, "
    "is_active, is_featured, created_at, updated_at) VALUES (1, 'SKU-1', 'tea', 'Tea', '', 450, "
    "'EUR', 7, 1, 0, '2026-01-02 03:04:05', '2026-01-02 03:04:05')",
    "INSERT INTO orders (id, number, user_id, status, currency, subtotal_cents, shipping_cents, "
    "total_cents, payment_method, ship_name, ship_line1, ship_line2, ship_city, ship_postcode, "
    "ship_country, checkout_key, checkout_fingerprint, created_at, updated_at) VALUES (1, 'N-1', "
    "1, 'paid', 'EUR', 900, 495, 1395, 'test', 'A', '1 Street', '', 'Berlin', '10115', 'DE', "
    "'key-1', '', '2026-01-02 03:04:05', '2026-01-02 03:04:05')",
    "INSERT INTO order_line (id, order_id, product_id, sku, name, unit_price_cents, currency, "
    "quantity) VALUES (1, 1, 1, 'SKU-1', 'Tea', 450, 'EUR', 2)",
    "INSERT INTO payment (id, order_id, provider, status, amount_cents, currency, reference, "
    "created_at) VALUES (1, 1, 'test', 'succeeded', 1395, 'EUR', 'ref', '2026-01-02 03:04:05')",
]
MONEY_QUERIES = {
    "product": "SELECT id, price_cents, stock FROM product",
    "orders": "SELECT id, subtotal_cents, shipping_cents, total_cents, status FROM orders",
    "order_line": "SELECT id, order_id, product_id, unit_price_cents, quantity FROM order_line",
    "payment": "SELECT id, order_id, amount_cents, status FROM payment",
}


def money_rows() -> dict[str, list[tuple]]:
    with db.engine.connect() as conn:
        return {t: [tuple(r) for r in conn.execute(text(q))] for t, q in MONEY_QUERIES.items()}


def test_money_migration_keeps_the_rows_both_ways(empty_db_app):
    """BIGINT + CHECKs: existing products, orders, lines and payments survive up and down."""
    upgrade(revision=f"{MONEY_REVISION}-1")
    user = db.engine.dialect.identifier_preparer.quote("user")
    with db.engine.begin() as conn:
        for insert in SHOP_ROWS:
            conn.execute(text(insert.format(user=user)))
    before = money_rows()
    assert before["orders"] == [(1, 900, 495, 1395, "paid")]

    upgrade(revision=MONEY_REVISION)
    assert money_rows() == before
    assert "ck_payment_amount_not_negative" in check_constraints()["payment"]

    downgrade(revision=f"{MONEY_REVISION}-1")
    assert money_rows() == before
    assert "ck_payment_amount_not_negative" not in check_constraints()["payment"]


# The schema itself (on MariaDB the `app` fixture's schema is built by `db upgrade`).

ORDER_FIELDS = {
    "number": "N-1",
    "status": "pending_payment",
    "currency": "EUR",
    "subtotal_cents": 900,
    "shipping_cents": 0,
    "total_cents": 900,
    "payment_method": "test",
    "ship_name": "A",
    "ship_line1": "1 Street",
    "ship_city": "Berlin",
    "ship_postcode": "10115",
    "ship_country": "DE",
    "bill_name": "A",
    "bill_line1": "1 Street",
    "bill_city": "Berlin",
    "bill_postcode": "10115",
    "bill_country": "DE",
    "email": "a@example.com",
    "checkout_key": "key-1",
}


def make_order(app, user_id, **fields) -> int:
    with app.app_context():
        order = Order(user_id=user_id, **{**ORDER_FIELDS, **fields})
        order.lines.append(
            OrderLine(sku="SKU-1", name="Tea", unit_price_cents=450, currency="EUR", quantity=2)
        )
        order.payments.append(
            Payment(provider="test", status="pending", amount_cents=900, currency="EUR")
        )
        db.session.add(order)
        db.session.commit()
        return order.id


REFUSED_UPDATES = [
    ("variant", "stock", -1),
    ("variant", "price_cents", -1),
    ("variant", "weight_grams", -1),
    ("product", "price_cents", -1),
    ("orders", "subtotal_cents", -1),
    ("orders", "shipping_cents", -1),
    ("orders", "total_cents", -1),
    ("order_line", "unit_price_cents", -1),
    ("order_line", "quantity", 0),
    ("payment", "amount_cents", -1),
    ("cart_item", "quantity", 0),
]


@pytest.mark.parametrize(("table", "column", "value"), REFUSED_UPDATES)
def test_the_database_refuses_negative_money_stock_and_non_positive_quantities(
    app, table, column, value
):
    """Even a raw UPDATE that skips the services is refused by a CHECK constraint."""
    user_id = create(app, UserFactory)
    make_order(app, user_id)
    product_id = create(app, ProductFactory)
    with app.app_context():
        cart = Cart(user_id=user_id)
        variant_id = db.session.get(Product, product_id).variants[0].id
        cart.items.append(CartItem(variant_id=variant_id, quantity=1))
        db.session.add(cart)
        db.session.commit()
    statement = text(f"UPDATE {table} SET {column} = :value")  # names from the list above
    read_back = text(f"SELECT {column} FROM {table}")
    with app.app_context():
        before = db.session.scalars(read_back).all()

        with pytest.raises(IntegrityError):
            db.session.execute(statement, {"value": value})
        db.session.rollback()

        assert db.session.scalars(read_back).all() == before


VARIANTS_REVISION = "7b1e4f2a9c30"  # variants hold SKU and stock; lines refer to them
CART_ROWS = [
    "INSERT INTO product (id, sku, slug, name, description, price_cents, currency, stock, "
    "is_active, is_featured, created_at, updated_at) VALUES (2, 'SKU-2', 'mug', 'Mug', '', 900, "
    "'EUR', 0, 0, 0, '2026-01-02 03:04:05', '2026-01-02 03:04:05')",
    "INSERT INTO cart (id, user_id, created_at, updated_at) VALUES "
    "(1, 1, '2026-01-02 03:04:05', '2026-01-02 03:04:05')",
    "INSERT INTO cart_item (id, cart_id, product_id, quantity) VALUES (1, 1, 1, 3), (2, 1, 2, 1)",
]


def test_variants_migration_carries_every_row_over_and_back(empty_db_app):
    """Each product becomes a product with one variant (its SKU and stock, the same id); its
    cart and order lines point at that variant. Downgrade gives it all back."""
    upgrade(revision=f"{VARIANTS_REVISION}-1")
    user = db.engine.dialect.identifier_preparer.quote("user")
    with db.engine.begin() as conn:
        for insert in [*SHOP_ROWS, *CART_ROWS]:
            conn.execute(text(insert.format(user=user)))

    def read(query):
        with db.engine.connect() as conn:
            return [tuple(row) for row in conn.execute(text(query))]

    products = "SELECT id, sku, stock, is_active FROM product ORDER BY id"
    lines = "SELECT cart_id, product_id, quantity FROM cart_item ORDER BY id"
    before = (read(products), read(lines))

    upgrade(revision=VARIANTS_REVISION)
    assert read(
        "SELECT id, product_id, sku, stock, is_active, price_cents FROM variant ORDER BY id"
    ) == [(1, 1, "SKU-1", 7, 1, None), (2, 2, "SKU-2", 0, 1, None)]
    assert read("SELECT cart_id, variant_id, quantity FROM cart_item ORDER BY id") == [
        (1, 1, 3),
        (1, 2, 1),
    ]
    assert read("SELECT product_id, variant_id, sku, options FROM order_line") == [
        (1, 1, "SKU-1", "")
    ]
    assert "sku" not in {c["name"] for c in inspect(db.engine).get_columns("product")}

    downgrade(revision=f"{VARIANTS_REVISION}-1")
    assert (read(products), read(lines)) == before
    assert "variant" not in table_names()


GUEST_REVISION = "5d2c8e7f1a43"  # orders: e-mail, billing address, user_id may be empty


def test_guest_orders_migration_gives_each_order_its_email_and_billing_address(empty_db_app):
    """Existing orders take their customer's e-mail (lower-cased) and bill to where they
    shipped; downgrade drops the columns again, and refuses while guest orders exist."""
    upgrade(revision=f"{GUEST_REVISION}-1")
    user = db.engine.dialect.identifier_preparer.quote("user")
    with db.engine.begin() as conn:
        conn.execute(text(SHOP_ROWS[0].format(user=user).replace("a@example", "Ada@Example")))
        conn.execute(text(SHOP_ROWS[2]))

    def read(query):
        with db.engine.connect() as conn:
            return [tuple(row) for row in conn.execute(text(query))]

    upgrade(revision=GUEST_REVISION)
    assert read(
        "SELECT user_id, email, bill_name, bill_line1, bill_line2, bill_city, bill_postcode, "
        "bill_country FROM orders"
    ) == [(1, "ada@example.com", "A", "1 Street", "", "Berlin", "10115", "DE")]
    with db.engine.begin() as conn:
        conn.execute(text("UPDATE orders SET user_id = NULL"))
    with pytest.raises(SystemExit):  # Flask-Migrate logs the migration's message and exits
        downgrade(revision=f"{GUEST_REVISION}-1")
    assert current_revision() == GUEST_REVISION

    with db.engine.begin() as conn:
        conn.execute(text("UPDATE orders SET user_id = 1"))
    downgrade(revision=f"{GUEST_REVISION}-1")
    columns = {c["name"] for c in inspect(db.engine).get_columns("orders")}
    assert not {"email", "bill_name"} & columns
    assert read("SELECT id, user_id, ship_name FROM orders") == [(1, 1, "A")]


ADDRESS = ("name", "line1", "line2", "city", "postcode", "country")
SHIPPING_REVISION = "7a228914a154"  # shipping and tax; an order's totals in parts


def test_shipping_and_tax_migration_gives_existing_orders_zero_parts(empty_db_app):
    """Existing orders keep their totals, with no discount, tax or shipping method; their
    lines a 0 % rate. Downgrade drops the new columns and tables again."""
    upgrade(revision=f"{SHIPPING_REVISION}-1")
    user = db.engine.dialect.identifier_preparer.quote("user")
    with db.engine.begin() as conn:
        conn.execute(text(SHOP_ROWS[0].format(user=user)))
        conn.execute(
            text(
                "INSERT INTO orders (id, number, user_id, email, status, currency, "
                "subtotal_cents, shipping_cents, total_cents, payment_method, "
                + ", ".join(f"{kind}_{field}" for kind in ("ship", "bill") for field in ADDRESS)
                + ", checkout_key, checkout_fingerprint, created_at, updated_at) VALUES (1, "
                "'N-1', 1, 'a@example.com', 'paid', 'EUR', 900, 495, 1395, 'test', "
                + ", ".join(["'A', '1 Street', '', 'Berlin', '10115', 'DE'"] * 2)
                + ", 'key-1', '', '2026-01-02 03:04:05', '2026-01-02 03:04:05')"
            )
        )
        conn.execute(
            text(
                "INSERT INTO order_line (id, order_id, sku, name, options, unit_price_cents, "
                "currency, quantity) VALUES (1, 1, 'SKU-1', 'Tea', '', 450, 'EUR', 2)"
            )
        )

    def read(query):
        with db.engine.connect() as conn:
            return [tuple(row) for row in conn.execute(text(query))]

    upgrade(revision=SHIPPING_REVISION)
    assert read(
        "SELECT subtotal_cents, shipping_cents, total_cents, discount_cents, tax_cents, "
        "shipping_tax_cents, prices_include_tax, shipping_method FROM orders"
    ) == [(900, 495, 1395, 0, 0, 0, 1, "")]
    assert read("SELECT tax_rate, tax_cents FROM order_line") in ([(0, 0)], [(Decimal(0), 0)])

    downgrade(revision=f"{SHIPPING_REVISION}-1")
    assert "shipping_zone" not in table_names()
    assert "tax_cents" not in {c["name"] for c in inspect(db.engine).get_columns("orders")}
    assert read("SELECT subtotal_cents, shipping_cents, total_cents FROM orders") == [
        (900, 495, 1395)
    ]


def test_an_order_total_above_32_bits_is_stored_exactly(app):
    """Money columns are BIGINT: 2**31 cents and more (a 21-million-euro order) fit."""
    big = 2**31 + 12345
    user_id = create(app, UserFactory)
    order_id = make_order(
        app, user_id, subtotal_cents=big, shipping_cents=2**40, total_cents=big + 2**40
    )
    product_id = create(app, ProductFactory, price_cents=2**33 + 1)
    with app.app_context():
        order = db.session.get(Order, order_id)
        order.lines[0].unit_price_cents = big
        order.payments[0].amount_cents = 2**62
        db.session.commit()
        db.session.expire_all()

        assert db.session.execute(
            text("SELECT subtotal_cents, shipping_cents, total_cents FROM orders")
        ).one() == (big, 2**40, big + 2**40)
        assert db.session.scalar(text("SELECT unit_price_cents FROM order_line")) == big
        assert db.session.scalar(text("SELECT amount_cents FROM payment")) == 2**62
        assert db.session.get(Product, product_id).price_cents == 2**33 + 1


SEARCH_REVISION = "b3c1f0e2d9a7"  # full-text search of products


def test_search_migration_indexes_the_existing_products(empty_db_app):
    """Products that exist before the search indexes are found by them; downgrade removes
    them (SQLite: the FTS5 table and its triggers)."""
    upgrade(revision=f"{SEARCH_REVISION}-1")
    with db.engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO product (id, slug, name, description, price_cents, currency, "
                "is_active, is_featured, created_at, updated_at) VALUES (1, 'sencha', "
                "'Sencha Green Tea', 'Steamed leaves.', 450, 'EUR', 1, 0, "
                "'2026-01-02 03:04:05', '2026-01-02 03:04:05')"
            )
        )

    upgrade(revision=SEARCH_REVISION)
    assert [p.slug for p in catalog_services.list_products(q="steamed green").items] == ["sencha"]
    db.session.rollback()

    downgrade(revision=f"{SEARCH_REVISION}-1")
    names = inspect(db.engine).get_table_names()
    assert not [name for name in names if name.startswith(search.FTS_TABLES)]
    indexes = {i["name"] for i in inspect(db.engine).get_indexes("product")}
    assert not {"ix_product_fulltext", "ix_product_fulltext_name"} & indexes


def test_search_still_follows_products_at_head(empty_db_app):
    """No later migration dropped SQLite's search triggers (a batch copies the table)."""
    upgrade()
    with db.engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO product (id, slug, name, description, price_cents, currency, "
                "is_active, is_featured, created_at, updated_at) VALUES (1, 'sencha', "
                "'Sencha Green Tea', '', 450, 'EUR', 1, 0, "
                "'2026-01-02 03:04:05', '2026-01-02 03:04:05')"
            )
        )

    assert [p.slug for p in catalog_services.list_products(q="sencha").items] == ["sencha"]


def insert_order(conn, order_id: int, status: str, discount: int = 0, total: int = 900) -> None:
    """An order of user 1 as the schema stood from shipping and tax to invoices (raw SQL)."""
    address = ", ".join(["'A', '1 Street', '', 'Berlin', '10115', 'DE'"] * 2)
    columns = ", ".join(f"{kind}_{field}" for kind in ("ship", "bill") for field in ADDRESS)
    conn.execute(
        text(
            "INSERT INTO orders (id, number, user_id, email, status, currency, subtotal_cents, "
            "discount_cents, shipping_cents, shipping_tax_cents, tax_cents, total_cents, "
            "prices_include_tax, shipping_method, voucher_code, "
            f"payment_method, {columns}, checkout_key, checkout_fingerprint, created_at, "
            f"updated_at) VALUES ({order_id}, 'N-{order_id}', 1, 'a@example.com', '{status}', "
            f"'EUR', 900, {discount}, 0, 0, 0, {total}, 1, '', '', 'test', {address}, "
            f"'key-{order_id}', '', '2026-01-02 03:04:05', '2026-01-02 03:04:05')"
        )
    )


INVOICES_REVISION = "d5e3f7a92b16"


def test_invoices_migration_invoices_the_orders_paid_before_in_the_order_they_were_paid(
    empty_db_app,
):
    """Orders paid before get invoices numbered by when they were paid (an unpaid one none),
    and the counter goes on from the last; downgrade drops both tables."""
    upgrade(revision=f"{INVOICES_REVISION}-1")
    user = db.engine.dialect.identifier_preparer.quote("user")
    with db.engine.begin() as conn:
        conn.execute(text(SHOP_ROWS[0].format(user=user)))
        for order_id, status in ((1, "paid"), (2, "pending_payment"), (3, "shipped")):
            insert_order(conn, order_id, status)
        events = [(1, "paid", "2026-01-03 10:00:00"), (3, "paid", "2026-01-02 09:00:00")]
        events.append((3, "shipped", "2026-01-04 09:00:00"))
        for order_id, status, moment in events:
            conn.execute(
                text(
                    "INSERT INTO order_event (order_id, to_status, note, created_at) "
                    f"VALUES ({order_id}, '{status}', '', '{moment}')"
                )
            )

    def read(query):
        with db.engine.connect() as conn:
            return [tuple(row) for row in conn.execute(text(query))]

    upgrade(revision=INVOICES_REVISION)
    assert read("SELECT order_id, number FROM invoice ORDER BY number") == [(3, 1), (1, 2)]
    assert read("SELECT kind, last_number FROM document_counter") == [("invoice", 2)]

    downgrade(revision=f"{INVOICES_REVISION}-1")
    assert "invoice" not in table_names()
    assert "document_counter" not in table_names()


REFUNDS_REVISION = "e7f1a3b5c920"


def test_refunds_migration_counts_refunds_shares_discounts_and_issues_credit_notes(
    empty_db_app,
):
    """Before it: order 1 (invoiced, two lines, a 1.00 discount) refunded whole, after a refund
    that failed; order 2 (never invoiced) refunded. After it: what each order refunded, its
    lines' discount shares, and a credit note for the invoiced order's refund that went back."""
    upgrade(revision=f"{REFUNDS_REVISION}-1")
    user = db.engine.dialect.identifier_preparer.quote("user")
    with db.engine.begin() as conn:
        conn.execute(text(SHOP_ROWS[0].format(user=user)))
        for order_id, discount, total in ((1, 100, 800), (2, 0, 900)):
            insert_order(conn, order_id, "cancelled", discount, total)
            conn.execute(
                text(
                    "INSERT INTO payment (id, order_id, provider, status, amount_cents, "
                    f"currency, reference, checkout_url, created_at) VALUES ({order_id}, "
                    f"{order_id}, 'test', 'refunded', {total}, 'EUR', 'ch', '', "
                    "'2026-01-02 03:04:05')"
                )
            )
        for line_id, order_id, price, quantity in ((1, 1, 300, 1), (2, 1, 200, 3), (3, 2, 900, 1)):
            conn.execute(
                text(
                    "INSERT INTO order_line (id, order_id, sku, name, options, "
                    "unit_price_cents, tax_rate, tax_cents, currency, quantity) VALUES "
                    f"({line_id}, {order_id}, 'S', 'N', '', {price}, 0, 0, 'EUR', {quantity})"
                )
            )
        refunds = [(1, 1, 300, "failed"), (2, 1, 800, "succeeded"), (3, 2, 900, "succeeded")]
        for refund_id, payment_id, amount, status in refunds:
            conn.execute(
                text(
                    "INSERT INTO refund (id, payment_id, amount_cents, status, reference, "
                    f"created_at) VALUES ({refund_id}, {payment_id}, {amount}, '{status}', "
                    f"'re', '2026-01-0{refund_id + 2} 00:00:00')"
                )
            )
        conn.execute(
            text(
                "INSERT INTO invoice (id, order_id, number, issued_at) "
                "VALUES (1, 1, 1, '2026-01-02 03:04:05')"
            )
        )

    def read(query):
        with db.engine.connect() as conn:
            return [tuple(row) for row in conn.execute(text(query))]

    upgrade(revision=REFUNDS_REVISION)
    assert read("SELECT id, refunded_cents FROM orders ORDER BY id") == [(1, 800), (2, 900)]
    assert read("SELECT id, discount_cents, refunded_quantity FROM order_line ORDER BY id") == [
        (1, 33, 1),
        (2, 67, 3),
        (3, 0, 1),
    ]
    assert read("SELECT refund_id, number FROM credit_note") == [(2, 1)]  # not the failed one
    assert ("credit_note", 1) in read("SELECT kind, last_number FROM document_counter")
    assert read("SELECT id, note, shipping_cents FROM refund ORDER BY id")[0] == (1, "", 0)

    downgrade(revision=f"{REFUNDS_REVISION}-1")
    assert "credit_note" not in table_names()
    assert "refund_line" not in table_names()
    assert read("SELECT kind FROM document_counter") == [("invoice",)]
