"""Site-wide CLI commands: ``python dbmanager.py <command>`` or ``flask <command>``."""

import click
from flask.cli import with_appcontext

from app.accounts.services import ensure_roles


@click.command()
@with_appcontext
def seed():
    """Load demo data (idempotent): the built-in roles."""
    created = ensure_roles()
    click.echo(f"Roles created: {', '.join(created)}" if created else "Roles already present.")


def register_commands(app) -> None:
    app.cli.add_command(seed)
