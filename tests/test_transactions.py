"""The unit of work (app/transactions.py): commit once, roll back on error, after-commit steps
only after a commit, lock conflicts retried a bounded number of times, then 503."""

import logging

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from app.catalog.models import Category
from app.errors import ER_LOCK_DEADLOCK, ER_LOCK_WAIT_TIMEOUT, Unavailable
from app.extensions import db
from app.transactions import atomic, on_commit


class DriverError(Exception):
    """Stands for the driver's exception: MySQLdb's OperationalError carries (code, text)."""


def lock_conflict(code: int = ER_LOCK_DEADLOCK) -> OperationalError:
    return OperationalError("UPDATE ...", {}, DriverError(code, "Deadlock found"))


def categories(app) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(select(Category.slug).order_by(Category.slug)))


def make_unit(conflicts: int, code: int = ER_LOCK_DEADLOCK):
    """A unit that adds a category and queues a step, then meets ``conflicts`` lock
    conflicts at its end (as MariaDB reports one at a statement) before it succeeds."""
    calls = {"attempts": 0, "steps": 0}

    @atomic
    def add_category(slug: str) -> str:
        calls["attempts"] += 1
        db.session.add(Category(name=slug, slug=slug))
        db.session.flush()
        on_commit(lambda: calls.__setitem__("steps", calls["steps"] + 1))
        if calls["attempts"] <= conflicts:
            raise lock_conflict(code)
        return slug

    return add_category, calls


@pytest.mark.parametrize("code", [ER_LOCK_DEADLOCK, ER_LOCK_WAIT_TIMEOUT])
def test_a_unit_that_meets_a_lock_conflict_once_runs_again_and_commits_once(app, code, caplog):
    add_category, calls = make_unit(conflicts=1, code=code)
    with app.app_context(), caplog.at_level(logging.WARNING, "app.transactions"):
        assert add_category("tea") == "tea"

    assert calls == {"attempts": 2, "steps": 1}
    assert categories(app) == ["tea"]
    [warning] = caplog.records
    assert "add_category" in warning.getMessage()
    assert f"MariaDB error {code}" in warning.getMessage()
    assert "tea" not in warning.getMessage()  # the unit's name, never the SQL's values


def test_a_unit_that_always_conflicts_gives_up_with_503_and_writes_nothing(app):
    app.config.update(TRANSACTION_ATTEMPTS=3, TRANSACTION_RETRY_AFTER=2)
    add_category, calls = make_unit(conflicts=99)
    with app.app_context(), pytest.raises(Unavailable) as raised:
        add_category("tea")

    assert calls == {"attempts": 3, "steps": 0}
    assert raised.value.status == 503
    assert raised.value.retry_after == 2
    assert categories(app) == []


def test_an_error_rolls_back_and_runs_no_after_commit_step(app):
    steps = []

    @atomic
    def fails():
        db.session.add(Category(name="Tea", slug="tea"))
        on_commit(lambda: steps.append("sent"))
        raise ValueError("a rule said no")

    with app.app_context():
        with pytest.raises(ValueError, match="a rule said no"):
            fails()
        assert not db.session.new
    assert steps == []
    assert categories(app) == []


def test_other_database_errors_are_not_retried(app):
    calls = []

    @atomic
    def broken():
        calls.append(1)
        raise OperationalError("SELECT", {}, DriverError(1054, "Unknown column"))

    with app.app_context(), pytest.raises(OperationalError):
        broken()
    assert calls == [1]


def test_a_unit_inside_another_joins_it_one_commit_steps_after_it(app):
    events = []

    @atomic
    def inner():
        db.session.add(Category(name="Green", slug="green"))
        on_commit(lambda: events.append("inner step"))

    @atomic
    def outer():
        db.session.add(Category(name="Tea", slug="tea"))
        inner()
        events.append("outer done")
        raise ValueError("the outer unit fails after the inner one returned")

    with app.app_context(), pytest.raises(ValueError, match="the outer unit fails"):
        outer()
    assert events == ["outer done"]  # the inner step never ran: nothing was committed
    assert categories(app) == []


def test_a_unit_refuses_to_drop_or_commit_the_callers_pending_work(app):
    @atomic
    def noop():
        return None

    with app.app_context():
        pending = Category(name="Unsaved", slug="unsaved")
        db.session.add(pending)
        with pytest.raises(RuntimeError, match="commit your changes first"):
            noop()
        assert pending in db.session.new
        db.session.rollback()
    with app.app_context():
        assert db.session.scalar(select(func.count(Category.id))) == 0


def test_a_lock_conflict_outside_any_unit_is_503_with_retry_after(app):
    app.config["TRANSACTION_RETRY_AFTER"] = 3

    @app.get("/api/v1/conflict")
    def conflict():
        raise lock_conflict()

    response = app.test_client().get("/api/v1/conflict")
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "3"
    assert response.json["error"]["code"] == "service_unavailable"
