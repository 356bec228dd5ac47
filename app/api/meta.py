"""API root, health check and readiness check."""

import marshmallow as ma
import redis
from flask import current_app
from redis.backoff import NoBackoff
from redis.retry import Retry
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


class ReadySchema(ma.Schema):
    status = ma.fields.String(required=True, metadata={"example": "ok"})
    checks = ma.fields.Dict(
        keys=ma.fields.String(),
        values=ma.fields.String(),
        required=True,
        metadata={
            "description": "Each dependency: ok, unavailable, or not used (not configured).",
            "example": {
                "database": "ok",
                "rate_limits": "ok",
                "cache": "not used",
                "jobs": "not used",
            },
        },
    )


REDIS_TIMEOUT = 2  # seconds to connect and to answer: a readiness probe never hangs
OK, UNAVAILABLE, NOT_USED = "ok", "unavailable", "not used"


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


@bp.get("/health/ready")
@bp.response(200, ReadySchema)
@bp.alt_response(
    503, schema=ReadySchema, description="A dependency does not answer: the checks name it."
)
def ready():
    """Readiness: the database, and each Redis the app is configured to use (rate limits,
    page cache, job queue), each asked with a short timeout; 503 naming what failed."""
    config = current_app.config
    limits = config["RATELIMIT_STORAGE_URI"]
    checks = {
        "database": _database(),
        "rate_limits": _redis(limits if limits.startswith(("redis://", "rediss://")) else None),
        "cache": _redis(config["CACHE_REDIS_URL"]),
        "jobs": _redis(None if config["JOBS_EAGER"] else config["JOBS_BROKER_URL"]),
    }
    if UNAVAILABLE in checks.values():
        retry_after = {"Retry-After": str(config["DATABASE_RETRY_AFTER"])}
        return {"status": "degraded", "checks": checks}, 503, retry_after
    return {"status": "ok", "checks": checks}


def _database() -> str:
    try:
        db.session.execute(text("SELECT 1"))
    except SQLAlchemyError:
        db.session.rollback()
        return UNAVAILABLE
    return OK


def _redis(url: str | None) -> str:
    if not url:
        return NOT_USED
    client = redis.Redis.from_url(
        url,
        socket_connect_timeout=REDIS_TIMEOUT,
        socket_timeout=REDIS_TIMEOUT,
        retry=Retry(NoBackoff(), 0),  # one attempt: redis-py retries three times by default
    )
    try:
        client.ping()
    except (redis.RedisError, OSError):
        return UNAVAILABLE
    finally:
        client.close()
    return OK
