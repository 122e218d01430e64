"""The outbound queue contract: one behaviour suite, run here against MemoryQueue.

The store's durable queue runs the same suite in ``test_store_outbox.py``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from twisted.trial.unittest import TestCase

from gateway.backends.interfaces import OutboundQueue, QueueFull
from gateway.xmpp.queue import MemoryQueue
from tests.unit.test_import_graph import GRAPH

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


def test_link_knows_only_the_queue_contract() -> None:
    """No module of ``gateway/xmpp`` imports a backend implementation, the store's queue included.

    The link takes any :class:`OutboundQueue`; the daemon wires the store's in.
    """
    found = [
        f"{module} -> {target}"
        for module, targets in sorted(GRAPH.items())
        if module.startswith("gateway.xmpp")
        for target in sorted(targets)
        if target.startswith("gateway.backends.") and target != "gateway.backends.interfaces"
    ]
    assert found == [], "the link reaches into a backend:\n" + "\n".join(found)
