"""``Store.read_short``: short lookups answered on the calling thread, the same as ``read``."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from twisted.internet.defer import Deferred
from twisted.python.failure import Failure

from gateway.backends.embedded.dialect import parse_dsn
from gateway.backends.embedded.store import Store, Tx
from tests.backends.embedded.cases import sync_store


class CountingStore:
    """Wraps a store's ``read`` to count the reads that went to the pool."""

    def __init__(self, store: Store) -> None:
        self.pool_reads = 0
        original = store.read

        def read(fn: Any) -> Deferred[Any]:
            self.pool_reads += 1
            return original(fn)

        store.read = read  # type: ignore[method-assign]


def outcome(d: Deferred[Any]) -> Any:
    """What an already-fired Deferred holds (a Failure for an error)."""
    found: list[Any] = []
    d.addBoth(found.append)
    assert found, "the Deferred has not fired"
    return found[0]


def make(tmp_path: Path) -> Store:
    store = sync_store(str(tmp_path / "s.sqlite3"))
    outcome(store.write(lambda tx: tx.execute("CREATE TABLE t (k TEXT PRIMARY KEY, v TEXT)")))
    return store


def test_answers_at_once_and_sees_every_commit(tmp_path: Path) -> None:
    """A file store answers read_short without the pool, and each read sees the latest commit."""
    store = make(tmp_path)
    counted = CountingStore(store)
    outcome(store.write(lambda tx: tx.execute("INSERT INTO t VALUES ('a', '1')")))
    assert outcome(store.read_short(lambda tx: tx.scalar("SELECT v FROM t WHERE k = 'a'"))) == "1"
    outcome(store.write(lambda tx: tx.execute("UPDATE t SET v = '2' WHERE k = 'a'")))
    assert outcome(store.read_short(lambda tx: tx.scalar("SELECT v FROM t WHERE k = 'a'"))) == "2"
    assert counted.pool_reads == 0
    store.close()


def test_an_error_fails_the_deferred_and_leaves_no_transaction(tmp_path: Path) -> None:
    """An error in ``fn`` fails the Deferred; the snapshot is released, so later work goes on."""
    store = make(tmp_path)

    def broken(tx: Tx) -> None:
        tx.one("SELECT v FROM t")
        raise ValueError("no")

    failure = outcome(store.read_short(broken))
    assert isinstance(failure, Failure) and failure.check(ValueError)
    outcome(store.write(lambda tx: tx.execute("INSERT INTO t VALUES ('b', '3')")))
    assert outcome(store.read_short(lambda tx: tx.scalar("SELECT v FROM t WHERE k = 'b'"))) == "3"
    store.close()


def test_cannot_write(tmp_path: Path) -> None:
    """The inline connection is read-only: a write through read_short fails and lands nowhere."""
    store = make(tmp_path)
    failure = outcome(store.read_short(lambda tx: tx.execute("INSERT INTO t VALUES ('c', '4')")))
    assert isinstance(failure, Failure) and failure.check(sqlite3.OperationalError)
    assert outcome(store.read(lambda tx: tx.scalar("SELECT count(*) FROM t"))) == 0
    store.close()


def test_a_locked_file_goes_to_the_pool(tmp_path: Path) -> None:
    """When the file is locked, the same lookup is answered through the pool instead."""
    store = make(tmp_path)
    counted = CountingStore(store)
    calls: list[str] = []

    def lookup(tx: Tx) -> int:
        calls.append("called")
        if len(calls) == 1:
            raise sqlite3.OperationalError("database is locked")
        return int(tx.scalar("SELECT 7"))

    assert outcome(store.read_short(lookup)) == 7
    assert (len(calls), counted.pool_reads) == (2, 1)
    store.close()


def test_other_stores_use_the_pool(tmp_path: Path) -> None:
    """An in-memory store (one connection) answers read_short through the pool, correctly."""
    store = make(tmp_path)
    object.__setattr__(store, "address", parse_dsn("sqlite::memory:"))
    counted = CountingStore(store)
    assert outcome(store.read_short(lambda tx: tx.scalar("SELECT count(*) FROM t"))) == 0
    assert counted.pool_reads == 1
    store.close()


def test_timed_like_any_read(tmp_path: Path) -> None:
    """The store timer hears of a short read as a ``read``."""
    store = make(tmp_path)
    seen: list[str] = []
    store.time_transactions(lambda kind, seconds: seen.append(kind))
    outcome(store.read_short(lambda tx: tx.scalar("SELECT 1")))
    assert seen == ["read"]
    store.close()


def test_closed_store_reopens_nothing(tmp_path: Path) -> None:
    """After close, read_short opens no new connection (it goes to the closed pool)."""
    store = make(tmp_path)
    outcome(store.read_short(lambda tx: tx.scalar("SELECT 1")))
    store.close()
    assert store._inline is None
    assert store._inline_connection() is None
