"""E-mail delivery: the development outbox (.eml files) and real SMTP on loopback."""

import email
import socket
from email import policy
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Message

from app.app_factory import create_app
from app.extensions import db
from tests.factories import UserFactory, create
from tests.helpers import TEST_CONFIG, csrf_token


class Collect(Message):
    def __init__(self):
        super().__init__()
        self.messages = []

    def handle_message(self, message):
        self.messages.append(message)


def request_reset(app, email_address="shopper@example.com"):
    client = app.test_client()
    return client.post(
        "/reset", data={"email": email_address, "csrf_token": csrf_token(client, "/reset")}
    )


def make_app(app, **config):
    """An app on the test's database (a new one for SQLite in memory) with other mail settings,
    and a user who can ask for a password reset."""
    other = create_app(
        {**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"], **config}
    )
    if other.config["SQLALCHEMY_DATABASE_URI"] == "sqlite://":
        with other.app_context():
            db.create_all()
    create(other, UserFactory)
    return other


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_development_outbox_writes_one_eml_file_per_message(app, tmp_path):
    outbox = tmp_path / "outbox"
    dev = make_app(app, MAIL_BACKEND="app.mail.EmailBackend", MAIL_FILE_PATH=str(outbox))

    request_reset(dev)
    request_reset(dev)

    files = sorted(outbox.glob("*.eml"))
    assert len(files) == 2
    message = email.message_from_bytes(files[0].read_bytes(), policy=policy.default)
    assert message["To"] == "shopper@example.com"
    assert "/reset/" in message.get_body(("plain",)).get_content()


def test_outbox_defaults_to_instance_folder(app):
    dev = make_app(app, MAIL_BACKEND="app.mail.EmailBackend")

    request_reset(dev)

    assert list((Path(dev.instance_path) / "outbox").glob("*.eml"))


def test_mail_is_delivered_over_real_smtp(app):
    handler = Collect()
    port = free_port()
    server = Controller(handler, hostname="127.0.0.1", port=port)
    server.start()
    try:
        smtp_app = make_app(app, MAIL_BACKEND="smtp", MAIL_SERVER="127.0.0.1", MAIL_PORT=port)
        request_reset(smtp_app)
    finally:
        server.stop()

    assert len(handler.messages) == 1
    message = handler.messages[0]
    assert message["To"] == "shopper@example.com"
    assert message["From"] == "Storefront <no-reply@localhost>"
    assert "Password reset instructions" in message["Subject"]
