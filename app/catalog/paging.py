"""Pages of a listing that stay fast however deep: a deferred join, and keyset cursors.

- **Numbered pages** (the site, the API's ``page``): the page's product ids are found first,
  from the sort's index alone (``LIMIT``/``OFFSET`` over ids, no row read for what is
  skipped), then only those products are loaded with their details. Past MARK_EVERY products
  a page starts from its block's bookmark (the key of the product before the block, read once
  per catalogue generation with the page, then kept): page 40,000 of a million skips at most
  MARK_EVERY index entries, not 959,976.
- **Cursors** (the API's ``after``): a page starts after the last product of the one before,
  by the sort's key (``name > :name OR name = :name AND id > :id``): page 40,000 costs what
  page 1 costs. The cursor is the sort and that product's key, encoded, and opaque to clients.

The total is bounded (``count_select`` reads at most CATALOG_COUNT_LIMIT + 1 products): past the
limit it is the limit and ``capped``, ``pages`` is those known so far, and whether a next page
follows comes from reading one product more than the page.

A search's listing is a **window** instead: its products' ids in order, at most the limit + 1,
worked out once per catalogue generation from the search's kept ids (app.catalog.search). A
page is a slice of it, its total the window's length, and its cursor the position after it.
"""

import base64
import binascii
import json
from array import array
from collections.abc import Callable, Sequence
from datetime import datetime
from math import ceil
from typing import Any

from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import ColumnElement, Select, and_, or_, select

from app import page_cache
from app.catalog.models import Product
from app.errors import ValidationFailed
from app.extensions import db

Key = tuple[tuple[Any, bool], ...]  # (column or attribute, descending) in sort order
# A numbered page past this many products starts after the bookmark of its block (the key of
# the product before it): its OFFSET is shorter than this, however deep the page.
MARK_EVERY = 1_000


def order_by(key: Key) -> list[ColumnElement[Any]]:
    return [column.desc() if descending else column.asc() for column, descending in key]


def after(key: Key, values: list[Any]) -> ColumnElement[bool]:
    """Rows after ``values`` in the order of ``key``."""
    (column, descending), *rest = key
    beyond = column < values[0] if descending else column > values[0]
    if not rest:
        return beyond
    return or_(beyond, and_(column == values[0], after(tuple(rest), values[1:])))


def encode(sort: str, values: list[Any]) -> str:
    plain = [v.isoformat() if isinstance(v, datetime) else v for v in values]
    raw = json.dumps([sort, *plain], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(cursor: str, sort: str, key: Key) -> list[Any]:
    """The key values in ``cursor``; 422 (``after``) for one that is not of this sort."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        found_sort, *values = json.loads(raw)
        if found_sort != sort or len(values) != len(key):
            raise ValueError(cursor)
        return [
            _typed(column, value) for (column, _descending), value in zip(key, values, strict=True)
        ]
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
        raise ValidationFailed(
            "The cursor does not belong to this listing.",
            {"after": ["Use the `next` of a page of this listing, with the same sort."]},
        ) from None


def _typed(column: ColumnElement[Any], value: Any) -> Any:
    python_type = column.type.python_type
    if python_type is datetime:
        return datetime.fromisoformat(value)
    if python_type is float:
        return float(value)
    if not isinstance(value, python_type) or isinstance(value, bool):
        raise ValueError(value)
    return value


def products_in_order(ids: list[int], details: tuple) -> list[Product]:
    """The products of ``ids`` in that order, loaded with ``details`` in one statement (one
    that does not exist any more is left out)."""
    if not ids:
        return []
    found = db.session.scalars(select(Product).options(*details).where(Product.id.in_(ids)))
    by_id = {product.id: product for product in found.unique()}
    return [by_id[i] for i in ids if i in by_id]


def window_position(cursor: str, sort: str) -> int:
    """The position in a window that ``cursor`` names; 422 (``after``) for another's."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        found_sort, marker, position = json.loads(raw)
        if found_sort != sort or marker != "@" or type(position) is not int or position < 0:
            raise ValueError(cursor)
        return position
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
        raise ValidationFailed(
            "The cursor does not belong to this listing.",
            {"after": ["Use the `next` of a page of this listing, with the same sort."]},
        ) from None


class ListingPage(Pagination):
    """Flask-SQLAlchemy's Pagination over a listing: ``ids`` (the filtered, sorted select of
    Product.id and the key's columns), ``details`` (loader options; None: the items are the
    products' ids, for a caller that keeps what it shows of them), ``count_select`` (a
    bounded count) kept under ``count_key``, ``count_limit`` and ``cursor`` (after which
    product, or None: numbered pages); or ``window``, a function giving the listing's ids in
    order (a search's). ``next_cursor`` is the cursor of the page that follows, or None on
    the last page."""

    _last: list[Any] | None = None  # the key of the page's last product
    _more = False  # whether a product follows the page
    _window: array | None = None
    capped = False  # more than count_limit products: total is the limit

    def _query_items(self) -> list[Any]:
        args = self._query_args
        if args.get("window") is not None:
            return self._window_items(args["window"])
        key: Key = args["key"]
        ids: Select = args["ids"]
        if args["cursor"] is not None:
            ids = ids.where(after(key, decode(args["cursor"], args["sort"], key)))
            rows = db.session.execute(ids.limit(self.per_page + 1)).all()
        else:
            rows = self._numbered_rows(ids, key, self._query_offset)
        self._more = len(rows) > self.per_page  # one more was read: is there a next page?
        rows = rows[: self.per_page]
        self._last = list(rows[-1][1:]) if rows else None
        page = [row[0] for row in rows]
        if args["details"] is None:
            return page
        return products_in_order(page, args["details"])

    def _numbered_rows(self, ids: Select, key: Key, offset: int) -> Sequence[Any]:
        """The rows (id and key) of the page at ``offset``, and one more. Past MARK_EVERY
        products, after the kept bookmark of the page's block; without one, the bookmark's
        row is read in the same statement as the page (from its position), and kept."""
        more = self.per_page + 1
        block = offset // MARK_EVERY
        if not block:
            return db.session.execute(ids.limit(more).offset(offset)).all()
        args = self._query_args
        name = f"listing-mark:{args['count_key']}:{args['sort']}:{block}"
        start = block * MARK_EVERY - 1  # the bookmark: the product before the block
        kept: dict[str, list[Any] | None] = page_cache.catalog_read_many([name], lambda _m: {})
        if name in kept:
            mark = kept[name]
            if mark is None:  # the listing ends before the block
                return []
            after_mark = ids.where(after(key, mark))
            return db.session.execute(after_mark.limit(more).offset(offset - start - 1)).all()
        rows = db.session.execute(ids.limit(offset - start + more).offset(start)).all()
        mark = list(rows[0][1:]) if rows else None
        page_cache.catalog_read_many([name], lambda _m: {name: mark})
        return rows[offset - start :]

    def _window_items(self, window: Callable[[], array]) -> list[Any]:
        """The page's slice of the window, its products loaded in one statement."""
        args = self._query_args
        self._window = window()
        start = self._query_offset
        if args["cursor"] is not None:
            start = window_position(args["cursor"], args["sort"])
        shown = min(len(self._window), args["count_limit"])  # one more: capped
        ids = list(self._window[start : min(start + self.per_page, shown)])
        self._more = shown > start + self.per_page
        self._last = ["@", start + len(ids)] if ids else None
        if args["details"] is None:
            return ids
        return products_in_order(ids, args["details"])

    @property
    def next_cursor(self) -> str | None:
        """The cursor of the page that follows this one, or None on the last page."""
        if self._last is None or not self._more:
            return None
        return encode(self._query_args["sort"], self._last)

    @property
    def has_next(self) -> bool:
        return self._more

    @property
    def pages(self) -> int:
        """The pages counted; when capped, those known so far (this one, and the next if any)."""
        counted = ceil((self.total or 0) / self.per_page)
        if not self.capped or not self.items:
            return counted
        return max(counted, self.page + self._more)

    def _query_count(self) -> int:
        """Counted once per catalogue generation for each search and filters, whatever the
        page (page_cache.catalog_read): deep pages do not count the catalogue again. At most
        ``count_limit``; ``capped`` when there are more."""
        args = self._query_args
        limit = args["count_limit"]
        if self._window is not None:
            self.capped = len(self._window) > limit or args["window_capped"]
            return min(len(self._window), limit)
        statement = args["count_select"]
        counted = page_cache.catalog_read(
            f"listing-count:{args['count_key']}",
            lambda: db.session.execute(statement).scalar_one(),
        )
        self.capped = counted > limit
        return min(counted, limit)


def ids_select(query: Select, key: Key) -> Select:
    """``query`` (filtered, over Product) as the ids and key columns in the key's order."""
    labelled = [column.label(f"k{i}") for i, (column, _d) in enumerate(key)]
    return query.with_only_columns(Product.id, *labelled).order_by(*order_by(key))
