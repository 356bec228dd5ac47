"""A saved address: a customer's, with the fields an order ships to (``ADDRESS_FIELDS``)."""

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import Model
from app.orders.models import ADDRESS_FIELDS
from app.timestamps import utcnow


class SavedAddress(Model):
    """One address in a customer's book. At most one of a customer's addresses is the
    default for shipping and one for billing (app.addresses.services keeps it so). Orders
    copy an address when placed: editing or deleting it never changes an order."""

    __tablename__ = "saved_address"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(ADDRESS_FIELDS["name"]))
    line1: Mapped[str] = mapped_column(String(ADDRESS_FIELDS["line1"]))
    line2: Mapped[str] = mapped_column(String(ADDRESS_FIELDS["line2"]), default="")
    city: Mapped[str] = mapped_column(String(ADDRESS_FIELDS["city"]))
    postcode: Mapped[str] = mapped_column(String(ADDRESS_FIELDS["postcode"]))
    country: Mapped[str] = mapped_column(String(ADDRESS_FIELDS["country"]))
    is_default_shipping: Mapped[bool] = mapped_column(Boolean, default=False)
    is_default_billing: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    def fields(self) -> dict[str, str]:
        """The address as checkout takes it."""
        return {field: getattr(self, field) for field in ADDRESS_FIELDS}

    def __str__(self) -> str:
        return ", ".join(part for part in (self.name, self.line1, self.line2, self.city) if part)
