"""Full-text search of the catalogue: MariaDB's FULLTEXT indexes, SQLite's FTS5 table.

Both answer the same: every word of three letters or more must start a word of the product's
name or description (``tea`` finds "Tea" and "Teapot"), a match in the name ranks above one in
the description, and words the index cannot hold (shorter, or MariaDB's stopwords: "the",
"and"...) are left out on both. A query with no such word falls back to a substring search
(LIKE), which reads every row: short queries only.

A search's answer is its best CATALOG_COUNT_LIMIT + 1 matches' ids (``ranked_ids``), found
once per catalogue generation (``page_cache.catalog_read``) and kept: a full-text match of two
common words reads every row of their index (130 ms at a million products on MariaDB), so the
pages, counts and facets of a search work on these ids and never match again. Past the limit a
search is ``capped``: its listings hold its best matches, as big shops' searches do.

The indexes keep themselves in step with the product table: MariaDB updates its FULLTEXT
indexes on commit, SQLite's triggers (``_fts5``) update the FTS5 table in the same
statement.

A visitor reading another language than the default searches the products' translations into
it first (ProductTranslation, indexed the same way), then their default texts: "Teekanne" and
"teapot" both find the teapot, the German matches first.

The migration that made the indexes indexed the existing rows.
"""

import hashlib
import re
from array import array
from dataclasses import dataclass
from typing import Any

from flask import current_app
from sqlalchemy import (
    DDL,
    BindParameter,
    ColumnElement,
    Float,
    Integer,
    Select,
    and_,
    bindparam,
    column,
    event,
    func,
    literal_column,
    or_,
    select,
    table,
    text,
)

from app import page_cache
from app.catalog.models import MYSQL_DIALECTS, Product, ProductTranslation
from app.extensions import db
from app.i18n import current_locale, default_locale

MIN_WORD = 3  # MariaDB's innodb_ft_min_token_size: shorter words are not in its index
MAX_WORDS = 8
# InnoDB's default stopword list (INFORMATION_SCHEMA.INNODB_FT_DEFAULT_STOPWORD): never in its
# index, so left out on SQLite too.
STOPWORDS = frozenset(
    "a about an are as at be by com de en for from how i in is it la of on or that the this "
    "to was what when where who will with und www".split()
)
NAME_WEIGHT = 3  # a word in the name counts this many times one in the description


def _fts5(source: str) -> list[str]:
    """SQLite: an external-content FTS5 table over ``source``'s name and description,
    ``{source}_search``, kept by triggers. (``source`` is one of this module's table names,
    never input: bandit's B608 does not apply.)"""
    fts = f"{source}_search"
    return [
        f"CREATE VIRTUAL TABLE {fts} USING fts5("
        f"name, description, content='{source}', content_rowid='id', tokenize='unicode61')",
        f"CREATE TRIGGER {fts}_insert AFTER INSERT ON {source} BEGIN "  # nosec B608
        f"INSERT INTO {fts}(rowid, name, description) "
        "VALUES (new.id, new.name, new.description); END",
        f"CREATE TRIGGER {fts}_delete AFTER DELETE ON {source} BEGIN "  # nosec B608
        f"INSERT INTO {fts}({fts}, rowid, name, description) "
        "VALUES ('delete', old.id, old.name, old.description); END",
        f"CREATE TRIGGER {fts}_update AFTER UPDATE OF name, description ON {source} "  # nosec B608
        f"BEGIN INSERT INTO {fts}({fts}, rowid, name, description) "
        "VALUES ('delete', old.id, old.name, old.description); "
        f"INSERT INTO {fts}(rowid, name, description) "
        "VALUES (new.id, new.name, new.description); END",
    ]


def _fts5_drop(source: str) -> list[str]:  # the triggers are the source's: they outlive the table
    fts = f"{source}_search"
    return [
        f"DROP TRIGGER IF EXISTS {fts}_update",
        f"DROP TRIGGER IF EXISTS {fts}_delete",
        f"DROP TRIGGER IF EXISTS {fts}_insert",
        f"DROP TABLE IF EXISTS {fts}",
    ]


# SQLite's FTS5 tables (FTS5 adds its shadow tables, product_search_* ...), by source table.
FTS_TABLES = ("product_search", "product_translation_search")

_fts = table("product_search", column("rowid"))
_fts_translation = table("product_translation_search", column("rowid"))


@dataclass(frozen=True)
class Search:
    """A search as listings use it: ``ids``, its best matches' product ids, best first, at
    most ``limit`` + 1 (one more: ``capped``); or ``condition`` (the LIKE fallback) to filter
    by."""

    ids: array | None = None
    condition: ColumnElement[bool] | None = None
    limit: int = 0
    key: str = ""  # what the search is, for the keys of what is kept of its listings

    @property
    def capped(self) -> bool:
        return self.ids is not None and len(self.ids) > self.limit


def words(q: str) -> list[str]:
    """The words of ``q`` that the full-text indexes hold, lower-cased, at most MAX_WORDS."""
    found = [w for w in re.findall(r"\w+", q.lower()) if len(w) >= MIN_WORD]
    return [w for w in dict.fromkeys(found) if w not in STOPWORDS][:MAX_WORDS]


def search(q: str) -> Search:
    """The products matching ``q`` in the request's language or the default one: ranked by
    full text, or by substring when ``q`` has no word the index holds."""
    terms = words(q)
    limit = int(current_app.config["CATALOG_COUNT_LIMIT"])
    locale = current_locale()
    translated = locale if locale != default_locale() else None
    if not terms:
        pattern = f"%{_escape_like(q.strip())}%"
        matches: list[ColumnElement[bool]] = [
            Product.name.ilike(pattern, escape="\\"),
            Product.description.ilike(pattern, escape="\\"),
        ]
        if translated:
            matches.append(
                Product.translations.any(
                    and_(
                        ProductTranslation.locale == translated,
                        or_(
                            ProductTranslation.name.ilike(pattern, escape="\\"),
                            ProductTranslation.description.ilike(pattern, escape="\\"),
                        ),
                    )
                )
            )
        return Search(condition=or_(*matches), limit=limit, key=f"like:{q.strip().lower()}")
    key = f"{' '.join(terms)}:{limit}"
    return Search(ids=ranked_ids(terms, limit, translated), limit=limit, key=key)


def ranked_ids(terms: list[str], limit: int, locale: str | None = None) -> array:
    """The ids of the ``limit`` + 1 best matches of ``terms``, best first (ties by id): those
    in the ``locale``'s translations first, if given. Kept until the catalogue changes."""

    def load() -> array:
        sqlite = db.session.get_bind().dialect.name == "sqlite"
        ranked = _sqlite_ranked if sqlite else _mariadb_ranked
        found: dict[int, None] = {}
        if locale is not None:
            found |= dict.fromkeys(db.session.scalars(ranked(terms, locale).limit(limit + 1)))
        found |= dict.fromkeys(db.session.scalars(ranked(terms).limit(limit + 1)))
        return array("q", list(found)[: limit + 1])

    digest = hashlib.sha256(f"{' '.join(terms)}:{limit}".encode()).hexdigest()
    return page_cache.catalog_read(f"search-ids:{digest}", load)  # kept by locale


def _sqlite_ranked(terms: list[str], locale: str | None = None) -> Select:
    # Each word a quoted prefix ("tea"*): FTS5 takes nothing of the visitor's as syntax.
    query = " ".join(f'"{term}"*' for term in terms)
    fts = _fts_translation if locale else _fts
    table_name: ColumnElement[Any] = literal_column(fts.name)
    bm25 = func.bm25(table_name, float(NAME_WEIGHT), 1.0, type_=Float)  # lower is better
    if locale is None:
        return select(fts.c.rowid).where(table_name.op("MATCH")(query)).order_by(bm25, fts.c.rowid)
    return (
        select(ProductTranslation.product_id)
        .join_from(fts, ProductTranslation, ProductTranslation.id == fts.c.rowid)
        .where(table_name.op("MATCH")(query), ProductTranslation.locale == locale)
        .order_by(bm25, ProductTranslation.product_id)
    )


# MariaDB: a match in the name counts NAME_WEIGHT times one in the name or description.
MARIADB_RANKED = {
    None: "SELECT id, MATCH (name) AGAINST (:query IN BOOLEAN MODE) * :weight "
    "+ MATCH (name, description) AGAINST (:query IN BOOLEAN MODE) AS score "
    "FROM product WHERE MATCH (name, description) AGAINST (:query IN BOOLEAN MODE)",
    "translations": "SELECT product_id AS id, "
    "MATCH (name) AGAINST (:query IN BOOLEAN MODE) * :weight "
    "+ MATCH (name, description) AGAINST (:query IN BOOLEAN MODE) AS score "
    "FROM product_translation "
    "WHERE MATCH (name, description) AGAINST (:query IN BOOLEAN MODE) AND locale = :locale",
}


def _mariadb_ranked(terms: list[str], locale: str | None = None) -> Select:
    # Boolean mode: +word* (each word required, as a prefix); \w+ words carry no operator.
    query = " ".join(f"+{term}*" for term in terms)
    statement = text(MARIADB_RANKED["translations" if locale else None])
    statement = statement.bindparams(query=query, weight=NAME_WEIGHT)
    if locale:
        statement = statement.bindparams(locale=locale)
    ranked = statement.columns(id=Integer, score=Float).subquery("ranked")
    return select(ranked.c.id).order_by(ranked.c.score.desc(), ranked.c.id)


def schema_filter(dialect_name: str):
    """Alembic's ``include_object`` for comparing models and database: leaves out what one
    database has and the other has not (SQLite's FTS5 table and its shadow tables; MariaDB's
    FULLTEXT indexes, on SQLite)."""

    def include_object(obj, name, type_, reflected, compare_to) -> bool:
        if type_ == "table" and reflected and name.startswith(FTS_TABLES):
            return False
        if type_ == "index" and obj.dialect_options["mysql"].get("prefix") == "FULLTEXT":
            return dialect_name in MYSQL_DIALECTS
        return True

    return include_object


def apply(query: Select, found: Search) -> Select:
    """``query`` (over Product) narrowed to the search's products."""
    if found.ids is not None:
        # The ids written into the statement: no bound parameter each (SQLite allows 32,766
        # in a statement; the facets' UNION names the ids five times).
        ids: BindParameter[list[int]] = bindparam(
            None, list(found.ids), expanding=True, literal_execute=True
        )
        return query.where(Product.id.in_(ids))
    return query.where(found.condition) if found.condition is not None else query


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


for model in (Product, ProductTranslation):
    for statement in _fts5(model.__tablename__):
        event.listen(model.__table__, "after_create", DDL(statement).execute_if(dialect="sqlite"))
    for statement in _fts5_drop(model.__tablename__):
        event.listen(model.__table__, "before_drop", DDL(statement).execute_if(dialect="sqlite"))
