"""A private MariaDB server, unix socket only: the test suite's (a temporary datadir, removed at
stop) or the million-product bench's (bench/run.py --million: a kept datadir, reused)."""

import getpass
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import MySQLdb

INSTALL_HINT = (
    "MariaDB is not installed: run `make test` (it installs mariadb-server), "
    "or `sudo apt-get install mariadb-server`, or pass --db=sqlite to skip MariaDB."
)


class MariaDBServer:
    """Start ``mariadbd`` in a temporary directory, or in ``root`` when given (kept at stop,
    its datadir reused when it exists); ``url(name)`` gives a SQLAlchemy URL."""

    def __init__(self, root: Path | None = None, buffer_pool: str = "128M"):
        self.keep = root is not None
        if root is None:
            root = Path(tempfile.mkdtemp(prefix="storefront-mariadb-"))
        root.mkdir(parents=True, exist_ok=True)
        self.root = root.resolve()  # mariadbd takes relative paths as under its datadir
        self.socket = self.root / "mysqld.sock"
        self.buffer_pool = buffer_pool
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 60) -> "MariaDBServer":
        for tool in ("mariadb-install-db", "mariadbd"):
            if not (shutil.which(tool) or Path("/usr/sbin", tool).exists()):
                raise RuntimeError(INSTALL_HINT)
        user = getpass.getuser()
        datadir = self.root / "data"
        log = self.root / "install.log"
        with log.open("w") as out:
            if not (datadir / "mysql").is_dir():
                subprocess.run(
                    [
                        "mariadb-install-db",
                        "--no-defaults",
                        f"--datadir={datadir}",
                        f"--user={user}",
                        "--auth-root-authentication-method=normal",
                        "--skip-test-db",
                    ],
                    check=True,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                )
        mariadbd = shutil.which("mariadbd") or "/usr/sbin/mariadbd"
        self.process = subprocess.Popen(
            [
                mariadbd,
                "--no-defaults",
                f"--datadir={datadir}",
                f"--socket={self.socket}",
                f"--pid-file={self.root / 'mysqld.pid'}",
                f"--log-error={self.root / 'error.log'}",
                f"--user={user}",
                "--skip-networking",
                "--skip-name-resolve",
                "--skip-log-bin",
                "--character-set-server=utf8mb4",
                "--collation-server=utf8mb4_unicode_ci",
                f"--innodb-buffer-pool-size={self.buffer_pool}",
                "--innodb-flush-log-at-trx-commit=2",
                "--max-connections=500",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + timeout
        while True:
            try:
                self.connect().close()
                return self
            except MySQLdb.OperationalError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    errors = (self.root / "error.log").read_text(errors="replace")[-2000:]
                    self.stop()
                    raise RuntimeError(f"MariaDB did not start:\n{errors}") from None
                time.sleep(0.2)

    def connect(self, database: str | None = None):
        kwargs = {"unix_socket": str(self.socket), "user": "root", "charset": "utf8mb4"}
        if database:
            kwargs["database"] = database
        return MySQLdb.connect(**kwargs)

    def create_database(self, name: str) -> str:
        """(Re)create an empty database and return its URL."""
        conn = self.connect()
        try:
            cursor = conn.cursor()
            cursor.execute(f"DROP DATABASE IF EXISTS `{name}`")
            cursor.execute(
                f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
            )
        finally:
            conn.close()
        return self.url(name)

    def url(self, name: str) -> str:
        return f"mysql+mysqldb://root@localhost/{name}?unix_socket={self.socket}&charset=utf8mb4"

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
        if not self.keep:
            shutil.rmtree(self.root, ignore_errors=True)


if __name__ == "__main__":
    server = MariaDBServer().start()
    server.stop()
