"""The durable outbound queue of the component link.

Stanzas are appended with increasing ids and leave the queue only when the
link knows the server has processed them (:meth:`OutboundQueue.confirm`), or
when the server has shown it will never take one (:meth:`OutboundQueue.discard`).
Ids never repeat while the table exists, even after the queue runs empty,
because the link reads "everything after the last id I sent"; a separate
one-row counter table keeps them increasing (``max(id) + 1`` would hand out
an id again once the queue has drained).

:class:`SqlQueue` speaks portable SQL (SQLite and PostgreSQL) through any
object with adbapi's ``runInteraction(func, *args) -> Deferred``.  The
transaction object it gets may be a DB-API cursor (adbapi's ``Transaction``)
or the embedded store's ``Tx`` (``execute``/``all``, ``?`` placeholders); see
:class:`StoreInteractions`.  One gateway process should own a queue table:
two links draining one table would send every stanza twice.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any, Protocol, TypeVar

from twisted.internet.defer import Deferred, DeferredLock, ensureDeferred, fail, succeed

__all__ = [
    "MemoryQueue",
    "OutboundQueue",
    "QueueFull",
    "SqlQueue",
    "StoreInteractions",
]

T = TypeVar("T")

TABLE = "xmpp_outbound"
COUNTER_TABLE = "xmpp_outbound_seq"
_COUNTER = "outbound"

SCHEMA: tuple[str, ...] = (
    f"CREATE TABLE IF NOT EXISTS {TABLE} ("
    "id BIGINT NOT NULL PRIMARY KEY, "
    "stanza TEXT NOT NULL, "
    # DOUBLE PRECISION, not REAL: PostgreSQL's REAL is 4 bytes and rounds
    # POSIX timestamps to minutes
    "created DOUBLE PRECISION NOT NULL)",
    f"CREATE TABLE IF NOT EXISTS {COUNTER_TABLE} ("
    "name VARCHAR(32) NOT NULL PRIMARY KEY, last_id BIGINT NOT NULL)",
    # seeded from the queue so a table created before the counter keeps its order
    f"INSERT INTO {COUNTER_TABLE} (name, last_id) "
    f"SELECT '{_COUNTER}', m FROM (SELECT COALESCE(MAX(id), 0) AS m FROM {TABLE}) AS t "
    f"WHERE NOT EXISTS (SELECT 1 FROM {COUNTER_TABLE} WHERE name = '{_COUNTER}')",
)


class QueueFull(Exception):
    """The queue holds ``limit`` stanzas already."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"the outbound queue is full ({limit} stanzas)")
        self.limit = limit


class OutboundQueue(Protocol):
    """Where accepted stanzas wait until the server has taken them."""

    def append(self, stanza_xml: str, limit: int | None = None) -> Deferred[int]:
        """Store ``stanza_xml``; fires with its id once it is durable.

        Fails with :class:`QueueFull` when ``limit`` stanzas are queued already.
        """
        ...

    def peek(self, after_id: int, limit: int) -> Deferred[list[tuple[int, str]]]:
        """Up to ``limit`` queued ``(id, stanza)`` pairs with ids above ``after_id``, in order."""
        ...

    def confirm(self, upto_id: int) -> Deferred[int]:
        """Drop every stanza with an id up to ``upto_id``; fires with how many went."""
        ...

    def discard(self, item_id: int) -> Deferred[bool]:
        """Drop the one stanza ``item_id``; fires with whether it was queued.

        Ids around it are untouched, and ids are still never handed out again.
        """
        ...

    def count(self) -> Deferred[int]:
        """How many stanzas are queued."""
        ...


class MemoryQueue:
    """An :class:`OutboundQueue` in a list, for tests; it does not survive a restart."""

    def __init__(self) -> None:
        self._items: list[tuple[int, str]] = []
        self._last_id = 0

    def append(self, stanza_xml: str, limit: int | None = None) -> Deferred[int]:
        if limit is not None and len(self._items) >= limit:
            return fail(QueueFull(limit))
        self._last_id += 1
        self._items.append((self._last_id, stanza_xml))
        return succeed(self._last_id)

    def peek(self, after_id: int, limit: int) -> Deferred[list[tuple[int, str]]]:
        return succeed([item for item in self._items if item[0] > after_id][:limit])

    def confirm(self, upto_id: int) -> Deferred[int]:
        kept = [item for item in self._items if item[0] > upto_id]
        removed = len(self._items) - len(kept)
        self._items = kept
        return succeed(removed)

    def discard(self, item_id: int) -> Deferred[bool]:
        kept = [item for item in self._items if item[0] != item_id]
        removed = len(kept) < len(self._items)
        self._items = kept
        return succeed(removed)

    def count(self) -> Deferred[int]:
        return succeed(len(self._items))


class Interactions(Protocol):
    """adbapi ``ConnectionPool``'s transaction entry point."""

    def runInteraction(  # noqa: N802 - Twisted's name
        self, interaction: Callable[..., T], *args: Any, **kw: Any
    ) -> Deferred[T]: ...


class _Statements:
    """One SQL dialect over either a DB-API cursor or a store ``Tx``."""

    def __init__(self, txn: Any, paramstyle: str) -> None:
        self._txn = txn
        # the store's Tx translates "?" itself; a raw cursor needs its driver's style
        self._cursor_style = hasattr(txn, "fetchall")
        self._mark = "?" if paramstyle == "qmark" or not self._cursor_style else "%s"

    def _sql(self, query: str) -> str:
        return query.replace("?", self._mark)

    def execute(self, query: str, params: Sequence[Any] = ()) -> int:
        if self._cursor_style:
            self._txn.execute(self._sql(query), tuple(params))
            count = self._txn.rowcount
            return int(count) if count is not None else -1
        return int(self._txn.execute(query, tuple(params)))

    def rows(self, query: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        if self._cursor_style:
            self._txn.execute(self._sql(query), tuple(params))
            return [tuple(r) for r in self._txn.fetchall()]
        return [tuple(r) for r in self._txn.all(query, tuple(params))]

    def scalar(self, query: str, params: Sequence[Any] = ()) -> Any:
        found = self.rows(query, params)
        return found[0][0] if found else None


class SqlQueue:
    """An :class:`OutboundQueue` in a SQL table, durable across restarts.

    Args:
        pool: anything with ``runInteraction`` (an adbapi ``ConnectionPool``).
        paramstyle: ``"qmark"`` (sqlite3) or ``"pyformat"``/``"format"`` (psycopg2),
            used when the interaction gets a DB-API cursor.
        now: the clock for the ``created`` column.
        create: run :meth:`create_table` before the first operation, so the
            queue works on a database nobody prepared for it.
    """

    def __init__(
        self,
        pool: Interactions,
        paramstyle: str = "qmark",
        now: Callable[[], float] = time.time,
        *,
        create: bool = True,
    ) -> None:
        if paramstyle not in ("qmark", "pyformat", "format"):
            raise ValueError(f"unsupported paramstyle {paramstyle!r}")
        self._pool = pool
        self._paramstyle = paramstyle
        self._now = now
        self._table_ready = not create
        self._creating = DeferredLock()

    def _run(self, interaction: Callable[..., T], *args: Any) -> Deferred[T]:
        if self._table_ready:
            return self._pool.runInteraction(interaction, *args)
        return ensureDeferred(self._run_after_create(interaction, *args))

    async def _run_after_create(self, interaction: Callable[..., T], *args: Any) -> T:
        await self._creating.acquire()
        try:
            if not self._table_ready:
                await self._pool.runInteraction(self.create_table)
                self._table_ready = True
        finally:
            self._creating.release()
        result: T = await self._pool.runInteraction(interaction, *args)
        return result

    @staticmethod
    def create_table(txn: Any) -> None:
        """Create the queue's tables when missing; run it inside a transaction."""
        for statement in SCHEMA:
            txn.execute(statement)

    def append(self, stanza_xml: str, limit: int | None = None) -> Deferred[int]:
        return self._run(self._append, stanza_xml, limit, self._now())

    def _append(self, txn: Any, stanza_xml: str, limit: int | None, created: float) -> int:
        sql = _Statements(txn, self._paramstyle)
        # bumping the counter first locks its row (PostgreSQL) or the database
        # (SQLite), so the count below cannot be raced by another append
        sql.execute(f"UPDATE {COUNTER_TABLE} SET last_id = last_id + 1 WHERE name = '{_COUNTER}'")
        if limit is not None:
            queued = int(sql.scalar(f"SELECT COUNT(*) FROM {TABLE}"))
            if queued >= limit:
                raise QueueFull(limit)
        new_id = sql.scalar(f"SELECT last_id FROM {COUNTER_TABLE} WHERE name = '{_COUNTER}'")
        if new_id is None:
            raise RuntimeError(f"{COUNTER_TABLE} is empty: run SqlQueue.create_table first")
        sql.execute(
            f"INSERT INTO {TABLE} (id, stanza, created) VALUES (?, ?, ?)",
            (int(new_id), stanza_xml, created),
        )
        return int(new_id)

    def peek(self, after_id: int, limit: int) -> Deferred[list[tuple[int, str]]]:
        return self._run(self._peek, after_id, limit)

    def _peek(self, txn: Any, after_id: int, limit: int) -> list[tuple[int, str]]:
        rows = _Statements(txn, self._paramstyle).rows(
            f"SELECT id, stanza FROM {TABLE} WHERE id > ? ORDER BY id LIMIT ?", (after_id, limit)
        )
        return [(int(row[0]), str(row[1])) for row in rows]

    def confirm(self, upto_id: int) -> Deferred[int]:
        return self._run(self._confirm, upto_id)

    def _confirm(self, txn: Any, upto_id: int) -> int:
        return max(
            0,
            _Statements(txn, self._paramstyle).execute(
                f"DELETE FROM {TABLE} WHERE id <= ?", (upto_id,)
            ),
        )

    def discard(self, item_id: int) -> Deferred[bool]:
        return self._run(self._discard, item_id)

    def _discard(self, txn: Any, item_id: int) -> bool:
        removed = _Statements(txn, self._paramstyle).execute(
            f"DELETE FROM {TABLE} WHERE id = ?", (item_id,)
        )
        return removed > 0

    def count(self) -> Deferred[int]:
        return self._run(self._count)

    def _count(self, txn: Any) -> int:
        return int(_Statements(txn, self._paramstyle).scalar(f"SELECT COUNT(*) FROM {TABLE}"))


class StoreInteractions:
    """``runInteraction`` over a store whose ``write(fn)`` runs ``fn(tx)`` in a transaction.

    This fits the embedded store: ``SqlQueue(StoreInteractions(store))``
    runs every queue operation in the store's own write transactions (with
    its locking and retries); the tables are created on first use.
    """

    def __init__(self, store: Any) -> None:
        self._store = store

    def runInteraction(  # noqa: N802 - Twisted's name
        self, interaction: Callable[..., T], *args: Any, **kw: Any
    ) -> Deferred[T]:
        result: Deferred[T] = self._store.write(lambda tx: interaction(tx, *args, **kw))
        return result
