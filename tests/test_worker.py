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
from datetime import timedelta
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select, update

from app.app_factory import create_app
from app.extensions import db
from app.jobs import queue
from app.jobs.models import FailedJob, SentMail
from app.jobs.queue import retry_failed
from app.orders.models import Order
from app.timestamps import utcnow
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
def queued(backend, tmp_path, redis_server, request):
    """A shop on a database of its own with the queue on Redis (a database of its own too),
    mail to an SMTP sink; yields (app, sink factory, worker starter). Indirect parameters
    override its settings."""
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
        **getattr(request, "param", {}),
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

    def start_worker(beat: bool = False, log: Path | None = None) -> subprocess.Popen:
        """A worker, as `make worker` starts one (``beat``: with its scheduler), in a process
        group of its own; its log to ``log``."""
        command = [sys.executable, "-m", "celery", "--app", "app.jobs.worker", "worker"]
        command += ["--pool=solo", "--loglevel=INFO", "--without-gossip", "--without-mingle"]
        command += ["--beat"] if beat else []
        output = log.open("w") if log else subprocess.DEVNULL
        worker = subprocess.Popen(
            command,
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        if log:
            output.close()  # the worker has its own
        workers.append(worker)
        return worker

    yield app, sink, start_worker
    for worker in workers:
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGTERM)
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
    os.killpg(first.pid, signal.SIGKILL)
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
    assert listed.output.splitlines() == [
        "1 waiting, 0 running (taken by a worker).",
        "  waiting  orders.mail confirmation",
        "Timetable (JOBS_SCHEDULE, run by the workers' scheduler):",
        "  orders.expire    */5 * * * *  last run: never",
        "  cart.purge       30 3 * * *  last run: never",
        "  jobs.purge       45 3 * * *  last run: never",
        "0 failed (python dbmanager.py jobs retry ID, or the back office).",
    ]
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


def runs(log: Path, name: str) -> int:
    """How many runs of the job ``name`` a worker's log shows as done."""
    text = log.read_text() if log.exists() else ""
    return sum(1 for line in text.splitlines() if f"Task {name}[" in line and "succeeded" in line)


def status_of(app, number) -> str:
    with app.app_context():
        return str(db.session.scalar(select(Order.status).where(Order.number == number)))


EVERY_SECOND = {"JOBS_SCHEDULE": {"orders.expire": 1}, "JOBS_SCHEDULER_TAKEOVER": 4}


@pytest.mark.parametrize("queued", [EVERY_SECOND], indirect=True)
def test_two_workers_run_the_timetable_once_and_the_second_takes_over(queued, tmp_path):
    """Each worker carries a scheduler; the one holding the lock in Redis sends each run once,
    and when its worker dies the other takes over. Expiry needs no cron line."""
    app, sink, start_worker = queued
    sink()
    tea = create(app, ProductFactory, name="Green Tea", stock=5)
    buyer = create(app, UserFactory, email="buyer@example.com")
    number = place(app, buyer, (tea, 1), method="manual", details={})
    with app.app_context():
        db.session.execute(update(Order).values(created_at=utcnow() - timedelta(days=4)))
        db.session.commit()
    logs = [tmp_path / "worker-a.log", tmp_path / "worker-b.log"]
    workers = [start_worker(beat=True, log=logs[0]), start_worker(beat=True, log=logs[1])]

    wait_for(lambda: status_of(app, number) == "cancelled")
    wait_for(lambda: sum(runs(log, "orders.expire") for log in logs) >= 2)
    before = sum(runs(log, "orders.expire") for log in logs)
    time.sleep(6)
    during = sum(runs(log, "orders.expire") for log in logs) - before
    assert 4 <= during <= 8, during  # one a second for 6 s: not two (one per scheduler)
    scheduling = [i for i, log in enumerate(logs) if "beat: Acquired lock" in log.read_text()]
    assert len(scheduling) == 1  # the other scheduler waits on the lock
    holder, other = scheduling[0], 1 - scheduling[0]
    os.killpg(workers[holder].pid, signal.SIGKILL)  # its scheduler too
    workers[holder].wait(timeout=10)
    killed_at = time.monotonic()
    wait_for(lambda: "beat: Acquired lock" in logs[other].read_text(), timeout=30)
    took_over = time.monotonic() - killed_at
    after = runs(logs[other], "orders.expire")
    wait_for(lambda: runs(logs[other], "orders.expire") >= after + 3, timeout=10)

    assert took_over < 10  # JOBS_SCHEDULER_TAKEOVER (4 s), the standby's poll (2 s), slack


@pytest.mark.parametrize("queued", [{"JOBS_RETRY_DELAYS": [1]}], indirect=True)
def test_a_job_that_keeps_failing_is_kept_and_an_admins_retry_sends_it_once(queued):
    app, sink, start_worker = queued
    smtp = sink(refuse=2)  # the first run and its one retry
    tea = create(app, ProductFactory, name="Green Tea", stock=5)
    buyer = create(app, UserFactory, email="buyer@example.com")
    number = place(app, buyer, (tea, 1))
    start_worker()

    wait_for(lambda: failed(app))
    [kept] = failed(app)
    with app.app_context():
        assert retry_failed([kept.id]) == 1
    wait_for(lambda: smtp.messages)
    time.sleep(1)

    assert kept.summary == f"The confirmation e-mail of order {number}"
    assert kept.attempts == 2
    assert kept.error.startswith("SMTPRecipientsRefused")
    assert smtp.refused == 2
    assert [m["Subject"] for m in smtp.messages] == [f"Your order {number}"]
    assert failed(app) == []


def failed(app) -> list[FailedJob]:
    with app.app_context():
        rows = list(db.session.scalars(select(FailedJob)))
        db.session.expunge_all()
        return rows
