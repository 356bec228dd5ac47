"""API: catalog (to be filled in)."""

from flask_smorest import Blueprint

bp = Blueprint("catalog", __name__, description="Catalog")
