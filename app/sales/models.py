"""Automatic sales: a percentage off products and categories (with their sub-categories) for a
period, applied without a code."""

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, Column, ForeignKey, Integer, String, Table
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app import page_cache
from app.catalog.models import Category, Product
from app.extensions import Model, db
from app.timestamps import utcnow

sale_product = Table(
    "sale_product",
    db.metadata,
    Column("sale_id", ForeignKey("sale.id", ondelete="CASCADE"), primary_key=True),
    Column(
        "product_id", ForeignKey("product.id", ondelete="CASCADE"), primary_key=True, index=True
    ),
)

sale_category = Table(
    "sale_category",
    db.metadata,
    Column("sale_id", ForeignKey("sale.id", ondelete="CASCADE"), primary_key=True),
    Column(
        "category_id", ForeignKey("category.id", ondelete="CASCADE"), primary_key=True, index=True
    ),
)


class Sale(Model):
    """``percent`` off the products listed and those of the categories listed, from
    ``starts_at`` (inclusive) until ``ends_at`` (exclusive), UTC."""

    __tablename__ = "sale"
    __table_args__ = (
        CheckConstraint("percent >= 1 AND percent <= 99", name="percent_1_to_99"),
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    percent: Mapped[int] = mapped_column(Integer)
    starts_at: Mapped[datetime] = mapped_column(index=True)
    ends_at: Mapped[datetime] = mapped_column(index=True)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    products: Mapped[list[Product]] = relationship(secondary=sale_product, order_by=Product.name)
    categories: Mapped[list[Category]] = relationship(
        secondary=sale_category, order_by=Category.name
    )

    def __str__(self) -> str:
        return self.name


page_cache.watch(Sale)
