"""Group commit of outbox appends: a burst shares one transaction, each append keeps its own
outcome, and nobody hears of an id before it is committed."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from twisted.internet.defer import Deferred, gatherResults
from twisted.python.failure import Failure

from gateway.backends.embedded.outbox import TABLE, StoreOutbox
from gateway.backends.embedded.store import Store, Tx
from gateway.backends.interfaces import QueueFull
from tests.backends.embedded.cases import Mixin, PostgresCase, SQLiteCase

T = TypeVar("T")


class HeldWrites:
    """A store's ``write`` whose transactions start only when the test releases them."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.held: list[tuple[Callable[[Tx], Any], Deferred[Any]]] = []
        self.writes = 0

    def write(self, fn: Callable[[Tx], T]) -> Deferred[T]:
        self.writes += 1
        done: Deferred[T] = Deferred()
        self.held.append((fn, done))
        return done

    async def release(self) -> None:
        """Run the oldest held transaction on the real store and pass its outcome on."""
        fn, done = self.held.pop(0)
        try:
            result = await self.store.write(fn)
        except Exception:
            done.errback(Failure())
        else:
            done.callback(result)


def queued_refused(failure: Failure) -> str:
    failure.trap(QueueFull)
    return "full"


class GroupTests(Mixin):
    async def test_a_burst_shares_one_transaction(self) -> None:
        """Appends made while a transaction runs are committed together, in order, and each
        caller hears its own id only after that commit."""
        writes = HeldWrites(self.store)
        queue = StoreOutbox(writes)
        first = queue.append("<m0/>")
        rest = [queue.append(f"<m{n}/>") for n in range(1, 5)]
        assert writes.writes == 1  # the others wait for the first transaction
        await writes.release()
        assert await first == 1
        assert not any(d.called for d in rest)  # their group is not committed yet
        assert writes.writes == 2
        await writes.release()
        assert await gatherResults(rest) == [2, 3, 4, 5]
        rows = await self.store.read(lambda tx: tx.all(f"SELECT id, stanza FROM {TABLE}"))
        assert sorted(rows) == [(n + 1, f"<m{n}/>") for n in range(5)]

    async def test_a_refusal_in_a_group_spares_the_others(self) -> None:
        """In a group, an append over the limit is refused alone; its id is not used up."""
        writes = HeldWrites(self.store)
        queue = StoreOutbox(writes)
        first = queue.append("<a/>", 2)
        group = [queue.append("<b/>", 2), queue.append("<c/>", 2), queue.append("<d/>")]
        await writes.release()
        await writes.release()
        outcomes = await gatherResults([d.addErrback(queued_refused) for d in [first, *group]])
        assert outcomes == [1, 2, "full", 3]
        assert await StoreOutbox(self.store).count() == 3

    async def test_a_failed_transaction_fails_its_whole_group(self) -> None:
        """When the group's transaction fails, every append of it fails, and later ones go on."""
        writes = HeldWrites(self.store)
        queue = StoreOutbox(writes)
        first = queue.append("<a/>")
        group = [queue.append("<b/>"), queue.append("<c/>")]
        await writes.release()
        fn, done = writes.held.pop(0)
        done.errback(Failure(RuntimeError("disk on fire")))
        for d in group:
            error = await d.addErrback(lambda f: f.value)
            assert isinstance(error, RuntimeError)
        later = queue.append("<e/>")
        await writes.release()
        assert (await first, await later) == (1, 2)

    async def test_a_cancelled_append_does_not_break_the_group(self) -> None:
        """A caller that cancels while waiting gets CancelledError; its stanza may still be
        queued (it was accepted), and the others of its group get their ids."""
        writes = HeldWrites(self.store)
        queue = StoreOutbox(writes)
        first = queue.append("<a/>")
        gone, kept = queue.append("<b/>"), queue.append("<c/>")
        gone.cancel()
        gone.addErrback(lambda f: None)
        await writes.release()
        await writes.release()
        assert (await first, await kept) == (1, 3)


class TestGroupSQLite(GroupTests, SQLiteCase):
    pass


class TestGroupPostgres(GroupTests, PostgresCase):
    pass
