"""The outbox says when its oldest stanza was queued (for the queue-age metric)."""

from __future__ import annotations

from gateway.backends.embedded.outbox import StoreOutbox
from tests.backends.embedded.cases import MemoryCase, Mixin, PostgresCase, SQLiteCase


class OldestTests(Mixin):
    async def test_empty_queue_has_no_oldest(self) -> None:
        """An empty queue answers ``None``."""
        assert await StoreOutbox(self.store).oldest_created() is None

    async def test_oldest_is_the_first_still_queued(self) -> None:
        """The answer is the creation time of the lowest id left, as confirmations remove
        stanzas from the front."""
        times = iter([100.25, 200.5, 300.75])
        queue = StoreOutbox(self.store, now=lambda: next(times))
        first = await queue.append("<a/>")
        second = await queue.append("<b/>")
        await queue.append("<c/>")
        assert await queue.oldest_created() == 100.25
        await queue.confirm(first)
        assert await queue.oldest_created() == 200.5
        await queue.discard(second)
        assert await queue.oldest_created() == 300.75


class TestOldestSQLite(OldestTests, SQLiteCase):
    pass


class TestOldestMemory(OldestTests, MemoryCase):
    pass


class TestOldestPostgres(OldestTests, PostgresCase):
    pass
