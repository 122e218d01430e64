"""The store's outbound queue: the queue suite on every engine, restarts and schema v4.

:class:`~gateway.backends.embedded.outbox.StoreOutbox` runs the suite every
queue passes (``test_xmpp_queue.py``) on a real store: an SQLite file, an
in-memory SQLite database and PostgreSQL.  Stores whose queue tables the link
created itself, before they became part of the schema, upgrade keeping their
stanzas and ids.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from twisted.internet.defer import Deferred, gatherResults
from twisted.python.failure import Failure

from gateway.backends.embedded.outbox import COUNTER_TABLE, TABLE, StoreOutbox
from gateway.backends.embedded.store import Store, Tx
from gateway.backends.interfaces import OutboundQueue, QueueFull
from tests.backends.embedded.cases import MemoryCase, Mixin, PostgresCase, SQLiteCase
from tests.test_testing import QueueBehaviour

T = TypeVar("T")

#: the outbox's clock, with a fraction a 4-byte REAL could not keep
CLOCK = 1_700_000_000.123

#: the statements the link ran to create its queue before the tables joined the schema (v4)
LEGACY_QUEUE_SCHEMA = (
    f"CREATE TABLE IF NOT EXISTS {TABLE} ("
    "id BIGINT NOT NULL PRIMARY KEY, "
    "stanza TEXT NOT NULL, "
    "created DOUBLE PRECISION NOT NULL)",
    f"CREATE TABLE IF NOT EXISTS {COUNTER_TABLE} ("
    "name VARCHAR(32) NOT NULL PRIMARY KEY, last_id BIGINT NOT NULL)",
    f"INSERT INTO {COUNTER_TABLE} (name, last_id) "
    f"SELECT 'outbound', m FROM (SELECT COALESCE(MAX(id), 0) AS m FROM {TABLE}) AS t "
    f"WHERE NOT EXISTS (SELECT 1 FROM {COUNTER_TABLE} WHERE name = 'outbound')",
)


def _back_to_v3(tx: Tx) -> None:
    """Make the store what the gateway before schema v4 left: no queue tables yet."""
    tx.execute(f"DROP TABLE {COUNTER_TABLE}")
    tx.execute(f"DROP TABLE {TABLE}")
    tx.execute("DELETE FROM schema_version WHERE version > 3")


class CountingWrites:
    """A store's ``write``, counted."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.writes = 0

    def write(self, fn: Callable[[Tx], T]) -> Deferred[T]:
        self.writes += 1
        return self.store.write(fn)


class OutboxTests(QueueBehaviour, Mixin):
    """The queue suite and the outbox's own behaviour, on the test's store."""

    def make_queue(self) -> OutboundQueue:
        return StoreOutbox(self.store, now=lambda: CLOCK)

    async def test_created_keeps_precision(self) -> None:
        """The created column keeps the clock's sub-second time (DOUBLE PRECISION, not REAL)."""
        await self.make_queue().append("<a/>")
        rows = await self.store.read(lambda tx: tx.all(f"SELECT created FROM {TABLE}"))
        assert rows == [(CLOCK,)]

    async def test_fresh_store_holds_the_queue(self) -> None:
        """A store just opened has the queue: appends racing from the start get ids 1 and 2."""
        queue = self.make_queue()
        first, second = await gatherResults([queue.append("<a/>"), queue.append("<b/>")])
        assert sorted([first, second]) == [1, 2]
        assert await queue.count() == 2

    async def test_runs_in_store_transactions(self) -> None:
        """Every queue operation runs in one of the store's write transactions."""
        writes = CountingWrites(self.store)
        queue = StoreOutbox(writes)
        first = await queue.append("<a/>")
        await queue.peek(0, 10)
        await queue.discard(first)
        await queue.confirm(first)
        await queue.count()
        assert writes.writes == 5


class ReopenOutboxTests(Mixin):
    """For stores that outlive their Store object (files and PostgreSQL)."""

    async def test_survives_restart(self) -> None:
        """Stanzas and the id counter persist when the store is closed and reopened."""
        queue = StoreOutbox(self.store)
        first = await queue.append("<one/>")
        await queue.append("<two/>")
        await queue.confirm(first)
        self.store.close()

        reopened = StoreOutbox(await self.open_store())
        assert [t for _, t in await reopened.peek(0, 10)] == ["<two/>"]
        assert await reopened.append("<three/>") == first + 2

    async def test_upgrade_keeps_the_links_own_queue(self) -> None:
        """A v3 store whose queue the link created keeps its stanzas and ids at v4."""

        def old_link_queued(tx: Tx) -> None:
            _back_to_v3(tx)
            for statement in LEGACY_QUEUE_SCHEMA:
                tx.execute(statement)
            # ids 1 to 7 handed out, 6 and 7 still waiting for the server
            tx.execute(f"UPDATE {COUNTER_TABLE} SET last_id = 7")
            tx.execute(f"INSERT INTO {TABLE} VALUES (6, '<six/>', 1.5), (7, '<seven/>', 2.5)")

        await self.store.write(old_link_queued)
        self.store.close()
        upgraded = await self.open_store()
        versions = await upgraded.read(
            lambda tx: tx.all("SELECT version FROM schema_version ORDER BY version")
        )
        assert [v for (v,) in versions][2:4] == [3, 4]
        queue = StoreOutbox(upgraded)
        assert await queue.peek(0, 10) == [(6, "<six/>"), (7, "<seven/>")]
        assert await queue.append("<eight/>") == 8

    async def test_upgrade_seeds_counter_from_older_queue_table(self) -> None:
        """A queue table that predates its counter keeps its ids increasing after the upgrade."""

        def oldest_link_queued(tx: Tx) -> None:
            _back_to_v3(tx)
            tx.execute(LEGACY_QUEUE_SCHEMA[0])
            tx.execute(f"INSERT INTO {TABLE} (id, stanza, created) VALUES (41, '<old/>', 0)")

        await self.store.write(oldest_link_queued)
        self.store.close()
        queue = StoreOutbox(await self.open_store())
        assert await queue.append("<new/>") == 42

    async def test_upgrade_creates_the_queue(self) -> None:
        """A v3 store that never had a queue gets an empty one, its ids starting at 1."""
        await self.store.write(_back_to_v3)
        self.store.close()
        queue = StoreOutbox(await self.open_store())
        assert await queue.count() == 0
        assert await queue.append("<first/>") == 1


class TestOutboxSQLite(ReopenOutboxTests, OutboxTests, SQLiteCase):
    pass


class TestOutboxMemory(OutboxTests, MemoryCase):
    pass


class TestOutboxPostgres(ReopenOutboxTests, OutboxTests, PostgresCase):
    async def test_concurrent_appends_get_distinct_ids(self) -> None:
        """Appends racing on several connections never share an id or pass the limit."""
        queue = self.make_queue()

        def refused(failure: Failure) -> None:
            failure.trap(QueueFull)

        results = await gatherResults(
            [queue.append(f"<m{n}/>", 15).addErrback(refused) for n in range(20)]
        )
        ids = [r for r in results if r is not None]
        assert len(ids) == 15
        assert len(set(ids)) == 15
        assert await queue.count() == 15
