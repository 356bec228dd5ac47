"""Invoices: document counters and an invoice for each paid order. The orders paid before
are invoiced here, numbered in the order they were paid (their first "paid" event), and the
counter goes on from there.

Revision ID: d5e3f7a92b16
Revises: c4d2e6f81a05
Create Date: 2026-12-05 07:00:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "d5e3f7a92b16"
down_revision = "c4d2e6f81a05"
branch_labels = None
depends_on = None

order_event = sa.table(
    "order_event",
    sa.column("order_id", sa.Integer),
    sa.column("to_status", sa.String),
    sa.column("created_at", sa.DateTime),
)


def upgrade():
    counters = op.create_table(
        "document_counter",
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("last_number", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("kind", name=op.f("pk_document_counter")),
    )
    invoices = op.create_table(
        "invoice",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.BigInteger(), nullable=False),
        sa.Column("issued_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_invoice_order_id_orders")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invoice")),
        sa.UniqueConstraint("number", name=op.f("uq_invoice_number")),
        sa.UniqueConstraint("order_id", name=op.f("uq_invoice_order_id")),
    )
    paid_at = sa.func.min(order_event.c.created_at)
    paid = op.get_bind().execute(
        sa.select(order_event.c.order_id, paid_at)
        .where(order_event.c.to_status == "paid")
        .group_by(order_event.c.order_id)
        .order_by(paid_at, order_event.c.order_id)
    )
    rows = [
        {"order_id": order_id, "number": number, "issued_at": issued_at}
        for number, (order_id, issued_at) in enumerate(paid, start=1)
    ]
    if rows:
        op.bulk_insert(invoices, rows)
    op.bulk_insert(counters, [{"kind": "invoice", "last_number": len(rows)}])


def downgrade():
    op.drop_table("invoice")
    op.drop_table("document_counter")
