"""The store reports how long each transaction took, to whoever asked (the metrics)."""

from __future__ import annotations

from pathlib import Path

from twisted.logger import capturedLogs

from gateway.backends.embedded.store import Tx
from tests.backends.embedded.cases import sync_store


class Ticks:
    """A clock that moves 0.5 s each time it is read."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        self.now += 0.5
        return self.now


def test_reads_and_writes_are_timed(tmp_path: Path) -> None:
    """Each read and write transaction is reported once, with its kind and duration."""
    store = sync_store(str(tmp_path / "s.sqlite3"))
    seen: list[tuple[str, float]] = []
    store.time_transactions(lambda kind, seconds: seen.append((kind, seconds)), clock=Ticks())
    store.write(lambda tx: tx.execute("CREATE TABLE t (x INTEGER)"))
    store.read(lambda tx: tx.all("SELECT x FROM t"))
    store.close()
    assert seen == [("write", 0.5), ("read", 0.5)]


def test_failed_transactions_are_timed_and_still_fail(tmp_path: Path) -> None:
    """A transaction that raises is timed too, and its caller still gets the error."""
    store = sync_store(str(tmp_path / "s.sqlite3"))
    seen: list[str] = []
    store.time_transactions(lambda kind, seconds: seen.append(kind))

    def broken(tx: Tx) -> None:
        raise ValueError("no")

    failures: list[BaseException] = []
    store.write(broken).addErrback(lambda f: failures.append(f.value))
    store.close()
    assert seen == ["write"]
    assert [type(e) for e in failures] == [ValueError]


def test_untimed_by_default(tmp_path: Path) -> None:
    """Without a timer the store answers as before."""
    store = sync_store(str(tmp_path / "s.sqlite3"))
    results: list[int] = []
    store.read(lambda tx: int(tx.scalar("SELECT 1"))).addCallback(results.append)
    store.close()
    assert results == [1]


def test_a_failing_timer_does_not_fail_the_transaction(tmp_path: Path) -> None:
    """A timer that raises is logged; the caller still gets the transaction's result."""
    store = sync_store(str(tmp_path / "s.sqlite3"))

    def broken(kind: str, seconds: float) -> None:
        raise RuntimeError("timer broke")

    store.time_transactions(broken)
    results: list[int] = []
    with capturedLogs() as events:
        store.read(lambda tx: int(tx.scalar("SELECT 2"))).addCallback(results.append)
    store.close()
    assert results == [2]
    assert [e["log_failure"].type for e in events if "log_failure" in e] == [RuntimeError]
