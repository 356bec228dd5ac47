"""The job queue: Celery on Redis, one Celery app for each Flask app (``init_app``).

A job is a plain function registered with ``@job``; ``enqueue(name, *args)`` queues it once the
current unit of work commits (app/transactions.py), so no job ever speaks of rolled-back data.
``JOBS_EAGER`` (the default) runs it right there, in the process that committed, after the
commit: ``make run`` needs no Redis and no worker. Off, it goes to ``JOBS_BROKER_URL`` for a
worker to run: acknowledged once it has run (a worker that dies mid-job leaves it to another),
and retried on failure with exponential backoff (``JOBS_RETRY_DELAYS``).
"""

import base64
import json
import logging
from collections.abc import Callable
from typing import Any

from celery import Celery, Task
from flask import Flask, current_app, has_app_context

from app.transactions import on_commit

log = logging.getLogger(__name__)

# Every job by name, as its task's body: registered with each Celery app that init_app makes.
JOBS: dict[str, Callable[..., Any]] = {}


def job(name: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register ``function`` as the job ``name`` (its arguments: ids and plain values, JSON)."""

    def register(function: Callable[..., Any]) -> Callable[..., Any]:
        JOBS[name] = _retrying(function)
        return function

    return register


def init_app(app: Flask) -> Celery:
    """The app's Celery, its settings from the app's config, every registered job its task."""

    class FlaskTask(Task):
        def __call__(self, *args, **kwargs):
            # In an app context of its own, so its own database session, as on a worker.
            with _app_of(app).app_context():
                return self.run(*args, **kwargs)

    config = app.config
    celery = Celery(app.import_name, task_cls=FlaskTask)
    celery.conf.update(
        broker_url=config["JOBS_BROKER_URL"],
        task_always_eager=config["JOBS_EAGER"],
        task_eager_propagates=True,
        task_ignore_result=True,
        task_acks_late=True,  # acknowledged once run: a job whose worker died runs again
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        broker_connection_retry_on_startup=True,
        # A job taken by a worker that died goes back to the queue after this many seconds
        # (longer than any job runs), looked for as often (at most every minute).
        broker_transport_options={
            "visibility_timeout": config["JOBS_VISIBILITY_TIMEOUT"],
            "unacked_restore_interval": min(60, config["JOBS_VISIBILITY_TIMEOUT"]),
            "unacked_restore_throttle": 1,
        },
    )
    for name, body in JOBS.items():
        celery.task(name=name, bind=True, shared=False)(body)
    app.extensions["celery"] = celery
    return celery


def _app_of(default: Flask) -> Flask:
    """The app whose context is current (inline: the app that queued the job, which may not be
    the one made last, as in tests), else ``default`` (a worker's)."""
    if has_app_context():
        return current_app._get_current_object()  # type: ignore[attr-defined]  # a LocalProxy
    return default


def _retrying(function: Callable[..., Any]) -> Callable[..., Any]:
    """The task's body: the job, retried on failure after the next of JOBS_RETRY_DELAYS seconds
    (inline, a failure is the caller's, as any error after its commit)."""

    def run(task: Task, *args):
        try:
            return function(*args)
        except Exception as error:
            if task.request.is_eager:
                raise
            delays = current_app.config["JOBS_RETRY_DELAYS"]
            attempt = task.request.retries
            if attempt >= len(delays):
                log.error("Job %s%r failed for good: %s", task.name, args, error)
                raise
            log.warning("Job %s%r failed (%s): retry %d", task.name, args, error, attempt + 1)
            raise task.retry(
                exc=error, countdown=delays[attempt], max_retries=len(delays)
            ) from error

    run.__name__ = run.__qualname__ = function.__name__
    return run


def enqueue(name: str, *args) -> None:
    """Queue the job ``name`` with ``args`` once the current unit commits (inline if eager)."""
    celery = current_app.extensions["celery"]
    task = celery.tasks[name]
    on_commit(lambda: task.apply_async(args))


def pending() -> tuple[list[str], list[str]]:
    """The jobs waiting on the queue and those workers have taken, each as its name and first
    argument ("orders.mail confirmation"; never the rest, which may hold a reset link).

    :raises redis.exceptions.ConnectionError: no Redis at JOBS_BROKER_URL.
    """
    celery = current_app.extensions["celery"]
    with celery.connection_for_read() as connection:
        client = connection.default_channel.client
        waiting = [_described(json.loads(raw)) for raw in client.lrange("celery", 0, -1)]
        taken = [_described(json.loads(raw)[0]) for raw in client.hvals("unacked")]
    return waiting, taken


def _described(message: dict) -> str:
    headers = message.get("headers") or {}
    body = json.loads(base64.b64decode(message.get("body") or "") or "[[]]")
    args = body[0] if body and isinstance(body[0], list) else []
    return f"{headers.get('task', '?')} {args[0] if args else ''}".rstrip()
