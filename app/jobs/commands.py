"""``python dbmanager.py jobs``: what waits on the queue."""

import click
from flask import current_app
from flask.cli import with_appcontext
from kombu.exceptions import OperationalError
from redis.exceptions import RedisError

from app.jobs.queue import pending


@click.command("jobs")
@with_appcontext
def jobs():
    """List the jobs waiting on the queue (JOBS_BROKER_URL) and those workers are running."""
    config = current_app.config
    if config["JOBS_EAGER"]:
        click.echo(
            "Jobs run inline, right after their transaction (JOBS_EAGER = True): none waits."
        )
        return
    try:
        waiting, taken = pending()
    except (RedisError, OperationalError) as error:
        raise click.ClickException(
            f"The queue at {config['JOBS_BROKER_URL']} does not answer ({error}): start Redis "
            "there, or set JOBS_EAGER = True to run jobs inline."
        ) from None
    click.echo(f"{len(waiting)} waiting, {len(taken)} running (taken by a worker).")
    for name in waiting:
        click.echo(f"  waiting  {name}")
    for name in taken:
        click.echo(f"  running  {name}")
