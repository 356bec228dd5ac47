"""Full-text search of products: MariaDB FULLTEXT indexes, an SQLite FTS5 table with triggers

The existing products are indexed here: MariaDB builds its indexes from the rows, and SQLite's
FTS5 table is rebuilt from the product table. A later batch migration of ``product`` on SQLite
(which copies and drops the table) must create the triggers again.

Revision ID: b3c1f0e2d9a7
Revises: d8b5f74a8906
Create Date: 2026-12-04 18:00:00.000000

"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "b3c1f0e2d9a7"
down_revision = "d8b5f74a8906"
branch_labels = None
depends_on = None

# As app/catalog/search.py has them when this revision was written.
SQLITE_DDL = [
    "CREATE VIRTUAL TABLE product_search USING fts5("
    "name, description, content='product', content_rowid='id', tokenize='unicode61')",
    "CREATE TRIGGER product_search_insert AFTER INSERT ON product BEGIN "
    "INSERT INTO product_search(rowid, name, description) "
    "VALUES (new.id, new.name, new.description); END",
    "CREATE TRIGGER product_search_delete AFTER DELETE ON product BEGIN "
    "INSERT INTO product_search(product_search, rowid, name, description) "
    "VALUES ('delete', old.id, old.name, old.description); END",
    "CREATE TRIGGER product_search_update AFTER UPDATE OF name, description ON product BEGIN "
    "INSERT INTO product_search(product_search, rowid, name, description) "
    "VALUES ('delete', old.id, old.name, old.description); "
    "INSERT INTO product_search(rowid, name, description) "
    "VALUES (new.id, new.name, new.description); END",
    "INSERT INTO product_search(product_search) VALUES ('rebuild')",
]
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS product_search_update",
    "DROP TRIGGER IF EXISTS product_search_delete",
    "DROP TRIGGER IF EXISTS product_search_insert",
    "DROP TABLE IF EXISTS product_search",
]


def upgrade():
    if op.get_bind().dialect.name == "sqlite":
        for statement in SQLITE_DDL:
            op.execute(statement)
        return
    op.create_index("ix_product_fulltext_name", "product", ["name"], mysql_prefix="FULLTEXT")
    op.create_index(
        "ix_product_fulltext", "product", ["name", "description"], mysql_prefix="FULLTEXT"
    )


def downgrade():
    if op.get_bind().dialect.name == "sqlite":
        for statement in SQLITE_DROP:
            op.execute(statement)
        return
    op.drop_index("ix_product_fulltext", table_name="product")
    op.drop_index("ix_product_fulltext_name", table_name="product")
