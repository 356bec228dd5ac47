"""Cart use cases. A cart belongs to a user or to an anonymous token; prices come from products."""

import secrets
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.cart.models import Cart, CartItem
from app.catalog.models import Product
from app.errors import NotFound, OutOfStock, ValidationFailed
from app.extensions import db

MAX_QUANTITY = 1000


@dataclass(frozen=True)
class CartOwner:
    """Who a cart belongs to: a user id, or else the anonymous visitor's token (may be None)."""

    user_id: int | None = None
    token: str | None = None


@dataclass
class CartLine:
    product: Product
    quantity: int

    @property
    def unit_price_cents(self) -> int:
        return self.product.price_cents

    @property
    def line_total_cents(self) -> int:
        return self.product.price_cents * self.quantity


@dataclass
class CartSummary:
    lines: list[CartLine]
    currency: str
    token: str | None = None  # the anonymous cart's token, for the cookie

    @property
    def subtotal_cents(self) -> int:
        return sum(line.line_total_cents for line in self.lines)

    @property
    def count(self) -> int:
        return sum(line.quantity for line in self.lines)


def find_cart(owner: CartOwner) -> Cart | None:
    """The owner's cart with items and products loaded, or None."""
    query = select(Cart).options(selectinload(Cart.items).joinedload(CartItem.product))
    if owner.user_id is not None:
        return db.session.scalar(query.where(Cart.user_id == owner.user_id))
    if owner.token:
        return db.session.scalar(query.where(Cart.token == owner.token))
    return None


def summarize(cart: Cart | None) -> CartSummary:
    currency = current_app.config["SHOP_CURRENCY"]
    if cart is None:
        return CartSummary([], currency)
    lines = [CartLine(item.product, item.quantity) for item in cart.items]
    return CartSummary(lines, currency, cart.token)


def get_cart(owner: CartOwner) -> CartSummary:
    """What is in the owner's cart, priced from the catalogue now."""
    return summarize(find_cart(owner))


def _cart_for_update(owner: CartOwner) -> Cart:
    cart = find_cart(owner)
    if cart is None:
        if owner.user_id is not None:
            cart = Cart(user_id=owner.user_id)
        else:
            cart = Cart(token=secrets.token_urlsafe(32))
        db.session.add(cart)
    return cart


def _valid_quantity(quantity) -> int:
    if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 1:
        raise ValidationFailed(
            "Quantity must be a whole number of 1 or more.",
            {"quantity": ["Must be a whole number of 1 or more."]},
        )
    if quantity > MAX_QUANTITY:
        raise ValidationFailed(
            f"Quantity must be at most {MAX_QUANTITY}.",
            {"quantity": [f"Must be at most {MAX_QUANTITY}."]},
        )
    return quantity


def _available_product(product_id: int) -> Product:
    product = db.session.get(Product, product_id) if isinstance(product_id, int) else None
    if product is None or not product.is_active:
        raise NotFound("No such product.")
    return product


def _check_stock(product: Product, quantity: int) -> None:
    if quantity > product.stock:
        if product.stock == 0:
            raise OutOfStock(f"{product.name} is out of stock.")
        raise OutOfStock(f"Only {product.stock} of {product.name} left in stock.")


def add_to_cart(owner: CartOwner, product_id: int, quantity: int = 1) -> CartSummary:
    """Add a quantity of a product (on top of what is in the cart), within the stock."""
    quantity = _valid_quantity(quantity)
    product = _available_product(product_id)
    cart = _cart_for_update(owner)
    item = next((i for i in cart.items if i.product_id == product.id), None)
    _check_stock(product, quantity + (item.quantity if item else 0))
    if item:
        item.quantity += quantity
    else:
        cart.items.append(CartItem(product=product, quantity=quantity))
    db.session.commit()
    return summarize(cart)


def set_quantity(owner: CartOwner, product_id: int, quantity: int) -> CartSummary:
    """Set a line's quantity, within the stock."""
    quantity = _valid_quantity(quantity)
    cart = find_cart(owner)
    item = next((i for i in cart.items if i.product_id == product_id), None) if cart else None
    if item is None:
        raise NotFound("That product is not in your cart.")
    _check_stock(item.product, quantity)
    item.quantity = quantity
    db.session.commit()
    return summarize(cart)


def remove_from_cart(owner: CartOwner, product_id: int) -> CartSummary:
    """Take a product out of the cart."""
    cart = find_cart(owner)
    item = next((i for i in cart.items if i.product_id == product_id), None) if cart else None
    if item is None:
        raise NotFound("That product is not in your cart.")
    cart.items.remove(item)
    db.session.commit()
    return summarize(cart)


def merge_anonymous_cart(token: str, user_id: int) -> None:
    """At login: move the anonymous cart into the user's, adding quantities, capped by stock.

    One transaction; the anonymous cart is deleted.
    """
    anonymous = find_cart(CartOwner(token=token))
    if anonymous is None:
        return
    cart = _cart_for_update(CartOwner(user_id=user_id))
    existing = {item.product_id: item for item in cart.items}
    for item in anonymous.items:
        if not item.product.is_active or item.product.stock == 0:
            continue
        target = existing.get(item.product_id)
        if target:
            target.quantity = min(target.quantity + item.quantity, item.product.stock)
        else:
            quantity = min(item.quantity, item.product.stock)
            cart.items.append(CartItem(product=item.product, quantity=quantity))
    db.session.delete(anonymous)
    db.session.commit()
