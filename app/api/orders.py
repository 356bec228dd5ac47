"""API: orders (to be filled in)."""

from flask_smorest import Blueprint

bp = Blueprint("orders", __name__, description="Orders")
