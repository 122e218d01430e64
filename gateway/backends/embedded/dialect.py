"""The few places where SQLite and PostgreSQL differ, kept in one module.

Everything else in the embedded store writes one portable SQL: ``?``
placeholders, ``INSERT … ON CONFLICT (…) DO UPDATE/NOTHING`` (both engines
accept it), natural primary keys instead of autoincrement columns, and text or
numbers only (no blobs, no booleans).  This module translates placeholders,
knows how to open connections for each engine and which errors mean "try the
transaction again".
"""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass
from typing import Any, Literal

from gateway.owner_only import create_private_file, ensure_private_dir, tighten

__all__ = ["Dialect", "StoreAddress", "parse_dsn", "prepare_sqlite_file"]

Engine = Literal["sqlite", "postgresql"]

#: how long an SQLite connection waits for another process's write lock
SQLITE_BUSY_SECONDS = 30.0
#: PostgreSQL advisory lock key serialising schema migrations across processes
MIGRATION_LOCK_KEY = 0x67617465  # "gate"


@dataclass(frozen=True, slots=True)
class StoreAddress:
    """A parsed ``gateway.store`` value."""

    engine: Engine
    #: file path, ``":memory:"``, or the PostgreSQL connection string
    target: str
    #: SQLite ``PRAGMA synchronous`` level (``FULL`` unless the DSN asks otherwise)
    synchronous: str = "FULL"

    @property
    def in_memory(self) -> bool:
        return self.engine == "sqlite" and self.target == ":memory:"


def parse_dsn(dsn: str) -> StoreAddress:
    """Read ``sqlite:PATH``, ``sqlite::memory:`` or ``postgresql://…``.

    ``sqlite:PATH?synchronous=normal`` trades power-loss durability for speed
    (WAL with ``NORMAL`` still survives a killed process).

    Raises:
        ValueError: for anything else, with a message naming the accepted forms.
    """
    if dsn.startswith(("postgresql://", "postgres://")):
        return StoreAddress("postgresql", dsn)
    if dsn.startswith("sqlite:"):
        rest = dsn[len("sqlite:") :]
        path, _, query = rest.partition("?")
        synchronous = "FULL"
        if query:
            key, _, value = query.partition("=")
            if key != "synchronous" or value.upper() not in ("FULL", "NORMAL"):
                raise ValueError(
                    f"unknown SQLite store option {query!r} "
                    "(only synchronous=full or synchronous=normal)"
                )
            synchronous = value.upper()
        if not path:
            raise ValueError("the SQLite store needs a file path: sqlite:var/gateway.sqlite")
        return StoreAddress("sqlite", path, synchronous)
    raise ValueError(
        f"unsupported store {dsn!r}: use sqlite:PATH, sqlite::memory: or postgresql://…"
    )


@dataclass(frozen=True, slots=True)
class Dialect:
    """SQL and driver differences of one engine."""

    engine: Engine

    def sql(self, query: str) -> str:
        """``query`` with ``?`` placeholders in this engine's paramstyle."""
        if self.engine == "sqlite":
            return query
        return _to_pyformat(query)

    def pool_args(
        self, address: StoreAddress, *, writer: bool
    ) -> tuple[str, tuple[Any, ...], dict[str, Any]]:
        """DB-API module name, positional and keyword arguments for a connection pool."""
        if self.engine == "postgresql":
            return "psycopg2", (address.target,), {"cp_min": 1, "cp_max": 4, "cp_reconnect": True}
        # One connection writes, so SQLite never sees two writers from this process;
        # readers get their own connections (WAL lets them run beside the writer).
        # An in-memory database exists only inside one connection: use it for both.
        size = 1 if writer or address.in_memory else 3
        kwargs: dict[str, Any] = {
            "check_same_thread": False,
            "isolation_level": None,  # we issue BEGIN ourselves
            "timeout": SQLITE_BUSY_SECONDS,
            "cp_min": size,
            "cp_max": size,
        }
        return "sqlite3", (address.target,), kwargs

    def prepare_connection(self, connection: Any, address: StoreAddress) -> None:
        """Per-connection settings, run right after each connect."""
        if self.engine == "postgresql":
            return
        cursor = connection.cursor()
        if not address.in_memory:
            cursor.execute("PRAGMA journal_mode=WAL")
        # FULL: a commit is on disk before the caller hears about it.
        cursor.execute(f"PRAGMA synchronous={address.synchronous}")
        cursor.execute("PRAGMA foreign_keys=ON")
        # 16 MiB of page cache per connection keeps index pages of large stores in memory
        cursor.execute("PRAGMA cache_size=-16384")
        cursor.close()

    def begin(self, cursor: Any, *, write: bool) -> None:
        """Open the interaction's transaction (psycopg2 opens one implicitly)."""
        if self.engine == "sqlite":
            # IMMEDIATE takes the write lock up front, so two processes sharing a
            # file cannot both read and then both try to upgrade to writing.
            cursor.execute("BEGIN IMMEDIATE" if write else "BEGIN")

    @property
    def for_update(self) -> str:
        """Suffix that locks the selected rows until commit (SQLite's single writer needs none)."""
        return " FOR UPDATE" if self.engine == "postgresql" else ""

    def lock_for_migration(self, cursor: Any) -> None:
        """Serialise schema changes between processes (SQLite's BEGIN IMMEDIATE already does)."""
        if self.engine == "postgresql":
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK_KEY,))

    def is_retryable(self, error: BaseException) -> bool:
        """Whether ``error`` means the whole transaction may simply be run again."""
        if self.engine == "sqlite":
            return isinstance(error, sqlite3.OperationalError) and "locked" in str(error)
        code = getattr(error, "pgcode", None)
        # serialization_failure, deadlock_detected
        return code in ("40001", "40P01")


def _to_pyformat(query: str) -> str:
    """Replace ``?`` outside string literals by ``%s`` and double literal ``%``."""
    out: list[str] = []
    quoted = False
    for char in query:
        if char == "'":
            quoted = not quoted
            out.append(char)
        elif char == "%":
            out.append("%%")
        elif char == "?" and not quoted:
            out.append("%s")
        else:
            out.append(char)
    return "".join(out)


#: what SQLite keeps beside a database file; it creates them with the database file's mode
SQLITE_COMPANIONS = ("-wal", "-shm", "-journal")


def prepare_sqlite_file(path: str) -> None:
    """Make the SQLite file at ``path`` owner-only before anything opens it.

    Missing directories are created 0700; a missing database file is created
    empty and 0600 (SQLite gives the WAL and SHM files it creates later the
    database file's mode, so they follow); an existing database file or
    companion this process owns that others could read is tightened, with a
    warning.  An existing directory is only reported: it may hold other things.
    """
    target = os.path.abspath(path)
    ensure_private_dir(os.path.dirname(target), tighten_existing=False)
    create_private_file(target)
    for suffix in ("", *SQLITE_COMPANIONS):
        tighten(target + suffix)
