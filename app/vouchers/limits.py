"""Guessing codes is limited like logging in: each refused code counts against
RATELIMIT_VOUCHER_GUESSES per client (applied codes never count)."""

from flask import current_app, g

from app.extensions import limiter


def _guesses_limit() -> str:
    return current_app.config["RATELIMIT_VOUCHER_GUESSES"]


def _refused(response) -> bool:
    """A view sets ``g.voucher_refused`` (pages answer with a redirect either way), or the
    API answers an error."""
    return g.get("voucher_refused", False) or response.status_code >= 400


voucher_guesses = limiter.shared_limit(
    _guesses_limit, scope="voucher-guesses", methods=["POST"], deduct_when=_refused
)
