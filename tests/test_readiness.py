"""/api/v1/health/ready: the database and each Redis the app uses, 503 naming what failed."""

import time

import pytest

from app.app_factory import create_app
from tests.helpers import TEST_CONFIG
from tests.servers import free_port

URL = "/api/v1/health/ready"


def ready_app(**config):
    return create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": "sqlite://", **config})


def test_ready_checks_the_database_and_says_redis_is_not_used(client):
    response = client.get(URL)

    assert response.status_code == 200
    assert response.get_json() == {
        "status": "ok",
        "checks": {
            "database": "ok",
            "rate_limits": "not used",
            "cache": "not used",
            "jobs": "not used",
        },
    }


def redis_config(url: str) -> dict:
    return {
        "RATELIMIT_STORAGE_URI": url,
        "CACHE_REDIS_URL": url,
        "JOBS_EAGER": False,
        "JOBS_BROKER_URL": url,
    }


def test_ready_asks_each_redis_in_use(redis_server):
    app = ready_app(**redis_config(redis_server.url))

    response = app.test_client().get(URL)

    assert response.status_code == 200
    assert response.get_json()["checks"] == {
        "database": "ok",
        "rate_limits": "ok",
        "cache": "ok",
        "jobs": "ok",
    }


def test_a_redis_that_does_not_answer_is_503_named_at_once(redis_server):
    down = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    app = ready_app(**{**redis_config(redis_server.url), "CACHE_REDIS_URL": down})

    started = time.monotonic()
    response = app.test_client().get(URL)
    took = time.monotonic() - started

    assert (response.status_code, response.headers["Retry-After"]) == (503, "10")
    assert response.get_json() == {
        "status": "degraded",
        "checks": {"database": "ok", "rate_limits": "ok", "cache": "unavailable", "jobs": "ok"},
    }
    assert took < 2


@pytest.mark.parametrize("eager", [True, False])
def test_the_job_queue_is_asked_only_when_jobs_are_queued(eager):
    down = f"redis://127.0.0.1:{free_port()}/0"
    app = ready_app(JOBS_EAGER=eager, JOBS_BROKER_URL=down)

    response = app.test_client().get(URL)

    assert response.get_json()["checks"]["jobs"] == ("not used" if eager else "unavailable")
    assert response.status_code == (200 if eager else 503)


def test_ready_is_503_when_the_database_is_down(tmp_path):
    missing = tmp_path / "no" / "such" / "dir" / "db.sqlite"
    app = ready_app(SQLALCHEMY_DATABASE_URI=f"sqlite:///{missing}")

    response = app.test_client().get(URL)

    assert response.status_code == 503
    assert response.get_json()["checks"]["database"] == "unavailable"
