"""Catalogue queries and product writes. Views and the API call these, never the models."""

import hashlib
import json
import re
import unicodedata
from array import array
from collections.abc import Iterable
from dataclasses import astuple, dataclass, replace
from functools import partial
from typing import Any

from flask import current_app, g, has_request_context
from flask_babel import gettext as _
from sqlalchemy import ColumnElement, Select, and_, func, or_, select, true
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from app import page_cache
from app.catalog import facets, paging, search
from app.catalog.models import (
    Category,
    CategoryTranslation,
    OptionType,
    Product,
    ProductTranslation,
    Translatable,
    Variant,
    VariantOptionValue,
    attach_values,
)
from app.errors import Conflict, NotFound, ValidationFailed
from app.extensions import db
from app.i18n import current_locale, default_locale
from app.taxes.models import TaxClass
from app.transactions import atomic

PAGE_SIZE = 24
# What a product card shows (its category, and its variants' prices and stock), loaded with
# the products in one query (a page's LIMIT applies to the products, joined in a subquery).
CARD_DETAILS = (
    joinedload(Product.category),
    joinedload(Product.variants),
    selectinload(Product.images),  # the first is the card's picture
)
# What a product page or the API shows: the card's, each variant's option values (joined
# through Variant.value_links, by index; ``attach_values`` makes them its ``values``), and
# the options with their values.
PRODUCT_DETAILS = (
    joinedload(Product.category),
    joinedload(Product.variants)
    .joinedload(Variant.value_links)
    .joinedload(VariantOptionValue.value),
    selectinload(Product.options).joinedload(OptionType.values),
    selectinload(Product.images),
)
# What a product's texts need in a language other than the default (``with_texts``).
TRANSLATIONS = (
    selectinload(Product.translations),
    joinedload(Product.category).selectinload(Category.translations),
)
# A product with an active variant in stock.
IN_STOCK = Product.variants.any(and_(Variant.is_active == true(), Variant.stock > 0))
# Each sort's key: (column, descending), the product's id last so that the order is total.
SORT_KEYS: dict[str, paging.Key] = {
    "relevance": ((Product.name, False), (Product.id, False)),  # a search ranks by its score
    "name": ((Product.name, False), (Product.id, False)),
    "price": ((Product.price_cents, False), (Product.id, False)),
    "-price": ((Product.price_cents, True), (Product.id, False)),
    "newest": ((Product.created_at, True), (Product.id, True)),
}
SORTS = {name: tuple(paging.order_by(key)) for name, key in SORT_KEYS.items()}


def slugify(text: str) -> str:
    """ASCII, lower-case, hyphenated: ``"Crème Brûlée 2"`` -> ``"creme-brulee-2"``."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-") or "item"


def with_texts(details: tuple) -> tuple:
    """Loader options ``details`` and, in a language other than the default, what
    ``translated`` reads: no query more in the default language, one or two in another."""
    return details if current_locale() == default_locale() else (*details, *TRANSLATIONS)


def all_categories() -> list[Category]:
    """Every category by name, each with its ``children``: one query, once per request (a
    shop has tens of categories, not thousands; a listing needs them twice)."""
    if not has_request_context():
        return _load_categories()
    if "catalog_categories" not in g:
        g.catalog_categories = _load_categories()
    return g.catalog_categories


def _load_categories() -> list[Category]:
    query = select(Category).order_by(Category.name)
    translated = current_locale() != default_locale()
    if translated:
        query = query.options(selectinload(Category.translations))
    categories = list(db.session.scalars(query))
    if translated:  # by name in the visitor's language
        categories.sort(key=lambda category: category.translated.name.casefold())
    children: dict[int | None, list[Category]] = {}
    for category in categories:
        children.setdefault(category.parent_id, []).append(category)
    for category in categories:
        set_committed_value(category, "children", children.get(category.id, []))
    return list(categories)


def category_tree() -> list[Category]:
    """Top-level categories with their children loaded."""
    return [c for c in all_categories() if c.parent_id is None]


def category_with_descendants(slug: str) -> tuple[Category, list[int]]:
    """The category and the ids of it and every sub-category below it."""
    by_slug = {c.slug: c for c in all_categories()}
    if slug not in by_slug:
        raise NotFound(f"No category {slug!r}.")
    return by_slug[slug], descendant_ids([by_slug[slug].id])


def descendant_ids(category_ids: Iterable[int]) -> list[int]:
    """These categories' ids and those of every sub-category below them, each once."""
    children: dict[int | None, list[int]] = {}
    for c in all_categories():
        children.setdefault(c.parent_id, []).append(c.id)
    ids: list[int] = []
    todo = list(category_ids)
    while todo:
        current = todo.pop()
        if current not in ids:
            ids.append(current)
            todo.extend(children.get(current, []))
    return ids


@dataclass(frozen=True)
class ProductSet:
    """What a voucher or a sale is for: products by id, and every product of some categories
    and their sub-categories."""

    product_ids: frozenset[int]
    category_ids: frozenset[int]

    @classmethod
    def of(cls, product_ids: Iterable[int], category_ids: Iterable[int]) -> "ProductSet":
        """The set of these products and categories (the sub-categories found here)."""
        return cls(frozenset(product_ids), frozenset(descendant_ids(category_ids)))

    def __contains__(self, product: object) -> bool:
        return isinstance(product, Product) and (
            product.id in self.product_ids or product.category_id in self.category_ids
        )


def chosen_products_and_categories(data: dict) -> tuple[list[Product], list[Category]]:
    """What a voucher or a sale is for: ``data["products"]`` (products, ids, or a text of
    SKUs and slugs: ``"SKU-TEA, earl-grey"``) and ``data["categories"]`` (categories or
    ids). 422 naming the field for any that does not exist."""
    products = data.get("products") or []
    if isinstance(products, str):
        words = {w.strip() for w in products.replace(";", ",").split(",") if w.strip()}
        found = db.session.execute(
            select(Product.id, Product.slug, Variant.sku)
            .join(Variant, Variant.product_id == Product.id)
            .where(or_(Product.slug.in_(words), Variant.sku.in_(words)))
        ).all()
        products = sorted({row.id for row in found})
        unknown = words - {row.slug for row in found} - {row.sku for row in found}
        if unknown:
            message = f"No product has the SKU or slug {', '.join(sorted(unknown))}."
            raise ValidationFailed(message, {"products": [message]})
    return _existing(Product, "products", products), _existing(
        Category, "categories", data.get("categories") or []
    )


def _existing(model, field: str, items) -> list:
    """The rows of ``items`` (rows or ids); 422 naming ``field`` when one does not exist."""
    ids = {item if isinstance(item, int) else getattr(item, "id", None) for item in items}
    known = {i for i in ids if isinstance(i, int) and not isinstance(i, bool)}
    rows = list(db.session.scalars(select(model).where(model.id.in_(known)))) if known else []
    if len(rows) != len(ids):
        message = f"Some of these {field} do not exist."
        raise ValidationFailed(message, {field: [message]})
    return rows


def check_category_parent(category_id: int | None, parent_id: int | None) -> None:
    """Refuse a parent that is the category itself or one of its sub-categories (a loop)."""
    seen: set[int] = set()
    while parent_id is not None and parent_id not in seen:
        if parent_id == category_id:
            raise ValidationFailed(
                "A category cannot be inside itself or its sub-categories.",
                {"parent_id": ["Choose a category outside this one."]},
            )
        seen.add(parent_id)
        parent = db.session.get(Category, parent_id)
        parent_id = parent.parent_id if parent is not None else None


def category_id_for(slug: str | None) -> int | None:
    """The id of the category with this slug, for a product write (None: no category)."""
    if slug is None:
        return None
    category_id = db.session.scalar(select(Category.id).where(Category.slug == slug))
    if category_id is None:
        raise ValidationFailed(
            "Unknown category.", {"category": [f"No category with the slug {slug!r}."]}
        )
    return category_id


def list_products(
    q: str = "",
    category: str = "",
    sort: str = "relevance",
    page: int = 1,
    per_page: int = PAGE_SIZE,
    include_inactive: bool = False,
    details: tuple | None = PRODUCT_DETAILS,
    filters: facets.Filters = facets.NO_FILTERS,
    after: str | None = None,
) -> paging.ListingPage:
    """Active products matching the search (app.catalog.search), in a category (and its
    sub-categories), narrowed by ``filters`` (app.catalog.facets), sorted (``relevance``: the
    best match first, by name without a search), loaded with ``details`` (``CARD_DETAILS``
    for cards; None: only their ids): page ``page``, or the page after the cursor ``after``
    (app.catalog.paging)."""
    if sort not in SORTS:
        raise ValidationFailed("Unknown sort.", {"sort": [f"Use one of: {', '.join(SORTS)}."]})
    conditions: list[ColumnElement[bool]] = []
    category_ids: list[int] = []
    if category:
        _, category_ids = category_with_descendants(category)
        conditions.append(Product.category_id.in_(category_ids))
    conditions += facets.conditions(filters)
    found = search.search(q) if q.strip() else None
    query = select(Product).where(*conditions)
    if not include_inactive:
        query = query.where(Product.is_active == true())
    key = SORT_KEYS[sort]
    # What the listing holds, whatever its order and page: the key of what is kept of it.
    what = [found.key if found else "", category_ids, astuple(filters), include_inactive]
    listing = hashlib.sha256(json.dumps(what).encode()).hexdigest()
    window = None
    if found is not None and found.ids is not None:
        window = partial(
            page_cache.catalog_read,
            f"search-window:{listing}:{sort}",
            partial(_search_window, search.apply(query, found), found, sort),
        )
    elif found is not None:
        query = search.apply(query, found)
    result = paging.ListingPage(
        ids=paging.ids_select(query, key),
        key=key,
        sort=sort,
        cursor=after,
        details=None if details is None else with_texts(details),
        count_select=None if window else _listing_count(conditions, include_inactive, found),
        count_key=listing,
        count_limit=facets.count_limit(),
        window=window,
        window_capped=found is not None and found.capped,
        page=1 if after else page,
        per_page=per_page,
        max_per_page=None,
        error_out=False,  # a page past the end has no items; a page below 1 is the first
    )
    if details is not None:
        attach_values(result.items)
    return result


def products_by_id(ids: list[int], details: tuple = CARD_DETAILS) -> list[Product]:
    """These products, in this order, with ``details`` (a listing's page of ids)."""
    products = paging.products_in_order(ids, with_texts(details))
    attach_values(products)
    return products


def _search_window(query: Select[Any], found: search.Search, sort: str) -> array:
    """The ids of a search's listing in order: ``query`` (over Product: the search's
    products that meet the listing's conditions) in the search's order for ``relevance``,
    else in the sort's."""
    ids = query.with_only_columns(Product.id)
    if sort == "relevance":
        chosen = set(db.session.scalars(ids))
        return array("q", (i for i in found.ids or () if i in chosen))
    ordered = ids.order_by(*SORTS[sort]).limit(facets.count_limit() + 1)
    return array("q", db.session.scalars(ordered))


def _listing_count(
    conditions: list[ColumnElement[bool]], include_inactive: bool, found: search.Search | None
) -> Select[Any]:
    """How many products a listing has, bounded: a count of its first
    CATALOG_COUNT_LIMIT + 1 ids, found by the listing's own indexes, so no request counts a
    million rows (one more than the limit says there are more)."""
    ids = select(Product.id).where(*conditions)
    if not include_inactive:
        ids = ids.where(Product.is_active == true())
    if found is not None:
        ids = search.apply(ids, found)
    bounded = ids.limit(facets.count_limit() + 1).subquery("bounded")
    return select(func.count()).select_from(bounded)


def facet_counts(
    q: str = "", category: str = "", filters: facets.Filters = facets.NO_FILTERS
) -> facets.Facets:
    """The counts of every facet for the active products of this search, category and
    filters (each facet counted without its own filter), in one statement; each facet over
    at most CATALOG_COUNT_LIMIT products (``capped`` when it has more)."""
    ids = category_with_descendants(category)[1] if category else None
    found = search.search(q) if q.strip() else None

    def count() -> facets.Facets:
        counted = facets.counts([Product.is_active == true()], found, ids, filters)
        return replace(counted, categories=facets.rolled_up(counted.categories, all_categories()))

    # Once per catalogue generation for each search and filters, whatever the page.
    key = json.dumps(
        [
            q.strip().lower(),
            category,
            filters.price_min,
            filters.price_max,
            filters.in_stock,
            filters.options,
        ]
    )
    return page_cache.catalog_read(f"facets:{hashlib.sha256(key.encode()).hexdigest()}", count)


def featured_products(limit: int = 8) -> list[Product]:
    """Featured, active, in-stock products for the home page."""
    products = list(
        db.session.scalars(
            select(Product)
            .options(*with_texts(CARD_DETAILS))
            .where(Product.is_active == true(), Product.is_featured == true(), IN_STOCK)
            .order_by(Product.id)
            .limit(limit)
        ).unique()
    )
    attach_values(products)
    return products


def get_product(slug: str, include_inactive: bool = False) -> Product:
    """One product by slug; inactive products do not exist for the public."""
    query = select(Product).options(*with_texts(PRODUCT_DETAILS)).where(Product.slug == slug)
    if not include_inactive:
        query = query.where(Product.is_active == true())
    product = db.session.scalars(query).unique().first()
    if product is None:
        raise NotFound(_("No such product."))
    attach_values([product])
    return product


def variant_with_options(product_id: int | None, value_ids: list[int]) -> Variant:
    """The product's variant on sale with exactly these option values (one of each option),
    as the product page's selects name them; a combination that is not sold (or not any
    more) is a form error."""
    variant = None
    if product_id is not None:
        candidates = db.session.scalars(
            select(Variant)
            .where(Variant.product_id == product_id, Variant.is_active == true())
            .options(selectinload(Variant.values))
        )
        chosen = set(value_ids)
        variant = next((v for v in candidates if {x.id for x in v.values} == chosen), None)
    if variant is None:
        raise ValidationFailed(
            "That combination is not available: choose another.",
            {"options": ["Not available in this combination."]},
        )
    return variant


# Bounds of a product's numbers: stock is a signed 32-bit column; a price (BIGINT, so that
# totals of many lines fit) stays below 21 million in major units.
MAX_STOCK = 2**31 - 1
MAX_PRICE_CENTS = 2**31 - 1


def _number_errors(data: dict, product: Product | None) -> dict[str, list[str]]:
    def current(field):
        return data[field] if field in data else getattr(product, field, None)

    errors = {}
    price, stock = current("price_cents"), current("stock")
    if not isinstance(price, int) or price < 0:
        errors["price_cents"] = ["Must be a whole number of minor units, 0 or more."]
    elif price > MAX_PRICE_CENTS:
        errors["price_cents"] = [f"Must be at most {MAX_PRICE_CENTS:,}."]
    if not isinstance(stock, int) or stock < 0:
        errors["stock"] = ["Must be 0 or more."]
    elif stock > MAX_STOCK:
        errors["stock"] = [f"Must be at most {MAX_STOCK:,}."]
    return errors


# A product's fields that belong to its variant, for a product without options (one variant).
VARIANT_FIELDS = ("sku", "stock")
PRODUCT_FIELDS = (
    "sku",
    "slug",
    "name",
    "description",
    "price_cents",
    "currency",
    "stock",
    "is_active",
    "is_featured",
    "image",
    "category_id",
    "tax_class_id",
)


def _currency_errors(data: dict) -> dict[str, list[str]]:
    shop_currency = current_app.config["SHOP_CURRENCY"]
    if data.get("currency", shop_currency) != shop_currency:
        return {"currency": [f"The shop sells in {shop_currency} only."]}
    return {}


def _tax_class_errors(data: dict) -> dict[str, list[str]]:
    """A product pays its class's rate; no class (None) is the standard rate."""
    class_id = data.get("tax_class_id")
    if class_id is None:
        return {}
    if type(class_id) is int and db.session.get(TaxClass, class_id) is not None:
        return {}
    return {"tax_class_id": ["No such tax class."]}


@atomic
def save_product(product: Product | None, data: dict) -> Product:
    """Create (product=None) or update a product from validated data; 409 on a duplicate.

    A product is priced in the shop's one currency, ``SHOP_CURRENCY``, its default.

    ``data["translations"]``, if given, is ``set_translations``'.

    :raises ValidationFailed: a number out of bounds, another currency, a bad translation.
    :raises Conflict: the SKU or slug exists already.
    """
    creating = product is None
    if creating or "currency" in data:
        currency = data.get("currency") or current_app.config["SHOP_CURRENCY"]
        data = {**data, "currency": currency.upper()}
    errors = _number_errors(data, product) | _currency_errors(data) | _tax_class_errors(data)
    if errors:
        raise ValidationFailed("Some fields are invalid.", errors)
    variant_data = {field: data[field] for field in VARIANT_FIELDS if field in data}
    if creating and not variant_data.get("sku"):
        raise ValidationFailed("Some fields are invalid.", {"sku": ["A SKU is required."]})
    if product is not None and variant_data and len(product.variants) != 1:
        raise ValidationFailed(
            "This product comes in several variants: set each variant's SKU and stock.",
            {field: ["Set it on the product's variants."] for field in variant_data},
        )
    product = product or Product()
    if "translations" in data:
        set_translations(product, data["translations"])
    for field in PRODUCT_FIELDS:
        if field in data and field not in VARIANT_FIELDS:
            setattr(product, field, data[field])
    if creating:
        product.variants.append(Variant(**{"stock": 0, **variant_data}))
    else:
        for field, value in variant_data.items():
            setattr(product.variants[0], field, value)
    if creating and not product.slug:
        product.slug = slugify(product.name)
    db.session.add(product)
    try:
        db.session.flush()
    except IntegrityError as error:  # the unit rolls back
        if "product_translation" in str(error.orig):  # another admin added it a moment ago
            raise Conflict(
                "This product's translation was added at the same moment: reload and try again."
            ) from error
        raise Conflict("A product with this SKU or slug exists already.") from error
    return product


# The longest text of each translated field (a product's description: as the API takes it).
TEXT_LIMITS: dict[tuple[type, str], int] = {
    (Category, "name"): 120,
    (Product, "name"): 160,
    (Product, "description"): 10_000,
}
TRANSLATION_CLASSES: dict[type, type] = {
    Category: CategoryTranslation,
    Product: ProductTranslation,
}


def set_translations(model: Translatable, texts: dict[str, dict[str, str]]) -> None:
    """``model``'s texts in other languages than the default, by locale: ``{"de_DE": {"name":
    "Teekanne"}}``. A text left out keeps its translation; an empty one falls back to the
    default language's, and a language left with no text loses its translation.

    :raises ValidationFailed: a locale not among the other LANGUAGES, a text too long.
    """
    kind = type(model)
    others = [locale for locale in current_app.config["LANGUAGES"] if locale != default_locale()]
    errors: dict[str, list[str]] = {}
    for locale, fields in texts.items():
        if locale not in others:
            errors[f"translations.{locale}"] = [f"Translate into one of: {', '.join(others)}."]
            continue
        for field, value in fields.items():
            limit = TEXT_LIMITS.get((kind, field))
            if limit is None:
                errors[f"translations.{locale}.{field}"] = [
                    f"Translate one of: {', '.join(model.TEXTS)}."
                ]
            elif len(value) > limit:
                errors[f"translations.{locale}.{field}"] = [f"At most {limit:,} characters."]
    if errors:
        raise ValidationFailed("Check the translations.", errors)
    for locale, fields in texts.items():
        found = model.translations.get(locale)
        values = {text: fields.get(text, getattr(found, text, "")).strip() for text in model.TEXTS}
        if not any(values.values()):
            model.translations.pop(locale, None)  # deleted with the flush (delete-orphan)
        elif found is None:
            model.translations[locale] = TRANSLATION_CLASSES[kind](locale=locale, **values)
        else:
            for text, value in values.items():
                setattr(found, text, value)
