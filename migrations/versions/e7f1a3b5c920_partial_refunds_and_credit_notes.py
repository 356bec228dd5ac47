"""Partial refunds and credit notes: refund lines, what each order and line has refunded, each
line's share of the discount, and a credit note for each refund of an invoiced order.

Carried over: an order's refunded amount is its refunds' (all but failed ones), and the lines
of an order refunded whole count as refunded. A line's share of the discount is worked out
again, in proportion to the lines' totals (the rule of app/totals.py for a voucher that covers
every line). The refunds of invoiced orders that went back get credit notes, numbered in the
order they were made, and the counter goes on from there.

Revision ID: e7f1a3b5c920
Revises: d5e3f7a92b16
Create Date: 2026-12-05 10:00:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "e7f1a3b5c920"
down_revision = "d5e3f7a92b16"
branch_labels = None
depends_on = None

orders = sa.table(
    "orders",
    sa.column("id", sa.Integer),
    sa.column("discount_cents", sa.BigInteger),
    sa.column("total_cents", sa.BigInteger),
    sa.column("refunded_cents", sa.BigInteger),
)
order_line = sa.table(
    "order_line",
    sa.column("id", sa.Integer),
    sa.column("order_id", sa.Integer),
    sa.column("unit_price_cents", sa.BigInteger),
    sa.column("quantity", sa.Integer),
    sa.column("discount_cents", sa.BigInteger),
    sa.column("refunded_quantity", sa.Integer),
)
payment = sa.table("payment", sa.column("id", sa.Integer), sa.column("order_id", sa.Integer))
refund = sa.table(
    "refund",
    sa.column("id", sa.Integer),
    sa.column("payment_id", sa.Integer),
    sa.column("amount_cents", sa.BigInteger),
    sa.column("status", sa.String),
    sa.column("note", sa.Text),
    sa.column("created_at", sa.DateTime),
)
invoice = sa.table("invoice", sa.column("order_id", sa.Integer))


def upgrade():
    carried = {
        "orders": [("refunded_cents", sa.BigInteger(), "0")],
        "order_line": [
            ("discount_cents", sa.BigInteger(), "0"),
            ("refunded_quantity", sa.Integer(), "0"),
        ],
        "refund": [("shipping_cents", sa.BigInteger(), "0"), ("restocked", sa.Boolean(), sa.false())],
    }
    for table, columns in carried.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            for name, type_, default in columns:
                batch_op.add_column(sa.Column(name, type_, nullable=False, server_default=default))
        with op.batch_alter_table(table, schema=None) as batch_op:
            for name, type_, _default in columns:
                batch_op.alter_column(name, existing_type=type_, server_default=None)
    with op.batch_alter_table("refund", schema=None) as batch_op:
        batch_op.add_column(sa.Column("note", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("actor_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_refund_actor_id_user"), "user", ["actor_id"], ["id"], ondelete="SET NULL"
        )
    op.execute(refund.update().values(note=""))
    with op.batch_alter_table("refund", schema=None) as batch_op:
        batch_op.alter_column("note", existing_type=sa.Text(), nullable=False)

    op.create_table(
        "refund_line",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("refund_id", sa.Integer(), nullable=False),
        sa.Column("order_line_id", sa.Integer(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("amount_cents", sa.BigInteger(), nullable=False),
        sa.Column("tax_cents", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_refund_line_quantity_positive")),
        sa.ForeignKeyConstraint(
            ["order_line_id"],
            ["order_line.id"],
            name=op.f("fk_refund_line_order_line_id_order_line"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["refund_id"],
            ["refund.id"],
            name=op.f("fk_refund_line_refund_id_refund"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_refund_line")),
    )
    with op.batch_alter_table("refund_line", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_refund_line_order_line_id"), ["order_line_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_refund_line_refund_id"), ["refund_id"], unique=False)
    credit_notes = op.create_table(
        "credit_note",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("refund_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.BigInteger(), nullable=False),
        sa.Column("issued_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["refund_id"], ["refund.id"], name=op.f("fk_credit_note_refund_id_refund")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_credit_note")),
        sa.UniqueConstraint("number", name=op.f("uq_credit_note_number")),
        sa.UniqueConstraint("refund_id", name=op.f("uq_credit_note_refund_id")),
    )
    _carry_over(credit_notes)
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.create_check_constraint(
            batch_op.f("ck_orders_refunded_within_total"),
            "refunded_cents >= 0 AND refunded_cents <= total_cents",
        )
    with op.batch_alter_table("order_line", schema=None) as batch_op:
        batch_op.create_check_constraint(
            batch_op.f("ck_order_line_refunded_within_quantity"),
            "refunded_quantity >= 0 AND refunded_quantity <= quantity",
        )


def _carry_over(credit_notes) -> None:
    bind = op.get_bind()
    refunded = bind.execute(
        sa.select(payment.c.order_id, sa.func.sum(refund.c.amount_cents))
        .select_from(refund.join(payment, refund.c.payment_id == payment.c.id))
        .where(refund.c.status != "failed")
        .group_by(payment.c.order_id)
    ).all()
    totals = dict(bind.execute(sa.select(orders.c.id, orders.c.total_cents)).all())
    for order_id, cents in refunded:
        cents = min(int(cents), totals[order_id])
        bind.execute(orders.update().where(orders.c.id == order_id).values(refunded_cents=cents))
        if cents >= totals[order_id]:
            bind.execute(
                order_line.update()
                .where(order_line.c.order_id == order_id)
                .values(refunded_quantity=order_line.c.quantity)
            )
    discounted = bind.execute(
        sa.select(orders.c.id, orders.c.discount_cents).where(orders.c.discount_cents > 0)
    ).all()
    for order_id, discount in discounted:
        lines = bind.execute(
            sa.select(order_line.c.id, order_line.c.unit_price_cents * order_line.c.quantity)
            .where(order_line.c.order_id == order_id)
            .order_by(order_line.c.id)
        ).all()
        for line_id, share in _shares(int(discount), [(i, int(t)) for i, t in lines]).items():
            bind.execute(
                order_line.update().where(order_line.c.id == line_id).values(discount_cents=share)
            )
    made = bind.execute(
        sa.select(refund.c.id, refund.c.created_at)
        .select_from(
            refund.join(payment, refund.c.payment_id == payment.c.id).join(
                invoice, invoice.c.order_id == payment.c.order_id
            )
        )
        .where(refund.c.status == "succeeded")
        .order_by(refund.c.created_at, refund.c.id)
    ).all()
    rows = [
        {"refund_id": refund_id, "number": number, "issued_at": created_at}
        for number, (refund_id, created_at) in enumerate(made, start=1)
    ]
    if rows:
        op.bulk_insert(credit_notes, rows)
    counter = sa.table(
        "document_counter", sa.column("kind", sa.String), sa.column("last_number", sa.BigInteger)
    )
    op.bulk_insert(counter, [{"kind": "credit_note", "last_number": len(rows)}])


def _shares(discount: int, lines: list[tuple[int, int]]) -> dict[int, int]:
    """``discount`` shared over the lines in proportion to their totals, whole cents by the
    largest remainders (so the shares add up to it)."""
    whole = sum(total for _id, total in lines)
    if not whole:
        return {}
    discount = min(discount, whole)
    shares = {line_id: discount * total // whole for line_id, total in lines}
    remainders = sorted(lines, key=lambda line: (-(discount * line[1] % whole), line[0]))
    for line_id, _total in remainders[: discount - sum(shares.values())]:
        shares[line_id] += 1
    return shares


def downgrade():
    op.execute(
        sa.table("document_counter", sa.column("kind", sa.String))
        .delete()
        .where(sa.column("kind") == "credit_note")
    )
    op.drop_table("credit_note")
    op.drop_table("refund_line")  # and its indexes
    with op.batch_alter_table("refund", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_refund_actor_id_user"), type_="foreignkey")
        batch_op.drop_column("actor_id")
        batch_op.drop_column("note")
        batch_op.drop_column("restocked")
        batch_op.drop_column("shipping_cents")
    with op.batch_alter_table("order_line", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("ck_order_line_refunded_within_quantity"), type_="check"
        )
        batch_op.drop_column("refunded_quantity")
        batch_op.drop_column("discount_cents")
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_orders_refunded_within_total"), type_="check")
        batch_op.drop_column("refunded_cents")
