"""Shipping zones (sets of countries) and the methods each offers: a price, free above a
subtotal, or priced by the parcel's weight in bands."""

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Computed,
    ForeignKey,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import Model


class ShippingZone(Model):
    """Countries shipped to alike. The default zone covers every country no other zone lists
    ("rest of the world"); a country no zone covers cannot be shipped to."""

    __tablename__ = "shipping_zone"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)
    # 1 for the default zone, NULL for the others: its unique index lets one zone at most be
    # the default, decided by the database when two admins save at once.
    default_key: Mapped[int | None] = mapped_column(
        Integer, Computed("CASE WHEN is_default THEN 1 END", persisted=True), unique=True
    )
    countries: Mapped[list["ShippingZoneCountry"]] = relationship(
        back_populates="zone", cascade="all, delete-orphan", order_by="ShippingZoneCountry.country"
    )
    methods: Mapped[list["ShippingMethod"]] = relationship(
        back_populates="zone",
        cascade="all, delete-orphan",
        order_by="(ShippingMethod.position, ShippingMethod.id)",
    )

    def __str__(self) -> str:
        return self.name


class ShippingZoneCountry(Model):
    """One country of a zone: a country belongs to one zone at most."""

    __tablename__ = "shipping_zone_country"

    id: Mapped[int] = mapped_column(primary_key=True)
    zone_id: Mapped[int] = mapped_column(
        ForeignKey("shipping_zone.id", ondelete="CASCADE"), index=True
    )
    country: Mapped[str] = mapped_column(String(2), unique=True)
    zone: Mapped[ShippingZone] = relationship(back_populates="countries")

    def __str__(self) -> str:
        return self.country


class ShippingMethod(Model):
    """A way to ship within a zone. Its price is ``price_cents``, or, when it has weight bands,
    the price of the first band the parcel's weight fits (heavier parcels: not offered); free
    when the subtotal reaches ``free_above_cents``."""

    __tablename__ = "shipping_method"
    __table_args__ = (
        CheckConstraint("price_cents >= 0", name="price_not_negative"),
        CheckConstraint("free_above_cents >= 0", name="free_above_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    zone_id: Mapped[int] = mapped_column(
        ForeignKey("shipping_zone.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(100))
    price_cents: Mapped[int] = mapped_column(BigInteger, default=0)
    free_above_cents: Mapped[int | None] = mapped_column(BigInteger)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    zone: Mapped[ShippingZone] = relationship(back_populates="methods")
    bands: Mapped[list["WeightBand"]] = relationship(
        back_populates="method", cascade="all, delete-orphan", order_by="WeightBand.max_grams"
    )

    def __str__(self) -> str:
        return self.name


class WeightBand(Model):
    """Parcels up to ``max_grams`` (and above the band before) cost ``price_cents``."""

    __tablename__ = "shipping_weight_band"
    __table_args__ = (
        UniqueConstraint("method_id", "max_grams", name="uq_weight_band_method_max"),
        CheckConstraint("max_grams > 0", name="max_grams_positive"),
        CheckConstraint("price_cents >= 0", name="price_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    method_id: Mapped[int] = mapped_column(
        ForeignKey("shipping_method.id", ondelete="CASCADE"), index=True
    )
    max_grams: Mapped[int] = mapped_column(Integer)
    price_cents: Mapped[int] = mapped_column(BigInteger)
    method: Mapped[ShippingMethod] = relationship(back_populates="bands")
