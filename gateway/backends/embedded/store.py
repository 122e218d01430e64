"""The embedded SQL store: transactions on a thread pool, answered as Deferreds.

:func:`~gateway.backends.embedded.startup.open_store` connects to SQLite or
PostgreSQL, brings the schema up to date and returns a :class:`Store`.
Callers hand the store a plain function that takes a :class:`Tx`; it runs in
a pool thread inside one transaction (committed when the function returns,
rolled back when it raises) and its return value fires the Deferred.

SQLite: one connection does every write, so writes from this process are
serialised without lock contention; reads use a few more connections, which
WAL mode lets run beside the writer.  ``synchronous=FULL`` by default, so an
acknowledged write survives both a killed process and a power cut.
:meth:`Store.read_short` runs a lookup of a few indexed rows on one more,
read-only connection owned by the reactor thread: the hop to a pool thread
and back costs far more than such a query.
PostgreSQL: a small pool of psycopg2 connections; writes rely on unique keys
and ``ON CONFLICT`` so concurrent gateways never lose or duplicate rows.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from twisted.enterprise import adbapi
from twisted.internet.defer import Deferred, ensureDeferred, fail, succeed
from twisted.internet.task import deferLater
from twisted.internet.threads import deferToThreadPool
from twisted.logger import Logger
from twisted.python.failure import Failure

from gateway.backends.embedded.dialect import Dialect, StoreAddress

__all__ = ["Row", "Store", "StoreTimer", "Tx", "connection_pool"]

T = TypeVar("T")
Row = tuple[Any, ...]

log = Logger()

#: how often a transaction is retried after a deadlock or serialisation failure
RETRIES = 4

#: told ``("read" | "write", seconds)`` after each transaction, succeeded or not
StoreTimer = Callable[[str, float], None]


class Tx:
    """One transaction's cursor, speaking ``?`` placeholders on every engine."""

    def __init__(self, cursor: Any, dialect: Dialect) -> None:
        self._cursor = cursor
        self.dialect = dialect

    def _run(self, query: str, params: Sequence[Any]) -> None:
        if params:
            self._cursor.execute(self.dialect.sql(query), tuple(params))
        else:
            self._cursor.execute(query)

    def execute(self, query: str, params: Sequence[Any] = ()) -> int:
        """Run one statement; the number of rows it changed."""
        self._run(query, params)
        count = self._cursor.rowcount
        return int(count) if count is not None else -1

    def executemany(self, query: str, rows: Sequence[Sequence[Any]]) -> None:
        """Run one statement once per parameter row."""
        if rows:
            self._cursor.executemany(self.dialect.sql(query), [tuple(r) for r in rows])

    def one(self, query: str, params: Sequence[Any] = ()) -> Row | None:
        """The first row of a query, or ``None``."""
        self._run(query, params)
        row = self._cursor.fetchone()
        return tuple(row) if row is not None else None

    def all(self, query: str, params: Sequence[Any] = ()) -> list[Row]:
        """Every row of a query."""
        self._run(query, params)
        return [tuple(r) for r in self._cursor.fetchall()]

    def scalar(self, query: str, params: Sequence[Any] = ()) -> Any:
        """The first column of the first row, or ``None``."""
        row = self.one(query, params)
        return row[0] if row is not None else None


class Store:
    """Runs functions against the database inside transactions.

    Use :func:`~gateway.backends.embedded.startup.open_store` rather than
    building one directly.
    """

    def __init__(
        self,
        address: StoreAddress,
        reactor: Any,
        writer: adbapi.ConnectionPool,
        reader: adbapi.ConnectionPool,
    ) -> None:
        self.address = address
        self.dialect = Dialect(address.engine)
        self._reactor = reactor
        self._writer = writer
        self._reader = reader
        self._closed = False
        self._timer: StoreTimer | None = None
        self._clock: Callable[[], float] = time.monotonic
        # read_short's connection, opened on first use (by the reactor thread, its only user)
        self._inline: sqlite3.Connection | None = None

    def time_transactions(
        self, timer: StoreTimer, clock: Callable[[], float] = time.monotonic
    ) -> None:
        """Tell ``timer`` how long each transaction took, waiting for a connection included."""
        self._timer = timer
        self._clock = clock

    @property
    def engine(self) -> str:
        """``"sqlite"`` or ``"postgresql"``."""
        return self.address.engine

    def read(self, fn: Callable[[Tx], T]) -> Deferred[T]:
        """Run ``fn`` in a read transaction."""
        return self._timed("read", ensureDeferred(self._interact(self._reader, fn, write=False)))

    def read_short(self, fn: Callable[[Tx], T]) -> Deferred[T]:
        """Run a short ``fn`` in a read transaction, at once when the engine allows it.

        For lookups of a few rows by an index (does this account exist, its
        credential stamp): with an SQLite file ``fn`` runs on the calling (reactor)
        thread, on a read-only connection of its own, and the Deferred has fired
        when this returns.  WAL mode means such a read never waits for a writer;
        should the file be locked anyway (a recovery, another process's
        checkpoint), the read goes to the pool like :meth:`read`, as it does for
        PostgreSQL and in-memory stores.  Never use it for a query whose cost
        grows with the store (lists, scans): that would hold the event loop.
        """
        connection = self._inline_connection()
        if connection is None:
            return self.read(fn)
        started = self._clock()
        cursor = connection.cursor()
        try:
            cursor.execute("BEGIN")
            try:
                result = fn(Tx(cursor, self.dialect))
            finally:
                # a read changes nothing: ending it either way only releases the snapshot
                cursor.execute("ROLLBACK")
        except sqlite3.OperationalError as e:
            if not self.dialect.is_retryable(e):
                return self._report("read", started, fail())
            return self.read(fn)
        except Exception:
            return self._report("read", started, fail())
        finally:
            cursor.close()
        return self._report("read", started, succeed(result))

    def _inline_connection(self) -> sqlite3.Connection | None:
        """read_short's connection; ``None`` when reads must go through the pool."""
        if self._inline is not None:
            return self._inline
        address = self.address
        if self._closed or address.engine != "sqlite" or address.in_memory:
            return None
        # timeout=0: a locked file is answered by the pool rather than waited for here
        connection = sqlite3.connect(
            address.target, timeout=0, isolation_level=None, check_same_thread=False
        )
        cursor = connection.cursor()
        cursor.execute("PRAGMA query_only=ON")  # a mistaken write fails instead of landing
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA cache_size=-16384")
        cursor.close()
        self._inline = connection
        return connection

    def _report(self, operation: str, started: float, done: Deferred[T]) -> Deferred[T]:
        """``done`` (already fired), after telling the timer how long the work took."""
        self._tell_timer(operation, started)
        return done

    def _tell_timer(self, operation: str, started: float) -> None:
        timer = self._timer
        if timer is not None:
            try:
                timer(operation, self._clock() - started)
            except Exception:
                log.failure("the store timer failed")

    def write(self, fn: Callable[[Tx], T]) -> Deferred[T]:
        """Run ``fn`` in a write transaction; it commits before the Deferred fires."""
        return self._timed("write", ensureDeferred(self._interact(self._writer, fn, write=True)))

    def _timed(self, operation: str, work: Deferred[T]) -> Deferred[T]:
        if self._timer is None:
            return work
        started = self._clock()

        def report(outcome: T | Failure) -> T | Failure:
            self._tell_timer(operation, started)
            return outcome

        return work.addBoth(report)

    def compute(self, fn: Callable[..., T], *args: Any) -> Deferred[T]:
        """Run CPU-bound ``fn(*args)`` (password hashing) off the reactor thread."""
        return deferToThreadPool(self._reactor, self._reader.threadpool, fn, *args)

    async def _interact(self, pool: adbapi.ConnectionPool, fn: Callable[[Tx], T], write: bool) -> T:
        dialect = self.dialect

        def interaction(txn: adbapi.Transaction) -> T:
            cursor = txn._cursor  # adbapi's Transaction wraps exactly one DB-API cursor
            dialect.begin(cursor, write=write)
            return fn(Tx(cursor, dialect))

        attempt = 0
        while True:
            try:
                result: T = await pool.runInteraction(interaction)
                return result
            except Exception as e:
                attempt += 1
                if attempt >= RETRIES or not dialect.is_retryable(e):
                    raise
                log.info("store transaction retried after {error}", error=e)
                await deferLater(self._reactor, 0.05 * attempt, lambda: None)

    def close(self) -> None:
        """Close every connection and stop the pool threads (idempotent)."""
        if self._closed:
            return
        self._closed = True
        if self._inline is not None:
            self._inline.close()
            self._inline = None
        self._writer.close()
        if self._reader is not self._writer:
            self._reader.close()


def connection_pool(
    address: StoreAddress,
    reactor: Any,
    *,
    writer: bool,
    on_connect: Callable[[Any], None] | None = None,
) -> adbapi.ConnectionPool:
    """The writer's (one connection for SQLite) or the readers' pool for ``address``.

    ``on_connect(connection)`` runs after the dialect's settings on each new connection.
    """
    dialect = Dialect(address.engine)
    module, args, kwargs = dialect.pool_args(address, writer=writer)

    def prepare(connection: Any) -> None:
        dialect.prepare_connection(connection, address)
        if on_connect is not None:
            on_connect(connection)

    return adbapi.ConnectionPool(module, *args, cp_reactor=reactor, cp_openfun=prepare, **kwargs)
