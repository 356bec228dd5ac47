"""Load benchmark: uwsgi on loopback, wrk against the catalogue and API, small vs large shop.

    .venv/bin/python bench/run.py [--products 20000] [--seconds 10] [--connections 16]

Builds two throwaway SQLite databases (or, with DATABASE_URL pointing at a server database
ending in a name, uses it as given for the large run only), loads the demo catalogue (50
products) in one and the demo plus --products synthetic ones in the other, serves each with
uwsgi --ini uwsgi.ini on a free loopback port, and runs wrk on a few URLs. It reports
requests/s for each, the large/small ratio (1.00 = the page does not slow down as the
catalogue grows) and the SQL queries each page runs (from the test client), so that a
regression shows as a ratio or a query count, not as a machine-dependent time.
"""

import argparse
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
URLS = [
    "/",
    "/products",
    "/products?q=tea",
    "/products?sort=-price&page=3",
    "/products/japanese-sencha-100-g",
    "/api/v1/products?per_page=24",
    "/api/v1/health",
]
SECRETS = (
    'SECRET_KEY = "bench"\nSECURITY_PASSWORD_SALT = "bench"\n'
    'SECURITY_TOTP_SECRETS = {"1": "bench"}\n'
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def run(cmd, env, **kwargs):
    return subprocess.run(cmd, env=env, cwd=ROOT, check=True, text=True, **kwargs)


def prepare(workdir: Path, products: int) -> dict:
    """A database with the demo catalogue plus `products` synthetic ones; returns the env."""
    instance = workdir / "instance"
    instance.mkdir(parents=True)
    (instance / "application.cfg.py").write_text(SECRETS)
    env = {
        **os.environ,
        "STOREFRONT_INSTANCE_PATH": str(instance),
        "DATABASE_URL": f"sqlite:///{workdir / 'bench.sqlite'}",
        "ENV": "development",
    }
    python = str(VENV_BIN / "python")
    run([python, "dbmanager.py", "db", "upgrade"], env, capture_output=True)
    print(run([python, "dbmanager.py", "seed"], env, capture_output=True).stdout.strip())
    if products:
        out = run(
            [python, "dbmanager.py", "seed", "--products", str(products)], env, capture_output=True
        ).stdout
        print(out.strip().splitlines()[-1])
    return env


def query_counts(env) -> dict[str, int]:
    """SQL statements per URL, counted in-process with the test client."""
    code = f"""
import json
from sqlalchemy import event
from app.app_factory import create_app
from app.extensions import db
app = create_app()
client = app.test_client()
counts = {{}}
with app.app_context():
    engine = db.engine
for url in {URLS!r}:
    client.get(url)
    seen = []
    listener = lambda *a: seen.append(1)
    event.listen(engine, "before_cursor_execute", listener)
    client.get(url)
    event.remove(engine, "before_cursor_execute", listener)
    counts[url] = len(seen)
print(json.dumps(counts))
"""
    out = run([str(VENV_BIN / "python"), "-c", code], env, capture_output=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def serve_and_measure(env, seconds: int, connections: int) -> dict[str, float]:
    port = free_port()
    uwsgi_env = {
        **env,
        "UWSGI_HTTP_SOCKET": f"127.0.0.1:{port}",
        "UWSGI_PROCESSES": "2",
        "UWSGI_THREADS": "2",
        "UWSGI_DISABLE_LOGGING": "1",
    }
    uwsgi = subprocess.Popen(
        [str(VENV_BIN / "uwsgi"), "--ini", "uwsgi.ini", "--env", "ENV=development"],
        env=uwsgi_env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/health", timeout=2)
                break
            except OSError:
                if time.monotonic() > deadline or uwsgi.poll() is not None:
                    raise SystemExit("uwsgi did not start: try `make run` first") from None
                time.sleep(0.3)
        results = {}
        for url in URLS:
            out = subprocess.run(
                [
                    "wrk",
                    "-t2",
                    f"-c{connections}",
                    f"-d{seconds}s",
                    f"http://127.0.0.1:{port}{url}",
                ],
                check=True,
                capture_output=True,
                text=True,
            ).stdout
            rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
            non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
            if non2xx:
                raise SystemExit(f"{url}: {non2xx.group(1)} error responses under load")
            results[url] = rate
            print(f"  {url:<34} {rate:9.1f} req/s", flush=True)
        return results
    finally:
        uwsgi.terminate()
        uwsgi.wait(timeout=30)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, default=20000)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=16)
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is not installed: sudo apt-get install wrk (or `make bench`)")
    workdir = Path(tempfile.mkdtemp(prefix="storefront-bench-"))
    try:
        runs = {}
        for label, extra in (("small", 0), ("large", args.products)):
            print(f"== {label} catalogue")
            env = prepare(workdir / label, extra)
            runs[label] = (
                serve_and_measure(env, args.seconds, args.connections),
                query_counts(env),
            )
        print(f"\n{'URL':<34} {'small':>9} {'large':>9} {'ratio':>6} {'queries':>8}")
        for url in URLS:
            small, large = runs["small"][0][url], runs["large"][0][url]
            q_small, q_large = runs["small"][1][url], runs["large"][1][url]
            queries = f"{q_small}" if q_small == q_large else f"{q_small}->{q_large}"
            print(f"{url:<34} {small:9.1f} {large:9.1f} {large / small:6.2f} {queries:>8}")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
