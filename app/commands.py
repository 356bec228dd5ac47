"""Site-wide CLI commands: ``python dbmanager.py <command>`` or ``flask <command>``."""

import time

import click
from flask import current_app
from flask.cli import with_appcontext

from app.accounts.services import admin_exists, confirm_email, create_admin, ensure_roles
from app.cart.commands import cart_cli
from app.catalog.seed import (
    SYNTHETIC_BATCH_SIZE,
    SYNTHETIC_SKU_PREFIX,
    add_demo_photos,
    add_synthetic_products,
    demo_photos_manifest,
    load_demo_catalogue,
)
from app.errors import DomainError, NotFound
from app.jobs.commands import jobs
from app.orders.commands import orders
from app.sales.demo import load_demo_offers
from app.shipping.demo import load_demo_shipping_and_tax

# What `make run` (through `seed`) prints while the shop has no admin; the README shows it too.
CREATE_ADMIN_HINT = (
    "No admin yet. Create one: .venv/bin/python dbmanager.py users create-admin EMAIL"
)


def _at_least_one(ctx, param, value: int | None) -> int | None:
    if value is not None and value < 1:
        raise click.BadParameter(f"must be 1 or more, not {value}.", ctx, param)
    return value


@click.command(
    epilog=(
        # B608: the SQL below is help text for an operator; nothing here runs it.
        f"--products commits every {SYNTHETIC_BATCH_SIZE} rows. "  # nosec B608
        "If a run is interrupted, the "
        "committed rows stay: run it again with the number still missing and it goes on after "
        "the highest synthetic SKU. To remove every synthetic product, run the SQL "
        f"DELETE FROM product WHERE slug LIKE '{SYNTHETIC_SKU_PREFIX.lower()}%' (their "
        'variants and options go with them; delete the "Synthetic" category if the run '
        "created one)."
    )
)
@click.option(
    "--products",
    "count",
    type=int,
    callback=_at_least_one,
    metavar="N",
    help="Add N synthetic products for benchmarks instead (no roles, no demo catalogue).",
)
@with_appcontext
def seed(count):
    """Load what is missing (idempotent): the built-in roles, a demo catalogue with photos if
    no products, demo shipping zones if none and demo tax rates if none; with a new demo
    catalogue, a demo sale and voucher."""
    if count is not None:
        _add_synthetic(count)
        return
    created = ensure_roles()
    click.echo(f"Roles created: {', '.join(created)}" if created else "Roles already present.")
    summary = load_demo_catalogue()
    if summary.loaded:
        click.echo(f"Loaded {summary.products} products in {summary.categories} categories.")
        if current_app.config["DEMO_PHOTOS"]:
            _add_demo_photos()
    else:
        click.echo(f"Catalogue already has {summary.products} products: left as it is.")
    click.echo(load_demo_shipping_and_tax().message)
    if summary.loaded:
        click.echo(load_demo_offers())
    if not admin_exists():
        click.echo(CREATE_ADMIN_HINT)


def _add_demo_photos() -> None:
    """The demo products' photos, with a progress bar; the rest of the seed goes on without
    them if the media settings refuse one (a photo is no reason to stop `make run`)."""
    started = time.perf_counter()
    length = sum(len(entry["photos"]) for entry in demo_photos_manifest())
    try:
        with click.progressbar(length=length, label="Adding demo photos") as bar:
            photos, products = add_demo_photos(progress=bar.update)
    except DomainError as error:
        click.echo(f"Demo photos stopped: {error.message}")
        return
    elapsed = time.perf_counter() - started
    click.echo(f"Added {photos} photos to {products} products in {elapsed:.1f} s.")


def _add_synthetic(count: int) -> None:
    started = time.perf_counter()
    try:
        with click.progressbar(length=count, label="Adding synthetic products") as bar:
            added = add_synthetic_products(count, progress=bar.update)
    except DomainError as error:
        raise click.ClickException(error.message) from error
    elapsed = time.perf_counter() - started
    click.echo(f"Added {added} synthetic products in {elapsed:.1f} s.")


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


@click.command("create-admin")
@click.argument("email")
@click.password_option(help="The new admin's password; asked twice, hidden, when left out.")
@with_appcontext
def create_admin_command(email, password):
    """Create a confirmed, active admin in one step (the shop's first admin)."""
    try:
        user = create_admin(email, password)
    except DomainError as error:
        raise click.ClickException(error.message) from error
    click.echo(f"Created admin {user.email} (confirmed, active, roles: admin, customer).")


def register_commands(app) -> None:
    app.cli.add_command(seed)
    app.cli.add_command(orders)
    app.cli.add_command(cart_cli)
    app.cli.add_command(jobs)
    # Flask-Security registers the `users` group at init_app; these belong beside create.
    app.cli.commands["users"].add_command(confirm)
    app.cli.commands["users"].add_command(create_admin_command)
