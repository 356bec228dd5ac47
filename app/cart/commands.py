"""Cart maintenance: ``python dbmanager.py cart purge``, also the scheduled job ``cart.purge``
(JOBS_SCHEDULE)."""

import logging
from datetime import timedelta

import click
from flask import current_app
from flask.cli import AppGroup

from app.cart.services import PURGE_BATCH_SIZE, purge_anonymous_carts
from app.jobs.queue import job

log = logging.getLogger(__name__)

cart_cli = AppGroup("cart", help="Cart maintenance.")


def _purge(batch_size: int) -> str:
    max_age = timedelta(seconds=current_app.config["CART_COOKIE_MAX_AGE"])
    purged = purge_anonymous_carts(max_age, batch_size)
    return f"Purged {purged} anonymous carts unchanged for more than {max_age.days} days."


@cart_cli.command("purge")
@click.option(
    "--batch-size",
    type=click.IntRange(min=1),
    default=PURGE_BATCH_SIZE,
    show_default=True,
    help="Carts deleted per transaction.",
)
def purge(batch_size):
    """Delete anonymous carts unchanged for longer than the cart cookie lives
    (CART_COOKIE_MAX_AGE). Safe to re-run, or to run while visitors shop."""
    click.echo(_purge(batch_size))


@job("cart.purge", describe=lambda: "Delete old anonymous carts (cart purge)")
def purge_job() -> str:
    """``cart purge`` on the workers' timetable."""
    done = _purge(PURGE_BATCH_SIZE)
    log.info("cart.purge: %s", done)
    return done
