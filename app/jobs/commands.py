"""``python dbmanager.py jobs``: what waits on the queue, what runs on the timetable, what
failed; ``jobs retry`` and ``jobs purge`` (also the scheduled job ``jobs.purge``)."""

import logging
from datetime import timedelta

import click
from flask import current_app
from flask.cli import AppGroup
from kombu.exceptions import OperationalError
from redis.exceptions import RedisError

from app.jobs.mail import purge_sent_mail
from app.jobs.queue import failed_jobs, job, pending, retry_failed, timetable

log = logging.getLogger(__name__)


@click.group("jobs", cls=AppGroup, invoke_without_command=True)
@click.pass_context
def jobs(ctx):
    """The background jobs: list them (alone or `list`), retry failed ones, purge."""
    if ctx.invoked_subcommand is None:
        ctx.invoke(list_jobs)


def _down(error: Exception) -> click.ClickException:
    return click.ClickException(
        f"The queue at {current_app.config['JOBS_BROKER_URL']} does not answer ({error}): "
        "start Redis there, or set JOBS_EAGER = True to run jobs inline."
    )


@jobs.command("list")
def list_jobs():
    """The jobs waiting and running, the timetable, and the failed jobs (the default)."""
    config = current_app.config
    eager = config["JOBS_EAGER"]
    if eager:
        click.echo(
            "Jobs run inline, right after their transaction (JOBS_EAGER = True): none waits."
        )
    else:
        try:
            waiting, taken = pending()
            entries = timetable()
        except (RedisError, OperationalError) as error:
            raise _down(error) from None
        click.echo(f"{len(waiting)} waiting, {len(taken)} running (taken by a worker).")
        for name in waiting:
            click.echo(f"  waiting  {name}")
        for name in taken:
            click.echo(f"  running  {name}")
    click.echo(
        "Timetable (JOBS_SCHEDULE, run by the workers' scheduler):"
        if not eager
        else "Timetable (JOBS_SCHEDULE): with JOBS_EAGER = True no worker runs it; run these "
        "commands from cron instead:"
    )
    for name, when in config["JOBS_SCHEDULE"].items():
        line = f"  {name:<16} {when}"
        if not eager:
            last, due = entries.get(name, (None, None))
            line += f"  last run: {last:%Y-%m-%d %H:%M:%S}" if last else "  last run: never"
            line += f", next: {due:%Y-%m-%d %H:%M:%S}" if due else ""
        else:
            line += f"  python dbmanager.py {name.replace('.', ' ')}"
        click.echo(line)
    failed = failed_jobs()
    click.echo(f"{len(failed)} failed (python dbmanager.py jobs retry ID, or the back office).")
    for kept in failed:
        click.echo(
            f"  #{kept.id}  {kept.failed_at:%Y-%m-%d %H:%M}  {kept.summary}  "
            f"({kept.attempts} attempt(s)): {kept.error}"
        )


@jobs.command("retry")
@click.argument("ids", nargs=-1, type=int)
@click.option("--all", "every", is_flag=True, help="Every failed job.")
def retry(ids, every):
    """Queue failed jobs again by id (see `jobs`); one that fails again is kept again."""
    if every:
        ids = [kept.id for kept in failed_jobs(limit=10_000)]
    if not ids:
        raise click.UsageError("Name the failed jobs' ids (see `jobs`), or use --all.")
    try:
        retried = retry_failed(ids)
    except (RedisError, OperationalError) as error:
        raise _down(error) from None
    click.echo(f"Queued {retried} of {len(ids)} failed job(s) again.")


def _purge() -> str:
    days = current_app.config["JOBS_SENT_MAIL_DAYS"]
    purged = purge_sent_mail(timedelta(days=days))
    return f"Forgot {purged} e-mail key(s) older than {days} days (JOBS_SENT_MAIL_DAYS)."


@jobs.command("purge")
def purge():
    """Forget which e-mails were sent longer ago than JOBS_SENT_MAIL_DAYS (daily, like cron)."""
    click.echo(_purge())


@job("jobs.purge", describe=lambda: "Forget old sent-mail keys (jobs purge)")
def purge_job() -> str:
    """``jobs purge`` on the workers' timetable."""
    done = _purge()
    log.info("jobs.purge: %s", done)
    return done
