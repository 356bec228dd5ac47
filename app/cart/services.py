"""Cart use cases. A cart belongs to a user or to an anonymous token; its lines hold variants,
priced from the catalogue.

Every change first locks the cart's row (an UPDATE of ``updated_at``, or an upsert), so the
changes to one cart run one after another (row lock on MariaDB, the single writer on SQLite),
then re-reads its items with a locking read rather than trusting an earlier snapshot.
"""

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import cast

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import Insert, Table, delete, insert, select, update
from sqlalchemy.dialects.mysql import insert as mysql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from app.cart.models import Cart, CartItem
from app.catalog.models import Product, Variant
from app.errors import Conflict, NotFound, OutOfStock, ValidationFailed
from app.extensions import db
from app.orders import pricing
from app.sales import services as sales
from app.timestamps import utcnow
from app.transactions import atomic

MAX_ROW_ID = 2**63 - 1  # larger ids cannot exist, and SQLite cannot even bind them
TOKEN_ATTEMPTS = 5
PURGE_BATCH_SIZE = 500
# A line's variant with what a page shows of it: its product, option values and their types.
VARIANT_DETAILS = (
    joinedload(Variant.product).selectinload(Product.options),
    selectinload(Variant.values),
)
LINES = selectinload(Cart.items).joinedload(CartItem.variant).options(*VARIANT_DETAILS)
# A locking read of one cart's lines goes by the cart_id index: MariaDB scans the primary key
# instead when the table is small, locking every cart's lines (and deadlocking with checkouts
# that delete theirs while taking stock).
CART_ITEMS_BY_CART = "FORCE INDEX (ix_cart_item_cart_id)"
# The cart table for the Core INSERTs below (declarative types __table__ as any FromClause).
CART_TABLE = cast(Table, Cart.__table__)


@dataclass(frozen=True)
class CartOwner:
    """Who a cart belongs to: a user id, or else the anonymous visitor's token (may be None)."""

    user_id: int | None = None
    token: str | None = None


@dataclass
class CartLine:
    variant: Variant
    quantity: int
    offer: sales.Offer | None = None  # the sale running on the product

    @property
    def product(self) -> Product:
        return self.variant.product

    @property
    def regular_price_cents(self) -> int:
        return self.variant.unit_price_cents

    @property
    def unit_price_cents(self) -> int:
        """The price now: the sale's, or the regular one."""
        return sales.price(self.variant.unit_price_cents, self.offer)

    @property
    def line_total_cents(self) -> int:
        return self.unit_price_cents * self.quantity


@dataclass
class CartSummary:
    lines: list[CartLine]
    currency: str
    token: str | None = None  # the anonymous cart's token, for the cookie
    voucher_code: str | None = None

    @property
    def subtotal_cents(self) -> int:
        return sum(line.line_total_cents for line in self.lines)


def _owned_by(owner: CartOwner):
    if owner.user_id is not None:
        return Cart.user_id == owner.user_id
    return Cart.token == owner.token


def _has_cart_key(owner: CartOwner) -> bool:
    return owner.user_id is not None or bool(owner.token)


def find_cart(owner: CartOwner) -> Cart | None:
    """The owner's cart with its lines' variants and products loaded, or None."""
    if not _has_cart_key(owner):
        return None
    query = select(Cart).options(LINES)
    return db.session.scalar(query.where(_owned_by(owner)))


def summarize(cart: Cart | None) -> CartSummary:
    currency = current_app.config["SHOP_CURRENCY"]
    if cart is None:
        return CartSummary([], currency)
    offers = sales.offers_for({item.variant.product for item in cart.items})
    lines = [
        CartLine(item.variant, item.quantity, offers.get(item.variant.product_id))
        for item in cart.items
    ]
    return CartSummary(lines, currency, cart.token, cart.voucher_code)


def get_cart(owner: CartOwner) -> CartSummary:
    """What is in the owner's cart, priced from the catalogue now."""
    return summarize(find_cart(owner))


def _locked(criteria) -> Cart:
    """The cart row (already locked by this transaction) and its items, read as they are now."""
    fresh = {"populate_existing": True}
    cart = db.session.scalars(
        select(Cart).where(criteria).with_for_update().execution_options(**fresh)
    ).one()
    items = db.session.scalars(
        select(CartItem)
        .where(CartItem.cart_id == cart.id)
        # Not joined: FOR UPDATE would lock the variants' and products' rows too.
        .options(selectinload(CartItem.variant).options(*VARIANT_DETAILS))
        .with_for_update()
        .execution_options(**fresh)
        .with_hint(CartItem, CART_ITEMS_BY_CART, dialect_name="mysql")
        .with_hint(CartItem, CART_ITEMS_BY_CART, dialect_name="mariadb")
    ).all()
    set_committed_value(cart, "items", sorted(items, key=lambda item: item.id))
    return cart


def _touch(cart_id: int | None) -> bool:
    """Lock the cart's row for this transaction (by primary key: a record lock, no gap lock)
    and mark it changed; False if there is no such cart (any more)."""
    if cart_id is None:
        return False
    touched = db.session.execute(
        update(Cart).where(Cart.id == cart_id).values(updated_at=utcnow()),
        execution_options={"synchronize_session": False},
    )
    return touched.rowcount > 0  # type: ignore[attr-defined]  # DML: a CursorResult


def _cart_id(owner: CartOwner) -> int | None:
    return db.session.scalar(select(Cart.id).where(_owned_by(owner)))


def _lock_existing_cart(owner: CartOwner) -> Cart | None:
    """Lock the owner's cart for this transaction and mark it changed; None if there is none."""
    if not _has_cart_key(owner):
        return None
    cart_id = _cart_id(owner)
    return _locked(Cart.id == cart_id) if _touch(cart_id) else None


def _upsert_cart(owner: CartOwner) -> None:
    """Create the cart of a user (or of a token from the signed cookie), or touch the one that
    is there: two first adds at once both end up in the row that won, never a duplicate key."""
    now = utcnow()
    key = "user_id" if owner.user_id is not None else "token"
    values = {key: getattr(owner, key), "created_at": now, "updated_at": now}
    statement: Insert
    if db.session.get_bind().dialect.name == "sqlite":
        statement = (
            sqlite_insert(CART_TABLE)
            .values(values)
            .on_conflict_do_update(index_elements=[key], set_={"updated_at": now})
        )
    else:
        statement = mysql_insert(CART_TABLE).values(values).on_duplicate_key_update(updated_at=now)
    db.session.execute(statement)


def _insert_anonymous_cart() -> str:
    """A new anonymous cart under a fresh random token; a token already taken is drawn again."""
    for _attempt in range(TOKEN_ATTEMPTS):
        token = secrets.token_urlsafe(32)
        try:
            with db.session.begin_nested():
                db.session.execute(insert(CART_TABLE).values(token=token))
        except IntegrityError:
            continue
        return token
    raise Conflict(_("Could not start a cart just now. Please try again."))


def _lock_or_create_cart(owner: CartOwner) -> Cart:
    """The owner's cart, locked for this transaction; created if there is none.

    Only a cart not found takes the upsert: on MariaDB every upsert uses up an id.
    """
    if not _has_cart_key(owner):
        return _locked(Cart.token == _insert_anonymous_cart())
    cart_id = _cart_id(owner)
    # Lock order: a touch locks the row by primary key and re-reads it by primary key only;
    # an upsert locks the unique user_id/token entry, then the row. Reading a touched row by
    # user_id would take them the other way round: a deadlock with a waiting upsert.
    if _touch(cart_id):
        return _locked(Cart.id == cart_id)
    _upsert_cart(owner)
    return _locked(_owned_by(owner))


def _limits() -> tuple[int, int]:
    config = current_app.config
    return config["CART_MAX_LINES"], config["CART_MAX_QUANTITY"]


def _valid_quantity(quantity) -> int:
    if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 1:
        raise ValidationFailed(
            _("Quantity must be a whole number of 1 or more."),
            {"quantity": [_("Must be a whole number of 1 or more.")]},
        )
    _check_line_quantity(quantity)
    return quantity


def _check_line_quantity(quantity: int) -> None:
    max_quantity = _limits()[1]
    if quantity > max_quantity:
        raise ValidationFailed(
            _("A cart holds at most %(count)d of one product.", count=max_quantity),
            {"quantity": [_("Must be at most %(count)d in all.", count=max_quantity)]},
        )


def _check_line_count(cart: Cart) -> None:
    max_lines = _limits()[0]
    if len(cart.items) >= max_lines:
        raise ValidationFailed(
            _("A cart holds at most %(count)d different products.", count=max_lines),
            {
                "variant_id": [
                    _("The cart already holds %(count)d different products.", count=max_lines)
                ]
            },
        )


def _valid_id(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= MAX_ROW_ID


def _available_variant(product_id: int | None, variant_id: int | None) -> Variant:
    """The variant to add: by its id, or by its product's id when the product has only one."""
    if variant_id is not None:
        variant = db.session.get(Variant, variant_id) if _valid_id(variant_id) else None
        if variant is None or not variant.on_sale:
            raise NotFound(_("No such product."))
        return variant
    product = db.session.get(Product, product_id) if _valid_id(product_id) else None
    if product is None or not product.is_active:
        raise NotFound(_("No such product."))
    if len(product.variants) != 1:
        raise ValidationFailed(
            _("Choose which %(product)s you want.", product=product.translated.name),
            {"variant_id": [_("This product comes in several variants: give the variant's id.")]},
        )
    variant = product.variants[0]
    if not variant.is_active:
        raise NotFound(_("No such product."))
    return variant


def _check_stock(variant: Variant, quantity: int) -> None:
    if quantity > variant.stock:
        if variant.stock == 0:
            raise OutOfStock(_("%(item)s is out of stock.", item=variant.title))
        raise OutOfStock(
            _("Only %(count)d of %(item)s left in stock.", count=variant.stock, item=variant.title)
        )


def _line(cart: Cart | None, product_id: int | None, variant_id: int | None) -> CartItem | None:
    """The cart's line of a variant; by product id, the product's line if it has only one."""
    if cart is None:
        return None
    if variant_id is not None:
        return next((item for item in cart.items if item.variant_id == variant_id), None)
    lines = [item for item in cart.items if item.product_id == product_id]
    if len(lines) > 1:
        raise ValidationFailed(
            _("The cart holds several variants of this product."),
            {"variant_id": [_("Give the variant's id.")]},
        )
    return lines[0] if lines else None


@atomic
def add_to_cart(
    owner: CartOwner, product_id: int | None = None, quantity: int = 1, *, variant_id=None
) -> CartSummary:
    """Add a quantity of a variant (by its id, or by the product's id for a product with one
    variant) on top of what is in the cart, within the stock and the cart's bounds
    (CART_MAX_LINES lines, CART_MAX_QUANTITY of each)."""
    quantity = _valid_quantity(quantity)
    variant = _available_variant(product_id, variant_id)
    _check_stock(variant, quantity)  # before any write: a sold-out variant makes no cart
    cart = _lock_or_create_cart(owner)
    item = _line(cart, None, variant.id)
    if item:
        _check_line_quantity(item.quantity + quantity)
        _check_stock(variant, item.quantity + quantity)
        item.quantity += quantity
    else:
        _check_line_count(cart)
        cart.items.append(CartItem(variant=variant, quantity=quantity))
    return summarize(cart)


@atomic
def set_quantity(
    owner: CartOwner, product_id: int | None, quantity: int, *, variant_id=None
) -> CartSummary:
    """Set a line's quantity, within the stock."""
    quantity = _valid_quantity(quantity)
    item = _line(_lock_existing_cart(owner), product_id, variant_id)
    if item is None:
        raise NotFound(_("That product is not in your cart."))
    _check_stock(item.variant, quantity)
    item.quantity = quantity
    return summarize(item.cart)


@atomic
def remove_from_cart(
    owner: CartOwner, product_id: int | None = None, *, variant_id=None
) -> CartSummary:
    """Take a line out of the cart."""
    cart = _lock_existing_cart(owner)
    item = _line(cart, product_id, variant_id)
    if cart is None or item is None:
        raise NotFound(_("That product is not in your cart."))
    cart.items.remove(item)
    return summarize(cart)


@atomic
def merge_anonymous_cart(token: str, user_id: int) -> None:
    """At login: move the anonymous cart into the user's, adding quantities, capped by the stock
    and the cart's bounds (products beyond CART_MAX_LINES stay out).

    One transaction; the anonymous cart is deleted. The user's cart is locked first, then the
    anonymous one: two logins merging the same cart at once merge it once.
    """
    if find_cart(CartOwner(token=token)) is None:
        return
    cart = _lock_or_create_cart(CartOwner(user_id=user_id))
    anonymous = _lock_existing_cart(CartOwner(token=token))
    if anonymous is None:  # merged by a concurrent login meanwhile
        return
    max_lines, max_quantity = _limits()
    existing = {item.variant_id: item for item in cart.items}
    for item in anonymous.items:
        variant = item.variant
        if not variant.on_sale or variant.stock == 0:
            continue
        target = existing.get(item.variant_id)
        if target:
            target.quantity = min(target.quantity + item.quantity, variant.stock, max_quantity)
        elif len(cart.items) < max_lines:
            quantity = min(item.quantity, variant.stock, max_quantity)
            cart.items.append(CartItem(variant=variant, quantity=quantity))
    db.session.delete(anonymous)


@atomic
def restore_to_cart(
    owner: CartOwner, quantities: Mapping[int, int], voucher_code: str = ""
) -> None:
    """Put quantities of variants (a declined order's) back into the owner's cart, within the
    cart's bounds (CART_MAX_LINES lines, CART_MAX_QUANTITY of each) and only of variants still
    on sale, with the voucher code the order took (if any). The stock is not checked: the
    caller gives back what the order had taken."""
    cart = _lock_or_create_cart(owner)
    if voucher_code:
        cart.voucher_code = voucher_code
    max_lines, max_quantity = _limits()
    variants = db.session.scalars(
        select(Variant).where(Variant.id.in_(quantities)).options(*VARIANT_DETAILS)
    )
    for variant in sorted(variants, key=lambda variant: variant.id):
        if not variant.on_sale:
            continue
        quantity = quantities[variant.id]
        item = _line(cart, None, variant.id)
        if item:
            item.quantity = min(item.quantity + quantity, max_quantity)
        elif len(cart.items) < max_lines:
            cart.items.append(CartItem(variant=variant, quantity=min(quantity, max_quantity)))


@atomic
def apply_voucher(owner: CartOwner, code) -> CartSummary:
    """Keep a voucher code on the cart when it applies to the cart as it is now; 422 (409
    when used up) saying why not, and the cart unchanged. Checkout checks it again."""
    cart = _lock_existing_cart(owner)
    if cart is None or not cart.items:
        raise ValidationFailed(
            _("Add something to your cart first."), {"voucher_code": [_("Empty.")]}
        )
    lines = [(item.variant, item.quantity) for item in cart.items]
    cart.voucher_code = pricing.applied_voucher(code, lines, "").code
    return summarize(cart)


@atomic
def remove_voucher(owner: CartOwner) -> CartSummary:
    cart = _lock_existing_cart(owner)
    if cart is not None:
        cart.voucher_code = None
    return summarize(cart)


def purge_anonymous_carts(older_than: timedelta, batch_size: int = PURGE_BATCH_SIZE) -> int:
    """Delete anonymous carts unchanged for longer than ``older_than``, one transaction per
    batch; return how many. Safe to re-run or to interrupt."""
    purged = 0
    while batch := _purge_batch(utcnow() - older_than, batch_size):
        purged += batch
    return purged


@atomic
def _purge_batch(cutoff: datetime, batch_size: int) -> int:
    stale = (Cart.user_id.is_(None), Cart.updated_at < cutoff)
    ids = db.session.scalars(select(Cart.id).where(*stale).order_by(Cart.id).limit(batch_size))
    # The condition again: a cart its visitor changed meanwhile stays. Items go by cascade.
    result = db.session.execute(
        delete(Cart).where(Cart.id.in_(ids.all()), *stale),
        execution_options={"synchronize_session": False},
    )
    return result.rowcount  # type: ignore[attr-defined]  # DML: a CursorResult
