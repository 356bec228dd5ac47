"""Order commands: ``python dbmanager.py orders expire``."""

import click
from flask.cli import AppGroup

from app.orders.state import resolve_unpaid_orders

orders = AppGroup("orders", help="Orders that need the shop's attention.")


@orders.command("expire")
def expire():
    """Cancel unpaid orders past ORDER_PAYMENT_TIMEOUT, settle lost card replies, resend refunds.

    Safe to run at any time and from several machines at once (e.g. every 5 minutes from cron).
    """
    outcome = resolve_unpaid_orders()
    click.echo(
        f"Cancelled {len(outcome.cancelled)} unpaid order(s), marked {len(outcome.paid)} paid, "
        f"sent {outcome.refunds_sent} pending refund(s)."
    )
    for number in outcome.cancelled:
        click.echo(f"  cancelled {number}")
    for number in outcome.paid:
        click.echo(f"  paid {number}")
