"""Site-wide CLI commands: ``python dbmanager.py <command>`` or ``flask <command>``."""

import click
from flask.cli import with_appcontext

from app.accounts.services import confirm_email, ensure_roles
from app.errors import NotFound


@click.command()
@with_appcontext
def seed():
    """Load demo data (idempotent): the built-in roles."""
    created = ensure_roles()
    click.echo(f"Roles created: {', '.join(created)}" if created else "Roles already present.")


@click.command("confirm")
@click.argument("email")
@with_appcontext
def confirm(email):
    """Confirm a user's e-mail address without the e-mailed link."""
    try:
        changed = confirm_email(email)
    except NotFound as error:
        raise click.ClickException(error.message) from error
    click.echo(f"Confirmed {email}." if changed else f"{email} was already confirmed.")


def register_commands(app) -> None:
    app.cli.add_command(seed)
    # Flask-Security registers the `users` group at init_app; confirm belongs beside create.
    app.cli.commands["users"].add_command(confirm)
