"""The ``storefront`` console script: dbmanager.py's command group, installed with the package."""

import click
from flask.cli import FlaskGroup

from app.app_factory import create_app


@click.group(cls=FlaskGroup, create_app=lambda: create_app(), add_default_commands=False)
def cli():
    """Storefront database and user management."""
