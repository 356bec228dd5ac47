"""The address book's rules, for the account pages, checkout and the API alike: a customer's
addresses (at most ``ADDRESS_BOOK_MAX``), each checked as checkout checks a shipping address,
and at most one default for shipping and one for billing. Another customer's address does not
exist (404)."""

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select, true, update

from app.accounts.models import User
from app.addresses.models import SavedAddress
from app.cart.services import MAX_ROW_ID
from app.errors import NotFound, ValidationFailed
from app.extensions import db
from app.orders.checkout import ADDRESS_FIELDS, validate_address
from app.transactions import atomic

DEFAULT_FLAGS = {"default_shipping": "is_default_shipping", "default_billing": "is_default_billing"}


def list_addresses(user_id: int) -> list[SavedAddress]:
    """The customer's addresses: the defaults first, then the newest."""
    return list(
        db.session.scalars(
            select(SavedAddress)
            .where(SavedAddress.user_id == user_id)
            .order_by(
                SavedAddress.is_default_shipping.desc(),
                SavedAddress.is_default_billing.desc(),
                SavedAddress.id.desc(),
            )
        )
    )


def get_address(user_id: int, address_id: int) -> SavedAddress:
    address = db.session.get(SavedAddress, address_id) if 1 <= address_id <= MAX_ROW_ID else None
    if address is None or address.user_id != user_id:
        raise NotFound(_("No such address."))
    return address


def default_address(user_id: int, kind: str = "default_shipping") -> SavedAddress | None:
    """The customer's default address for shipping (or ``default_billing``), if any."""
    flag = getattr(SavedAddress, DEFAULT_FLAGS[kind])
    return db.session.scalar(
        select(SavedAddress).where(SavedAddress.user_id == user_id, flag == true())
    )


@atomic
def save_address(user_id: int, address_id: int | None, data: dict) -> SavedAddress:
    """Add (``address_id`` None) or change an address. ``data`` holds the address fields (on
    a change, the ones to change) and optionally ``default_shipping``/``default_billing``:
    True makes it the default (the previous default stops being one), False stops it being
    one. A customer's first address is the default for both.

    :raises ValidationFailed: a field is missing or wrong, or the book is full.
    :raises NotFound: no such address of this customer.
    """
    _lock_book(user_id)
    if address_id is None:
        if _count(user_id) >= current_app.config["ADDRESS_BOOK_MAX"]:
            limit = current_app.config["ADDRESS_BOOK_MAX"]
            raise ValidationFailed(
                f"Your address book is full ({limit} addresses): delete one first.",
                {"_schema": [f"At most {limit} addresses."]},
            )
        first = _count(user_id) == 0
        address = SavedAddress(user_id=user_id, is_default_shipping=first, is_default_billing=first)
        current: dict[str, str] = {}
    else:
        address = get_address(user_id, address_id)
        current = address.fields()
    fields = {field: data[field] for field in ADDRESS_FIELDS if field in data}
    checked = validate_address({**current, **fields}, what=_("Check the address."))
    for field, value in checked.__dict__.items():
        setattr(address, field, value)
    db.session.add(address)
    db.session.flush()
    for kind, column in DEFAULT_FLAGS.items():
        choice = data.get(kind)
        if choice is None:
            continue
        if not isinstance(choice, bool):
            raise ValidationFailed("Check the address.", {kind: ["Must be true or false."]})
        if choice:
            db.session.execute(
                update(SavedAddress)
                .where(SavedAddress.user_id == user_id, SavedAddress.id != address.id)
                .values({column: False})
                .execution_options(synchronize_session="fetch")
            )
        setattr(address, column, choice)
    return address


@atomic
def delete_address(user_id: int, address_id: int) -> None:
    """Delete an address; orders placed with it keep their copy."""
    _lock_book(user_id)
    db.session.delete(get_address(user_id, address_id))


def _lock_book(user_id: int) -> None:
    """The customer's row, write-locked by an UPDATE that changes nothing: changes to one
    customer's book (its limit, its defaults) happen one at a time, on SQLite too (which has
    no SELECT ... FOR UPDATE; its first write takes the database's write lock)."""
    locked = db.session.execute(  # type: ignore[attr-defined]  # DML: a CursorResult
        update(User)
        .where(User.id == user_id)
        .values(id=User.id, update_datetime=User.update_datetime)  # not "updated" either
        .execution_options(synchronize_session=False)
    ).rowcount
    if locked != 1:
        raise NotFound("No such customer.")


def _count(user_id: int) -> int:
    count = select(func.count()).select_from(SavedAddress).where(SavedAddress.user_id == user_id)
    return db.session.scalar(count) or 0
