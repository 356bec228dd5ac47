"""API: cart (to be filled in)."""

from flask_smorest import Blueprint

bp = Blueprint("cart", __name__, description="Cart")
