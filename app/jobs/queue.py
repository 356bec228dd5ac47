"""The job queue: Celery on Redis, one Celery app for each Flask app (``init_app``).

A job is a plain function registered with ``@job``; ``enqueue(name, *args)`` queues it once the
current unit of work commits (app/transactions.py), so no job ever speaks of rolled-back data.
``JOBS_EAGER`` (the default) runs it right there, in the process that committed, after the
commit: ``make run`` needs no Redis and no worker. Off, it goes to ``JOBS_BROKER_URL`` for a
worker to run: acknowledged once it has run (a worker that dies mid-job leaves it to another),
and retried on failure with exponential backoff (``JOBS_RETRY_DELAYS``). A job that fails on
its last attempt (inline: on its only one) is kept as a ``FailedJob`` for an admin to retry.

``JOBS_SCHEDULE`` runs jobs on a timetable (cron lines or seconds) from the scheduler every
worker carries (``celery worker --beat``): RedBeat keeps the timetable in Redis behind a lock,
so one scheduler runs it and the others stand by, and each run is sent once however many
workers there are.
"""

import base64
import json
import logging
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Any

from celery import Celery, Task
from celery.schedules import crontab
from flask import Flask, current_app, has_app_context
from sqlalchemy import delete, select

from app import logs, metrics
from app.extensions import db
from app.jobs.models import FailedJob
from app.transactions import atomic, on_commit

log = logging.getLogger(__name__)

# Every job by name, as its task's body: registered with each Celery app that init_app makes.
JOBS: dict[str, Callable[..., Any]] = {}
# How the back office names a run of each job, from its arguments (never a link or a token).
DESCRIPTIONS: dict[str, Callable[..., str]] = {}


def job(
    name: str, describe: Callable[..., str] | None = None
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register ``function`` as the job ``name`` (its arguments: ids and plain values, JSON);
    ``describe(*args)`` says what a run does, for the back office (default: the first
    argument)."""

    def register(function: Callable[..., Any]) -> Callable[..., Any]:
        JOBS[name] = _retrying(function)
        if describe is not None:
            DESCRIPTIONS[name] = describe
        return function

    return register


def describe(name: str, args: Iterable[Any]) -> str:
    args = list(args)
    if name in DESCRIPTIONS:
        text = DESCRIPTIONS[name](*args)
    else:
        text = f"{name} {args[0] if args else ''}".rstrip()
    return text[: FailedJob.SUMMARY_MAX]


def init_app(app: Flask) -> Celery:
    """The app's Celery, its settings from the app's config, every registered job its task."""

    class FlaskTask(Task):
        def __call__(self, *args, **kwargs):
            # In an app context of its own, so its own database session, as on a worker.
            with _app_of(app).app_context(), logs.bind(job=self.name):
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
        # The timetable: in Redis (RedBeat), run by whichever worker's scheduler holds the lock;
        # the others take over within JOBS_SCHEDULER_TAKEOVER seconds of its end.
        timezone=config["SHOP_TIMEZONE"],
        beat_schedule={
            name: {"task": name, "schedule": _schedule(when)}
            for name, when in config["JOBS_SCHEDULE"].items()
        },
        beat_scheduler="redbeat.RedBeatScheduler",
        beat_max_loop_interval=min(10, config["JOBS_SCHEDULER_TAKEOVER"] / 2),
        result_expires=None,  # no results kept: no clean-up on the timetable
        redbeat_redis_url=config["JOBS_BROKER_URL"],
        redbeat_redis_options={},
        redbeat_key_prefix="storefront:beat:",
        redbeat_lock_timeout=config["JOBS_SCHEDULER_TAKEOVER"],
    )
    for name, body in JOBS.items():
        celery.task(name=name, bind=True, shared=False)(body)
    app.extensions["celery"] = celery
    return celery


def _schedule(when: str | float) -> crontab | timedelta:
    """A cron line ("*/5 * * * *", in SHOP_TIMEZONE) or a number of seconds."""
    if isinstance(when, str):
        return crontab.from_string(when)
    return timedelta(seconds=when)


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
            done = function(*args)
        except Exception as error:
            if task.request.is_eager:
                # Its unit has committed: the request goes on, and an admin can retry the job.
                log.exception("Job %s failed: kept for an admin to retry", task.name)
                metrics.job_run(task.name, "failed")
                _keep(task.name, args, error, attempts=1)
                return None
            delays = current_app.config["JOBS_RETRY_DELAYS"]
            attempt = task.request.retries
            if attempt >= len(delays):
                log.error("Job %s failed for good, kept for an admin: %s", task.name, error)
                metrics.job_run(task.name, "failed")
                _keep(task.name, args, error, attempts=attempt + 1)
                raise
            log.warning("Job %s%r failed (%s): retry %d", task.name, args, error, attempt + 1)
            metrics.job_run(task.name, "retried")
            raise task.retry(
                exc=error, countdown=delays[attempt], max_retries=len(delays)
            ) from error
        metrics.job_run(task.name, "done")
        return done

    run.__name__ = run.__qualname__ = function.__name__
    return run


def _keep(name: str, args: tuple, error: Exception, attempts: int) -> None:
    """Keep the failed job for the back office, in a transaction of its own."""
    db.session.rollback()  # whatever the job left
    message = f"{type(error).__name__}: {error}"[: FailedJob.ERROR_MAX]
    try:
        _insert_failed(name, list(args), message, attempts)
    except Exception:
        log.exception("Job %s could not be kept as failed", name)


@atomic
def _insert_failed(name: str, args: list, error: str, attempts: int) -> None:
    db.session.add(
        FailedJob(
            name=name,
            summary=describe(name, args),
            arguments=json.dumps(args),
            error=error,
            attempts=attempts,
        )
    )


@atomic
def retry_failed(ids: Iterable[int]) -> int:
    """Queue the failed jobs ``ids`` again (inline: run them once this commits), each once
    however many admins ask at the same moment; how many were queued. One that fails again
    comes back as a new failed job."""
    retried = 0
    for failed_id in ids:
        failed = db.session.get(FailedJob, failed_id)
        if failed is None or failed.name not in JOBS:
            continue
        gone = db.session.execute(delete(FailedJob).where(FailedJob.id == failed_id))
        if gone.rowcount == 1:  # type: ignore[attr-defined]  # DML: a CursorResult
            enqueue(failed.name, *failed.args)
            retried += 1
    return retried


def failed_jobs(limit: int = 100) -> list[FailedJob]:
    """The latest failed jobs, newest first."""
    return list(
        db.session.scalars(
            select(FailedJob).order_by(FailedJob.failed_at.desc(), FailedJob.id.desc()).limit(limit)
        )
    )


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


def timetable() -> dict[str, tuple[datetime | None, datetime | None]]:
    """Each scheduled job's last run and next run, as the workers' scheduler keeps them in
    Redis (none until a worker's scheduler has started).

    :raises redis.exceptions.ConnectionError: no Redis at JOBS_BROKER_URL.
    """
    from redbeat.schedulers import RedBeatSchedulerEntry, ensure_conf  # on use, as beat does

    celery = current_app.extensions["celery"]
    ensure_conf(celery)
    entries: dict[str, tuple[datetime | None, datetime | None]] = {}
    for name in current_app.config["JOBS_SCHEDULE"]:
        try:
            entry = RedBeatSchedulerEntry.from_key(
                RedBeatSchedulerEntry.generate_key(celery, name), app=celery
            )
        except KeyError:
            continue
        entries[name] = (entry.last_run_at, entry.due_at)
    return entries
