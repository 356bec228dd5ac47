"""Production hardening: links on SITE_URL, trusted hosts, proxies, start-up checks, limits."""

import logging
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

import pytest
from flask import after_this_request, request, url_for
from sqlalchemy import text
from sqlalchemy.pool import NullPool
from werkzeug.routing import IntegerConverter

from app.app_factory import REQUIRED_SECRETS, ConfigError, create_app
from app.extensions import db
from tests.factories import ProductFactory, UserFactory, create
from tests.helpers import (
    BODY,
    PASSWORD,
    PRODUCTION_CONFIG,
    TEST_CONFIG,
    TOKEN_HEADER,
    get_token,
    login,
    token_headers,
)

ROOT = Path(__file__).resolve().parent.parent
SITE = "https://shop.example"
FORGED = "evil.example"


def build(app, config: dict, **overrides):
    """A second app on the test's database (a fresh schema for SQLite in memory)."""
    built = create_app(
        {**config, "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"], **overrides}
    )
    if built.config["SQLALCHEMY_DATABASE_URI"] == "sqlite://":
        with built.app_context():
            db.create_all()
    return built


def add_probe(app) -> None:
    """A route that shows what the app believes about the request (host, client, scheme)."""

    @app.get("/probe")
    def probe():
        return {"host": request.host, "remote_addr": request.remote_addr, "scheme": request.scheme}


@pytest.fixture
def site_app(app):
    """Development settings with a public SITE_URL that differs from every request's Host."""
    return build(app, TEST_CONFIG, SITE_URL=SITE)


@pytest.fixture
def production_app(app):
    return build(app, PRODUCTION_CONFIG)


# Links from the configured site URL


def test_reset_mail_with_a_forged_host_links_to_site_url(site_app):
    """POST /reset with Host: evil.example mails a reset link on SITE_URL, not on that host."""
    create(site_app, UserFactory)
    mailman = site_app.extensions["mailman"]
    mailman.outbox = []
    client = site_app.test_client()
    forged = f"http://{FORGED}"

    token = csrf_token_on(client, forged)
    response = client.post(
        "/reset", data={"email": "shopper@example.com", "csrf_token": token}, base_url=forged
    )

    assert response.status_code == 200  # the form again, with "instructions sent"
    [message] = mailman.outbox
    links = re.findall(r"https?://[^/\s\"<]+/reset/[\w.-]+", message.body)
    assert links, message.body
    assert {link.split("/reset/")[0] for link in links} == {SITE}
    assert FORGED not in message.body


def csrf_token_on(client, base_url: str) -> str:
    html = client.get("/reset", base_url=base_url).get_data(as_text=True)
    [token] = re.findall(r'name="csrf_token"[^>]*value="([^"]+)"', html)
    return token


@pytest.mark.parametrize("endpoint", ["pages.home", "pages.orders.detail", "static"])
def test_external_urls_use_site_url_in_and_outside_requests(site_app, endpoint):
    """url_for(_external=True) gives SITE_URL's scheme and host, in a request or not."""
    values = {"pages.orders.detail": {"number": "SF-1"}, "static": {"filename": "app.css"}}
    args = values.get(endpoint, {})
    with site_app.test_request_context("/", base_url=f"http://{FORGED}:8080"):
        in_request = url_for(endpoint, _external=True, **args)
    with site_app.app_context():
        outside = url_for(endpoint, _external=True, **args)

    assert in_request.startswith(f"{SITE}/")
    assert outside == in_request


def test_development_serves_any_host(app):
    """make run: a developer may use 127.0.0.1, localhost or the machine's address."""
    client = app.test_client()
    for base in ("http://127.0.0.1:5000", "http://localhost:5000", "http://192.168.1.20:5000"):
        assert client.get("/", base_url=base).status_code == 200, base
        assert client.get("/api/v1/health", base_url=base).status_code == 200, base


def test_site_url_must_be_an_origin():
    with pytest.raises(ConfigError, match="SITE_URL must be scheme://host"):
        create_app({**TEST_CONFIG, "SITE_URL": "shop.example/path"})


# Trusted hosts


def test_production_trusts_only_site_url_host(production_app):
    """ENV=production: TRUSTED_HOSTS defaults to SITE_URL's host; others get 400."""
    client = production_app.test_client()

    assert production_app.config["TRUSTED_HOSTS"] == ["shop.example"]
    assert client.get("/", base_url=SITE).status_code == 200
    page = client.get("/", base_url=f"https://{FORGED}")
    api = client.get("/api/v1/health", base_url=f"https://{FORGED}")

    assert page.status_code == 400
    assert page.mimetype == "text/html"
    assert "400 · Bad Request" in page.get_data(as_text=True)
    assert api.status_code == 400
    assert api.get_json()["error"]["code"] == "bad_request"
    assert set(api.get_json()["error"]) == {"status", "code", "message"}


# Proxies


@pytest.mark.parametrize(
    ("settings", "expected_host"),
    [
        ({"PROXY_FIX_X_FOR": 1}, "shop.example"),  # X-Forwarded-For does not imply the host
        ({"PROXY_FIX_X_FOR": 1, "PROXY_FIX_X_HOST": 1}, FORGED),
    ],
)
def test_x_forwarded_host_is_trusted_only_with_proxy_fix_x_host(app, settings, expected_host):
    probe_app = build(app, TEST_CONFIG, SITE_URL=SITE, **settings)
    add_probe(probe_app)
    client = probe_app.test_client()

    response = client.get(
        "/probe",
        base_url=SITE,
        headers={
            "X-Forwarded-For": "203.0.113.7",
            "X-Forwarded-Proto": "https",
            "X-Forwarded-Host": FORGED,
        },
        environ_overrides={"wsgi.url_scheme": "http"},
    )

    assert response.get_json() == {
        "host": expected_host,
        "remote_addr": "203.0.113.7",
        "scheme": "https",
    }


def test_no_proxy_fix_trusts_no_forwarded_header(app):
    probe_app = build(app, TEST_CONFIG, SITE_URL=SITE)
    add_probe(probe_app)

    response = probe_app.test_client().get(
        "/probe",
        base_url="http://shop.example",
        headers={"X-Forwarded-For": "203.0.113.7", "X-Forwarded-Proto": "https"},
        environ_overrides={"REMOTE_ADDR": "10.1.2.3"},
    )

    assert response.get_json() == {
        "host": "shop.example",
        "remote_addr": "10.1.2.3",
        "scheme": "http",
    }


def test_production_behind_one_proxy_ignores_a_forged_x_forwarded_host(app):
    """PROXY_FIX_X_FOR = 1 in production: the forged X-Forwarded-Host neither routes nor links."""
    production = build(app, PRODUCTION_CONFIG, PROXY_FIX_X_FOR=1)
    add_probe(production)

    response = production.test_client().get(
        "/probe", base_url=SITE, headers={"X-Forwarded-Host": FORGED}
    )

    assert response.status_code == 200
    assert response.get_json()["host"] == "shop.example"


# Production start-up checks


@pytest.mark.parametrize(
    ("setting", "value", "named"),
    [
        ("SECRET_KEY", "", "Missing secret SECRET_KEY"),
        ("SECRET_KEY", "change-me", "SECRET_KEY is still the example value"),
        ("SECRET_KEY", "s" * 31, "SECRET_KEY is shorter than 32 characters"),
        ("SECURITY_PASSWORD_SALT", None, "Missing secret SECURITY_PASSWORD_SALT"),
        ("SECURITY_PASSWORD_SALT", "change-me", "SECURITY_PASSWORD_SALT is still the example"),
        ("SECURITY_PASSWORD_SALT", "short-salt", "SECURITY_PASSWORD_SALT is shorter than 32"),
        ("SECURITY_TOTP_SECRETS", {}, "Missing secret SECURITY_TOTP_SECRETS"),
        (
            "SECURITY_TOTP_SECRETS",
            {"1": "t" * 40, "2": "change-me"},
            "SECURITY_TOTP_SECRETS['2'] is still the example value",
        ),
        ("SECURITY_TOTP_SECRETS", {"1": "t" * 12}, "SECURITY_TOTP_SECRETS['1'] is shorter"),
    ],
)
def test_production_refuses_weak_secrets(setting, value, named):
    with pytest.raises(ConfigError, match=re.escape(named)):
        create_app({**PRODUCTION_CONFIG, setting: value})


def test_production_refuses_the_test_payment_provider_unless_allowed():
    config = {**PRODUCTION_CONFIG, "PAYMENT_METHODS": ["test", "manual"]}

    with pytest.raises(ConfigError, match="PAYMENT_METHODS enables the 'test' provider") as info:
        create_app(config)
    assert "PAYMENT_ALLOW_TEST_PROVIDER = True" in str(info.value)

    allowed = create_app({**config, "PAYMENT_ALLOW_TEST_PROVIDER": True})
    assert allowed.config["PAYMENT_METHODS"] == ["test", "manual"]


def test_production_with_default_settings_names_every_setting_to_change(monkeypatch):
    """ENV=production over the shipped defaults (and generated secrets): one clear message."""
    monkeypatch.setenv("ENV", "production")
    secrets = {key: PRODUCTION_CONFIG[key] for key in REQUIRED_SECRETS}

    with pytest.raises(ConfigError) as info:
        create_app(secrets)

    message = str(info.value)
    assert message.startswith("ENV=production refuses to start: SITE_URL is ")
    assert "PAYMENT_METHODS enables the 'test' provider" in message
    assert "PAYMENT_ALLOW_TEST_PROVIDER" in message


@pytest.mark.parametrize(
    ("setting", "value", "named"),
    [
        ("SITE_URL", "http://shop.example", "SITE_URL is 'http://shop.example'"),
        ("DEBUG", True, "DEBUG is on"),
    ],
)
def test_production_refuses_plain_http_site_url_and_debug(setting, value, named):
    with pytest.raises(ConfigError, match=re.escape(named)):
        create_app({**PRODUCTION_CONFIG, setting: value})


def test_production_with_valid_settings_starts(production_app):
    assert production_app.config["ENV"] == "production"
    assert production_app.config["SESSION_COOKIE_SECURE"] is True
    assert production_app.debug is False


# The instance config file


def test_write_instance_config_creates_the_file_owner_only_from_the_start(tmp_path):
    """Under umask 022 the secrets file is 0600 on disk, and never existed with wider bits."""
    path = tmp_path / "instance" / "application.cfg.py"
    # Every audit event (open, chmod, ...) after the file appears records its mode.
    code = f"""
import os, runpy, stat, sys
os.umask(0o022)
path = {str(path)!r}
modes = set()
def hook(event, args):
    if os.path.exists(path):
        modes.add(stat.S_IMODE(os.stat(path).st_mode))
sys.addaudithook(hook)
sys.argv = ["write_instance_config.py", path]
try:
    runpy.run_path("scripts/write_instance_config.py", run_name="__main__")
except SystemExit:
    pass
modes.add(stat.S_IMODE(os.stat(path).st_mode))
print(sorted(oct(m) for m in modes))
"""
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == "['0o600']"
    assert "SECRET_KEY = " in path.read_text()
    again = subprocess.run(
        [sys.executable, "scripts/write_instance_config.py", str(path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert again.stdout == f"{path} exists: keeping it.\n"


# Request body limit


class CountingStream:
    """A request body of ``size`` bytes, made on demand, that records how much was read."""

    def __init__(self, size: int):
        self.size = size
        self.position = 0
        self.read_bytes = 0

    def tell(self) -> int:
        return self.position

    def seek(self, offset: int, whence: int = 0) -> int:
        self.position = self.size + offset if whence == 2 else offset
        return self.position

    def read(self, n: int = -1) -> bytes:
        left = self.size - self.position
        n = left if n is None or n < 0 else min(n, left)
        self.position += n
        self.read_bytes += n
        return b"x" * n


TWENTY_MB = 20 * 1024 * 1024


def test_max_content_length_defaults_to_one_mib(app):
    assert app.config["MAX_CONTENT_LENGTH"] == 1024 * 1024


@pytest.mark.parametrize("path", ["/api/v1/cart/items", "/api/v1/auth/token"])
def test_a_20_mb_json_body_gets_413_in_the_api_shape_unread(client, path):
    body = CountingStream(TWENTY_MB)

    response = client.post(path, input_stream=body, content_type="application/json")

    assert response.status_code == 413
    assert response.get_json() == {
        "error": {
            "status": 413,
            "code": "payload_too_large",
            "message": "The request body is over the 1,048,576 bytes this site accepts.",
        }
    }
    assert body.read_bytes == 0


def test_a_20_mb_form_gets_the_413_error_page_unread(client):
    body = CountingStream(TWENTY_MB)

    response = client.post(
        "/cart/add",
        input_stream=body,
        content_type="application/x-www-form-urlencoded",
    )

    assert response.status_code == 413
    assert response.mimetype == "text/html"
    assert "413 · Request Entity Too Large" in response.get_data(as_text=True)
    assert body.read_bytes == 0


def test_a_body_within_the_limit_is_read(client):
    response = client.post("/api/v1/cart/items", json={"product_id": 1, "quantity": 1})

    assert response.status_code != 413


# Content Security Policy (issue 13)


@pytest.mark.parametrize("path", ["/", "/api/v1/health", "/login"])
def test_csp_forbids_plugins_explicitly(client, path):
    csp = client.get(path).headers["Content-Security-Policy"]

    directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
    assert directives["object-src"] == "'none'"


# Huge integers in paths and query strings

HUGE = "99999999999999999999999"
# (method, URL with {n} for the number, expected status). Every route with an int converter
# and every integer query argument of the API (from its OpenAPI document) is here, plus the
# site's and back office's integer query arguments (page, ids).
HUGE_INT_CASES = [
    ("PATCH", "/api/v1/cart/items/{n}", 404),
    ("DELETE", "/api/v1/cart/items/{n}", 404),
    ("PATCH", "/api/v1/cart/lines/{n}", 404),
    ("DELETE", "/api/v1/cart/lines/{n}", 404),
    ("PATCH", "/api/v1/variants/{n}", 422),  # the body sent below is a cart line's
    ("GET", "/api/v1/products?page={n}", 422),
    ("GET", "/api/v1/products?per_page={n}", 422),
    ("GET", "/api/v1/orders?page={n}", 422),
    ("GET", "/api/v1/orders?per_page={n}", 422),
    ("GET", "/api/v1/cart/quote?shipping_method_id={n}", 422),
    ("GET", "/products?page={n}", 404),
    ("GET", "/products?page=-{n}", 404),
    ("GET", "/orders?page={n}", 404),
    ("GET", "/api/v1/products?category={n}", 404),
    ("GET", "/products?category={n}", 404),
    ("GET", "/products/{n}", 404),
    ("GET", "/sitemaps/products-{n}.xml", 404),
    ("GET", "/orders/{n}", 404),
    ("GET", "/orders/<number>/credit-notes/{n}.pdf", 404),  # no such order: 404
    ("GET", "/orders/view/<token>/credit-notes/{n}.pdf", 404),
    ("GET", "/api/v1/orders/{n}", 404),
    ("GET", "/api/v1/orders/<number>/credit-notes/{n}", 404),
    ("GET", "/api/v1/orders/guest/<link>/credit-notes/{n}", 404),
    ("GET", "/api/v1/addresses/{n}", 404),
    ("PATCH", "/api/v1/addresses/{n}", 422),  # the body sent below is a cart line's
    ("DELETE", "/api/v1/addresses/{n}", 404),
    ("GET", "/account/addresses/{n}/edit", 404),
    # Sent without the CSRF token: refused before the view (the GET above reaches it).
    ("POST", "/account/addresses/{n}/edit", 400),
    ("POST", "/account/addresses/{n}/delete", 400),
    ("POST", "/account/addresses/{n}/default", 400),
    *[("GET", f"/admin/{view}/?page={{n}}", 404) for view in ("products", "categories")],
    *[("GET", f"/admin/{view}/?page={{n}}", 404) for view in ("orders", "users")],
    ("GET", "/admin/products/?page=-{n}", 404),
    # Flask-Admin's own answers: a missing record redirects to the list with a message, an
    # invalid filter value is ignored with a message.
    *[("GET", f"/admin/{view}/details/?id={{n}}", 302) for view in ("products", "users")],
    *[("GET", f"/admin/{view}/edit/?id={{n}}", 302) for view in ("products", "categories")],
    ("GET", "/admin/orders/details/?id={n}", 302),
    ("GET", "/admin/products/?flt0_category_equals={n}", 200),
    ("GET", "/admin/products/?page_size={n}&sort={n}&desc={n}", 200),
    ("GET", "/api/v1/products?price_min_cents={n}", 422),
    ("GET", "/api/v1/products?price_max_cents={n}", 422),
    ("GET", "/admin/orders/<number>/credit-notes/{n}.pdf", 404),
    ("GET", "/admin/products/{n}/images/", 404),
    ("POST", "/admin/products/{n}/images/", 404),
    *[
        ("POST", f"/admin/products/{{n}}/images/{{n}}/{action}/", 404)
        for action in ("alt", "delete", "move")
    ],
    ("POST", "/admin/products/{n}/variants/{n}/image/", 404),
]


def int_routes(app) -> set[tuple[str, str]]:
    return {
        (method, rule.rule)
        for rule in app.url_map.iter_rules()
        if any(isinstance(c, IntegerConverter) for c in rule._converters.values())
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }


def test_the_huge_integer_cases_cover_every_int_route_and_api_int_argument(app, client):
    """A new <int:...> route or integer API parameter fails here until it has a case."""
    covered = {(method, url.split("?")[0]) for method, url, _ in HUGE_INT_CASES}
    routes = {(m, re.sub(r"<int:\w+>", "{n}", rule)) for m, rule in int_routes(app)}
    assert routes <= covered, routes - covered

    spec = client.get("/api/v1/openapi.json").get_json()
    arguments = {
        (method.upper(), f"{path}?{param['name']}={{n}}")
        for path, operations in spec["paths"].items()
        for method, operation in operations.items()
        if method != "parameters"
        for param in operation.get("parameters", [])
        if param.get("in") == "query" and param.get("schema", {}).get("type") == "integer"
    }
    assert arguments <= {(method, url) for method, url, _ in HUGE_INT_CASES}


@pytest.mark.parametrize(("method", "url", "expected"), HUGE_INT_CASES)
def test_huge_integers_are_404_or_422_never_500(
    app, client, admin_id, product_factory, category_factory, method, url, expected
):
    product_factory()
    category_factory()
    token = get_token(client, email="admin@example.com").get_json()["token"]
    if url.startswith("/api/"):
        headers = {TOKEN_HEADER: token}  # a token client: no session cookie, so no CSRF
    else:
        headers = {}
        login(client, email="admin@example.com")

    response = client.open(
        url.format(n=HUGE),
        method=method,
        headers=headers,
        json={"quantity": 1} if method == "PATCH" else None,
    )

    assert response.status_code == expected
    if url.startswith("/api/"):
        assert (
            response.get_json()["error"]["code"]
            == {404: "not_found", 422: "validation_failed"}[expected]
        )


# Database outage


class SocketRelay:
    """A unix-socket relay in front of MariaDB's socket: ``cut()`` is an outage (every
    connection drops, new ones are refused), ``restore()`` ends it."""

    def __init__(self, target: Path):
        self.target = str(target)
        self.path = Path(tempfile.mkdtemp(prefix="relay-")) / "mysqld.sock"
        self.listener: socket.socket | None = None
        self.connections: list[socket.socket] = []
        self.lock = threading.Lock()

    def restore(self) -> None:
        self.listener = socket.socket(socket.AF_UNIX)
        self.listener.bind(str(self.path))
        self.listener.listen(16)
        threading.Thread(target=self._accept, args=(self.listener,), daemon=True).start()

    def cut(self) -> None:
        self.listener.close()
        self.path.unlink()
        with self.lock:
            for conn in self.connections:
                conn.close()
            self.connections.clear()

    def close(self) -> None:
        if self.path.exists():
            self.cut()
        shutil.rmtree(self.path.parent, ignore_errors=True)

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # cut()
            server = socket.socket(socket.AF_UNIX)
            server.connect(self.target)
            with self.lock:
                self.connections += [client, server]
            for a, b in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        for conn in (source, sink):
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class Outage:
    """An app whose database can be made unreachable and reachable again."""

    def __init__(self, app, cut, restore):
        self.app, self.cut, self.restore = app, cut, restore


@pytest.fixture
def outage(app, backend, tmp_path):
    if backend.name == "sqlite":
        # A database file on a volume that goes away (NullPool: each request opens the file).
        folder = tmp_path / "volume"
        folder.mkdir()
        url = f"sqlite:///{folder / 'shop.sqlite'}"
        engine = {"pool_pre_ping": True, "poolclass": NullPool}
        outage_app = create_app(
            {**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": url, "SQLALCHEMY_ENGINE_OPTIONS": engine}
        )
        with outage_app.app_context():
            db.create_all()
        away = tmp_path / "unmounted"
        yield Outage(outage_app, lambda: folder.rename(away), lambda: away.rename(folder))
        return
    relay = SocketRelay(backend.server.socket)
    relay.restore()
    url = app.config["SQLALCHEMY_DATABASE_URI"].replace(str(backend.server.socket), str(relay.path))
    outage_app = create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": url})
    yield Outage(outage_app, relay.cut, relay.restore)
    with outage_app.app_context():
        db.engine.dispose()
    relay.close()


def test_database_outage_is_503_with_retry_after_and_the_app_recovers(outage):
    """While the database is unreachable: 503 + Retry-After, JSON in the API, the error page
    on the site (also for a logged-in user); once it is back the same app serves again.
    Anonymous catalogue pages already in the page cache are still served."""
    create(outage.app, UserFactory)
    product_id = create(outage.app, ProductFactory)
    visitor = outage.app.test_client()
    member = outage.app.test_client()
    login(member)
    app_client = outage.app.test_client()  # a token client: a valid token is never a 401
    token = token_headers(app_client)
    credentials = {"email": "shopper@example.com", "password": PASSWORD}
    calls = [
        (visitor, "GET", "/api/v1/products?per_page=5", None),
        (visitor, "GET", "/products?sort=price", None),
        (member, "GET", "/account", None),
        (member, "GET", "/api/v1/me", None),
        (visitor, "POST", "/api/v1/auth/token", credentials),
        (app_client, "GET", "/api/v1/me", None),
        (app_client, "GET", "/api/v1/cart", None),
        (app_client, "POST", "/api/v1/orders", BODY),
    ]

    def send(client, method, path, body):
        headers = token if client is app_client else None
        return client.open(path, method=method, json=body, headers=headers)

    app_client.post(
        "/api/v1/cart/items", json={"product_id": product_id, "quantity": 1}, headers=token
    )
    # The visitor's reads (calls[:2]) are left out here: they would be in the page cache.
    assert [send(*call).status_code for call in calls[2:-1]] == [200] * (len(calls) - 3)
    for path in ("/api/v1/products", "/products"):
        assert send(visitor, "GET", path, None).status_code == 200

    outage.cut()
    try:
        answers = [send(*call) for call in calls]
        health = send(visitor, "GET", "/api/v1/health", None)
        cached = [send(visitor, "GET", path, None) for path in ("/api/v1/products", "/products")]
        cached.append(send(member, "GET", "/products", None))  # the shared page, members too
    finally:
        outage.restore()

    assert [response.status_code for response in cached] == [200, 200, 200]

    assert (health.status_code, health.headers["Retry-After"]) == (503, "10")
    assert health.get_json() == {"status": "degraded", "database": "unavailable"}

    for (_, _, path, _), response in zip(calls, answers, strict=True):
        assert response.status_code == 503, path
        # DATABASE_RETRY_AFTER (10 s); Flask-Limiter may round it down or raise it to its window.
        assert int(response.headers["Retry-After"]) >= 9, path
        if path.startswith("/api/"):
            assert response.get_json()["error"]["code"] == "service_unavailable"
        else:
            assert "503 · Service Unavailable" in response.get_data(as_text=True)
    assert [send(*call).status_code for call in calls[:-1]] == [200] * (len(calls) - 1)
    assert send(*calls[-1]).status_code == 201


@pytest.mark.mariadb
def test_a_connection_lost_after_the_answer_does_not_break_the_response(outage, caplog):
    """The connection dies once the view has answered, its transaction still open: ending the
    request's session must not raise (the client would see a broken connection)."""

    @outage.app.get("/answer-then-outage")
    def answer_then_outage():
        db.session.execute(text("SELECT 1"))  # a transaction on a connection
        outage.cut()
        return "answered"

    try:
        response = outage.app.test_client().get("/answer-then-outage")
    finally:
        outage.restore()
    assert response.get_data(as_text=True) == "answered"
    assert "connection was lost" in caplog.text
    assert outage.app.test_client().get("/api/v1/health").status_code == 200


@pytest.mark.parametrize("sql", ["SELEC 1", "SELECT * FROM no_such_table"])
def test_a_sql_bug_is_still_a_500_with_a_logged_traceback(app, caplog, sql):
    @app.get("/broken")
    def broken():
        db.session.execute(text(sql))
        return "unreachable"

    with caplog.at_level(logging.ERROR):
        response = app.test_client().get("/broken")

    assert response.status_code == 500
    assert "Retry-After" not in response.headers
    [record] = [r for r in caplog.records if r.getMessage() == "Unhandled error on GET /broken"]
    assert record.exc_info is not None


def test_an_outage_in_an_after_request_hook_is_503_not_500(outage):
    """The database goes away after the view's unit committed, before an after-request hook
    reads it: the answer is 503 with Retry-After (Flask's 500 wraps such errors)."""

    @outage.app.get("/answer-then-hook")
    def answer_then_hook():
        @after_this_request
        def reads(response):
            outage.cut()
            db.session.execute(text("SELECT 1"))
            return response

        return "answered"

    outage.app.config["PROPAGATE_EXCEPTIONS"] = False  # as in production: Flask's 500
    try:
        response = outage.app.test_client().get("/answer-then-hook")
    finally:
        outage.restore()

    assert response.status_code == 503
    assert response.headers["Retry-After"] == "10"


def test_the_cart_cookie_hook_needs_no_query(outage, monkeypatch):
    """The hook that gives a visitor the cart cookie knows whose cart it was from before the
    unit committed: the database going away before it runs does not fail a member's answer
    (asking current_user would read the user again: the commit expired it)."""
    from app.api import cart as cart_api

    create(outage.app, UserFactory)
    product_id = create(outage.app, ProductFactory)
    member = outage.app.test_client()
    token = token_headers(member)
    hook = cart_api.remember_cart

    def outage_then_hook(*args):
        outage.cut()
        return hook(*args)

    monkeypatch.setattr(cart_api, "remember_cart", outage_then_hook)
    try:
        response = member.post(
            "/api/v1/cart/items", json={"product_id": product_id, "quantity": 1}, headers=token
        )
    finally:
        outage.restore()

    assert response.status_code == 201, response.get_data(as_text=True)


def test_a_log_line_about_a_member_makes_no_query(outage):
    """A log record names the logged-in user by the row's identity: a user the commit expired
    is not read again (during an outage that query would fail inside the log call)."""
    from flask import current_app
    from flask_security import auth_required, current_user

    @outage.app.get("/log-during-outage")
    @auth_required("token")
    def log_during_outage():
        assert current_user.id  # loaded
        db.session.commit()  # expires it
        outage.cut()
        current_app.logger.warning("the database went away")
        return "logged"

    create(outage.app, UserFactory)
    member = outage.app.test_client()
    token = token_headers(member)
    try:
        response = member.get("/log-during-outage", headers=token)
    finally:
        outage.restore()

    assert response.get_data(as_text=True) == "logged"
