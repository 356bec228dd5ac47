"""Catalogue translations: category and product texts in languages other than the default,
the products' searched as theirs are (MariaDB FULLTEXT indexes, an SQLite FTS5 table with
triggers). No rows to carry over: the default language stays in category and product.

Revision ID: c4d2e6f81a05
Revises: b0c3a20538a4
Create Date: 2026-12-05 06:20:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "c4d2e6f81a05"
down_revision = "b0c3a20538a4"
branch_labels = None
depends_on = None

# As app/catalog/search.py has them when this revision was written.
SQLITE_DDL = [
    "CREATE VIRTUAL TABLE product_translation_search USING fts5(name, description, "
    "content='product_translation', content_rowid='id', tokenize='unicode61')",
    "CREATE TRIGGER product_translation_search_insert AFTER INSERT ON product_translation "
    "BEGIN INSERT INTO product_translation_search(rowid, name, description) "
    "VALUES (new.id, new.name, new.description); END",
    "CREATE TRIGGER product_translation_search_delete AFTER DELETE ON product_translation "
    "BEGIN INSERT INTO product_translation_search(product_translation_search, rowid, name, "
    "description) VALUES ('delete', old.id, old.name, old.description); END",
    "CREATE TRIGGER product_translation_search_update AFTER UPDATE OF name, description "
    "ON product_translation BEGIN "
    "INSERT INTO product_translation_search(product_translation_search, rowid, name, "
    "description) VALUES ('delete', old.id, old.name, old.description); "
    "INSERT INTO product_translation_search(rowid, name, description) "
    "VALUES (new.id, new.name, new.description); END",
]
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS product_translation_search_update",
    "DROP TRIGGER IF EXISTS product_translation_search_delete",
    "DROP TRIGGER IF EXISTS product_translation_search_insert",
    "DROP TABLE IF EXISTS product_translation_search",
]


def upgrade():
    op.create_table(
        "category_translation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("category_id", sa.Integer(), nullable=False),
        sa.Column("locale", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.ForeignKeyConstraint(
            ["category_id"],
            ["category.id"],
            name=op.f("fk_category_translation_category_id_category"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_category_translation")),
        sa.UniqueConstraint("category_id", "locale", name="uq_category_translation_locale"),
    )
    op.create_table(
        "product_translation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("locale", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=160), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["product.id"],
            name=op.f("fk_product_translation_product_id_product"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_product_translation")),
        sa.UniqueConstraint("product_id", "locale", name="uq_product_translation_locale"),
    )
    if op.get_bind().dialect.name == "sqlite":
        for statement in SQLITE_DDL:
            op.execute(statement)
        return
    op.create_index(
        "ix_product_translation_fulltext_name",
        "product_translation",
        ["name"],
        mysql_prefix="FULLTEXT",
    )
    op.create_index(
        "ix_product_translation_fulltext",
        "product_translation",
        ["name", "description"],
        mysql_prefix="FULLTEXT",
    )


def downgrade():
    if op.get_bind().dialect.name == "sqlite":
        for statement in SQLITE_DROP:
            op.execute(statement)
    op.drop_table("product_translation")
    op.drop_table("category_translation")
