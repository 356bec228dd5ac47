"""Migrations: upgrading an empty database gives exactly the models, and they reverse cleanly."""

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect

from app.app_factory import create_app
from app.extensions import db
from tests.conftest import TEST_CONFIG


@pytest.fixture
def empty_db_app(backend, tmp_path):
    """An app context on an empty database of the backend; engines disposed afterwards."""
    url = backend.fresh_url(tmp_path)
    app = create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


def schema_diff() -> list:
    """What alembic autogenerate would still write: [] when the schema matches the models."""
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return compare_metadata(context, db.metadata)


def current_revision() -> str | None:
    with db.engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def table_names() -> list[str]:
    return sorted(inspect(db.engine).get_table_names())


def test_upgrade_gives_exactly_the_models(empty_db_app):
    """`upgrade` on an empty database: every model table, no diff, stamped at head."""
    upgrade()
    assert schema_diff() == []
    assert table_names() == sorted([*db.metadata.tables, "alembic_version"])
    assert current_revision() is not None


def test_downgrade_to_base_then_upgrade_again(empty_db_app):
    """`downgrade base` drops every table but alembic_version; a new upgrade has no diff."""
    upgrade()
    head = current_revision()

    downgrade(revision="base")
    assert table_names() == ["alembic_version"]
    assert current_revision() is None

    upgrade()
    assert schema_diff() == []
    assert current_revision() == head
