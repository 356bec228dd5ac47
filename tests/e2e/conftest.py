"""Fixtures for browser tests: the app on a real HTTP server, and headless Chromium."""

import socket
import threading
from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright
from werkzeug.serving import make_server

from app.app_factory import create_app
from app.extensions import db
from tests.conftest import stripe_config
from tests.helpers import TEST_CONFIG

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
SCREENSHOTS = Path(__file__).parent / "screenshots"


@pytest.fixture
def outbox_dir(tmp_path):
    """The folder the development mail backend writes its .eml files to."""
    return tmp_path / "outbox"


@pytest.fixture
def live_port() -> int:
    """A free loopback port for the live server; the app's SITE_URL names it."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def live_app(app, outbox_dir, live_port, request):
    """An app on the test's database (a new one for SQLite in memory) that writes mail to files;
    ``@pytest.mark.app_config(NAME=value)`` adds settings, as for ``app``, and a test that
    uses ``stripe_fake`` pays by Stripe at the fake.

    It depends on ``app`` so that conftest empties the MariaDB tables after the test.
    """
    marker = request.node.get_closest_marker("app_config")
    stripe = {}
    if "stripe_fake" in request.fixturenames:
        stripe = stripe_config(request.getfixturevalue("stripe_fake"))
    live = create_app(
        {
            **TEST_CONFIG,
            **stripe,
            **(marker.kwargs if marker else {}),
            "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
            "MAIL_BACKEND": "app.mail.EmailBackend",
            "MAIL_FILE_PATH": str(outbox_dir),
            "SITE_URL": f"http://127.0.0.1:{live_port}",
        }
    )
    if live.config["SQLALCHEMY_DATABASE_URI"] == "sqlite://":
        with live.app_context():
            db.create_all()
    yield live
    with live.app_context():
        db.session.remove()
        db.engine.dispose()


def _closed_bodies(app):
    """Read each response body whole and close it before Werkzeug writes it.

    Werkzeug's dev server skips ``close()`` on the body when the browser resets the connection
    mid-response (its discard-read raises first), leaving a static file open until the garbage
    collector reports it as a ResourceWarning in a later test.
    """

    def wsgi(environ, start_response):
        body = app(environ, start_response)
        try:
            return [b"".join(body)]
        finally:
            if hasattr(body, "close"):
                body.close()

    return wsgi


@pytest.fixture
def live_server(live_app, live_port):
    """Serve ``live_app`` on 127.0.0.1 (a free port) in a background thread; yield its base URL."""
    server = make_server("127.0.0.1", live_port, _closed_bodies(live_app), threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()
    thread.join(timeout=10)
    # Requests still being answered (a browser's last fetches) end before live_app closes the
    # app's database connections: closing one a request is using crashes mysqlclient.
    for worker in threading.enumerate():
        if worker.name.endswith("(process_request_thread)"):
            worker.join(timeout=10)


@pytest.fixture(scope="session")
def chromium():
    """Debian's headless Chromium, driven by Playwright (no browser download)."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            headless=True, executable_path=CHROMIUM, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture
def browser_errors():
    """Console errors and uncaught page errors (CSP violations show up here too)."""
    return []


def _console_error(errors: list[str], msg) -> None:
    if msg.type != "error":
        return
    url = msg.location.get("url", "")
    errors.append(f"console: {msg.text} ({url})")


@pytest.fixture
def page(chromium, live_server, browser_errors):
    """A fresh browser context (no cookies) whose relative URLs go to the live server."""
    context = chromium.new_context(base_url=live_server, viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.on("console", lambda msg: _console_error(browser_errors, msg))
    page.on("pageerror", lambda exc: browser_errors.append(f"pageerror: {exc}"))
    yield page
    context.close()


@pytest.fixture
def screenshot(page, backend):
    """``screenshot("01-home")`` saves a full-page PNG to tests/e2e/screenshots/."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def take(name: str) -> Path:
        path = SCREENSHOTS / f"{backend.name}-{name}.png"
        page.screenshot(path=path, full_page=True)
        return path

    return take
