"""The outbound pump on its own: queue to stream in batches, ping confirmation, resend, poison."""

from __future__ import annotations

from typing import Any, cast

from twisted.internet.defer import Deferred, ensureDeferred
from twisted.internet.task import Clock
from twisted.trial.unittest import SynchronousTestCase
from twisted.words.xish import domish

from gateway.engine.errors import Unavailable
from gateway.testing import MemoryQueue
from gateway.xmpp.pump import OutboundPump
from gateway.xmpp.session import Stream
from gateway.xmpp.wire import prepare_outbound
from tests.xmpp.fakes import COMPONENT, FakeXmlStream, is_ping


def open_stream() -> tuple[Stream, FakeXmlStream]:
    xs = FakeXmlStream()
    return Stream(cast(Any, xs), authenticated=True), xs


def text(body: str, sender: str = COMPONENT) -> str:
    """A message as the link queues it."""
    return prepare_outbound(
        f"<message to='u@localhost' from='{sender}'><body>{body}</body></message>",
        COMPONENT,
        "pass",
    )


def pings(xs: FakeXmlStream) -> list[domish.Element]:
    return [e for e in xs.sent if isinstance(e, domish.Element) and is_ping(e)]


def written(xs: FakeXmlStream) -> list[str]:
    return [e for e in xs.sent if isinstance(e, str)]


def answer(ping: domish.Element, kind: str = "result") -> domish.Element:
    reply = domish.Element(("jabber:component:accept", "iq"))
    reply["type"] = kind
    reply["id"] = ping["id"]
    reply["from"] = ping["to"]
    return reply


class PumpTests(SynchronousTestCase):
    """OutboundPump with a MemoryQueue, a Clock and a fake stream."""

    def setUp(self) -> None:
        self.clock = Clock()
        self.queue = MemoryQueue()
        self.pump = OutboundPump(
            self.queue,
            self.clock,
            jid=COMPONENT,
            server_domain="localhost",
            max_queued=5,
            batch_size=2,
            window=2,
            ping_timeout=10,
        )

    def enqueue(self, *bodies: str) -> list[str]:
        texts = [text(body) for body in bodies]
        for item in texts:
            self.successResultOf(self.pump_enqueue(item))
        return texts

    def pump_enqueue(self, item: str) -> Deferred[None]:
        return ensureDeferred(self.pump.enqueue(item))

    def test_batches_and_pings(self) -> None:
        """A new stream gets the queue in order, a ping to the server domain after each batch."""
        texts = self.enqueue("a", "b", "c")
        stream, xs = open_stream()
        self.pump.stream_up(stream)
        self.assertEqual(written(xs), texts)
        kinds = ["ping" if isinstance(e, domish.Element) else "stanza" for e in xs.sent]
        self.assertEqual(kinds, ["stanza", "stanza", "ping", "stanza", "ping"])
        self.assertEqual({(p["to"], p["from"]) for p in pings(xs)}, {("localhost", COMPONENT)})

    def test_ping_answer_confirms(self) -> None:
        """A ping's answer takes what it covers out of the queue; other IQs are not taken."""
        self.enqueue("a", "b", "c")
        stream, xs = open_stream()
        self.pump.stream_up(stream)
        first, second = pings(xs)
        self.assertTrue(self.pump.answer(answer(first)))
        self.assertEqual(self.successResultOf(self.queue.count()), 1)
        self.assertEqual(self.pump.queued, 1)
        self.assertTrue(self.pump.answer(answer(second, "error")))
        self.assertEqual(self.successResultOf(self.queue.count()), 0)
        other = answer(first)
        other["id"] = "someone-else"
        self.assertFalse(self.pump.answer(other))

    def test_window_pauses_the_pump(self) -> None:
        """Beyond ``window`` unanswered pings nothing more is written until an answer comes."""
        self.enqueue("a", "b", "c", "d", "e")
        stream, xs = open_stream()
        self.pump.stream_up(stream)
        self.assertEqual(len(written(xs)), 4)
        self.pump.answer(answer(pings(xs)[0]))
        self.assertEqual(len(written(xs)), 5)

    def test_resend_on_the_next_stream(self) -> None:
        """What the first stream did not confirm is written again on the next one."""
        texts = self.enqueue("a", "b", "c")
        first, xs = open_stream()
        self.pump.stream_up(first)
        self.pump.answer(answer(pings(xs)[0]))
        first.open = False
        self.pump.stream_down(first)
        second, xs2 = open_stream()
        self.pump.stream_up(second)
        self.assertEqual(written(xs2), texts[2:])

    def test_ping_timeout_drops_the_stream(self) -> None:
        """An unanswered ping drops the stream, saying why."""
        self.enqueue("a")
        stream, xs = open_stream()
        self.pump.stream_up(stream)
        self.clock.advance(10)
        self.assertTrue(xs.transport.disconnecting)
        self.assertEqual(stream.why, "no answer to a ping within 10 s")

    def test_stream_down_cancels_ping_timers(self) -> None:
        """Once its stream ended, no ping timer of it is left on the clock."""
        self.enqueue("a")
        stream, _ = open_stream()
        self.pump.stream_up(stream)
        stream.open = False
        self.pump.stream_down(stream)
        self.assertEqual(self.clock.getDelayedCalls(), [])

    def test_poison_dropped(self) -> None:
        """A stream closed with invalid-from drops the first foreign-from stanza it was sent."""
        good = text("good")
        self.successResultOf(self.pump_enqueue(text("bad", "admin@localhost")))
        self.successResultOf(self.pump_enqueue(good))
        stream, _ = open_stream()
        self.pump.stream_up(stream)
        stream.open, stream.condition = False, "invalid-from"
        self.pump.stream_down(stream)
        self.assertEqual(self.pump.dead_lettered, 1)
        self.assertEqual(self.successResultOf(self.queue.peek(0, 10)), [(2, good)])

    def test_full_queue_unavailable(self) -> None:
        """Past ``max_queued`` a stanza is refused with Unavailable and nothing is stored."""
        self.enqueue("1", "2", "3", "4", "5")
        failure = self.failureResultOf(self.pump_enqueue(text("6")), Unavailable)
        self.assertIn("queue is full (5 stanzas)", failure.value.message)
        self.assertEqual(self.successResultOf(self.queue.count()), 5)

    def test_bounce_counted(self) -> None:
        """A stanza error coming back is counted."""
        error = domish.Element(("jabber:component:accept", "message"))
        error["type"] = "error"
        self.pump.bounce(error)
        self.assertEqual(self.pump.bounced, 1)

    def test_start_counts_what_is_left(self) -> None:
        """start() counts what an earlier run left in the queue."""
        self.successResultOf(self.queue.append(text("left")))
        self.pump.start()
        self.assertEqual(self.pump.queued, 1)
