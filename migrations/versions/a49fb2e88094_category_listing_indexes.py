"""Category listing indexes: a category's active products in each sort order

Plain CREATE INDEX (not a batch): on SQLite a batch would copy the product table and lose the
full-text search triggers (b3c1f0e2d9a7).

Revision ID: a49fb2e88094
Revises: b3c1f0e2d9a7
Create Date: 2026-12-04 18:40:39.464923

"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "a49fb2e88094"
down_revision = "b3c1f0e2d9a7"
branch_labels = None
depends_on = None

INDEXES = {
    "ix_product_category_active_name": ["category_id", "is_active", "name"],
    "ix_product_category_active_price": ["category_id", "is_active", "price_cents"],
    "ix_product_category_active_created": ["category_id", "is_active", "created_at"],
}


def upgrade():
    for name, columns in INDEXES.items():
        op.create_index(name, "product", columns)


def downgrade():
    for name in INDEXES:
        op.drop_index(name, table_name="product")
