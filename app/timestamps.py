"""The shop's clock: ``utcnow``, naive UTC, for every DateTime column and every comparison."""

from datetime import UTC, datetime


def utcnow() -> datetime:
    """Naive UTC now, the form every DateTime column here stores (MariaDB has no time zones)."""
    return datetime.now(UTC).replace(tzinfo=None)
