"""A throwaway PostgreSQL cluster for tests, from Debian's ``postgresql`` binaries.

The cluster lives in a temporary directory, listens on 127.0.0.1 on a free
port (its Unix socket in the same directory) and is removed at the end of the
test session.  PostgreSQL refuses to run as root, so as root the binaries run
through ``runuser -u postgres --`` on a directory owned by ``postgres``.

Without the binaries the PostgreSQL tests are skipped, or fail with a clear
message when the ``CI`` environment variable is set: CI must run them.
"""

from __future__ import annotations

import atexit
import glob
import importlib
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from itertools import count
from pathlib import Path

import pytest

__all__ = ["PostgresCluster", "find_bindir", "postgres", "postgres_class", "shared_cluster"]

SERVICE_USER = "postgres"


def find_bindir() -> Path | None:
    """The newest ``/usr/lib/postgresql/*/bin`` that has ``initdb`` and ``pg_ctl``."""
    found = []
    for initdb in glob.glob("/usr/lib/postgresql/*/bin/initdb"):
        bindir = Path(initdb).parent
        if (bindir / "pg_ctl").exists():
            try:
                found.append((int(bindir.parent.name), bindir))
            except ValueError:
                continue
    return max(found)[1] if found else None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class PostgresCluster:
    """One running cluster; :meth:`fresh_database` gives each test its own database."""

    def __init__(self, bindir: Path) -> None:
        self.bindir = bindir
        self.root = Path(tempfile.mkdtemp(prefix="gateway-pg-"))
        self.data = self.root / "data"
        self.port = _free_port()
        self._as_root = os.geteuid() == 0
        self._names = count(1)
        self.running = False

    def _run(self, *argv: str) -> None:
        command = [str(self.bindir / argv[0]), *argv[1:]]
        if self._as_root:
            command = ["runuser", "-u", SERVICE_USER, "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            raise RuntimeError(
                f"{argv[0]} failed ({done.returncode}): {done.stderr.strip() or done.stdout}"
            )

    def start(self) -> None:
        if self._as_root:
            shutil.chown(self.root, SERVICE_USER, SERVICE_USER)
        self._run(
            "initdb", "-D", str(self.data), "-U", "postgres", "-A", "trust",
            "-E", "UTF8", "--locale=C", "--no-sync",
        )  # fmt: skip
        options = (
            f"-c listen_addresses=127.0.0.1 -p {self.port}"
            f" -c unix_socket_directories={self.root} -c fsync=off"
        )
        self._run(
            "pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.root / "log"),
            "-w", "-t", "60", "start",
        )  # fmt: skip
        self.running = True

    def stop(self) -> None:
        """Stop the server and remove its directory (safe to call twice)."""
        if self.running:
            self.running = False
            try:
                self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
            except RuntimeError:
                pass
        shutil.rmtree(self.root, ignore_errors=True)

    def dsn(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def fresh_database(self) -> str:
        """Create an empty database; its DSN."""
        psycopg2 = importlib.import_module("psycopg2")  # optional; untyped
        name = f"test_{os.getpid()}_{next(self._names)}"
        conn = psycopg2.connect(self.dsn())
        try:
            conn.autocommit = True
            with conn.cursor() as cursor:
                cursor.execute(f'CREATE DATABASE "{name}"')
        finally:
            conn.close()
        return self.dsn(name)


_shared: PostgresCluster | None = None


def shared_cluster() -> PostgresCluster:
    """The session's cluster, started on first use; skips (or fails under CI) without binaries."""
    global _shared
    if _shared is not None:
        return _shared
    bindir = find_bindir()
    if bindir is None:
        message = (
            "PostgreSQL binaries not found (/usr/lib/postgresql/*/bin/initdb): "
            "install Debian's postgresql package to run the PostgreSQL store tests"
        )
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    cluster = PostgresCluster(bindir)
    atexit.register(cluster.stop)
    try:
        cluster.start()
    except (OSError, RuntimeError, subprocess.TimeoutExpired) as e:
        cluster.stop()
        pytest.fail(f"could not start a PostgreSQL cluster: {e}")
    _shared = cluster
    return cluster


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresCluster]:
    """The session's throwaway PostgreSQL cluster."""
    yield shared_cluster()


@pytest.fixture(scope="class")
def postgres_class(request: pytest.FixtureRequest, postgres: PostgresCluster) -> None:
    """Hand the cluster to a (trial) test class as ``cls.cluster``."""
    request.cls.cluster = postgres
