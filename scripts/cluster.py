"""The production stack on loopback (``make cluster``, ``make cluster-down``): nginx with TLS in
front of two uwsgi app servers, MariaDB, Redis and the job worker, each its own process on its
own port, as each would be its own machine. The files they run are the ones deployed:
uwsgi.ini, deploy/nginx/, the worker's command (deploy/systemd/).

    python scripts/cluster.py up [--dir .cluster]     start everything, print the URL
    python scripts/cluster.py down [--dir .cluster]   stop everything (by pid), remove the dir

Everything lives in the directory (state, logs, config, the self-signed certificate); its
cluster.json records ports and pids. The tests marked ``cluster`` drive the same class.
"""

import argparse
import getpass
import json
import os
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
APP_SERVERS = ("a", "b")
INSTALL_HINT = "run `make cluster` (it installs the Debian packages: nginx, MariaDB, Redis)"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _binary(name: str) -> str:
    found = shutil.which(name) or (
        f"/usr/sbin/{name}" if Path(f"/usr/sbin/{name}").exists() else None
    )
    if not found:
        raise SystemExit(f"{name} is not installed: {INSTALL_HINT}.")
    return found


class Cluster:
    """The stack in ``root``; ``state`` (cluster.json) holds its ports and pids."""

    python = str(VENV_BIN / "python")

    def __init__(self, root: Path, processes: int = 2, threads: int = 2):
        self.root = root.resolve()
        self.processes = processes
        self.threads = threads
        self.children: dict[str, subprocess.Popen] = {}  # started by this process
        self.state_file = self.root / "cluster.json"
        self.state: dict = (
            json.loads(self.state_file.read_text()) if self.state_file.exists() else {}
        )

    # --- where things are ----------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.state['ports']['https']}"

    def app_url(self, name: str) -> str:
        """An app server's own plain-HTTP socket (what nginx reaches over the uwsgi protocol)."""
        return f"http://127.0.0.1:{self.state['ports'][f'http_{name}']}"

    @property
    def certificate(self) -> Path:
        return self.root / "tls" / "cert.pem"

    @property
    def database_url(self) -> str:
        db = self.state["database"]
        return (
            f"mysql+mysqldb://{db['user']}:{db['password']}@127.0.0.1:{self.state['ports']['mariadb']}"
            f"/{db['name']}?charset=utf8mb4"
        )

    def redis_url(self, number: int) -> str:
        return f"redis://127.0.0.1:{self.state['ports']['redis']}/{number}"

    def log(self, name: str) -> Path:
        return self.root / "logs" / f"{name}.log"

    def env(self) -> dict[str, str]:
        """What every process of the stack runs with: production, the instance folder here."""
        return {
            **os.environ,
            "ENV": "production",
            "STOREFRONT_INSTANCE_PATH": str(self.root / "instance"),
            "FLASK_APP": "app.app_factory:create_app",
        }

    # --- up ------------------------------------------------------------------------------

    def up(self) -> None:
        if any(group_members(pid) for pid in self.state.get("pids", {}).values()):
            raise SystemExit(f"A cluster runs in {self.root} already: `make cluster-down` first.")
        self._remove()  # what a stopped one left
        for name in ("nginx", "mariadbd", "mariadb-install-db", "redis-server", "openssl"):
            _binary(name)
        for folder in ("logs", "instance", "tls", "nginx", "mariadb", "redis", "prometheus"):
            (self.root / folder).mkdir(parents=True, exist_ok=True)
        self.state = {
            "ports": {
                "https": free_port(),
                "mariadb": free_port(),
                "redis": free_port(),
                **{f"uwsgi_{n}": free_port() for n in APP_SERVERS},
                **{f"http_{n}": free_port() for n in APP_SERVERS},
            },
            "database": {
                "name": "storefront",
                "user": "storefront",
                "password": secrets.token_urlsafe(16),
            },
            "pids": {},
        }
        self._save()
        step = _Steps(7)
        step("MariaDB")
        self.start_mariadb(initialise=True)
        step("Redis")
        self.start_redis()
        step("the instance config, migrations and demo data")
        self._write_instance_config()
        self._manage("db", "upgrade")
        self._manage("seed")
        for name in APP_SERVERS:
            step(f"app server {name.upper()} (uwsgi)")
            self.start_app(name)
        step("the worker")
        self.start_worker()
        step("nginx")
        self._write_certificate()
        self._write_nginx_config()
        self.start_nginx()

    def start_mariadb(self, initialise: bool = False) -> None:
        data = self.root / "mariadb" / "data"
        socket_path = self.root / "mariadb" / "mysqld.sock"
        if initialise and not (data / "mysql").is_dir():
            with self.log("mariadb-install").open("w") as out:
                subprocess.run(
                    [
                        _binary("mariadb-install-db"),
                        "--no-defaults",
                        f"--datadir={data}",
                        f"--user={getpass.getuser()}",
                        "--auth-root-authentication-method=normal",
                        "--skip-test-db",
                    ],
                    check=True,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                )
        self._spawn(
            "mariadb",
            [
                _binary("mariadbd"),
                "--no-defaults",
                f"--datadir={data}",
                f"--socket={socket_path}",
                f"--port={self.state['ports']['mariadb']}",
                "--bind-address=127.0.0.1",
                f"--user={getpass.getuser()}",
                "--skip-name-resolve",
                "--skip-log-bin",
                "--character-set-server=utf8mb4",
                "--collation-server=utf8mb4_unicode_ci",
                "--innodb-buffer-pool-size=128M",
                "--max-connections=300",
                f"--log-error={self.log('mariadb')}",
            ],
        )
        _wait(lambda: _port_open(self.state["ports"]["mariadb"]), "MariaDB", self.log("mariadb"))
        if initialise:
            db = self.state["database"]
            statements = (
                f"CREATE DATABASE IF NOT EXISTS `{db['name']}` CHARACTER SET utf8mb4 "
                "COLLATE utf8mb4_unicode_ci; "
                f"CREATE USER IF NOT EXISTS '{db['user']}'@'127.0.0.1' "
                f"IDENTIFIED BY '{db['password']}'; "
                f"GRANT ALL ON `{db['name']}`.* TO '{db['user']}'@'127.0.0.1';"
            )
            client = shutil.which("mariadb") or _binary("mysql")
            subprocess.run(
                [client, "--no-defaults", f"--socket={socket_path}", "-uroot", "-e", statements],
                check=True,
            )

    def start_redis(self) -> None:
        port = self.state["ports"]["redis"]
        self._spawn(
            "redis",
            [
                _binary("redis-server"),
                "--port",
                str(port),
                "--bind",
                "127.0.0.1",
                "--dir",
                str(self.root / "redis"),
                "--save",
                "",
                "--appendonly",
                "no",
            ],
        )
        _wait(lambda: _port_open(port), "Redis", self.log("redis"))

    def start_app(self, name: str) -> None:
        """App server ``name``: uwsgi.ini, on the uwsgi protocol for nginx and plain HTTP."""
        ports = self.state["ports"]
        # /metrics adds up this server's workers through these files (made empty by `up`; a
        # server restarted keeps its counts, as counters should).
        multiproc = self.root / "prometheus" / name
        multiproc.mkdir(parents=True, exist_ok=True)
        env = {
            **self.env(),
            "UWSGI_SOCKET": f"127.0.0.1:{ports[f'uwsgi_{name}']}",
            "UWSGI_HTTP_SOCKET": f"127.0.0.1:{ports[f'http_{name}']}",
            "UWSGI_PROCESSES": str(self.processes),
            "UWSGI_THREADS": str(self.threads),
            "PROMETHEUS_MULTIPROC_DIR": str(multiproc),
            "STOREFRONT_APP_SERVER": name,
        }
        self._spawn(f"app-{name}", [str(VENV_BIN / "uwsgi"), "--ini", str(ROOT / "uwsgi.ini")], env)
        _wait(
            lambda: _answers(f"{self.app_url(name)}/api/v1/health"),
            f"app server {name.upper()}",
            self.log(f"app-{name}"),
        )

    def start_worker(self) -> None:
        command = [str(VENV_BIN / "celery"), "--app", "app.jobs.worker", "worker", "--beat"]
        command += ["--loglevel=INFO", "--concurrency=2", "--without-gossip", "--without-mingle"]
        # On app server A's machine: its jobs' counts join A's /metrics.
        env = {**self.env(), "PROMETHEUS_MULTIPROC_DIR": str(self.root / "prometheus" / "a")}
        (self.root / "prometheus" / "a").mkdir(parents=True, exist_ok=True)
        self._spawn("worker", command, env)
        _wait(lambda: "ready." in self.log("worker").read_text(), "the worker", self.log("worker"))

    def start_nginx(self) -> None:
        conf = self.root / "nginx" / "nginx.conf"
        self._spawn("nginx", [_binary("nginx"), "-p", str(self.root / "nginx"), "-c", str(conf)])
        _wait(
            lambda: _answers(f"{self.url}/api/v1/health", self.certificate),
            "nginx",
            self.log("nginx"),
        )

    # --- down, and stopping one part -----------------------------------------------------

    def stop(self, name: str, sig: int = signal.SIGTERM, timeout: float = 30) -> None:
        """Stop process ``name`` (its whole process group) and wait for its end."""
        pid = self.state["pids"].pop(name, None)
        self._save()
        if pid is None:
            return
        child = self.children.pop(name, None)
        try:
            os.killpg(pid, sig)
        except ProcessLookupError:
            return
        if child is not None:  # ours: wait() reaps the leader
            try:
                child.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(pid, signal.SIGKILL)
                child.wait()
        # Then the rest of its group (uwsgi's and nginx's workers, Celery's children).
        deadline = time.monotonic() + timeout
        while group_members(pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        if group_members(pid):
            try:
                os.killpg(pid, signal.SIGKILL)
            except ProcessLookupError:
                return
            while group_members(pid):
                time.sleep(0.1)

    def down(self, remove: bool = True) -> list[str]:
        """Stop every process, the front first; remove the directory (unless ``remove`` is
        False: its logs stay to read). Returns what ran."""
        stopped = []
        for name in ("nginx", "app-a", "app-b", "worker", "redis", "mariadb"):
            if name in self.state.get("pids", {}):
                self.stop(name)
                stopped.append(name)
        for name in list(self.state.get("pids", {})):
            self.stop(name)
            stopped.append(name)
        if remove:
            self._remove()
        return stopped

    def _remove(self) -> None:
        """Remove the directory, if it is a cluster's (never any other folder --dir names)."""
        if self.state_file.exists():
            shutil.rmtree(self.root, ignore_errors=True)

    # --- helpers -------------------------------------------------------------------------

    def _spawn(self, name: str, command: list[str], env: dict | None = None) -> None:
        with self.log(name).open("a") as out:
            process = subprocess.Popen(
                command,
                cwd=ROOT,
                env=env or self.env(),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: stopped whole, by pid
            )
        self.children[name] = process
        self.state["pids"][name] = process.pid
        self._save()

    def _save(self) -> None:
        self.state_file.write_text(json.dumps(self.state, indent=2))

    def _manage(self, *args: str) -> None:
        with self.log("manage").open("a") as out:
            subprocess.run(
                [str(VENV_BIN / "python"), str(ROOT / "dbmanager.py"), *args],
                cwd=ROOT,
                env=self.env(),
                check=True,
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    def _write_instance_config(self) -> None:
        config = self.root / "instance" / "application.cfg.py"
        subprocess.run(
            [
                str(VENV_BIN / "python"),
                str(ROOT / "scripts" / "write_instance_config.py"),
                str(config),
            ],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        settings = {
            "SITE_URL": self.url,
            "SQLALCHEMY_DATABASE_URI": self.database_url,
            "RATELIMIT_STORAGE_URI": self.redis_url(0),
            "CACHE_REDIS_URL": self.redis_url(1),
            "JOBS_EAGER": False,
            "JOBS_BROKER_URL": self.redis_url(2),
            "PROXY_FIX_X_FOR": 1,
            # A demo shop: the test card pays (never in a real one).
            "PAYMENT_ALLOW_TEST_PROVIDER": True,
        }
        with config.open("a") as out:
            out.write("\n# The loopback cluster (scripts/cluster.py)\n")
            for key, value in settings.items():
                out.write(f"{key} = {value!r}\n")

    def _write_certificate(self) -> None:
        subprocess.run(
            [
                _binary("openssl"),
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-days",
                "30",
                "-subj",
                "/CN=127.0.0.1",
                "-addext",
                "subjectAltName=IP:127.0.0.1",
                "-keyout",
                str(self.root / "tls" / "key.pem"),
                "-out",
                str(self.certificate),
            ],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def _write_nginx_config(self) -> None:
        """deploy/nginx/'s files with this cluster's values, inside a main config of its own."""
        nginx = self.root / "nginx"
        ports = self.state["ports"]
        servers = "\n    ".join(
            f"server 127.0.0.1:{ports[f'uwsgi_{n}']} max_fails=1 fail_timeout=10s;"
            for n in APP_SERVERS
        )
        import flask_bootstrap  # the virtualenv's Bootstrap-Flask, as uwsgi.ini finds it

        values = {
            "@APP_SERVERS@": servers,
            "@LISTEN@": f"127.0.0.1:{ports['https']}",
            "@SERVER_NAME@": "127.0.0.1",
            "@CERTIFICATE@": str(self.certificate),
            "@CERTIFICATE_KEY@": str(self.root / "tls" / "key.pem"),
            "@STATIC@": str(ROOT / "app" / "static"),
            "@BOOTSTRAP_STATIC@": str(
                Path(flask_bootstrap.__file__).parent / "static" / "bootstrap5"
            ),
            "@MEDIA@": str(self.root / "instance" / "media"),
            "@APP_ASSETS@": str(ROOT / "frontend" / "dist" / "assets"),
            "@SNIPPETS@": str(nginx),
        }
        for name in ("storefront.conf", "storefront-app.conf"):
            lines = (ROOT / "deploy" / "nginx" / name).read_text().splitlines(keepends=True)
            (nginx / name).write_text("".join(_filled(line, values) for line in lines))
        logs = self.root / "logs"
        user = "user root;\n" if os.geteuid() == 0 else ""
        (nginx / "nginx.conf").write_text(
            f"""{user}daemon off;
worker_processes 2;
pid {nginx}/nginx.pid;
error_log {logs}/nginx-error.log;
events {{ worker_connections 1024; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    sendfile on;
    access_log {logs}/nginx-access.log;
    client_body_temp_path {nginx}/body;
    proxy_temp_path {nginx}/proxy;
    fastcgi_temp_path {nginx}/fastcgi;
    uwsgi_temp_path {nginx}/uwsgi;
    scgi_temp_path {nginx}/scgi;
    include {nginx}/storefront.conf;
}}
"""
        )


def _filled(line: str, values: dict[str, str]) -> str:
    """A line of a deploy/ file with its placeholders replaced (comments kept as they are)."""
    if line.lstrip().startswith("#"):
        return line
    for placeholder, value in values.items():
        line = line.replace(placeholder, value)
    return line


class _Steps:
    def __init__(self, total: int):
        self.total = total
        self.done = 0

    def __call__(self, what: str) -> None:
        self.done += 1
        print(f"[{self.done}/{self.total}] {what}", flush=True)


def group_members(group: int) -> list[int]:
    """The live processes of process group ``group`` (zombies left out)."""
    members = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[-1].split()
        except OSError:
            continue  # ended meanwhile
        if fields[0] != "Z" and int(fields[2]) == group:
            members.append(int(stat.parent.name))
    return members


def _port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _answers(url: str, certificate: Path | None = None) -> bool:
    context = ssl.create_default_context(cafile=str(certificate)) if certificate else None
    try:
        with urllib.request.urlopen(url, timeout=2, context=context) as response:  # nosec B310
            return response.status == 200
    except (OSError, ValueError):
        return False


def _wait(ready, what: str, log: Path, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while not ready():
        if time.monotonic() > deadline:
            tail = log.read_text(errors="replace")[-3000:] if log.exists() else "(no log)"
            raise SystemExit(f"{what} did not start in {timeout:.0f} s; {log} ends:\n{tail}")
        time.sleep(0.2)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("action", choices=("up", "down"))
    parser.add_argument("--dir", type=Path, default=ROOT / ".cluster")
    args = parser.parse_args()
    cluster = Cluster(args.dir)
    if args.action == "down":
        stopped = cluster.down()
        print(f"Stopped {', '.join(stopped)}." if stopped else "No cluster was running.")
        return 0
    try:
        cluster.up()
    except BaseException:
        cluster.down(remove=False)
        print(
            f"Starting failed: stopped what started; its logs are in {cluster.root / 'logs'} "
            "(make cluster-down removes them).",
            file=sys.stderr,
        )
        raise
    print(
        f"The shop: {cluster.url}/ (self-signed certificate: {cluster.certificate})\n"
        f"App servers: {cluster.app_url('a')} and {cluster.app_url('b')}; "
        f"logs in {cluster.root / 'logs'}.\n"
        "Stop everything: make cluster-down"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
