"""The Storefront command line (a Flask CLI group): the database, users, roles, demo data, jobs.

The same group is installed as ``storefront`` (app/manage.py); ``flask <command>`` has them too.
python dbmanager.py db upgrade|migrate|downgrade|current|history   (Flask-Migrate)
python dbmanager.py users create|activate|...  roles create|add|... (Flask-Security)
python dbmanager.py seed                                           (demo data)
"""

import click
from flask.cli import FlaskGroup

from app.app_factory import create_app


@click.group(cls=FlaskGroup, create_app=lambda: create_app(), add_default_commands=False)
def cli():
    """Storefront database and user management."""


if __name__ == "__main__":
    cli()
