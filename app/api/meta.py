"""API root and health check."""

from flask import Blueprint
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from app.extensions import db

bp = Blueprint("meta", __name__)


@bp.get("/")
def index():
    """Tell clients the API is here and which version it is."""
    return {"status": "success", "version": "1"}


@bp.get("/health")
def health():
    """Liveness plus a database round trip; 503 when the database does not answer."""
    try:
        db.session.execute(text("SELECT 1"))
    except SQLAlchemyError:
        db.session.rollback()
        return {"status": "degraded", "database": "unavailable"}, 503
    return {"status": "ok", "database": "ok"}
