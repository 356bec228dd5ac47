"""Full-text search of the catalogue: MariaDB's FULLTEXT indexes, SQLite's FTS5 table.

Both answer the same: every word of three letters or more must start a word of the product's
name or description (``tea`` finds "Tea" and "Teapot"), a match in the name ranks above one in
the description, and words the index cannot hold (shorter, or MariaDB's stopwords: "the",
"and"...) are left out on both. A query with no such word falls back to a substring search
(LIKE), which reads every row: short queries only.

The indexes keep themselves in step with the product table: MariaDB updates its FULLTEXT
indexes on commit, SQLite's triggers (``SQLITE_DDL``) update the FTS5 table in the same
statement. The migration that made them indexed the existing rows.
"""

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    DDL,
    ColumnElement,
    Float,
    Integer,
    Select,
    Subquery,
    column,
    event,
    func,
    literal_column,
    or_,
    select,
    table,
    text,
)

from app.catalog.models import MYSQL_DIALECTS, Product
from app.extensions import db

MIN_WORD = 3  # MariaDB's innodb_ft_min_token_size: shorter words are not in its index
MAX_WORDS = 8
# InnoDB's default stopword list (INFORMATION_SCHEMA.INNODB_FT_DEFAULT_STOPWORD): never in its
# index, so left out on SQLite too.
STOPWORDS = frozenset(
    "a about an are as at be by com de en for from how i in is it la of on or that the this "
    "to was what when where who will with und www".split()
)
NAME_WEIGHT = 3  # a word in the name counts this many times one in the description
FTS_TABLE = "product_search"  # SQLite; FTS5 adds its shadow tables, product_search_*

# SQLite: an external-content FTS5 table over product(name, description), kept by triggers.
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
]
SQLITE_DROP = [  # the triggers are product's: they outlive the virtual table
    "DROP TRIGGER IF EXISTS product_search_update",
    "DROP TRIGGER IF EXISTS product_search_delete",
    "DROP TRIGGER IF EXISTS product_search_insert",
    "DROP TABLE IF EXISTS product_search",
]

_fts = table("product_search", column("rowid"))


@dataclass(frozen=True)
class Search:
    """A search as the listing uses it: ``ranked`` (product ``id``, ``score``: higher is a
    better match) to join, or ``condition`` (the LIKE fallback) to filter by."""

    ranked: Subquery | None = None
    condition: ColumnElement[bool] | None = None


def words(q: str) -> list[str]:
    """The words of ``q`` that the full-text indexes hold, lower-cased, at most MAX_WORDS."""
    found = [w for w in re.findall(r"\w+", q.lower()) if len(w) >= MIN_WORD]
    return [w for w in dict.fromkeys(found) if w not in STOPWORDS][:MAX_WORDS]


def search(q: str) -> Search:
    """The products matching ``q``: ranked by full text, or by substring when ``q`` has no
    word the index holds."""
    terms = words(q)
    if not terms:
        pattern = f"%{_escape_like(q.strip())}%"
        return Search(
            condition=or_(
                Product.name.ilike(pattern, escape="\\"),
                Product.description.ilike(pattern, escape="\\"),
            )
        )
    if db.session.get_bind().dialect.name == "sqlite":
        return Search(ranked=_sqlite_ranked(terms))
    return Search(ranked=_mariadb_ranked(terms))


def _sqlite_ranked(terms: list[str]) -> Subquery:
    # Each word a quoted prefix ("tea"*): FTS5 takes nothing of the visitor's as syntax.
    query = " ".join(f'"{term}"*' for term in terms)
    table_name: ColumnElement[Any] = literal_column("product_search")
    bm25 = func.bm25(table_name, float(NAME_WEIGHT), 1.0, type_=Float)  # lower is better
    # OFFSET 0 keeps SQLite from flattening the subquery into the join: flattened, a COUNT
    # over the products probes the FTS table with MATCH once per product (25 s at 100,000).
    return (
        select(_fts.c.rowid.label("id"), (-bm25).label("score"))
        .where(table_name.op("MATCH")(query))
        .offset(0)
        .subquery("ranked")
    )


def _mariadb_ranked(terms: list[str]) -> Subquery:
    # Boolean mode: +word* (each word required, as a prefix); \w+ words carry no operator.
    # Textual, since SQLAlchemy's string compiler (used when eager loads wrap a paged query)
    # cannot render its MySQL-only match construct.
    query = " ".join(f"+{term}*" for term in terms)
    return (
        text(
            "SELECT id, MATCH (name) AGAINST (:query IN BOOLEAN MODE) * :weight "
            "+ MATCH (name, description) AGAINST (:query IN BOOLEAN MODE) AS score "
            "FROM product WHERE MATCH (name, description) AGAINST (:query IN BOOLEAN MODE)"
        )
        .bindparams(query=query, weight=NAME_WEIGHT)
        .columns(id=Integer, score=Float)
        .subquery("ranked")
    )


def schema_filter(dialect_name: str):
    """Alembic's ``include_object`` for comparing models and database: leaves out what one
    database has and the other has not (SQLite's FTS5 table and its shadow tables; MariaDB's
    FULLTEXT indexes, on SQLite)."""

    def include_object(obj, name, type_, reflected, compare_to) -> bool:
        if type_ == "table" and reflected and name.startswith(FTS_TABLE):
            return False
        if type_ == "index" and obj.dialect_options["mysql"].get("prefix") == "FULLTEXT":
            return dialect_name in MYSQL_DIALECTS
        return True

    return include_object


def apply(query: Select, found: Search) -> Select:
    """``query`` (over Product) narrowed to the search's products."""
    if found.ranked is not None:
        return query.join(found.ranked, found.ranked.c.id == Product.id)
    return query.where(found.condition) if found.condition is not None else query


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


for statement in SQLITE_DDL:
    event.listen(Product.__table__, "after_create", DDL(statement).execute_if(dialect="sqlite"))
for statement in SQLITE_DROP:
    event.listen(Product.__table__, "before_drop", DDL(statement).execute_if(dialect="sqlite"))
