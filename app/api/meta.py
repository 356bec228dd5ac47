"""API root and health check."""

import marshmallow as ma
from flask import current_app
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from app.api.spec import Blueprint
from app.extensions import db

bp = Blueprint("meta", __name__, description="Service status")


class RootSchema(ma.Schema):
    status = ma.fields.String(required=True, metadata={"example": "success"})
    version = ma.fields.String(required=True, metadata={"example": "1"})


class HealthSchema(ma.Schema):
    status = ma.fields.String(required=True, metadata={"example": "ok"})
    database = ma.fields.String(required=True, metadata={"example": "ok"})


@bp.get("/")
@bp.response(200, RootSchema)
def index():
    """Tell clients the API is here and which version it is."""
    return {"status": "success", "version": "1"}


@bp.get("/health")
@bp.response(200, HealthSchema)
@bp.alt_response(503, schema=HealthSchema, description="The database does not answer.")
def health():
    """Liveness plus a database round trip; 503 when the database does not answer."""
    try:
        db.session.execute(text("SELECT 1"))
    except SQLAlchemyError:
        db.session.rollback()
        retry_after = {"Retry-After": str(current_app.config["DATABASE_RETRY_AFTER"])}
        return {"status": "degraded", "database": "unavailable"}, 503, retry_after
    return {"status": "ok", "database": "ok"}
