"""Order commands: ``python dbmanager.py orders expire``, also the scheduled job
``orders.expire`` (JOBS_SCHEDULE)."""

import logging

import click
from flask.cli import AppGroup

from app.jobs.queue import job
from app.orders.state import Resolution, resolve_unpaid_orders

log = logging.getLogger(__name__)

orders = AppGroup("orders", help="Orders that need the shop's attention.")


def _outcome(outcome: Resolution) -> str:
    return (
        f"Cancelled {len(outcome.cancelled)} unpaid order(s), marked {len(outcome.paid)} paid, "
        f"sent {outcome.refunds_sent} pending refund(s)."
    )


@orders.command("expire")
def expire():
    """Cancel unpaid orders past ORDER_PAYMENT_TIMEOUT, settle lost card replies, resend refunds.

    Safe to run at any time and from several machines at once (e.g. every 5 minutes from cron).
    """
    outcome = resolve_unpaid_orders()
    click.echo(_outcome(outcome))
    for number in outcome.cancelled:
        click.echo(f"  cancelled {number}")
    for number in outcome.paid:
        click.echo(f"  paid {number}")


@job("orders.expire", describe=lambda: "Settle unpaid orders (orders expire)")
def expire_job() -> str:
    """``orders expire`` on the workers' timetable."""
    done = _outcome(resolve_unpaid_orders())
    log.info("orders.expire: %s", done)
    return done
