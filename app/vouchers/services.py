"""Vouchers at checkout: whether a code applies (and why not), what it takes off, taking a use
at the moment of the order, and giving it back when the order is cancelled.

A use is taken by one conditional UPDATE (``uses < max_uses``) inside the checkout's
transaction, after the variants' stock: of any number of racing checkouts exactly as many as
there are uses left get the discount; the others are 409 ``voucher_used_up`` and may check out
without it. The per-customer limit counts the customer's (or the guest e-mail's) orders with
the voucher that are not cancelled, counted again (a locking read) once the use is taken.

A voucher for some products or categories takes its discount off those lines only: a
percentage of their amount, or its fixed amount up to their amount. It applies on top of a
sale, to the sale prices (both stack); the minimum counts the whole cart at those prices.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from flask_babel import gettext as _
from sqlalchemy import func, select, true, update

from app.catalog.models import Product
from app.catalog.services import ProductSet, chosen_products_and_categories
from app.errors import Conflict, ValidationFailed
from app.extensions import db
from app.orders.models import Order, OrderStatus
from app.totals import round_half_up
from app.transactions import atomic
from app.vouchers.models import Voucher, VoucherKind

CODE_MAX = 32
FIELD = "voucher_code"


class VoucherUsedUp(Conflict):
    code = "voucher_used_up"


def _used_up() -> VoucherUsedUp:
    message = _("Sorry, this code has been used up. Remove it to check out without it.")
    return VoucherUsedUp(message, {FIELD: [message]})


@dataclass(frozen=True)
class Applied:
    """A voucher that applies, the discount it gives, and the products it is for (None:
    every line)."""

    voucher_id: int
    code: str
    discount_cents: int
    scope: ProductSet | None = None

    def covers(self, product: Product) -> bool:
        return self.scope is None or product in self.scope


def normalize(code) -> str:
    """Codes are case-insensitive: stored and compared upper case, without spaces around."""
    return code.strip().upper() if isinstance(code, str) else ""


def _refused(message: str) -> ValidationFailed:
    return ValidationFailed(message, {FIELD: [message]})


def find(code) -> Voucher:
    """The active voucher with this code; 422 naming ``voucher_code`` otherwise."""
    wanted = normalize(code)
    voucher = None
    if wanted and len(wanted) <= CODE_MAX:
        voucher = db.session.scalar(select(Voucher).where(Voucher.code == wanted))
    if voucher is None or not voucher.is_active:
        raise _refused(_("This code is not valid. Check it, or check out without it."))
    return voucher


def discount_of(voucher: Voucher, subtotal_cents: int) -> int:
    """What the voucher takes off this subtotal: a percentage (rounded half up), or a fixed
    amount, never more than the subtotal."""
    if voucher.kind == VoucherKind.PERCENT:
        return round_half_up(Decimal(subtotal_cents) * voucher.value / 100)
    return min(voucher.value, subtotal_cents)


def scope_of(voucher: Voucher) -> ProductSet | None:
    """The products a voucher is for; None: the whole cart."""
    if not voucher.products and not voucher.categories:
        return None
    return ProductSet.of((p.id for p in voucher.products), (c.id for c in voucher.categories))


def check(
    voucher: Voucher, lines: Sequence[tuple[Product, int]], email: str, now: datetime
) -> Applied:
    """The voucher applied to these lines (each line's product and amount: unit price now x
    quantity) for this buyer now; 422 saying why not (not yet valid, expired, minimum not
    met, not for these products, used as often as one customer may), 409
    ``voucher_used_up`` when no use is left."""
    subtotal_cents = sum(amount for _product, amount in lines)
    if voucher.starts_at is not None and now < voucher.starts_at:
        raise _refused(_("This code is not valid yet."))
    if voucher.ends_at is not None and now >= voucher.ends_at:
        raise _refused(_("This code has expired."))
    if voucher.min_subtotal_cents is not None and subtotal_cents < voucher.min_subtotal_cents:
        raise _refused(_("Your order does not reach this code's minimum yet."))
    scope = scope_of(voucher)
    base = sum(amount for product, amount in lines if scope is None or product in scope)
    if scope is not None and not base:
        raise _refused(_("This code is not for the products in your cart."))
    if voucher.max_uses is not None and voucher.uses >= voucher.max_uses:
        raise _used_up()
    _check_customer_uses(voucher, email)
    return Applied(voucher.id, voucher.code, discount_of(voucher, base), scope)


def _check_customer_uses(voucher: Voucher, email: str, locking: bool = False) -> None:
    """422 when this e-mail address's orders not cancelled have used the voucher as often as
    one customer may. ``locking``: read the latest committed orders, not the transaction's
    snapshot (after ``take_use`` has locked the voucher's row)."""
    if voucher.max_uses_per_customer is None:
        return
    query = select(func.count(Order.id)).where(
        Order.voucher_id == voucher.id,
        Order.email == email.lower(),
        Order.status != OrderStatus.CANCELLED,
    )
    if locking:
        query = query.with_for_update(read=True)
    if (db.session.scalar(query) or 0) >= voucher.max_uses_per_customer:
        raise _refused(_("You have used this code as often as it allows."))


def take_use(voucher_id: int, email: str) -> None:
    """Count one use, decided in the database at this moment (within the caller's unit of
    work); 409 ``voucher_used_up`` when none is left. The UPDATE locks the voucher's row
    until the order commits, so racing checkouts of one customer (two carts, one guest
    e-mail) then count each other's orders: 422 past the per-customer limit."""
    taken = db.session.execute(
        update(Voucher)
        .where(
            Voucher.id == voucher_id,
            Voucher.is_active == true(),
            (Voucher.max_uses.is_(None)) | (Voucher.uses < Voucher.max_uses),
        )
        .values(uses=Voucher.uses + 1)
        .execution_options(synchronize_session=False)
    )
    if not taken.rowcount:  # type: ignore[attr-defined]  # DML: a CursorResult
        raise _used_up()
    voucher = db.session.get(Voucher, voucher_id)
    if voucher is not None:
        _check_customer_uses(voucher, email, locking=True)


def give_back(voucher_id: int | None) -> None:
    """An order that took a use is cancelled or discarded: the use is free again (the
    caller's status change is itself decided once, so this runs once per order)."""
    if voucher_id is None:
        return
    db.session.execute(
        update(Voucher)
        .where(Voucher.id == voucher_id, Voucher.uses > 0)
        .values(uses=Voucher.uses - 1)
        .execution_options(synchronize_session=False)
    )


VOUCHER_FIELDS = (
    "code",
    "kind",
    "value",
    "min_subtotal_cents",
    "starts_at",
    "ends_at",
    "max_uses",
    "max_uses_per_customer",
    "is_active",
    "products",
    "categories",
)


@atomic
def save_voucher(voucher: Voucher | None, data: dict) -> Voucher:
    """Create (``voucher`` None) or change a voucher; 422 with per-field messages for a code
    that is empty, too long or taken (in any case), a percentage outside 1-100, an amount or
    limit below 1, or a window that ends before it starts. ``uses`` is the orders' own."""
    errors: dict[str, list[str]] = {}
    code = normalize(data.get("code"))
    if not code or len(code) > CODE_MAX or not code.replace("-", "").replace("_", "").isalnum():
        errors["code"] = [f"Letters, digits, - and _, at most {CODE_MAX}."]
    else:
        taken = db.session.scalar(select(Voucher.id).where(Voucher.code == code))
        if taken is not None and (voucher is None or taken != voucher.id):
            errors["code"] = ["Another voucher has this code."]
    kind = data.get("kind")
    value = data.get("value")
    if kind not in set(VoucherKind):
        errors["kind"] = ["Percent or fixed."]
    elif not isinstance(value, int) or value < 1 or (kind == VoucherKind.PERCENT and value > 100):
        errors["value"] = ["1 to 100 (percent)." if kind == VoucherKind.PERCENT else "At least 1."]
    for field in ("min_subtotal_cents", "max_uses", "max_uses_per_customer"):
        number = data.get(field)
        if number is not None and (not isinstance(number, int) or number < 1):
            errors[field] = ["Empty, or at least 1."]
    starts, ends = data.get("starts_at"), data.get("ends_at")
    if starts is not None and ends is not None and ends <= starts:
        errors["ends_at"] = ["After the start."]
    scope = None
    if "products" in data or "categories" in data:
        try:
            scope = chosen_products_and_categories(data)
        except ValidationFailed as error:
            errors.update(error.fields or {})
    if errors:
        raise ValidationFailed("Check the voucher.", errors)
    if voucher is None:
        voucher = Voucher(uses=0)
        db.session.add(voucher)
    if scope is not None:
        voucher.products, voucher.categories = scope
    for field in VOUCHER_FIELDS:
        if field in data and field not in ("products", "categories"):
            setattr(voucher, field, code if field == "code" else data[field])
    if voucher.max_uses is not None and (voucher.uses or 0) > voucher.max_uses:
        raise ValidationFailed(
            "Check the voucher.", {"max_uses": [f"It has been used {voucher.uses} times."]}
        )
    return voucher
