"""Fixtures: every DB test runs on SQLite (in memory) and on a real MariaDB server.

``--db=sqlite`` or ``--db=mariadb`` runs one backend only. Markers (pyproject.toml): ``e2e``,
``slow``, ``concurrency``, and ``mariadb``, which every test on the MariaDB backend gets here;
set on a test by hand, it keeps the test to MariaDB. Fast inner loop:
``pytest --db=sqlite -m "not e2e and not slow"``. Rows: tests/factories.py; plain helpers and
constants: tests/helpers.py.
"""

import os
import tempfile
from pathlib import Path

import pytest
import stripe
from flask_migrate import upgrade
from sqlalchemy import text
from werkzeug.routing.rules import Rule

# Tests never read the developer's instance/ (secrets, outbox, SQLite file).
os.environ["STOREFRONT_INSTANCE_PATH"] = tempfile.mkdtemp(prefix="storefront-instance-")
for _key in ("DATABASE_URL", "ENV", "SECRET_KEY", "RATELIMIT_STORAGE_URI", "MAIL_BACKEND"):
    os.environ.pop(_key, None)

from app.accounts.models import ADMIN, CUSTOMER  # noqa: E402
from app.app_factory import create_app  # noqa: E402
from app.extensions import db  # noqa: E402
from tests.factories import (  # noqa: E402
    CategoryFactory,
    ProductFactory,
    UserFactory,
    create,
    fill_cart,
)
from tests.helpers import ADMIN_EMAIL, TEST_CONFIG, login  # noqa: E402
from tests.mariadb import MariaDBServer  # noqa: E402
from tests.servers import RedisServer  # noqa: E402
from tests.stripe_fake import StripeFake  # noqa: E402

_compile_builder = Rule._compile_builder
_builders: dict = {}


def _shared_builder(rule: Rule, append_unknown: bool = True):
    """werkzeug compiles two Python functions per URL rule for every app: about 90 ms of
    create_app's 190 ms, and the suite makes thousands of apps. A builder depends only on the
    rule's parsed parts, defaults and converters (it gets the rule as ``self`` when called), so
    the suite compiles each rule's once and every app shares it."""
    key = (
        rule.rule,
        tuple(rule._trace),
        tuple(sorted((rule.defaults or {}).items())),
        tuple((name, type(c)) for name, c in rule._converters.items()),
        append_unknown,
    )
    try:
        builder = _builders.get(key)
    except TypeError:  # a default that cannot be hashed
        return _compile_builder(rule, append_unknown)
    if builder is None:
        builder = _builders[key] = _compile_builder(rule, append_unknown)
    return builder


Rule._compile_builder = _shared_builder  # type: ignore[method-assign]


def pytest_addoption(parser):
    parser.addoption(
        "--db",
        default="sqlite,mariadb",
        help="comma-separated database backends to run the suite on (sqlite, mariadb)",
    )


def pytest_generate_tests(metafunc):
    if "backend" in metafunc.fixturenames:
        names = [n.strip() for n in metafunc.config.getoption("db").split(",") if n.strip()]
        if metafunc.definition.get_closest_marker("mariadb"):
            names = [n for n in names if n == "mariadb"]
        metafunc.parametrize("backend", names, indirect=True, scope="session")


def pytest_collection_modifyitems(config, items):
    """Mark every test that runs on the MariaDB backend ``mariadb`` (``-m "not mariadb"``);
    deselect, rather than skip, the MariaDB-only tests when ``--db`` leaves MariaDB out."""
    kept, left_out = [], []
    for item in items:
        callspec = getattr(item, "callspec", None)
        backend = callspec.params.get("backend") if callspec else None
        if backend == "mariadb":
            item.add_marker(pytest.mark.mariadb)
        no_backend = "backend" in item.fixturenames and backend not in ("sqlite", "mariadb")
        (left_out if no_backend else kept).append(item)
    if left_out:
        config.hook.pytest_deselected(items=left_out)
        items[:] = kept


@pytest.fixture(scope="session")
def mariadb_server():
    server = MariaDBServer().start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def redis_server():
    server = RedisServer().start()
    yield server
    server.stop()


class Backend:
    """One database backend: gives URLs for fresh databases and cleans up after a test."""

    def __init__(self, name: str, request):
        self.name = name
        self._request = request
        self._counter = 0

    @property
    def server(self) -> MariaDBServer:
        return self._request.getfixturevalue("mariadb_server")

    def fresh_url(self, tmp_path: Path) -> str:
        """An empty database that only the caller uses (for migrations, subprocesses)."""
        self._counter += 1
        if self.name == "sqlite":
            return f"sqlite:///{tmp_path / f'db{self._counter}.sqlite'}"
        return self.server.create_database(f"fresh_{self._counter}")


@pytest.fixture(scope="session")
def backend(request):
    if request.param not in ("sqlite", "mariadb"):
        raise pytest.UsageError(f"unknown --db backend {request.param!r}")
    return Backend(request.param, request)


@pytest.fixture(scope="session")
def mariadb_schema_url(mariadb_server):
    """MariaDB: one database, its schema built once by `db upgrade`, shared by the tests.

    It hangs on the server, not on ``backend``: a pytest-xdist worker that goes from SQLite
    tests to MariaDB ones and back keeps it rather than migrating again."""
    url = mariadb_server.create_database("storefront_test")
    app = create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        upgrade()
        db.engine.dispose()
    return url


@pytest.fixture(scope="session")
def stripe_fake_server():
    fake = StripeFake().start()
    yield fake
    fake.stop()


@pytest.fixture
def stripe_fake(stripe_fake_server, monkeypatch):
    """The fake Stripe API (tests/stripe_fake.py), emptied. The ``app`` of a test that uses it
    offers "stripe" and calls the fake (``stripe_config``); the library retries at once."""
    stripe_fake_server.reset()
    monkeypatch.setattr(stripe.HTTPClient, "INITIAL_DELAY", 0.01)
    monkeypatch.setattr(stripe.HTTPClient, "MAX_DELAY", 0.01)
    return stripe_fake_server


def stripe_config(fake: StripeFake) -> dict:
    """The settings that make the app's Stripe provider call ``fake``."""
    return {
        "PAYMENT_METHODS": ["stripe", "test", "manual"],
        "STRIPE_SECRET_KEY": "sk_test_fake",
        "STRIPE_PUBLISHABLE_KEY": "pk_test_fake",
        "STRIPE_WEBHOOK_SECRET": fake.webhook_secret,
        "STRIPE_API_BASE": fake.url,
        "STRIPE_CHECKOUT_ORIGIN": fake.url,  # its payment page, a form target (CSP)
    }


@pytest.fixture
def app(backend, request):
    """The app on the test's backend; ``@pytest.mark.app_config(NAME=value)`` adds settings,
    after those for the fake Stripe when the test uses ``stripe_fake``."""
    marker = request.node.get_closest_marker("app_config")
    config = dict(TEST_CONFIG)
    if "stripe_fake" in request.fixturenames:
        config.update(stripe_config(request.getfixturevalue("stripe_fake")))
    config.update(marker.kwargs if marker else {})
    if backend.name == "sqlite":
        app = create_app({**config, "SQLALCHEMY_DATABASE_URI": "sqlite://"})
        with app.app_context():
            db.create_all()
    else:
        url = request.getfixturevalue("mariadb_schema_url")
        app = create_app({**config, "SQLALCHEMY_DATABASE_URI": url})
    yield app
    with app.app_context():
        db.session.remove()
        if backend.name == "mariadb":
            with db.engine.begin() as conn:
                for table in reversed(db.metadata.sorted_tables):
                    conn.execute(text(f"DELETE FROM `{table.name}`"))
        db.engine.dispose()


@pytest.fixture
def threaded_app(app, backend, tmp_path):
    """An app whose engine gives each thread its own connection, for race tests.

    MariaDB: the test's database with a pool of 30. SQLite: a database file (an in-memory
    database is one connection shared by every thread), its schema made here.
    """
    if backend.name == "mariadb":
        url = app.config["SQLALCHEMY_DATABASE_URI"]
        options = {"pool_size": 25, "max_overflow": 5}
    else:
        url = f"sqlite:///{tmp_path / 'threads.sqlite'}"
        options = {"pool_size": 25, "max_overflow": 5, "connect_args": {"timeout": 30}}
    threaded = create_app(
        {**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": url, "SQLALCHEMY_ENGINE_OPTIONS": options}
    )
    if backend.name == "sqlite":
        with threaded.app_context():
            db.create_all()
    yield threaded
    with threaded.app_context():
        db.engine.dispose()


@pytest.fixture
def pooled_app(app):
    """An app on the same MariaDB database whose pool has a connection per thread."""
    pooled = create_app(
        {
            **TEST_CONFIG,
            "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
            "SQLALCHEMY_ENGINE_OPTIONS": {"pool_size": 25, "max_overflow": 5},
        }
    )
    yield pooled
    with pooled.app_context():
        db.engine.dispose()


@pytest.fixture
def filled_cart(app, user_factory, product_factory):
    """A customer (shopper@example.com) whose cart holds 2 Green Tea (stock 5, €4.50) and
    1 Mug (stock 2, €10): ``{"user_id", "tea", "mug"}``."""
    user_id = user_factory()
    tea = product_factory("Green Tea", stock=5, price_cents=450)
    mug = product_factory("Mug", stock=2, price_cents=1000)
    fill_cart(app, user_id, (tea, 2), (mug, 1))
    return {"user_id": user_id, "tea": tea, "mug": mug}


@pytest.fixture
def admin_id(user_factory):
    """An admin (ADMIN_EMAIL) who is also a customer."""
    return user_factory(email=ADMIN_EMAIL, roles=[CUSTOMER, ADMIN])


@pytest.fixture
def as_admin(client, admin_id):
    """The test client, logged in as the admin."""
    assert login(client, ADMIN_EMAIL).status_code == 302
    return client


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def outbox(app):
    """Messages sent during the test (Flask-Mailman's in-memory backend)."""
    mailman = app.extensions["mailman"]
    mailman.outbox = []
    return mailman.outbox


@pytest.fixture
def user_factory(app):
    """user_factory(email=..., password=..., confirmed=..., roles=...): a user's id."""

    def make(**fields) -> int:
        return create(app, UserFactory, **fields)

    return make


@pytest.fixture
def category_factory(app):
    """category_factory(name, parent_id=None): a category's id."""

    def make(name="Tea", parent_id=None) -> int:
        return create(app, CategoryFactory, name=name, parent_id=parent_id)

    return make


@pytest.fixture
def product_factory(app):
    """product_factory(name, **fields): an active product's id (10 in stock, EUR 4.50)."""

    def make(name="Green Tea", **fields) -> int:
        return create(app, ProductFactory, name=name, **fields)

    return make
