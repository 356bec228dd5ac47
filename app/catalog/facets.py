"""Catalogue filters (price range, in stock, option values) and their facet counts.

Filters combine with the search and the category: a product matches when its price is in the
range and one active variant has every chosen option (any of the values chosen for each option
name: Size M or L, and Colour blue), in stock when ``in_stock``. Option names and values are
compared without case, across products (every product's "Size" is one facet).

The counts of every facet come from one UNION ALL statement whatever the catalogue's size.
Each facet is counted with every filter but its own (choosing Size M still shows how many
products come in L), and a category's count includes its sub-categories.

The counts are bounded, as big shops' are: each facet counts at most CATALOG_COUNT_LIMIT + 1
of its matching products (their ids first, by the listing's own indexes, then joined), so no
request counts a million rows. A facet with more is ``capped``: its counts are then of those
products only, lower bounds.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import (
    ColumnElement,
    Select,
    String,
    Subquery,
    and_,
    case,
    cast,
    exists,
    func,
    literal,
    select,
    true,
    union_all,
)
from sqlalchemy.orm import aliased

from app.catalog import search
from app.catalog.models import (
    Category,
    OptionType,
    OptionValue,
    Product,
    Variant,
    variant_option_value,
)
from app.errors import ValidationFailed
from app.extensions import db

MAX_OPTIONS = 10  # chosen option values; more is refused (each is a condition)


@dataclass(frozen=True)
class Filters:
    """What a listing is narrowed to, besides the search and the category."""

    price_min: int | None = None  # cents, inclusive
    price_max: int | None = None  # cents, inclusive
    in_stock: bool = False
    # Lower-cased option name -> lower-cased values, sorted (a stable cache key).
    options: tuple[tuple[str, tuple[str, ...]], ...] = ()

    @classmethod
    def of(
        cls,
        price_min: int | None = None,
        price_max: int | None = None,
        in_stock: bool = False,
        options: Iterable[str] = (),
    ) -> "Filters":
        """From a request's values; ``options`` as ``name:value`` ("size:m").

        :raises ValidationFailed: a bad range or option (the field named).
        """
        errors: dict[str, list[str]] = {}
        if price_min is not None and price_min < 0 or price_max is not None and price_max < 0:
            errors["price"] = [_("Prices cannot be negative.")]
        elif price_min is not None and price_max is not None and price_min > price_max:
            errors["price"] = [_("The lowest price is above the highest.")]
        chosen: dict[str, set[str]] = {}
        given = list(options)
        for option in given:
            name, sep, value = option.partition(":")
            if not sep or not name.strip() or not value.strip():
                errors["option"] = [
                    _("Give an option as name:value (size:m), not %(option)r.", option=option)
                ]
                break
            chosen.setdefault(name.strip().lower(), set()).add(value.strip().lower())
        if len(given) > MAX_OPTIONS:
            errors["option"] = [_("Choose at most %(count)d option values.", count=MAX_OPTIONS)]
        if errors:
            raise ValidationFailed(_("Check the filters."), errors)
        return cls(
            price_min,
            price_max,
            in_stock,
            tuple(sorted((name, tuple(sorted(values))) for name, values in chosen.items())),
        )

    @property
    def option_keys(self) -> set[str]:
        return {f"{name}:{value}" for name, values in self.options for value in values}

    def without_option(self, name: str) -> "Filters":
        return replace(self, options=tuple(o for o in self.options if o[0] != name))


NO_FILTERS = Filters()


@dataclass(frozen=True)
class PriceRange:
    min_cents: int
    max_cents: int | None  # None: no upper end
    count: int


@dataclass(frozen=True)
class OptionFacet:
    name: str  # as the first product names it ("Size")
    key: str  # lower-cased
    values: list[tuple[str, str, int]] = field(default_factory=list)  # key, label, count


@dataclass(frozen=True)
class Facets:
    categories: dict[int, int]  # category id -> products in it and its sub-categories
    prices: list[PriceRange]
    in_stock: int
    options: list[OptionFacet]
    # The facets ("categories", "prices", "in_stock", "options") whose matching products
    # were more than CATALOG_COUNT_LIMIT: their counts are lower bounds.
    capped: frozenset[str] = frozenset()


def conditions(filters: Filters) -> list[ColumnElement[bool]]:
    """The filters as conditions on Product."""
    found: list[ColumnElement[bool]] = []
    if filters.price_min is not None:
        found.append(Product.price_cents >= filters.price_min)
    if filters.price_max is not None:
        found.append(Product.price_cents <= filters.price_max)
    if filters.in_stock or filters.options:
        found.append(_variant_matches(filters))
    return found


def _variant_matches(filters: Filters, variant: Any = Variant) -> ColumnElement[bool]:
    """An active variant of the product has every chosen option (in stock if asked). Its
    first one, looked up by the product's index row by row: MariaDB would turn an EXISTS
    into a semi-join that reads every matching variant (a million) before any LIMIT."""
    first = (
        select(literal(1))
        .where(variant.product_id == Product.id, *_variant_conditions(filters, variant))
        .limit(1)
        .scalar_subquery()
    )
    return first.is_not(None)


def _variant_conditions(filters: Filters, variant: Any) -> list[ColumnElement[bool]]:
    found: list[ColumnElement[bool]] = [variant.is_active == true()]
    if filters.in_stock:
        found.append(variant.stock > 0)
    for name, values in filters.options:
        # Aliases of their own: a facet's query joins these tables too.
        link, value, option = (
            variant_option_value.alias(),
            aliased(OptionValue),
            aliased(OptionType),
        )
        found.append(
            exists().where(
                link.c.variant_id == variant.id,
                link.c.option_value_id == value.id,
                value.option_type_id == option.id,
                func.lower(option.name) == name,
                func.lower(value.value).in_(values),
            )
        )
    return found


def price_buckets() -> list[tuple[int, int | None]]:
    """CATALOG_PRICE_BUCKETS (cents: the upper ends) as (min, max) ranges, the last open."""
    edges = current_app.config["CATALOG_PRICE_BUCKETS"]
    lows = [0, *edges]
    return [(low, high - 1) for low, high in zip(lows, edges, strict=False)] + [(lows[-1], None)]


def count_limit() -> int:
    """CATALOG_COUNT_LIMIT: the most products a count reads (one more says it is capped)."""
    return int(current_app.config["CATALOG_COUNT_LIMIT"])


def counts(
    base: list[ColumnElement[bool]],
    found: search.Search | None,
    category_ids: list[int] | None,
    filters: Filters,
) -> Facets:
    """Every facet's counts for a listing: ``base`` (active products), the search and the
    category chosen, and ``filters``; one statement, each part over at most
    CATALOG_COUNT_LIMIT + 1 products."""

    def products(
        category: bool = True, price: bool = True, narrowed: Filters = filters
    ) -> Subquery:
        """The first matching products (id, category_id, price_cents), bounded."""
        where = list(base)
        if category and category_ids is not None:
            where.append(Product.category_id.in_(category_ids))
        if not price:
            narrowed = replace(narrowed, price_min=None, price_max=None)
        statement = select(Product.id, Product.category_id, Product.price_cents).where(
            *where, *conditions(narrowed)
        )
        if found is not None:
            statement = search.apply(statement, found)
        return statement.limit(count_limit() + 1).subquery()

    by_category = products(category=False)
    in_stock = products(narrowed=replace(filters, in_stock=True))
    parts = [
        select(
            literal("category"),
            cast(by_category.c.category_id, String),
            literal(""),
            literal(0),
            func.count(),
        ).group_by(by_category.c.category_id),
        _price_part(products(price=False)),
        select(
            literal("in_stock"), literal("1"), literal(""), literal(0), func.count()
        ).select_from(in_stock),
    ]
    chosen = [name for name, _values in filters.options]
    parts += _option_parts(products(), filters, exclude=chosen)
    for name in chosen:
        narrowed = filters.without_option(name)
        parts += _option_parts(products(narrowed=narrowed), narrowed, only=name)
    rows = db.session.execute(union_all(*parts)).all()
    return _facets(rows)


def _price_part(sample: Subquery) -> Select:
    buckets = price_buckets()
    price = sample.c.price_cents
    bucket = case(
        *[(price <= high, index) for index, (_low, high) in enumerate(buckets[:-1])],
        else_=len(buckets) - 1,
    )
    return (
        select(literal("price"), cast(bucket, String), literal(""), literal(0), func.count())
        .select_from(sample)
        .group_by(bucket)
    )


def _option_parts(
    sample: Subquery,
    narrowed: Filters,
    exclude: Iterable[str] = (),
    only: str | None = None,
) -> list[Select]:
    """Products per option value among ``sample`` (the products matching ``narrowed``):
    those whose active variant (in stock if asked) has the value and the other chosen
    options; ``only`` one option name, or all but ``exclude``. And the sample's size, to
    tell whether it was capped."""
    variant = aliased(Variant)
    name = func.lower(OptionType.name)
    value = func.lower(OptionValue.value)
    where = _variant_conditions(narrowed, variant)
    if only is not None:
        where.append(name == only)
    elif exclude:
        where.append(name.not_in(exclude))
    values = (
        select(
            literal("option"),
            # CAST: one collation in every part of the UNION (MariaDB refuses a mix)
            cast(name + ":" + value, String),
            cast(func.min(OptionType.name + ":" + OptionValue.value), String),
            func.min(OptionValue.position),
            func.count(sample.c.id.distinct()),
        )
        .select_from(sample)
        .join(variant, variant.product_id == sample.c.id)
        .join(variant_option_value, variant_option_value.c.variant_id == variant.id)
        .join(OptionValue, OptionValue.id == variant_option_value.c.option_value_id)
        .join(OptionType, OptionType.id == OptionValue.option_type_id)
        .where(and_(*where))
        .group_by(name, value)
    )
    size = select(
        literal("option_sample"), literal(""), literal(""), literal(0), func.count()
    ).select_from(sample)
    return [values, size]


def _facets(rows: Iterable[Any]) -> Facets:
    """The UNION's rows (facet, key, label, position, count) as Facets; categories as counted,
    not rolled up yet (``rolled_up``). A facet over more than CATALOG_COUNT_LIMIT products is
    capped, and no count is above the limit."""
    limit = count_limit()
    by_category: dict[int, int] = {}
    prices = {index: 0 for index in range(len(price_buckets()))}
    in_stock = 0
    options: dict[str, OptionFacet] = {}
    values: dict[str, list[tuple[int, str, str, int]]] = {}
    # How many products each facet counted (the option facets': their largest sample).
    counted = {"categories": 0, "prices": 0, "in_stock": 0, "options": 0}
    for facet, key, label, position, count in rows:
        if facet == "category":
            counted["categories"] += count
            if key is not None:
                by_category[int(key)] = min(count, limit)
        elif facet == "price":
            counted["prices"] += count
            prices[int(key)] = min(count, limit)
        elif facet == "in_stock":
            counted["in_stock"] = count
            in_stock = min(count, limit)
        elif facet == "option_sample":
            counted["options"] = max(counted["options"], count)
        elif facet == "option":
            name_key = key.partition(":")[0]
            name, _, value_label = label.partition(":")
            options.setdefault(name_key, OptionFacet(name=name, key=name_key))
            values.setdefault(name_key, []).append((position, value_label, key, min(count, limit)))
    for name_key, option in options.items():
        ordered = sorted(values[name_key], key=lambda v: (v[0], v[1].lower()))
        option.values.extend((key, label, count) for _p, label, key, count in ordered)
    ranges = [
        PriceRange(low, high, prices[index]) for index, (low, high) in enumerate(price_buckets())
    ]
    return Facets(
        categories=by_category,
        prices=ranges,
        in_stock=in_stock,
        options=sorted(options.values(), key=lambda o: o.name.lower()),
        capped=frozenset(name for name, count in counted.items() if count > limit),
    )


def rolled_up(counted: dict[int, int], categories: Iterable[Category]) -> dict[int, int]:
    """Each category's count with its sub-categories' added."""
    parents = {c.id: c.parent_id for c in categories}
    totals: dict[int, int] = {}
    for category_id, count in counted.items():
        seen: set[int] = set()
        node: int | None = category_id
        while node is not None and node not in seen:
            seen.add(node)
            totals[node] = totals.get(node, 0) + count
            node = parents.get(node)
    return totals
