"""The transaction boundary, written once: services mark a unit of work with ``@atomic``.

- A unit starts a new transaction. It refuses to run while the session holds the caller's
  unsaved changes; otherwise it commits the session's open transaction, which then holds only
  reads (on MariaDB's REPEATABLE READ a read view opened earlier in the request would hide
  rows that other requests committed since).
- It commits when the function returns and rolls back when it raises, whatever it raises.
- ``on_commit(step)`` queues a step (an e-mail, a payment provider's call) that runs once the
  commit succeeded, once however many attempts the unit took, and never after a rollback.
- A deadlock or lock-wait timeout (MariaDB's normal answer to transactions locking the same
  rows in different orders) rolls back and runs the whole unit again, up to
  TRANSACTION_ATTEMPTS times with a short jittered backoff; after the last attempt it raises
  ``Unavailable`` (503 with Retry-After). A unit must therefore read what it decides on inside
  itself, never trust an earlier read.
- A unit called inside another joins it: one transaction, one commit (the outer unit's).
"""

import functools
import logging
import random
import time
from collections.abc import Callable
from contextvars import ContextVar
from typing import ParamSpec, TypeVar

from flask import current_app
from sqlalchemy import inspect
from sqlalchemy.exc import DisconnectionError, InterfaceError, OperationalError

from app.errors import NotFound, busy, is_lock_conflict
from app.extensions import db

log = logging.getLogger(__name__)

P = ParamSpec("P")
R = TypeVar("R")
M = TypeVar("M")

# The after-commit steps of the unit running now; None outside any unit.
_after_commit: ContextVar[list[Callable[[], object]] | None] = ContextVar(
    "storefront_after_commit", default=None
)


def on_commit(step: Callable[[], object]) -> None:
    """Run ``step`` after the current unit commits (right away outside any unit)."""
    steps = _after_commit.get()
    if steps is None:
        step()
    else:
        steps.append(step)


def in_unit() -> bool:
    return _after_commit.get() is not None


def atomic(unit: Callable[P, R]) -> Callable[P, R]:
    """Run ``unit`` as one transaction: see the module's docstring."""
    name = f"{unit.__module__}.{unit.__qualname__}"

    @functools.wraps(unit)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        if in_unit():
            return unit(*args, **kwargs)
        attempts = current_app.config["TRANSACTION_ATTEMPTS"]
        for attempt in range(1, attempts + 1):
            _begin()
            steps: list[Callable[[], object]] = []
            token = _after_commit.set(steps)
            try:
                result = unit(*args, **kwargs)
                db.session.commit()
            except OperationalError as error:
                db.session.rollback()
                if not is_lock_conflict(error):
                    raise
                log.warning(
                    "%s: lock conflict (MariaDB error %s), attempt %d of %d",
                    name,
                    error.orig.args[0] if error.orig else "?",
                    attempt,
                    attempts,
                )
                _backoff(attempt)
                continue
            except BaseException:
                db.session.rollback()
                raise
            finally:
                _after_commit.reset(token)
            for step in steps:
                step()
            return result
        raise busy()

    return run


def _begin() -> None:
    """End the session's transaction, refusing to drop (or to commit) the caller's changes."""
    if db.session.new or db.session.dirty or db.session.deleted:
        raise RuntimeError("This service starts its own transaction: commit your changes first.")
    db.session.commit()


def _backoff(attempt: int) -> None:
    """Sleep a random time up to TRANSACTION_BACKOFF * 2**(attempt - 1) seconds (full jitter),
    so that the transactions that collided do not collide again."""
    ceiling = current_app.config["TRANSACTION_BACKOFF"] * 2 ** (attempt - 1)
    time.sleep(random.uniform(0, ceiling))  # nosec B311: timing jitter, not a secret


def end_request_session(_error: BaseException | None = None) -> None:
    """Teardown, run before Flask-SQLAlchemy's own: close the request's session (its objects
    stay readable, detached). On a connection that died meanwhile (an outage, a restarted
    server) closing fails, as it rolls back: the connection is dropped instead, so that the
    error does not escape after the answer (the client would see its connection break).
    A request that used no session (a kept page) makes none here."""
    if not db.session.registry.has():
        return
    try:
        db.session.close()
    except (OperationalError, InterfaceError, DisconnectionError) as error:
        log.warning("The database connection was lost before the request ended: %s", error)
        db.session().invalidate()  # the Session (scoped_session does not proxy invalidate)


def locked_again(row: M, what: str) -> M:
    """``row`` read again inside the unit and locked until it ends, by its id (another admin
    may have deleted it since the page was loaded).

    :raises NotFound: it is gone ("This {what} was deleted already.").
    """
    identity = inspect(row).identity
    found = (
        db.session.get(type(row), identity[0], with_for_update=True, populate_existing=True)
        if identity
        else None
    )
    if found is None:
        raise NotFound(f"This {what} was deleted already.")
    return found
