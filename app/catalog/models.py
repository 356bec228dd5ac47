"""Category, Product and its variants. Prices are integer minor units plus an ISO 4217 code.

Names and descriptions are the default language's (the first of LANGUAGES); other languages'
are rows of CategoryTranslation and ProductTranslation, and ``translated`` reads them.

A product has ordered option types (Size, Colour) with ordered values, and variants: one for
each combination that is sold, each with its own SKU and stock, an optional price (else the
product's) and weight. A product without options has exactly one variant.
"""

from collections.abc import Iterable
from datetime import datetime
from types import SimpleNamespace
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    func,
    select,
    true,
)
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, attribute_keyed_dict, mapped_column, relationship
from sqlalchemy.orm.attributes import set_committed_value

from app import page_cache
from app.extensions import Model, db
from app.i18n import current_locale, default_locale
from app.timestamps import utcnow


class Translatable:
    """A model whose ``TEXTS`` are written in other languages too, in ``translations`` (by
    locale); its own columns are the default language's."""

    TEXTS: tuple[str, ...]
    translations: Any

    @property
    def translated(self) -> Any:
        """Its texts in this request's language, each falling back to the default language's
        where the translation leaves it empty: ``product.translated.name``."""
        locale = current_locale()
        if locale == default_locale():  # no translation to read: no query
            return self
        return self.texts_in(locale)

    def texts_in(self, locale: str) -> SimpleNamespace:
        found = self.translations.get(locale)
        return SimpleNamespace(
            **{text: getattr(found, text, None) or getattr(self, text) for text in self.TEXTS}
        )


class Category(Translatable, Model):
    __tablename__ = "category"
    TEXTS = ("name",)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    slug: Mapped[str] = mapped_column(String(140), unique=True)
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("category.id", ondelete="SET NULL"), index=True
    )
    parent: Mapped["Category | None"] = relationship(remote_side=[id], back_populates="children")
    children: Mapped[list["Category"]] = relationship(back_populates="parent")
    translations: Mapped[dict[str, "CategoryTranslation"]] = relationship(
        collection_class=attribute_keyed_dict("locale"),
        cascade="all, delete-orphan",
        passive_deletes=True,
    )

    def __str__(self) -> str:
        return self.name


MYSQL_DIALECTS = ("mysql", "mariadb")  # SQLAlchemy's names for MySQL and MariaDB


class CategoryTranslation(Model):
    """A category's name in a language other than the default."""

    __tablename__ = "category_translation"
    __table_args__ = (
        UniqueConstraint("category_id", "locale", name="uq_category_translation_locale"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    category_id: Mapped[int] = mapped_column(ForeignKey("category.id", ondelete="CASCADE"))
    locale: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(120), default="")


class Product(Translatable, Model):
    __tablename__ = "product"
    TEXTS = ("name", "description")
    __table_args__ = (
        CheckConstraint("price_cents >= 0", name="price_not_negative"),
        # The catalogue lists active products in one of these orders (see bench/).
        Index("ix_product_active_name", "is_active", "name"),
        Index("ix_product_active_price", "is_active", "price_cents"),
        Index("ix_product_active_created", "is_active", "created_at"),
        Index("ix_product_featured", "is_featured", "is_active"),
        # A category's listing in each order, read in order from the index (deep pages too).
        Index("ix_product_category_active_name", "category_id", "is_active", "name"),
        Index("ix_product_category_active_price", "category_id", "is_active", "price_cents"),
        Index("ix_product_category_active_created", "category_id", "is_active", "created_at"),
        # Full-text search (app/catalog/search.py): MariaDB's indexes; SQLite has an FTS5 table.
        # (ddl_if takes a tuple of dialect names, as documented; its annotation says str.)
        Index("ix_product_fulltext_name", "name", mysql_prefix="FULLTEXT").ddl_if(
            dialect=MYSQL_DIALECTS  # type: ignore[arg-type]
        ),
        Index("ix_product_fulltext", "name", "description", mysql_prefix="FULLTEXT").ddl_if(
            dialect=MYSQL_DIALECTS  # type: ignore[arg-type]
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(160), unique=True)
    name: Mapped[str] = mapped_column(String(160))
    description: Mapped[str] = mapped_column(Text, default="")
    price_cents: Mapped[int] = mapped_column(BigInteger)  # a variant without a price has this
    currency: Mapped[str] = mapped_column(String(3))  # no default: save_product gives SHOP_CURRENCY
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    is_featured: Mapped[bool] = mapped_column(Boolean, default=False)
    image: Mapped[str | None] = mapped_column(String(255))
    category_id: Mapped[int | None] = mapped_column(
        ForeignKey("category.id", ondelete="SET NULL"), index=True
    )
    category: Mapped[Category | None] = relationship()
    # None: the standard rate of the buyer's country (app.taxes).
    tax_class_id: Mapped[int | None] = mapped_column(
        ForeignKey("tax_class.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    options: Mapped[list["OptionType"]] = relationship(
        back_populates="product",
        cascade="all, delete-orphan",
        order_by="(OptionType.position, OptionType.id)",
    )
    variants: Mapped[list["Variant"]] = relationship(
        back_populates="product",
        cascade="all, delete-orphan",
        order_by="(Variant.position, Variant.id)",
    )
    # Its gallery in order. The rows go with the product; their files do not (see
    # app/catalog/images.py).
    images: Mapped[list["ProductImage"]] = relationship(
        back_populates="product",
        cascade="all, delete-orphan",
        order_by="(ProductImage.position, ProductImage.id)",
    )
    translations: Mapped[dict[str, "ProductTranslation"]] = relationship(
        collection_class=attribute_keyed_dict("locale"),
        cascade="all, delete-orphan",
        passive_deletes=True,
    )

    @property
    def first_variant(self) -> "Variant | None":
        """The variant listed first: a product without options has only this one."""
        return self.variants[0] if self.variants else None

    @hybrid_property
    def sku(self) -> str:
        """The first variant's SKU (the product's own, for a product without options)."""
        return self.first_variant.sku if self.first_variant else ""

    @sku.inplace.expression
    @classmethod
    def _sku_expression(cls):
        return (
            select(Variant.sku)
            .where(Variant.product_id == cls.id)
            .order_by(Variant.position, Variant.id)
            .limit(1)
            .scalar_subquery()
        )

    @hybrid_property
    def stock(self) -> int:
        """Units on sale, over its active variants."""
        return sum(variant.stock for variant in self.variants if variant.is_active)

    @stock.inplace.expression
    @classmethod
    def _stock_expression(cls):
        return (
            select(func.coalesce(func.sum(Variant.stock), 0))
            .where(Variant.product_id == cls.id, Variant.is_active == true())
            .scalar_subquery()
        )

    @property
    def in_stock(self) -> bool:
        return self.stock > 0

    @property
    def variants_on_sale(self) -> list["Variant"]:
        return [variant for variant in self.variants if variant.is_active]

    @property
    def price_from_cents(self) -> int:
        """The lowest price of its variants on sale (the product's own when none is)."""
        prices = [variant.unit_price_cents for variant in self.variants_on_sale]
        return min(prices, default=self.price_cents)

    @property
    def prices_differ(self) -> bool:
        """Whether its variants on sale cost different amounts: pages say "from" the lowest."""
        return len({variant.unit_price_cents for variant in self.variants_on_sale}) > 1

    def __str__(self) -> str:
        return self.name


class ProductTranslation(Model):
    """A product's name and description in a language other than the default (searched too:
    app/catalog/search.py)."""

    __tablename__ = "product_translation"
    __table_args__ = (
        UniqueConstraint("product_id", "locale", name="uq_product_translation_locale"),
        Index("ix_product_translation_fulltext_name", "name", mysql_prefix="FULLTEXT").ddl_if(
            dialect=MYSQL_DIALECTS  # type: ignore[arg-type]
        ),
        Index(
            "ix_product_translation_fulltext", "name", "description", mysql_prefix="FULLTEXT"
        ).ddl_if(dialect=MYSQL_DIALECTS),  # type: ignore[arg-type]
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id", ondelete="CASCADE"))
    locale: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(160), default="")
    description: Mapped[str] = mapped_column(Text, default="")


class OptionType(Model):
    """An option a product is sold in (Size, Colour), with its values in their order."""

    __tablename__ = "option_type"
    __table_args__ = (UniqueConstraint("product_id", "name", name="uq_option_type_product_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(60))
    position: Mapped[int] = mapped_column(Integer, default=0)
    product: Mapped[Product] = relationship(back_populates="options")
    values: Mapped[list["OptionValue"]] = relationship(
        back_populates="option_type",
        cascade="all, delete-orphan",
        order_by="(OptionValue.position, OptionValue.id)",
    )

    def __str__(self) -> str:
        return self.name


class OptionValue(Model):
    __tablename__ = "option_value"
    __table_args__ = (
        UniqueConstraint("option_type_id", "value", name="uq_option_value_type_value"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    option_type_id: Mapped[int] = mapped_column(ForeignKey("option_type.id", ondelete="CASCADE"))
    value: Mapped[str] = mapped_column(String(60))
    position: Mapped[int] = mapped_column(Integer, default=0)
    option_type: Mapped[OptionType] = relationship(back_populates="values")

    def __str__(self) -> str:
        return f"{self.option_type.name} {self.value}"


variant_option_value = Table(
    "variant_option_value",
    db.metadata,
    Column("variant_id", ForeignKey("variant.id", ondelete="CASCADE"), primary_key=True),
    Column(
        "option_value_id",
        ForeignKey("option_value.id", ondelete="CASCADE"),
        primary_key=True,
        index=True,
    ),
)


class Variant(Model):
    """What is sold and stocked: one combination of a product's option values."""

    __tablename__ = "variant"
    __table_args__ = (
        CheckConstraint("stock >= 0", name="stock_not_negative"),
        CheckConstraint("price_cents >= 0", name="price_not_negative"),
        CheckConstraint("weight_grams >= 0", name="weight_not_negative"),
        # A product's variants, and whether one is active and in stock from the index alone:
        # the catalogue's in-stock filter asks it for every product it lists or counts.
        Index("ix_variant_product_active_stock", "product_id", "is_active", "stock"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id", ondelete="CASCADE"))
    sku: Mapped[str] = mapped_column(String(64), unique=True)
    price_cents: Mapped[int | None] = mapped_column(BigInteger)  # None: the product's price
    weight_grams: Mapped[int | None] = mapped_column(Integer)
    stock: Mapped[int] = mapped_column(Integer, default=0)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    # The picture of this variant, one of its product's images (None: the gallery's first).
    image_id: Mapped[int | None] = mapped_column(
        ForeignKey("product_image.id", ondelete="SET NULL"), index=True
    )
    product: Mapped[Product] = relationship(back_populates="variants")
    image: Mapped["ProductImage | None"] = relationship()
    values: Mapped[list[OptionValue]] = relationship(secondary=variant_option_value)
    # The same rows, read through the association table mapped on its own: a joined eager
    # load of ``values`` nests "LEFT JOIN (variant_option_value JOIN option_value)", which
    # SQLite materialises whole on every query (it grows with the catalogue); a chain of
    # these two relationships joins flat, by index. ``attach_values`` fills ``values``.
    value_links: Mapped[list["VariantOptionValue"]] = relationship(viewonly=True)

    @property
    def unit_price_cents(self) -> int:
        return self.product.price_cents if self.price_cents is None else self.price_cents

    @property
    def ordered_values(self) -> list[OptionValue]:
        """Its option values in the product's option order."""
        order = {option.id: index for index, option in enumerate(self.product.options)}
        return sorted(self.values, key=lambda value: order.get(value.option_type_id, 0))

    @property
    def options_label(self) -> str:
        """ "Size M, Colour blue" ("" for a product without options)."""
        return ", ".join(str(value) for value in self.ordered_values)

    @property
    def title(self) -> str:
        """Its product's name in the request's language, with its options: "T-shirt (Size M)"."""
        label = self.options_label
        name = self.product.translated.name
        return f"{name} ({label})" if label else name

    @property
    def on_sale(self) -> bool:
        return self.is_active and self.product.is_active

    def __str__(self) -> str:
        label = self.options_label
        return f"{self.product.name} ({label})" if label else self.product.name


# Bounds of an image's alt text (it is required: every image says what it shows).
ALT_MAX_LENGTH = 250


class ProductImage(Model):
    """One picture of a product's gallery. Its files live in the media store under ``key``:
    ``{key}/{width}.webp`` and ``{key}/{width}.jpg`` for each of ``widths``."""

    __tablename__ = "product_image"

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(
        ForeignKey("product.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer, default=0)
    alt: Mapped[str] = mapped_column(String(ALT_MAX_LENGTH))
    key: Mapped[str] = mapped_column(String(120), unique=True)
    # The uploaded image's size, upright (after its EXIF orientation).
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    # The widths stored, ascending, comma-separated ("160,480,960"): MEDIA_WIDTHS at upload
    # time, none wider than the image.
    widths: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    product: Mapped[Product] = relationship(back_populates="images")

    @property
    def width_list(self) -> list[int]:
        return [int(width) for width in self.widths.split(",")]

    def height_at(self, width: int) -> int:
        """The height of its rendition ``width`` wide."""
        return max(1, round(self.height * width / self.width))

    def __str__(self) -> str:
        return self.alt


class VariantOptionValue(Model):
    """A row of ``variant_option_value``, read-only: see ``Variant.value_links``."""

    __table__ = variant_option_value

    variant_id: Mapped[int]
    option_value_id: Mapped[int]
    value: Mapped[OptionValue] = relationship(viewonly=True)


def attach_values(products: Iterable[Product]) -> None:
    """Each loaded variant's ``product``, and its ``values`` from its ``value_links`` where
    those were loaded (as ``services.PRODUCT_DETAILS`` loads them), so that reading either
    runs no query and no lazy loader (a card reads each variant's product for its price)."""
    for product in products:
        for variant in product.__dict__.get("variants", ()):
            state = variant.__dict__
            if "product" not in state:
                set_committed_value(variant, "product", product)
            links = state.get("value_links")
            if links is not None and "values" not in state:
                set_committed_value(variant, "values", [link.value for link in links])


# What the shared catalogue pages show: a write to any of these starts the page cache afresh.
page_cache.watch(
    Category,
    CategoryTranslation,
    Product,
    ProductTranslation,
    OptionType,
    OptionValue,
    Variant,
    ProductImage,
)
