"""The component link's durable outbound queue, kept in the embedded store.

:class:`StoreOutbox` implements :class:`~gateway.backends.interfaces.OutboundQueue`
over the ``xmpp_outbound`` table (schema v4).  Ids come from the one-row
counter ``xmpp_outbound_seq``, so they never repeat while the store exists,
even after the queue runs empty.  Every operation runs in one of the store's
write transactions, with its locking and retries.

One gateway process should own a store's queue: two links draining one table
would send every stanza twice.

Appends are committed in groups: while one append's transaction runs, the
appends that arrive wait and then share the next transaction, each in its own
savepoint (so one refused by the limit changes nothing for the others).
Every caller still hears its id only once its stanza is committed, but a
burst of stanzas costs one commit (one fsync with ``synchronous=FULL``)
instead of one each.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Protocol, TypeVar

from twisted.internet.defer import Deferred
from twisted.python.failure import Failure

from gateway.backends.embedded.store import Tx
from gateway.backends.interfaces import QueueFull

__all__ = ["COUNTER_TABLE", "TABLE", "StoreOutbox", "Writes"]

T = TypeVar("T")

#: an append waiting for its group: stanza, limit, creation time, the caller's Deferred
_Pending = tuple[str, int | None, float, Deferred[int]]

TABLE = "xmpp_outbound"
COUNTER_TABLE = "xmpp_outbound_seq"
_COUNTER = "outbound"


class Writes(Protocol):
    """What the outbox needs of a :class:`~gateway.backends.embedded.store.Store`."""

    def write(self, fn: Callable[[Tx], T]) -> Deferred[T]:
        """Run ``fn`` in a write transaction; it commits before the Deferred fires."""
        ...


class StoreOutbox:
    """An :class:`~gateway.backends.interfaces.OutboundQueue` in the store, durable across restarts.

    Args:
        store: the embedded store (its schema holds the queue's tables).
        now: the clock for the ``created`` column.
    """

    def __init__(self, store: Writes, now: Callable[[], float] = time.time) -> None:
        self._store = store
        self._now = now
        # appends waiting for the transaction in progress to end
        self._waiting: list[_Pending] = []
        self._writing = False

    def append(self, stanza_xml: str, limit: int | None = None) -> Deferred[int]:
        done: Deferred[int] = Deferred()
        self._waiting.append((stanza_xml, limit, self._now(), done))
        if not self._writing:
            self._write_waiting()
        return done

    def _write_waiting(self) -> None:
        """Commit every waiting append in one transaction; then the next group, if any."""
        group, self._waiting = self._waiting, []
        if not group:
            self._writing = False
            return
        self._writing = True
        items = [(xml, limit, created) for xml, limit, created, _ in group]
        written = self._store.write(lambda tx: self._append_group(tx, items))

        def answer(outcome: list[int | QueueFull] | Failure) -> None:
            for index, (_, _, _, done) in enumerate(group):
                if done.called:  # the caller gave up (cancelled) meanwhile
                    continue
                if isinstance(outcome, Failure):
                    done.errback(outcome)
                else:
                    result = outcome[index]
                    if isinstance(result, QueueFull):
                        done.errback(result)
                    else:
                        done.callback(result)
            self._write_waiting()

        written.addBoth(answer)

    @classmethod
    def _append_group(
        cls, tx: Tx, items: list[tuple[str, int | None, float]]
    ) -> list[int | QueueFull]:
        if len(items) == 1:
            # the usual case when idle: no savepoint needed, a refusal rolls the lone append back
            xml, limit, created = items[0]
            return [cls._append(tx, xml, limit, created)]
        results: list[int | QueueFull] = []
        for xml, limit, created in items:
            tx.execute("SAVEPOINT outbox_append")
            try:
                results.append(cls._append(tx, xml, limit, created))
            except QueueFull as e:
                tx.execute("ROLLBACK TO SAVEPOINT outbox_append")
                results.append(e)
            tx.execute("RELEASE SAVEPOINT outbox_append")
        return results

    @staticmethod
    def _append(tx: Tx, stanza_xml: str, limit: int | None, created: float) -> int:
        # bumping the counter first locks its row (PostgreSQL) or the database
        # (SQLite), so the count below cannot be raced by another append
        tx.execute(f"UPDATE {COUNTER_TABLE} SET last_id = last_id + 1 WHERE name = '{_COUNTER}'")
        if limit is not None:
            queued = int(tx.scalar(f"SELECT COUNT(*) FROM {TABLE}"))
            if queued >= limit:
                raise QueueFull(limit)
        new_id = tx.scalar(f"SELECT last_id FROM {COUNTER_TABLE} WHERE name = '{_COUNTER}'")
        if new_id is None:
            raise RuntimeError(f"{COUNTER_TABLE} is empty: the store's schema v4 was not applied")
        tx.execute(
            f"INSERT INTO {TABLE} (id, stanza, created) VALUES (?, ?, ?)",
            (int(new_id), stanza_xml, created),
        )
        return int(new_id)

    def peek(self, after_id: int, limit: int) -> Deferred[list[tuple[int, str]]]:
        def peek(tx: Tx) -> list[tuple[int, str]]:
            rows = tx.all(
                f"SELECT id, stanza FROM {TABLE} WHERE id > ? ORDER BY id LIMIT ?",
                (after_id, limit),
            )
            return [(int(row[0]), str(row[1])) for row in rows]

        return self._look(peek)

    def confirm(self, upto_id: int) -> Deferred[int]:
        return self._store.write(
            lambda tx: max(0, tx.execute(f"DELETE FROM {TABLE} WHERE id <= ?", (upto_id,)))
        )

    def discard(self, item_id: int) -> Deferred[bool]:
        return self._store.write(
            lambda tx: tx.execute(f"DELETE FROM {TABLE} WHERE id = ?", (item_id,)) > 0
        )

    def count(self) -> Deferred[int]:
        return self._look(lambda tx: int(tx.scalar(f"SELECT COUNT(*) FROM {TABLE}")))

    def _look(self, query: Callable[[Tx], T]) -> Deferred[T]:
        """Run a query that only reads the queue (in a write transaction: in order with appends)."""
        return self._store.write(query)

    def oldest_created(self) -> Deferred[float | None]:
        """When the oldest queued stanza was queued (POSIX time), ``None`` when the queue is empty.

        Ids grow with time, so the lowest id is found through the primary key
        without reading the rest of the queue.
        """

        def oldest(tx: Tx) -> float | None:
            created = tx.scalar(f"SELECT created FROM {TABLE} ORDER BY id LIMIT 1")
            return float(created) if created is not None else None

        return self._look(oldest)
