"""Operations: flask, storefront, dbmanager.py, cli.py, server.py, uwsgi.ini as real processes."""

import json
import os
import re
import signal
import socket
import subprocess
import sys
import sysconfig
import threading
import time
import tomllib
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import redis
import requests
from sqlalchemy import create_engine, inspect, text

from app.app_factory import create_app
from app.catalog import search
from app.commands import CREATE_ADMIN_HINT
from app.extensions import db
from app.sales.demo import LOADED as DEMO_OFFERS
from tests.factories import UserFactory, create
from tests.helpers import TEST_CONFIG, post_chunked

ROOT = Path(__file__).resolve().parent.parent
UWSGI = Path(sys.executable).parent / "uwsgi"
FLASK = Path(sys.executable).parent / "flask"
ADMIN_EMAIL = "admin@example.com"
ADMIN_PASSWORD = "Qv7#plum-Harbor-91!zest"
# Settings that pass production's start-up checks (uwsgi.ini sets ENV=production).
SECRETS = """\
SECRET_KEY = "ops-test-secret-key-long-enough-for-production"
SECURITY_PASSWORD_SALT = "ops-test-salt-long-enough-for-production"
SECURITY_TOTP_SECRETS = {"1": "ops-test-totp-secret-long-enough-for-production"}
SITE_URL = "https://127.0.0.1"
PAYMENT_METHODS = ["manual"]
SECURITY_MULTI_FACTOR_RECOVERY_CODES_KEYS = ["b3BzLXRlc3QtcmVjb3ZlcnktY29kZXMta2V5LTMyYnk="]
"""
# Production config with every secret but SECRET_KEY.
NO_SECRET_KEY = "\n".join(line for line in SECRETS.splitlines() if "SECRET_KEY" not in line)
FAST_HASH = 'SECURITY_PASSWORD_HASH_PASSLIB_OPTIONS = {"bcrypt__rounds": 4}\n'
APP_READY = "WSGI app 0 (mountpoint='') ready"
# No HTTP proxy from the environment for requests to the servers under test.
HTTP = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def make_env(tmp_path: Path, database_url: str, config: str = SECRETS + FAST_HASH) -> dict:
    """The environment of a subprocess: its own instance folder and database."""
    instance = tmp_path / "instance"
    instance.mkdir(exist_ok=True)
    (instance / "application.cfg.py").write_text(config)
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("UWSGI_", "STOREFRONT_", "FLASK_"))
    }
    for key in ("ENV", "SECRET_KEY", "SECURITY_PASSWORD_SALT", "HOST", "PORT"):
        env.pop(key, None)
    env.update(DATABASE_URL=database_url, STOREFRONT_INSTANCE_PATH=str(instance))
    env["STOREFRONT_DEMO_PHOTOS"] = "false"  # 3 s a seed; on where a test shows make run's seed
    return env


@pytest.fixture
def env(backend, tmp_path):
    return make_env(tmp_path, backend.fresh_url(tmp_path))


@pytest.fixture
def uwsgi_env(backend, tmp_path, redis_server):
    """Production settings for uwsgi's workers: rate limits and the page cache shared
    through Redis."""
    config = (
        f"{SECRETS}{FAST_HASH}RATELIMIT_STORAGE_URI = {redis_server.url!r}\n"
        f"CACHE_REDIS_URL = {redis_server.url!r}\n"
    )
    return make_env(tmp_path, backend.fresh_url(tmp_path), config)


def start_uwsgi(env: dict, log: Path, *args: str, processes: int = 2) -> tuple:
    """uwsgi from uwsgi.ini on a free port; returns (process, base URL)."""
    port = free_port()
    uwsgi_env = {**env, "UWSGI_HTTP_SOCKET": f"127.0.0.1:{port}", "UWSGI_PROCESSES": str(processes)}
    command = [str(UWSGI), "--ini", str(ROOT / "uwsgi.ini"), *args]
    return start_server(command, uwsgi_env, log, port), f"http://127.0.0.1:{port}"


def run_uwsgi_to_exit(env: dict) -> subprocess.CompletedProcess:
    """Run uwsgi (uwsgi.ini) in the foreground, for a start that must fail; its exit and log."""
    return subprocess.run(
        [str(UWSGI), "--ini", str(ROOT / "uwsgi.ini")],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def run(env: dict, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    """Run ``python <args>`` from the repository root."""
    return subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def run_ok(env: dict, *args: str) -> str:
    result = run(env, *args)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def run_program_ok(env: dict, program: Path, *args: str, cwd: Path = ROOT, stdin: str = "") -> str:
    """Run an installed program (``flask``, ``storefront``) from ``cwd``; its output."""
    result = subprocess.run(
        [str(program), *args],
        cwd=cwd,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def db_upgrade(env: dict) -> None:
    run_ok(env, "dbmanager.py", "db", "upgrade")


def query(url: str, sql: str) -> list[tuple]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return [tuple(row) for row in conn.execute(text(sql))]
    finally:
        engine.dispose()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def get(url: str) -> tuple[int, str]:
    try:
        with HTTP.open(url, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def start_server(args: list, env: dict, log: Path, port: int) -> subprocess.Popen:
    """Start a server in its own process group; return once it answers HTTP."""
    with log.open("w") as out:
        proc = subprocess.Popen(
            args, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    deadline = time.monotonic() + 60
    while True:
        try:
            get(f"http://127.0.0.1:{port}/api/v1/health")
            return proc
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                stop_group(proc)
                pytest.fail(f"server did not answer on port {port}:\n{log.read_text()}")
            time.sleep(0.2)


def wait_for_log(log: Path, text: str, count: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while log.read_text().count(text) < count:
        assert time.monotonic() < deadline, f"{text!r} not {count} times in:\n{log.read_text()}"
        time.sleep(0.2)


def stop_group(proc: subprocess.Popen) -> None:
    """Kill whatever is left of the process group (reloader child, uwsgi workers)."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait(timeout=10)


def test_db_upgrade_creates_the_tables_and_seed_is_idempotent(env):
    """`db upgrade` builds every model table; `seed` adds the roles and demo catalogue once."""
    db_upgrade(env)
    engine = create_engine(env["DATABASE_URL"])
    try:
        tables = set(inspect(engine).get_table_names())
    finally:
        engine.dispose()
    own = {t for t in tables if not t.startswith(search.FTS_TABLES)}  # and SQLite's FTS5 tables
    assert own == {*db.metadata.tables, "alembic_version"}

    first = run_ok({**env, "STOREFRONT_DEMO_PHOTOS": "true"}, "dbmanager.py", "seed")
    url = env["DATABASE_URL"]
    [(products, categories)] = query(
        url, "SELECT (SELECT COUNT(*) FROM product), (SELECT COUNT(*) FROM category)"
    )
    assert products > 0
    assert re.sub(r"in \d+\.\d s\.", "in 9.9 s.", first) == (
        f"Roles created: admin, customer\nLoaded {products} products in {categories} categories.\n"
        "Adding demo photos\nAdded 14 photos to 7 products in 9.9 s.\n"
        "Loaded 3 shipping zones and 32 tax rates.\n"
        f"{DEMO_OFFERS}\n{CREATE_ADMIN_HINT}\n"
    )
    second = run_ok(env, "dbmanager.py", "seed")
    assert second == (
        f"Roles already present.\nCatalogue already has {products} products: left as it is.\n"
        "Shipping zones and tax rates already present: left as they are.\n"
        f"{CREATE_ADMIN_HINT}\n"
    )
    assert query(url, "SELECT name FROM role ORDER BY name") == [("admin",), ("customer",)]
    assert query(url, "SELECT COUNT(*) FROM product") == [(products,)]


def test_cli_created_admin_is_also_a_customer(env):
    """`users create` + `roles add` make an active admin who is a customer too."""
    db_upgrade(env)
    run_ok(env, "dbmanager.py", "seed")
    create = ("users", "create", ADMIN_EMAIL, "--password", ADMIN_PASSWORD, "--active")
    created = run_ok(env, "dbmanager.py", *create)
    assert created.splitlines()[0] == "User created successfully."
    added = run_ok(env, "dbmanager.py", "roles", "add", ADMIN_EMAIL, "admin")
    assert added == f'Role "admin" added to user "{ADMIN_EMAIL}" successfully.\n'

    command = (
        "from flask_security import verify_password; "
        f"u = user_datastore.find_user(email={ADMIN_EMAIL!r}); "
        f"print(u.role_names, u.active, verify_password({ADMIN_PASSWORD!r}, u.password))"
    )
    assert run_ok(env, "cli.py", "-c", command) == "['admin', 'customer'] True True\n"


def test_cli_runs_one_command_with_the_app_preloaded(env):
    """`cli.py -c` runs in the app context with app, db, User, Role and user_datastore."""
    db_upgrade(env)
    app = create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": env["DATABASE_URL"]})
    try:
        create(app, UserFactory, email="one@example.com")
        create(app, UserFactory, email="two@example.com")
    finally:
        with app.app_context():
            db.engine.dispose()

    assert run_ok(env, "cli.py", "-c", "print(User.query.count())") == "2\n"
    command = (
        "print(app.import_name, Role.query.count(), type(user_datastore).__name__, "
        "db.session.get(User, 1).email)"
    )
    expected = "app.app_factory 1 UserDatastore one@example.com\n"
    assert run_ok(env, "cli.py", "-c", command) == expected


def test_flask_command_finds_the_app_from_the_root_with_no_flags(env):
    """.flaskenv names the app: `flask db`, `users`, `routes` and `shell` need no --app."""
    assert not any(key.startswith("FLASK_") for key in env)

    run_program_ok(env, FLASK, "db", "upgrade")
    [(revision,)] = query(env["DATABASE_URL"], "SELECT version_num FROM alembic_version")
    assert run_program_ok(env, FLASK, "db", "current").splitlines()[-1] == f"{revision} (head)"

    users_help = run_program_ok(env, FLASK, "users", "--help")
    assert re.search(r"^  create +Create a user\.$", users_help, re.MULTILINE)
    assert re.search(r"^  confirm +Confirm a user's e-mail", users_help, re.MULTILINE)
    create = ("users", "create", ADMIN_EMAIL, "--password", ADMIN_PASSWORD, "--active")
    assert run_program_ok(env, FLASK, *create).splitlines()[0] == "User created successfully."

    routes = run_program_ok(env, FLASK, "routes").splitlines()
    assert routes[0].split() == ["Endpoint", "Methods", "Rule"]
    assert ["api.catalog.list_products", "GET", "/api/v1/products"] in [r.split() for r in routes]
    assert ["pages.cart.show", "GET", "/cart"] in [r.split() for r in routes]

    command = f"print(User.query.count(), user_datastore.find_user(email={ADMIN_EMAIL!r}).active)"
    shell = run_program_ok(env, FLASK, "shell", stdin=command + "\n")
    assert ">>> 1 True\n" in shell


def test_app_package_exports_create_app_without_an_import_cycle(tmp_path):
    """`from app import create_app` (flask's FLASK_APP=app) in a fresh interpreter: app/__init__
    imports the factory, which imports app's modules back (`from app import admin, ...`)."""
    script = (
        "import app.extensions; from app import create_app; import app.app_factory as factory; "
        "print(create_app is factory.create_app, create_app().import_name)"
    )
    assert run_ok(make_env(tmp_path, "sqlite://"), "-c", script) == "True app.app_factory\n"


def test_project_dependencies_name_every_pinned_requirement():
    """pyproject.toml's [project] dependencies (lower bounds) and requirements.txt (the lock)
    name the same packages."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]

    def name(requirement: str) -> str:
        return re.sub(r"[-_.]+", "-", re.split(r"[<>=!~ ;\[]", requirement)[0]).lower()

    pinned = [
        line.strip()
        for line in (ROOT / "requirements.txt").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert all("==" in line for line in pinned)
    assert all(">=" in dependency for dependency in project["dependencies"])
    assert sorted(map(name, project["dependencies"])) == sorted(map(name, pinned))
    assert project["scripts"] == {"storefront": "app.manage:cli"}


@pytest.fixture(scope="module")
def storefront_venv(tmp_path_factory) -> Path:
    """A throwaway virtualenv with the package installed editable (`pip install -e .`), offline:
    it sees this venv's packages (a .pth line), so no dependency and no build tool is fetched."""
    venv = tmp_path_factory.mktemp("venv")
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", venv], check=True)
    [site_packages] = venv.glob("lib/python*/site-packages")
    (site_packages / "shared_venv.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    install = [venv / "bin" / "python", "-m", "pip", "install", "--quiet", "--no-deps"]
    install += ["--no-build-isolation", "--no-index", "--editable", str(ROOT)]
    result = subprocess.run(install, cwd=venv, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    return venv


def test_pip_install_editable_installs_the_app_package_only(storefront_venv, tmp_path):
    """The package is app/ and nothing else; its templates and migrations are the checkout's."""
    python = storefront_venv / "bin" / "python"
    script = (
        "import importlib.util as u; from app import app_factory; "
        "print(u.find_spec('app').origin, u.find_spec('tests'), u.find_spec('migrations'), "
        "(app_factory.PROJECT_ROOT / 'migrations' / 'env.py').is_file())"
    )
    result = subprocess.run(
        [python, "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"{ROOT / 'app' / '__init__.py'} None None True\n"


def test_storefront_command_is_dbmanagers_group(env, storefront_venv, tmp_path):
    """`storefront ...` lists and runs the commands of `python dbmanager.py ...`, from anywhere."""
    storefront = storefront_venv / "bin" / "storefront"
    help_text = run_program_ok(env, storefront, "--help")
    assert help_text.startswith("Usage: storefront [OPTIONS] COMMAND [ARGS]...")
    assert help_text.replace("storefront", "dbmanager.py", 1) == run_ok(
        env, "dbmanager.py", "--help"
    )

    run_program_ok(env, storefront, "db", "upgrade", cwd=tmp_path)
    [(revision,)] = query(env["DATABASE_URL"], "SELECT version_num FROM alembic_version")
    assert run_program_ok(env, storefront, "db", "current").splitlines()[-1] == f"{revision} (head)"
    assert run_program_ok(env, storefront, "seed").startswith("Roles created: admin, customer\n")
    assert query(env["DATABASE_URL"], "SELECT name FROM role ORDER BY name") == [
        ("admin",),
        ("customer",),
    ]


def test_server_py_serves_on_host_and_port(env, tmp_path):
    """`python server.py` listens on HOST:PORT and renders the home page."""
    db_upgrade(env)
    port = free_port()
    log = tmp_path / "server.log"
    proc = start_server(
        [sys.executable, "server.py"], {**env, "HOST": "127.0.0.1", "PORT": str(port)}, log, port
    )
    try:
        status, html = get(f"http://127.0.0.1:{port}/")
        assert status == 200
        assert "Storefront" in html
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        finally:
            stop_group(proc)
    assert f"Running on http://127.0.0.1:{port}" in log.read_text()


@pytest.mark.slow
def test_uwsgi_serves_the_app_and_stops_on_sigterm(uwsgi_env, tmp_path):
    """uwsgi.ini: env-chosen socket and processes, one app per worker, clean SIGTERM exit."""
    db_upgrade(uwsgi_env)
    log = tmp_path / "uwsgi.log"
    proc, base = start_uwsgi(uwsgi_env, log)
    try:
        status, html = get(f"{base}/")
        assert status == 200
        assert "Storefront" in html
        status, body = get(f"{base}/api/v1/health")
        assert status == 200
        assert json.loads(body) == {"status": "ok", "database": "ok"}
        # lazy-apps: each worker builds its own app. Stop only once both have, or the
        # interrupted import makes need-app end uwsgi with exit code 22.
        wait_for_log(log, APP_READY, count=2)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
    finally:
        stop_group(proc)
    output = log.read_text()
    assert f"bound to TCP address {base.removeprefix('http://')}" in output
    assert output.count(APP_READY) == 2
    assert "*** Operational MODE: preforking+threaded ***" in output
    assert "no internal routing" not in output


@pytest.mark.slow
def test_uwsgi_serves_static_files_itself_and_pages_from_the_shared_cache(
    uwsgi_env, tmp_path, redis_server
):
    """uwsgi.ini's static-map: the versioned files a page links (Bootstrap's too, and the
    React storefront's built assets) come with a year-long Cache-Control and without the
    app's headers (Python never saw them). The workers keep the page cache in Redis
    (CACHE_REDIS_URL)."""
    db_upgrade(uwsgi_env)
    proc, base = start_uwsgi(uwsgi_env, tmp_path / "uwsgi.log")
    try:
        page = requests.get(f"{base}/about", timeout=10)
        links = re.findall(r'(?:href|src)="(/(?:bootstrap/)?static/[^"]+)"', page.text)
        app_page = requests.get(f"{base}/app/products", timeout=10)  # `make test` builds it
        links += re.findall(r'(?:href|src)="(/app/assets/[^"]+)"', app_page.text)
        files = [requests.get(f"{base}{link}", timeout=10) for link in links]
        again = requests.get(f"{base}/about", timeout=10)
    finally:
        stop_group(proc)
    assert "Content-Security-Policy" in page.headers  # the app's answer
    assert "Content-Security-Policy" in app_page.headers
    assert any(link.startswith("/bootstrap/static/") for link in links)
    assert sum(link.startswith("/app/assets/") for link in links) == 3  # script, styles, icon
    for link, response in zip(links, files, strict=True):
        assert response.status_code == 200, link
        assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable", link
        assert response.headers["X-Content-Type-Options"] == "nosniff", link
        assert "Content-Security-Policy" not in response.headers, link
    assert again.text == page.text
    assert redis.Redis.from_url(redis_server.url).keys("storefront:page:*")


@pytest.mark.slow
def test_uwsgi_workers_share_the_page_cache_in_uwsgis_memory(backend, tmp_path, redis_server):
    """Without CACHE_REDIS_URL, uwsgi's workers keep the page cache in uwsgi's shared memory
    (uwsgi.ini's cache2): a price changed through one worker is on the next page from any."""
    config = f"{SECRETS}{FAST_HASH}RATELIMIT_STORAGE_URI = {redis_server.url!r}\n"
    env = make_env(tmp_path, backend.fresh_url(tmp_path), config)
    db_upgrade(env)
    run_ok(env, "dbmanager.py", "seed")
    create = ("users", "create", ADMIN_EMAIL, "--password", ADMIN_PASSWORD, "--active")
    run_ok(env, "dbmanager.py", *create)
    run_ok(env, "dbmanager.py", "roles", "add", ADMIN_EMAIL, "admin")
    run_ok(env, "dbmanager.py", "users", "confirm", ADMIN_EMAIL)
    log = tmp_path / "uwsgi.log"
    proc, base = start_uwsgi(env, log)
    page = f"{base}/api/v1/products/japanese-sencha-100-g"
    try:
        wait_for_log(log, APP_READY, count=2)
        before = {requests.get(page, timeout=10).json()["price_cents"] for _ in range(8)}
        token = requests.post(
            f"{base}/api/v1/auth/token",
            json={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD},
            timeout=10,
        ).json()["token"]
        changed = requests.patch(
            page,  # the admin API's PATCH of the product
            json={"price_cents": 12345},
            headers={"Authentication-Token": token},
            timeout=10,
        )
        after = {requests.get(page, timeout=10).json()["price_cents"] for _ in range(8)}
    finally:
        stop_group(proc)
    assert len(before) == 1
    assert changed.status_code == 200
    assert after == {12345}
    assert "page cache is off" not in log.read_text()
    assert 'Cache "storefront" initialized' in log.read_text()


@pytest.mark.slow
def test_uwsgi_serves_production_even_with_env_development_exported(uwsgi_env, tmp_path):
    """uwsgi.ini sets ENV=production: HSTS and trusted hosts only, whatever the shell says."""
    db_upgrade(uwsgi_env)
    proc, base = start_uwsgi({**uwsgi_env, "ENV": "development"}, tmp_path / "uwsgi.log")
    try:
        secure = requests.get(f"{base}/", headers={"X-Forwarded-Proto": "https"}, timeout=10)
        forged = requests.get(f"{base}/api/v1/health", headers={"Host": "evil.example"}, timeout=10)
    finally:
        stop_group(proc)
    assert secure.status_code == 200
    assert "max-age=" in secure.headers["Strict-Transport-Security"]
    assert forged.status_code == 400
    assert forged.json()["error"]["code"] == "bad_request"


@pytest.mark.slow
def test_uwsgi_env_override_is_deliberate(uwsgi_env, tmp_path):
    """Only `--env ENV=development` after the ini makes uwsgi serve development."""
    db_upgrade(uwsgi_env)
    log = tmp_path / "uwsgi.log"
    proc, base = start_uwsgi(uwsgi_env, log, "--env", "ENV=development")
    try:
        forged = requests.get(f"{base}/api/v1/health", headers={"Host": "evil.example"}, timeout=10)
    finally:
        stop_group(proc)
    assert forged.status_code == 200


@pytest.mark.slow
def test_uwsgi_with_memory_rate_limits_and_two_workers_refuses_to_start(env, tmp_path):
    """memory:// counts per process: with 2 workers production exits, naming the setting."""
    env.update(UWSGI_HTTP_SOCKET=f"127.0.0.1:{free_port()}", UWSGI_PROCESSES="2")
    result = run_uwsgi_to_exit(env)
    assert result.returncode == 22
    assert "RATELIMIT_STORAGE_URI is memory:// with 2 worker processes" in result.stderr


@pytest.mark.slow
def test_uwsgi_keeps_http11_clients_working(uwsgi_env, tmp_path):
    """Issue 14: 6 threads x 60 requests over kept-alive sessions (2 processes x 2 threads).

    Every response says Connection: close, so clients reconnect instead of reusing a socket
    uwsgi has closed: zero connection errors.
    """
    db_upgrade(uwsgi_env)
    proc, base = start_uwsgi({**uwsgi_env, "UWSGI_THREADS": "2"}, tmp_path / "uwsgi.log")
    statuses: list[int] = []
    errors: list[str] = []
    connection_headers: set[str] = set()
    deadline = time.monotonic() + 120

    def client():
        with requests.Session() as session:
            for _ in range(60):
                if time.monotonic() > deadline:
                    errors.append("deadline")
                    return
                try:
                    response = session.get(f"{base}/products", timeout=10)
                except requests.ConnectionError as error:
                    errors.append(type(error).__name__)
                    continue
                statuses.append(response.status_code)
                connection_headers.add(response.headers.get("Connection", ""))

    threads = [threading.Thread(target=client) for _ in range(6)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=150)
    finally:
        stop_group(proc)
    assert errors == []
    assert statuses == [200] * 360
    assert connection_headers == {"close"}


@pytest.mark.slow
def test_uwsgi_answers_413_and_refuses_huge_bodies_unread(uwsgi_env, tmp_path):
    """1.5 MiB and 20 MB: the app's 413 in the API's shape (uwsgi reads up to limit-post, room
    for the back office's image upload). 70 MB: uwsgi's limit-post closes the connection
    before reading the body; the worker keeps serving."""
    db_upgrade(uwsgi_env)
    log = tmp_path / "uwsgi.log"
    proc, base = start_uwsgi(uwsgi_env, log)
    big = b'{"product_id": 1, "note": "' + b"x" * (1536 * 1024) + b'"}'
    try:
        too_large = requests.post(
            f"{base}/api/v1/cart/items",
            data=big,
            headers={"Content-Type": "application/json"},
            timeout=10,
        )
        upload_sized = requests.post(
            f"{base}/api/v1/cart/items",
            data=b"x" * 20_000_000,
            headers={"Content-Type": "application/json"},
            timeout=10,
        )
        with pytest.raises(requests.ConnectionError):
            requests.post(
                f"{base}/api/v1/cart/items",
                data=b"x" * 70_000_000,
                headers={"Content-Type": "application/json"},
                timeout=10,
            )
        after = requests.get(f"{base}/api/v1/health", timeout=10)
    finally:
        stop_group(proc)
    assert too_large.status_code == 413
    assert too_large.json()["error"]["code"] == "payload_too_large"
    assert upload_sized.status_code == 413
    assert "Invalid (too big) CONTENT_LENGTH" in log.read_text()
    assert after.status_code == 200


@pytest.mark.slow
def test_uwsgi_answers_413_to_a_chunked_body_over_the_limit_and_reads_small_ones_whole(
    uwsgi_env, tmp_path
):
    """Issue 34: uwsgi's http-socket handed the app a chunked body as empty (422, body
    required); app.wrappers de-chunks it, reads it whole under MAX_CONTENT_LENGTH, else 413."""
    db_upgrade(uwsgi_env)
    run_ok(uwsgi_env, "dbmanager.py", "seed")
    [(product_id,)] = query(uwsgi_env["DATABASE_URL"], "SELECT min(id) FROM product")
    proc, base = start_uwsgi(uwsgi_env, tmp_path / "uwsgi.log")
    item = json.dumps({"product_id": product_id, "quantity": 1}).encode()
    address = base.removeprefix("http://")
    try:
        too_large = post_chunked(address, "/api/v1/cart/items", item + b" " * (2 * 10**6))
        one_chunk = post_chunked(address, "/api/v1/cart/items", item + b" " * (2 * 10**6), 2**21)
        small = post_chunked(address, "/api/v1/cart/items", item + b" " * 100_000)
    finally:
        stop_group(proc)
    assert too_large == (
        413,
        {
            "error": {
                "status": 413,
                "code": "payload_too_large",
                "message": "The request body is over the 1,048,576 bytes this site accepts.",
            }
        },
    )
    assert one_chunk == too_large
    assert small[0] == 201
    assert [line["quantity"] for line in small[1]["items"]] == [1]


def test_production_without_secret_key_refuses_to_start(tmp_path):
    """ENV=production and no SECRET_KEY: create_app() exits non-zero naming SECRET_KEY."""
    env = make_env(tmp_path, f"sqlite:///{tmp_path / 'unused.sqlite'}", NO_SECRET_KEY)
    env["ENV"] = "production"
    result = run(env, "-c", "from app.app_factory import create_app; create_app()")
    assert result.returncode == 1
    assert "ConfigError: ENV=production refuses to start: Missing secret SECRET_KEY" in (
        result.stderr
    )


@pytest.mark.slow
def test_uwsgi_without_secret_key_exits_instead_of_respawning(tmp_path):
    """need-app + lazy-apps: a worker that cannot build the app takes uwsgi down."""
    env = make_env(tmp_path, f"sqlite:///{tmp_path / 'unused.sqlite'}", NO_SECRET_KEY)
    env.update(ENV="production", UWSGI_HTTP_SOCKET=f"127.0.0.1:{free_port()}", UWSGI_PROCESSES="2")
    result = run_uwsgi_to_exit(env)
    assert result.returncode == 22  # uwsgi's "failed to load app" exit code
    assert "Missing secret SECRET_KEY" in result.stderr
    assert "need-app requested, destroying the instance..." in result.stderr


@pytest.mark.slow
def test_uwsgi_workers_add_up_their_metrics(uwsgi_env, tmp_path):
    """With PROMETHEUS_MULTIPROC_DIR, /metrics counts every worker's requests: a worker held
    on a half-sent scrape while the other serves 20 requests then reports those 20. What a
    proxy forwards is 404; every answer has its request id."""
    metrics_dir = tmp_path / "metrics"
    metrics_dir.mkdir()
    env = {**uwsgi_env, "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir)}
    db_upgrade(env)
    proc, base = start_uwsgi(env, tmp_path / "uwsgi.log")
    port = int(base.rsplit(":", 1)[1])
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=10) as held:
            held.sendall(b"GET /metrics HTTP/1.0\r\n")  # one worker waits for the rest
            time.sleep(0.5)  # both workers are up (start_uwsgi waits for one), one holds it
            answers = [get(f"{base}/api/v1/") for _ in range(20)]  # the other serves these
            held.sendall(b"Host: 127.0.0.1\r\n\r\n")
            scrape = b""
            while chunk := held.recv(65536):
                scrape += chunk
        outside = requests.get(
            f"{base}/metrics", headers={"X-Forwarded-For": "203.0.113.9"}, timeout=10
        )
        missing = requests.get(
            f"{base}/no-such-page", headers={"X-Request-ID": "probe-1"}, timeout=10
        )
    finally:
        stop_group(proc)

    assert {status for status, _ in answers} == {200}
    head, _, body = scrape.decode().partition("\r\n\r\n")
    assert head.startswith("HTTP/1.0 200")
    counted = re.search(
        r'^storefront_http_request_duration_seconds_count\{endpoint="api\.meta\.index",'
        r'method="GET",status="200"\} (\S+)$',
        body,
        re.M,
    )
    assert float(counted.group(1)) == 20
    assert outside.status_code == 404
    assert missing.headers["X-Request-ID"] == "probe-1"
