"""Fixtures: every DB test runs on SQLite (in memory) and on a real MariaDB server.

``--db=sqlite`` or ``--db=mariadb`` runs one backend only.
"""

import os
import re
import tempfile
import threading
from pathlib import Path

import pytest
from flask_migrate import upgrade
from flask_security import hash_password
from flask_security.utils import naive_utcnow
from sqlalchemy import text

# Tests never read the developer's instance/ (secrets, outbox, SQLite file).
os.environ["STOREFRONT_INSTANCE_PATH"] = tempfile.mkdtemp(prefix="storefront-instance-")
for _key in ("DATABASE_URL", "ENV", "SECRET_KEY", "RATELIMIT_STORAGE_URI", "MAIL_BACKEND"):
    os.environ.pop(_key, None)

from app.accounts.datastore import user_datastore  # noqa: E402
from app.app_factory import create_app  # noqa: E402
from app.catalog.models import Category, Product  # noqa: E402
from app.catalog.services import slugify  # noqa: E402
from app.extensions import db  # noqa: E402
from tests.mariadb import MariaDBServer  # noqa: E402
from tests.servers import RedisServer  # noqa: E402

PASSWORD = "correct horse battery staple"

TEST_CONFIG = {
    "TESTING": True,
    "SECRET_KEY": "test-secret-key",
    "SECURITY_PASSWORD_SALT": "test-salt",
    "SECURITY_TOTP_SECRETS": {"1": "test-totp-secret"},
    "SECURITY_MULTI_FACTOR_RECOVERY_CODES_KEYS": ["dGVzdC1yZWNvdmVyeS1jb2Rlcy1rZXktMzItYnl0ZXM="],
    "SECURITY_PASSWORD_HASH_PASSLIB_OPTIONS": {"bcrypt__rounds": 4},
    "MAIL_BACKEND": "locmem",
    "RATELIMIT_STORAGE_URI": "memory://",
    "SITE_URL": "http://localhost",  # the test client's default host
}
# What production's start-up checks accept (app_factory.check_production_config).
PRODUCTION_CONFIG = {
    **TEST_CONFIG,
    "ENV": "production",
    "SECRET_KEY": "test-secret-key-long-enough-for-production",
    "SECURITY_PASSWORD_SALT": "test-salt-long-enough-for-production-use",
    "SECURITY_TOTP_SECRETS": {"1": "test-totp-secret-long-enough-for-production"},
    "SITE_URL": "https://shop.example",
    "PAYMENT_METHODS": ["manual"],
}


def pytest_addoption(parser):
    parser.addoption(
        "--db",
        default="sqlite,mariadb",
        help="comma-separated database backends to run the suite on (sqlite, mariadb)",
    )


def pytest_generate_tests(metafunc):
    if "backend" in metafunc.fixturenames:
        names = [n.strip() for n in metafunc.config.getoption("db").split(",") if n.strip()]
        if metafunc.definition.get_closest_marker("mariadb_only"):
            names = [n for n in names if n == "mariadb"]
        metafunc.parametrize("backend", names, indirect=True, scope="session")


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
def mariadb_schema_url(backend):
    """MariaDB: one database, its schema built once by `db upgrade`, shared by the tests."""
    url = backend.server.create_database("storefront_test")
    app = create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        upgrade()
        db.engine.dispose()
    return url


@pytest.fixture
def app(backend, request):
    if backend.name == "sqlite":
        app = create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": "sqlite://"})
        with app.app_context():
            db.create_all()
    else:
        url = request.getfixturevalue("mariadb_schema_url")
        app = create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": url})
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


def run_together(count, work):
    """Run work(i) in `count` threads released at once; return their results or exceptions."""
    barrier = threading.Barrier(count)
    results = [None] * count

    def target(i):
        barrier.wait()
        try:
            results[i] = work(i)
        except Exception as error:  # noqa: BLE001 - collected and asserted by the test
            results[i] = error

    threads = [threading.Thread(target=target, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


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


def make_user(app, email="shopper@example.com", password=PASSWORD, confirmed=True, roles=None):
    """Create a user through the datastore, as registration does, and return its id."""
    with app.app_context():
        user = user_datastore.create_user(
            email=email,
            password=hash_password(password),
            confirmed_at=naive_utcnow() if confirmed else None,
            roles=roles,
        )
        db.session.commit()
        return user.id


@pytest.fixture
def user_factory(app):
    def factory(**kwargs):
        return make_user(app, **kwargs)

    return factory


def make_category(app, name="Tea", parent_id=None) -> int:
    with app.app_context():
        category = Category(name=name, slug=slugify(name), parent_id=parent_id)
        db.session.add(category)
        db.session.commit()
        return category.id


def make_product(app, name="Green Tea", **fields) -> int:
    """Create an active product (stock 10, EUR 4.50 unless given) and return its id."""
    values = {
        "sku": f"SKU-{slugify(name).upper()}",
        "slug": slugify(name),
        "name": name,
        "description": f"About {name}.",
        "price_cents": 450,
        "currency": "EUR",
        "stock": 10,
        "is_active": True,
        **fields,
    }
    with app.app_context():
        product = Product(**values)
        db.session.add(product)
        db.session.commit()
        return product.id


@pytest.fixture
def product_factory(app):
    def factory(name="Green Tea", **fields):
        return make_product(app, name, **fields)

    return factory


@pytest.fixture
def category_factory(app):
    def factory(name="Tea", parent_id=None):
        return make_category(app, name, parent_id)

    return factory


def csrf_token(client, path="/login") -> str:
    """Load a form page and return its CSRF token (stored in the session)."""
    html = client.get(path).get_data(as_text=True)
    match = re.search(r'<input[^>]*name="csrf_token"[^>]*value="([^"]+)"', html) or re.search(
        r'<meta name="csrf-token" content="([^"]+)"', html
    )
    assert match, f"no csrf_token on {path}"
    return match.group(1)


def login(client, email="shopper@example.com", password=PASSWORD, remember=False):
    data = {"email": email, "password": password, "csrf_token": csrf_token(client, "/login")}
    if remember:
        data["remember"] = "y"
    return client.post("/login", data=data)
