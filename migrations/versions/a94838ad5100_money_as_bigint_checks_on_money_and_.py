"""money as BIGINT; the database refuses negative money and totals

Revision ID: a94838ad5100
Revises: 2c3c9e61b8e7
Create Date: 2026-12-01 21:45:21.374066

Every money column becomes BIGINT, so an order total above 2**31 - 1 cents fits. New CHECK
constraints join the existing ones (product stock >= 0 and price >= 0, quantities > 0): order
totals, order line unit prices and payment amounts may not be negative. Batch mode: SQLite
copies each table with its rows (env.py turns foreign keys off meanwhile), MariaDB alters in
place. The downgrade fails (MariaDB strict mode) if an amount no longer fits in INTEGER.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a94838ad5100'
down_revision = '2c3c9e61b8e7'
branch_labels = None
depends_on = None

MONEY_COLUMNS = {
    "product": ["price_cents"],
    "orders": ["subtotal_cents", "shipping_cents", "total_cents"],
    "order_line": ["unit_price_cents"],
    "payment": ["amount_cents"],
}
NEW_CHECKS = {
    "product": [],
    "orders": [
        ("ck_orders_subtotal_not_negative", "subtotal_cents >= 0"),
        ("ck_orders_shipping_not_negative", "shipping_cents >= 0"),
        ("ck_orders_total_not_negative", "total_cents >= 0"),
    ],
    "order_line": [("ck_order_line_unit_price_not_negative", "unit_price_cents >= 0")],
    "payment": [("ck_payment_amount_not_negative", "amount_cents >= 0")],
}


def upgrade():
    for table, columns in MONEY_COLUMNS.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            for column in columns:
                batch_op.alter_column(
                    column,
                    existing_type=sa.Integer(),
                    type_=sa.BigInteger(),
                    existing_nullable=False,
                )
            for name, condition in NEW_CHECKS[table]:
                batch_op.create_check_constraint(op.f(name), condition)


def downgrade():
    for table, columns in reversed(MONEY_COLUMNS.items()):
        with op.batch_alter_table(table, schema=None) as batch_op:
            for name, _condition in NEW_CHECKS[table]:
                batch_op.drop_constraint(op.f(name), type_="check")
            for column in columns:
                batch_op.alter_column(
                    column,
                    existing_type=sa.BigInteger(),
                    type_=sa.Integer(),
                    existing_nullable=False,
                )
