"""Variant in-stock index: (product_id, is_active, stock) replaces (product_id)

The catalogue's in-stock filter and facet look up, for each product, one active variant in
stock: from this index alone. It leads with product_id, so it also serves the foreign key
and every look-up by product: the old index goes. Created before the old one is dropped,
as MariaDB's foreign key needs one of them at every moment. Plain statements (no batch):
the variant table is not copied.

Revision ID: 6210826c2953
Revises: a49fb2e88094
Create Date: 2026-12-05 00:03:47.293329

"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "6210826c2953"
down_revision = "a49fb2e88094"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index(
        "ix_variant_product_active_stock", "variant", ["product_id", "is_active", "stock"]
    )
    op.drop_index("ix_variant_product_id", table_name="variant")


def downgrade():
    op.create_index("ix_variant_product_id", "variant", ["product_id"])
    op.drop_index("ix_variant_product_active_stock", table_name="variant")
