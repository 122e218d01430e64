"""The outbound queues: one behaviour suite run against MemoryQueue and SqlQueue.

SqlQueue runs on sqlite3 through a real adbapi ConnectionPool in a temporary
directory (trial TestCase: the pool's thread answers through the reactor),
and through the store-style ``Tx`` interface that StoreInteractions adapts.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import pytest
from twisted.enterprise import adbapi
from twisted.internet.defer import Deferred, fail, gatherResults, succeed
from twisted.python.failure import Failure
from twisted.trial.unittest import TestCase

from gateway.xmpp.queue import (
    COUNTER_TABLE,
    TABLE,
    MemoryQueue,
    OutboundQueue,
    QueueFull,
    SqlQueue,
    StoreInteractions,
)
from tests.pg import PostgresCluster, postgres, postgres_class  # noqa: F401 - fixtures

from .test_xmpp_fakes import temp_dir

if TYPE_CHECKING:
    _Base = TestCase
else:
    _Base = object


class QueueBehaviour(_Base):
    """Tests every OutboundQueue must pass; subclasses provide ``make_queue``."""

    def make_queue(self) -> OutboundQueue:
        raise NotImplementedError

    async def test_append_and_peek_in_order(self) -> None:
        """Appended stanzas come back in order, with increasing ids."""
        queue = self.make_queue()
        ids = [await queue.append(f"<message id='{n}'/>") for n in range(3)]
        self.assertEqual(ids, sorted(ids))
        self.assertEqual(len(set(ids)), 3)
        peeked = await queue.peek(0, 10)
        self.assertEqual([text for _, text in peeked], [f"<message id='{n}'/>" for n in range(3)])
        self.assertEqual([i for i, _ in peeked], ids)

    async def test_peek_after_and_limit(self) -> None:
        """peek returns only ids above after_id, at most limit of them."""
        queue = self.make_queue()
        ids = [await queue.append(f"<m{n}/>") for n in range(5)]
        self.assertEqual([i for i, _ in await queue.peek(ids[1], 2)], ids[2:4])
        self.assertEqual(await queue.peek(ids[-1], 10), [])

    async def test_confirm_removes_up_to(self) -> None:
        """confirm drops the ids up to and including upto_id and says how many."""
        queue = self.make_queue()
        ids = [await queue.append(f"<m{n}/>") for n in range(4)]
        self.assertEqual(await queue.confirm(ids[1]), 2)
        self.assertEqual(await queue.count(), 2)
        self.assertEqual([i for i, _ in await queue.peek(0, 10)], ids[2:])
        self.assertEqual(await queue.confirm(ids[1]), 0)

    async def test_discard_removes_only_that_id(self) -> None:
        """discard drops one stanza, leaves its neighbours queued, and says whether it was there."""
        queue = self.make_queue()
        ids = [await queue.append(f"<m{n}/>") for n in range(3)]
        self.assertIs(await queue.discard(ids[1]), True)
        self.assertEqual(await queue.count(), 2)
        self.assertEqual(await queue.peek(0, 10), [(ids[0], "<m0/>"), (ids[2], "<m2/>")])
        self.assertIs(await queue.discard(ids[1]), False)
        self.assertIs(await queue.discard(ids[2] + 100), False)
        self.assertEqual(await queue.count(), 2)

    async def test_ids_not_reused_after_discard(self) -> None:
        """Discarding the newest stanza does not let its id be handed out again."""
        queue = self.make_queue()
        first = await queue.append("<a/>")
        await queue.discard(first)
        self.assertEqual(await queue.count(), 0)
        self.assertGreater(await queue.append("<b/>"), first)

    async def test_ids_not_reused_after_draining(self) -> None:
        """An empty queue still hands out ids above every earlier one."""
        queue = self.make_queue()
        first = await queue.append("<a/>")
        await queue.confirm(first)
        self.assertEqual(await queue.count(), 0)
        second = await queue.append("<b/>")
        self.assertGreater(second, first)

    async def test_limit_refuses(self) -> None:
        """append fails with QueueFull at the limit and stores nothing."""
        queue = self.make_queue()
        await queue.append("<a/>", 2)
        await queue.append("<b/>", 2)
        try:
            await queue.append("<c/>", 2)
        except QueueFull as e:
            self.assertEqual(e.limit, 2)
        else:
            raise AssertionError("the third append was accepted")
        self.assertEqual(await queue.count(), 2)
        last = await queue.append("<d/>")  # no limit given: accepted
        self.assertEqual([t for i, t in await queue.peek(0, 10) if i == last], ["<d/>"])

    async def test_unicode_round_trip(self) -> None:
        """Stanza text comes back unchanged, whatever its characters."""
        queue = self.make_queue()
        text = "<message><body>héllo ✓ 'quoted' \"too\" %s ?</body></message>"
        await queue.append(text)
        self.assertEqual((await queue.peek(0, 1))[0][1], text)


class MemoryQueueTests(QueueBehaviour, TestCase):
    """MemoryQueue passes the queue suite."""

    def make_queue(self) -> OutboundQueue:
        return MemoryQueue()


class SqlQueueOnAdbapiTests(QueueBehaviour, TestCase):
    """SqlQueue passes the queue suite on sqlite3 through adbapi, and survives a restart."""

    def open_pool(self) -> adbapi.ConnectionPool:
        pool = adbapi.ConnectionPool(
            "sqlite3", self.path, check_same_thread=False, cp_min=1, cp_max=1
        )
        self.addCleanup(self.close_pool, pool)
        return pool

    def close_pool(self, pool: adbapi.ConnectionPool) -> None:
        if pool not in self.closed:
            self.closed.append(pool)
            pool.close()

    def setUp(self) -> None:
        self.path = str(temp_dir(self) / "queue.sqlite3")
        # create_table takes any DB-API cursor, here outside the pool
        with sqlite3.connect(self.path) as connection:
            SqlQueue.create_table(connection.cursor())
        connection.close()
        self.closed: list[adbapi.ConnectionPool] = []
        self.pool = self.open_pool()

    def make_queue(self) -> OutboundQueue:
        return SqlQueue(self.pool, paramstyle="qmark", now=lambda: 1234.5)

    async def test_survives_restart(self) -> None:
        """Stanzas and the id counter persist when the pool is closed and reopened."""
        queue = self.make_queue()
        first = await queue.append("<one/>")
        await queue.append("<two/>")
        await queue.confirm(first)
        self.close_pool(self.pool)

        self.pool = self.open_pool()
        await self.pool.runInteraction(SqlQueue.create_table)  # idempotent
        reopened = self.make_queue()
        self.assertEqual([t for _, t in await reopened.peek(0, 10)], ["<two/>"])
        third = await reopened.append("<three/>")
        self.assertEqual(third, first + 2)

    async def test_created_column(self) -> None:
        """Rows carry the creation time from the injected clock."""
        await self.make_queue().append("<a/>")
        rows = await self.pool.runInteraction(
            lambda txn: txn.execute(f"SELECT created FROM {TABLE}").fetchall()
        )
        self.assertEqual(rows, [(1234.5,)])

    async def test_counter_seeded_from_existing_rows(self) -> None:
        """A queue table that predates the counter keeps its ids increasing."""

        def drop_counter(txn: Any) -> None:
            txn.execute(f"INSERT INTO {TABLE} (id, stanza, created) VALUES (41, '<old/>', 0)")
            txn.execute(f"DROP TABLE {COUNTER_TABLE}")

        await self.pool.runInteraction(drop_counter)
        await self.pool.runInteraction(SqlQueue.create_table)
        self.assertEqual(await self.make_queue().append("<new/>"), 42)

    async def test_creates_tables_on_first_use(self) -> None:
        """On a database nobody prepared, the first operation creates the tables."""
        self.path = str(temp_dir(self) / "fresh.sqlite3")
        pool = self.open_pool()
        queue = SqlQueue(pool)
        first, second = await gatherResults([queue.append("<a/>"), queue.append("<b/>")])
        self.assertEqual(sorted([first, second]), [1, 2])
        self.assertEqual(await queue.count(), 2)

    async def test_no_create_leaves_the_database_alone(self) -> None:
        """With create=False an unprepared database fails instead of being changed."""
        self.path = str(temp_dir(self) / "fresh.sqlite3")
        queue = SqlQueue(self.open_pool(), create=False)
        with self.assertRaises(sqlite3.OperationalError):
            await queue.count()

    def test_unknown_paramstyle(self) -> None:
        """Only the paramstyles of sqlite3 and psycopg2 are accepted."""
        self.assertRaises(ValueError, SqlQueue, self.pool, paramstyle="numeric")


class FakeTx:
    """The embedded store's Tx shape (``?`` placeholders, execute returns a count)."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self._connection = connection

    def execute(self, query: str, params: Sequence[Any] = ()) -> int:
        return self._connection.execute(query, tuple(params)).rowcount

    def all(self, query: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return [tuple(r) for r in self._connection.execute(query, tuple(params)).fetchall()]


class FakeStore:
    """A store whose ``write(fn)`` runs ``fn(tx)`` in a transaction, like the embedded one."""

    def __init__(self) -> None:
        self.connection = sqlite3.connect(":memory:")
        self.writes = 0

    def write(self, fn: Callable[[FakeTx], Any]) -> Deferred[Any]:
        self.writes += 1
        try:
            with self.connection:
                return succeed(fn(FakeTx(self.connection)))
        except Exception:
            return fail()


class SqlQueueOnStoreTests(QueueBehaviour, TestCase):
    """SqlQueue passes the queue suite through StoreInteractions and a store-style Tx."""

    def setUp(self) -> None:
        self.store = FakeStore()
        self.addCleanup(self.store.connection.close)
        self.store.write(SqlQueue.create_table)

    def make_queue(self) -> OutboundQueue:
        return SqlQueue(StoreInteractions(self.store))

    async def test_runs_in_store_transactions(self) -> None:
        """Every queue operation goes through the store's write()."""
        queue = self.make_queue()
        await queue.count()  # the first operation also makes sure the tables exist
        before = self.store.writes
        await queue.append("<a/>")
        await queue.count()
        self.assertEqual(self.store.writes, before + 2)


@pytest.mark.usefixtures("postgres_class")
class SqlQueueOnPostgresTests(QueueBehaviour, TestCase):
    """SqlQueue passes the queue suite on PostgreSQL through adbapi and psycopg2 (pyformat)."""

    cluster: PostgresCluster

    def setUp(self) -> None:
        self.pool = adbapi.ConnectionPool(
            "psycopg2", self.cluster.fresh_database(), cp_min=1, cp_max=4
        )
        self.addCleanup(self.pool.close)

    def make_queue(self) -> OutboundQueue:
        return SqlQueue(self.pool, paramstyle="pyformat", now=lambda: 1700000000.123)

    async def test_concurrent_appends_get_distinct_ids(self) -> None:
        """Appends racing on several connections never share an id or pass the limit."""
        queue = self.make_queue()
        await queue.count()  # tables created before the race

        def refused(failure: Failure) -> None:
            failure.trap(QueueFull)

        results = await gatherResults(
            [queue.append(f"<m{n}/>", 15).addErrback(refused) for n in range(20)]
        )
        ids = [r for r in results if r is not None]
        self.assertEqual(len(ids), 15)
        self.assertEqual(len(set(ids)), 15)
        self.assertEqual(await queue.count(), 15)

    async def test_created_keeps_precision(self) -> None:
        """The created column keeps sub-second precision (DOUBLE PRECISION, not REAL)."""
        await self.make_queue().append("<a/>")
        rows = await self.pool.runInteraction(
            lambda txn: (txn.execute(f"SELECT created FROM {TABLE}"), txn.fetchall())[1]
        )
        self.assertEqual(rows, [(1700000000.123,)])
