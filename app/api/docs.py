"""API: human-readable docs page (to be filled in)."""

from flask_smorest import Blueprint

bp = Blueprint("docs", __name__, description="API documentation")
