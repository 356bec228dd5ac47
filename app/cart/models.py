"""Cart and CartItem. A line holds a variant and a quantity only: prices are read from the
catalogue every time."""

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String, UniqueConstraint, select
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.catalog.models import Product, Variant
from app.extensions import Model
from app.timestamps import utcnow


class Cart(Model):
    __tablename__ = "cart"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("user.id", ondelete="CASCADE"), unique=True
    )
    # Anonymous carts: a random token, sent to the browser signed in the cart cookie.
    token: Mapped[str | None] = mapped_column(String(64), unique=True)
    # A voucher code applied to the cart (app.vouchers); checkout takes it, or says why not.
    voucher_code: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    items: Mapped[list["CartItem"]] = relationship(
        back_populates="cart", cascade="all, delete-orphan", order_by="CartItem.id"
    )


class CartItem(Model):
    __tablename__ = "cart_item"
    __table_args__ = (
        UniqueConstraint("cart_id", "variant_id", name="uq_cart_item_cart_variant"),
        CheckConstraint("quantity > 0", name="quantity_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    cart_id: Mapped[int] = mapped_column(ForeignKey("cart.id", ondelete="CASCADE"), index=True)
    variant_id: Mapped[int] = mapped_column(
        ForeignKey("variant.id", ondelete="CASCADE"), index=True
    )
    quantity: Mapped[int]
    cart: Mapped[Cart] = relationship(back_populates="items")
    variant: Mapped[Variant] = relationship()

    @property
    def product(self) -> Product:
        return self.variant.product

    @hybrid_property
    def product_id(self) -> int:
        return self.variant.product_id

    @product_id.inplace.expression
    @classmethod
    def _product_id_expression(cls):
        return select(Variant.product_id).where(Variant.id == cls.variant_id).scalar_subquery()
