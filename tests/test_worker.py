"""The queue on (JOBS_EAGER off): checkout queues its e-mail on Redis and answers; a Celery
worker (a subprocess, as `make worker` runs it) sends it to an SMTP server on loopback, once;
a worker killed mid-job leaves its job to the next worker, and the mail still arrives once."""

import asyncio
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from app.app_factory import create_app
from app.extensions import db
from app.jobs import queue
from app.jobs.models import SentMail
from tests.factories import ProductFactory, UserFactory, create, place
from tests.helpers import TEST_CONFIG
from tests.test_mail import Collect, free_port

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent


class Sink(Collect):
    """An SMTP server on loopback; ``hold_first`` keeps the first client waiting in RCPT (a
    worker mid-job, its mail not accepted) until ``release`` is set, then refuses it."""

    def __init__(self, hold_first: bool = False, refuse: int = 0):
        super().__init__()
        self.hold_first = hold_first
        self.refuse = refuse  # the first ``refuse`` mails are refused (451): the job retries
        self.refused = 0
        self.held = threading.Event()
        self.release = threading.Event()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.refused < self.refuse:
            self.refused += 1
            return "451 Try again later"
        if self.hold_first:
            self.hold_first = False
            self.held.set()
            await asyncio.get_running_loop().run_in_executor(None, self.release.wait, 60)
            return "451 Try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"


@pytest.fixture
def queued(backend, tmp_path, redis_server):
    """A shop on a database of its own with the queue on Redis (a database of its own too),
    mail to an SMTP sink; yields (app, sink factory, worker starter)."""
    url = backend.fresh_url(tmp_path)
    port = free_port()
    settings = {
        **TEST_CONFIG,
        "SQLALCHEMY_DATABASE_URI": url,
        "JOBS_EAGER": False,
        "JOBS_BROKER_URL": redis_server.url.rsplit("/", 1)[0] + "/5",
        "JOBS_VISIBILITY_TIMEOUT": 3,
        "JOBS_RETRY_DELAYS": [1, 2],
        "MAIL_BACKEND": "smtp",
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": port,
        "MAIL_TIMEOUT": 60,
    }
    app = create_app(settings)
    with app.app_context():
        db.create_all()
    app.extensions["celery"].connection_for_write().default_channel.client.flushdb()
    env = {
        **os.environ,
        "STOREFRONT_INSTANCE_PATH": str(tmp_path),
        "DATABASE_URL": url,
        **{f"STOREFRONT_{key}": json.dumps(value) for key, value in settings.items()},
    }
    workers: list[subprocess.Popen] = []
    controllers: list[Controller] = []

    def sink(**options) -> Sink:
        handler = Sink(**options)
        controller = Controller(handler, hostname="127.0.0.1", port=port)
        controller.start()
        controllers.append(controller)
        return handler

    def start_worker() -> subprocess.Popen:
        command = [sys.executable, "-m", "celery", "--app", "app.jobs.worker", "worker"]
        command += ["--pool=solo", "--loglevel=INFO", "--without-gossip", "--without-mingle"]
        worker = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        workers.append(worker)
        return worker

    yield app, sink, start_worker
    for worker in workers:
        if worker.poll() is None:
            worker.send_signal(signal.SIGTERM)
            worker.wait(timeout=30)
    for controller in controllers:
        controller.stop()
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def wait_for(condition, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def sent_keys(app) -> list[str]:
    with app.app_context():
        return db.session.scalars(select(SentMail.key)).all()


def test_checkout_answers_without_smtp_and_the_worker_sends_the_mail_once(queued):
    app, sink, start_worker = queued
    smtp = sink()
    tea = create(app, ProductFactory, name="Green Tea", stock=5)
    buyer = create(app, UserFactory, email="buyer@example.com")

    started = time.monotonic()
    number = place(app, buyer, (tea, 1))
    placing = time.monotonic() - started

    assert smtp.messages == []  # queued, not sent: checkout did not wait for SMTP
    assert sent_keys(app) == []
    start_worker()
    wait_for(lambda: smtp.messages)
    time.sleep(1)
    assert [m["Subject"] for m in smtp.messages] == [f"Your order {number}"]
    assert len(sent_keys(app)) == 1
    assert placing < 5


def test_a_worker_killed_mid_job_leaves_it_to_the_next_and_the_mail_arrives_once(queued):
    app, sink, start_worker = queued
    smtp = sink(hold_first=True)
    tea = create(app, ProductFactory, name="Green Tea", stock=5)
    buyer = create(app, UserFactory, email="buyer@example.com")
    number = place(app, buyer, (tea, 1))

    first = start_worker()
    assert smtp.held.wait(60)  # the worker is sending: inside the SMTP conversation
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=10)
    smtp.release.set()
    start_worker()

    wait_for(lambda: smtp.messages)
    time.sleep(1)
    assert [m["Subject"] for m in smtp.messages] == [f"Your order {number}"]
    assert len(sent_keys(app)) == 1


def test_the_jobs_command_lists_what_waits_and_says_what_to_do_without_redis(queued, tmp_path):
    app, _sink, _start_worker = queued
    tea = create(app, ProductFactory, name="Green Tea", stock=5)
    buyer = create(app, UserFactory, email="buyer@example.com")
    place(app, buyer, (tea, 1))

    listed = app.test_cli_runner().invoke(args=["jobs"])
    app.config["JOBS_BROKER_URL"] = f"redis://127.0.0.1:{free_port()}/0"
    del app.extensions["celery"]
    queue.init_app(app)
    down = app.test_cli_runner().invoke(args=["jobs"])

    assert listed.exit_code == 0, listed.output
    assert (
        listed.output
        == "1 waiting, 0 running (taken by a worker).\n  waiting  orders.mail confirmation\n"
    )
    assert down.exit_code == 1
    assert "does not answer" in down.output
    assert "JOBS_EAGER = True" in down.output


def test_a_mail_the_smtp_server_refuses_is_retried_after_its_delays_and_sent_once(queued):
    """Refused twice: retried after 1 s, then 2 s (JOBS_RETRY_DELAYS), sent by the third run."""
    app, sink, start_worker = queued
    smtp = sink(refuse=2)
    tea = create(app, ProductFactory, name="Green Tea", stock=5)
    buyer = create(app, UserFactory, email="buyer@example.com")
    number = place(app, buyer, (tea, 1))

    started = time.monotonic()
    start_worker()
    wait_for(lambda: smtp.messages)
    took = time.monotonic() - started
    time.sleep(1)

    assert smtp.refused == 2
    assert [m["Subject"] for m in smtp.messages] == [f"Your order {number}"]
    assert len(sent_keys(app)) == 1
    assert took >= 3  # waited out both delays
