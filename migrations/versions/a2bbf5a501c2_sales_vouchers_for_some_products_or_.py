"""sales, vouchers for some products or categories, an order line's regular price

New tables and a NULL column: existing vouchers stay for the whole cart, and existing order
lines had no sale.

Revision ID: a2bbf5a501c2
Revises: 4f85073042ef
Create Date: 2026-12-04 14:20:45.702360

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "a2bbf5a501c2"
down_revision = "4f85073042ef"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "sale",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("percent", sa.Integer(), nullable=False),
        sa.Column("starts_at", sa.DateTime(), nullable=False),
        sa.Column("ends_at", sa.DateTime(), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("ends_at > starts_at", name=op.f("ck_sale_ends_after_start")),
        sa.CheckConstraint("percent >= 1 AND percent <= 99", name=op.f("ck_sale_percent_1_to_99")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sale")),
    )
    with op.batch_alter_table("sale", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sale_ends_at"), ["ends_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_sale_starts_at"), ["starts_at"], unique=False)

    op.create_table(
        "sale_category",
        sa.Column("sale_id", sa.Integer(), nullable=False),
        sa.Column("category_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["category_id"],
            ["category.id"],
            name=op.f("fk_sale_category_category_id_category"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["sale_id"], ["sale.id"], name=op.f("fk_sale_category_sale_id_sale"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("sale_id", "category_id", name=op.f("pk_sale_category")),
    )
    with op.batch_alter_table("sale_category", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_sale_category_category_id"), ["category_id"], unique=False
        )

    op.create_table(
        "voucher_category",
        sa.Column("voucher_id", sa.Integer(), nullable=False),
        sa.Column("category_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["category_id"],
            ["category.id"],
            name=op.f("fk_voucher_category_category_id_category"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["voucher_id"],
            ["voucher.id"],
            name=op.f("fk_voucher_category_voucher_id_voucher"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("voucher_id", "category_id", name=op.f("pk_voucher_category")),
    )
    with op.batch_alter_table("voucher_category", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_voucher_category_category_id"), ["category_id"], unique=False
        )

    op.create_table(
        "sale_product",
        sa.Column("sale_id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["product.id"],
            name=op.f("fk_sale_product_product_id_product"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["sale_id"], ["sale.id"], name=op.f("fk_sale_product_sale_id_sale"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("sale_id", "product_id", name=op.f("pk_sale_product")),
    )
    with op.batch_alter_table("sale_product", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_sale_product_product_id"), ["product_id"], unique=False
        )

    op.create_table(
        "voucher_product",
        sa.Column("voucher_id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["product.id"],
            name=op.f("fk_voucher_product_product_id_product"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["voucher_id"],
            ["voucher.id"],
            name=op.f("fk_voucher_product_voucher_id_voucher"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("voucher_id", "product_id", name=op.f("pk_voucher_product")),
    )
    with op.batch_alter_table("voucher_product", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_voucher_product_product_id"), ["product_id"], unique=False
        )

    with op.batch_alter_table("order_line", schema=None) as batch_op:
        batch_op.add_column(sa.Column("regular_price_cents", sa.BigInteger(), nullable=True))


def downgrade():
    # Whole tables: their indexes go with them (MariaDB refuses to drop an index a foreign key
    # needs first). A sale price kept on an order line stays in its unit price.
    with op.batch_alter_table("order_line", schema=None) as batch_op:
        batch_op.drop_column("regular_price_cents")
    for table in ("voucher_product", "sale_product", "voucher_category", "sale_category", "sale"):
        op.drop_table(table)
