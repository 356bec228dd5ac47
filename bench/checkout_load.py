"""Checkout under load with a database crash: uwsgi on MariaDB, customers carting and paying.

    .venv/bin/python bench/checkout_load.py [--clients 24] [--seconds 40]
                                            [--outage-at 15] [--outage-for 5] [--workers 4x4]

Issue 20's measurement, run as a merchant would meet it. It starts its own MariaDB (the test
suite's tests.mariadb.MariaDBServer: a temporary datadir, a unix socket), builds the schema with
`dbmanager.py db upgrade`, adds a few products with a large stock and --clients confirmed
customers, and serves the app with `uwsgi --ini uwsgi.ini` (4 processes x 4 threads) on a free
loopback port, in production as the ini sets it: fresh secrets, an https SITE_URL, manual
payment only, rate limits shared in a throwaway Redis (tests.servers.RedisServer).
Each client gets an API token, then until the time is up adds one to three products to its
own cart (POST /api/v1/cart/items) and checks out (POST /api/v1/orders, manual payment).
--outage-at seconds into the run, MariaDB is killed (SIGKILL, a crash) and started again
--outage-for seconds later on the same datadir and socket.

It reports the requests and orders, a table of status codes inside and outside the outage
(from the crash until GRACE seconds after MariaDB answers again), the 500s and unanswered
requests outside the outage (the goal: none), whether every 503 carried Retry-After, the
errors other than 503 inside the outage, and the lock conflicts retried and outage answers
uwsgi logged; then audits the database: for each product the stock taken equals the
quantity on its order lines, and no stock is negative. It exits 1 when a request outside the
outage got a 500 or no answer, or the audit fails. When any 500 or unanswered request
happened, the uwsgi log is kept and its exceptions are listed with where they were raised.
"""

import argparse
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import MySQLdb
import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the test suite's throwaway MariaDB server
from bench.run import free_port, run  # noqa: E402
from tests.helpers import ADDRESS  # noqa: E402
from tests.mariadb import MariaDBServer  # noqa: E402
from tests.servers import RedisServer  # noqa: E402

VENV_BIN = Path(sys.executable).parent
PRODUCTS = 4
STOCK = 1_000_000
PASSWORD = "load test password, not a real one"
GRACE = 2.0  # seconds after MariaDB is back that still count as the outage
TOKEN_HEADER = "Authentication-Token"
CHECKOUT = {"shipping_address": ADDRESS, "payment": {"method": "manual"}}
# Production as uwsgi.ini serves it (ENV=production and its start-up checks): fresh secrets
# from scripts/write_instance_config.py, then these. Token logins are not rate limited.
PRODUCTION_SETTINGS = """
SITE_URL = "https://127.0.0.1"
PAYMENT_METHODS = ["manual"]
RATELIMIT_STORAGE_URI = "{redis}"
RATELIMIT_LOGIN_FAILURES = "100000 per minute"
"""
SEED = """
import json, sys
from flask_security import hash_password
from flask_security.utils import naive_utcnow
from app.app_factory import create_app
from app.accounts.datastore import user_datastore
from app.accounts.models import CUSTOMER
from app.accounts.services import ensure_roles
from app.catalog.models import Product, Variant
from app.extensions import db
products, clients, stock, password = json.loads(sys.argv[1])
app = create_app()
with app.app_context():
    ensure_roles()
    rows = [
        Product(
            name=f"Load Tea {n}", slug=f"load-tea-{n}", price_cents=450 + n,
            currency=app.config["SHOP_CURRENCY"], is_active=True,
            variants=[Variant(sku=f"LOAD-{n}", stock=stock)],
        )
        for n in range(products)
    ]
    db.session.add_all(rows)
    hashed = hash_password(password)  # one bcrypt hash serves every customer's password
    customer = user_datastore.find_or_create_role(CUSTOMER)
    for n in range(clients):
        user_datastore.create_user(
            email=f"customer{n}@example.com", password=hashed, active=True,
            confirmed_at=naive_utcnow(), roles=[customer],
        )
    db.session.commit()
    print(json.dumps([row.id for row in rows]))
"""


@dataclass
class Answer:
    started: float
    ended: float
    call: str  # "cart" or "order"
    status: int | str  # the HTTP status, or the exception's name when none came
    retry_after: bool


class Outage:
    """Kill MariaDB at ``at`` seconds into the run and start it again ``duration`` later."""

    def __init__(self, server: MariaDBServer, at: float, duration: float):
        self.server, self.at, self.duration = server, at, duration
        self.crashed: float | None = None
        self.restored: float | None = None

    def run(self, start: float) -> None:
        time.sleep(max(0.0, start + self.at - time.monotonic()))
        process = self.server.process
        self.crashed = time.monotonic()  # connections drop as the kill lands, not after wait()
        process.send_signal(signal.SIGKILL)
        process.wait()
        print(f"  {self.crashed - start:5.1f}s  MariaDB killed", flush=True)
        time.sleep(self.duration)
        # The same command line: same datadir, socket and settings; InnoDB recovers on start.
        self.server.process = subprocess.Popen(
            process.args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        while True:
            try:
                self.server.connect().close()
                break
            except MySQLdb.OperationalError:
                if self.server.process.poll() is not None:
                    raise SystemExit("MariaDB did not come back, see its error.log") from None
                time.sleep(0.1)
        self.restored = time.monotonic()
        print(f"  {self.restored - start:5.1f}s  MariaDB answers again", flush=True)

    def covers(self, answer: Answer) -> bool:
        """Whether the request overlapped the outage (crash to restore plus GRACE)."""
        if self.crashed is None:
            return False
        end = (self.restored or float("inf")) + GRACE
        return answer.started < end and answer.ended > self.crashed


def prepare(
    workdir: Path, server: MariaDBServer, redis: RedisServer, clients: int
) -> tuple[dict, list[int]]:
    """A migrated database with the products and customers; returns the env and product ids."""
    config = workdir / "instance" / "application.cfg.py"
    python = str(VENV_BIN / "python")
    run([python, "scripts/write_instance_config.py", str(config)], os.environ, capture_output=True)
    with config.open("a") as out:
        out.write(PRODUCTION_SETTINGS.format(redis=redis.url))
    env = {
        **os.environ,
        "STOREFRONT_INSTANCE_PATH": str(config.parent),
        "DATABASE_URL": server.create_database("checkout_load"),
        "ENV": "production",
    }
    run([python, "dbmanager.py", "db", "upgrade"], env, capture_output=True)
    args = json.dumps([PRODUCTS, clients, STOCK, PASSWORD])
    out = run([python, "-c", SEED, args], env, capture_output=True).stdout
    return env, json.loads(out.strip().splitlines()[-1])


def serve(env, workers: tuple[int, int], log: Path) -> tuple[subprocess.Popen, str]:
    """uwsgi --ini uwsgi.ini on a free port, stderr to ``log``; returns it and its base URL."""
    port = free_port()
    uwsgi_env = {
        **env,
        "UWSGI_HTTP_SOCKET": f"127.0.0.1:{port}",
        "UWSGI_PROCESSES": str(workers[0]),
        "UWSGI_THREADS": str(workers[1]),
        "UWSGI_DISABLE_LOGGING": "1",  # no request lines; the app's warnings and errors stay
    }
    with log.open("w") as out:
        uwsgi = subprocess.Popen(
            [str(VENV_BIN / "uwsgi"), "--ini", "uwsgi.ini"],
            env=uwsgi_env,
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if requests.get(f"{base}/api/v1/health", timeout=2).status_code == 200:
                return uwsgi, base
        except requests.RequestException:
            pass
        if time.monotonic() > deadline or uwsgi.poll() is not None:
            uwsgi.kill()
            raise SystemExit(f"uwsgi did not start:\n{log.read_text()[-3000:]}")
        time.sleep(0.3)


def token_for(base: str, email: str) -> str:
    for _ in range(5):
        response = requests.post(
            f"{base}/api/v1/auth/token", json={"email": email, "password": PASSWORD}, timeout=60
        )
        if response.status_code == 200:
            return response.json()["token"]
        time.sleep(1)
    raise SystemExit(f"no token for {email}: {response.status_code} {response.text[:200]}")


def post(base: str, path: str, body: dict, headers: dict, call: str) -> Answer:
    started = time.monotonic()
    try:
        response = requests.post(f"{base}{path}", json=body, headers=headers, timeout=60)
        status, retry_after = response.status_code, "Retry-After" in response.headers
    except requests.RequestException as error:
        status, retry_after = type(error).__name__, False
    return Answer(started, time.monotonic(), call, status, retry_after)


def customer(n, base, token, products, ready, deadline, answers: list[Answer]) -> None:
    """Add one to three products to the cart, then check out; again until the deadline."""
    headers = {TOKEN_HEADER: token}
    shuffled = random.Random(n)
    ready.wait()
    while time.monotonic() < deadline[0]:
        for product_id in shuffled.sample(products, shuffled.randint(1, 3)):
            item = {"product_id": product_id, "quantity": 1}
            answers.append(post(base, "/api/v1/cart/items", item, headers, "cart"))
        answers.append(post(base, "/api/v1/orders", CHECKOUT, headers, "order"))


def load(base, products, clients, seconds, outage: Outage) -> tuple[list[Answer], float]:
    """Run the customers (and the outage) for ``seconds``; returns the answers and the start."""
    tokens = [token_for(base, f"customer{n}@example.com") for n in range(clients)]
    ready = threading.Barrier(clients + 1)
    deadline = [0.0]
    answers: list[list[Answer]] = [[] for _ in range(clients)]
    threads = [
        threading.Thread(
            target=customer,
            args=(n, base, tokens[n], products, ready, deadline, answers[n]),
            daemon=True,
        )
        for n in range(clients)
    ]
    for thread in threads:
        thread.start()
    start = time.monotonic()
    deadline[0] = start + seconds
    ready.wait()
    crash = threading.Thread(target=outage.run, args=(start,), daemon=True)
    if outage.at < seconds:
        crash.start()
    while any(thread.is_alive() for thread in threads):
        time.sleep(5)
        done = [a for per in answers for a in per]
        errors = sum(a.status == 500 for a in done)
        elapsed = time.monotonic() - start
        print(f"  {elapsed:5.1f}s  {len(done)} requests, {errors} 500s", flush=True)
    if crash.is_alive():
        crash.join()
    return [a for per in answers for a in per], start


def audit(server: MariaDBServer, products: list[int]) -> tuple[list[str], int, int]:
    """Per product: stock taken vs ordered, no negative stock; returns rows, failures, orders."""
    conn = server.connect("checkout_load")
    try:
        cursor = conn.cursor()
        # Each product has one variant: its stock is the product's.
        cursor.execute("SELECT product_id, stock FROM variant")
        stock = dict(cursor.fetchall())
        cursor.execute("SELECT product_id, SUM(quantity) FROM order_line GROUP BY product_id")
        ordered = {k: int(v) for k, v in cursor.fetchall()}
        cursor.execute("SELECT COUNT(*) FROM orders")
        orders = cursor.fetchone()[0]
    finally:
        conn.close()
    rows, failures = [], 0
    for product_id in products:
        taken, lines = STOCK - stock[product_id], ordered.get(product_id, 0)
        ok = taken == lines and stock[product_id] >= 0
        failures += not ok
        rows.append(f"  {product_id:>7} {taken:>11} {lines:>11} {stock[product_id]:>9}  {ok}")
    negative = [p for p, s in stock.items() if s < 0]
    if negative:
        failures += 1
        rows.append(f"  negative stock: products {negative}")
    return rows, failures, orders


def exceptions_logged(log: str) -> Counter:
    """Each logged exception (a chain counts once, by its last exception) and where it was
    raised: the innermost frame in app/, else the innermost outside SQLAlchemy and MySQLdb."""
    found: Counter = Counter()
    chain: list[str] = []
    blocks = log.split("Traceback (most recent call last):")[1:]
    for number, block in enumerate(blocks):
        chain.append(block)
        chained = ("The above exception was", "During handling of the above exception")
        if number + 1 < len(blocks) and any(marker in block[-200:] for marker in chained):
            continue
        frames = re.findall(r'File "([^"]+)", line (\d+)', "".join(chain))
        last_frames = re.findall(r'File "([^"]+)", line (\d+)', block)
        inside_app = [(f, n) for f, n in frames if f.startswith(f"{ROOT}/app/")]
        libraries = [
            (f, n) for f, n in last_frames if not re.search(r"^<|/sqlalchemy/|/MySQLdb/", f)
        ]
        where = (inside_app or libraries or last_frames or [("?", "?")])[-1]
        path = re.sub(r".*/(site-packages|wt-[^/]+|main)/", "", where[0])
        exception = next(
            (line for line in block.splitlines() if re.match(r"^[\w.]+(Error|Exception)\b", line)),
            "?",
        )
        found[(exception[:140], f"{path}:{where[1]}")] += 1
        chain = []
    return found


def report(answers: list[Answer], outage: Outage, seconds: int, start: float) -> int:
    """Print the counts; returns the 500s and dropped connections outside the outage."""
    inside = Counter(a.status for a in answers if outage.covers(a))
    outside = Counter(a.status for a in answers if not outage.covers(a))
    orders = sum(a.call == "order" and a.status == 201 for a in answers)
    print(f"\nrequests  {len(answers)} ({len(answers) / seconds:.0f}/s), orders placed {orders}")
    if outage.crashed is not None and outage.restored is not None:
        print(
            f"outage    MariaDB down from {outage.crashed - start:.1f}s to "
            f"{outage.restored - start:.1f}s, counted until {GRACE:.0f}s after"
        )
    print(f"\n{'status (calls)':<32} {'inside':>8} {'outside':>8}")
    for status in sorted(set(inside) | set(outside), key=str):
        calls = Counter(a.call for a in answers if a.status == status)
        label = f"{status} ({', '.join(f'{c} {k}' for k, c in sorted(calls.items()))})"
        print(f"{label:<32} {inside[status]:>8} {outside[status]:>8}")
    unavailable = [a for a in answers if a.status == 503]
    with_header = sum(a.retry_after for a in unavailable)
    not_503 = {s: c for s, c in inside.items() if s not in (200, 201, 503)}
    dropped = sum(c for s, c in outside.items() if isinstance(s, str))
    print(f"\n500s outside the outage:        {outside[500]} (goal 0)")
    print(f"no answer outside the outage:   {dropped} (goal 0)")
    print(f"503s with Retry-After:          {with_header} of {len(unavailable)}")
    print(f"errors inside, other than 503:  {not_503 or 'none'}")
    stray = [a for a in answers if not outage.covers(a) and a.status not in (200, 201)]
    if stray:
        when = ", ".join(f"{a.status} {a.call} at {a.started - start:.1f}s" for a in stray[:10])
        print(f"errors outside the outage:      {when}{', ...' if len(stray) > 10 else ''}")
    return outside[500] + dropped


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=24)
    parser.add_argument("--seconds", type=int, default=40)
    parser.add_argument("--outage-at", type=float, default=15, help="seconds into the run")
    parser.add_argument("--outage-for", type=float, default=5, help="seconds without MariaDB")
    parser.add_argument("--workers", default="4x4", help="uwsgi processes x threads")
    args = parser.parse_args()
    workers = tuple(int(n) for n in args.workers.split("x"))
    workdir = Path(tempfile.mkdtemp(prefix="storefront-checkout-load-"))
    log = workdir / "uwsgi.log"
    server, redis = MariaDBServer(), RedisServer()
    uwsgi = None
    try:
        print("== MariaDB, Redis, schema, products and customers", flush=True)
        server.start()
        redis.start()
        env, products = prepare(workdir, server, redis, args.clients)
        print(f"== uwsgi {workers[0]} processes x {workers[1]} threads", flush=True)
        uwsgi, base = serve(env, workers, log)
        print(f"== {args.clients} customers for {args.seconds}s", flush=True)
        outage = Outage(server, args.outage_at, args.outage_for)
        answers, start = load(base, products, args.clients, args.seconds, outage)
        errors = report(answers, outage, args.seconds, start)
        text = log.read_text(errors="replace")
        print(
            f"uwsgi log: {text.count('lock conflict')} lock conflicts retried, "
            f"{text.count('Database unavailable')} database-unavailable answers"
        )
        rows, failures, orders = audit(server, products)
        print(f"\naudit: {'product':>7} {'stock taken':>11} {'on orders':>11} {'stock':>9}  ok")
        print("\n".join(rows))
        print(f"orders in the database: {orders}; audit {'FAILED' if failures else 'passed'}")
        if any(a.status == 500 or isinstance(a.status, str) for a in answers):
            kept = Path(tempfile.mkstemp(prefix="checkout-load-uwsgi-", suffix=".log")[1])
            shutil.copy(log, kept)
            print(f"\nexceptions in the uwsgi log (kept as {kept}):")
            for (exception, where), count in exceptions_logged(text).most_common():
                print(f"  {count:>4}  {where}  {exception}")
        return 1 if errors or failures else 0
    finally:
        if uwsgi is not None:
            uwsgi.terminate()
            uwsgi.wait(timeout=30)
        server.stop()
        redis.stop()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
