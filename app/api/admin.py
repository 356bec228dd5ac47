"""API: admin (to be filled in)."""

from flask_smorest import Blueprint

bp = Blueprint("admin", __name__, description="Admin")
