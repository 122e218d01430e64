"""The IQ tracker on its own: awaited IQs by id, their answers, timeouts and lost streams."""

from __future__ import annotations

from typing import Any, cast

from lxml import etree
from twisted.internet import defer
from twisted.internet.task import Clock
from twisted.trial.unittest import SynchronousTestCase
from twisted.words.xish import domish

from gateway.engine.errors import InternalError, Unavailable
from gateway.xmpp.iq_tracker import IqTracker
from gateway.xmpp.session import Stream
from gateway.xmpp.wire import OutgoingIq
from tests.xmpp.fakes import COMPONENT, FakeXmlStream

OUTGOING = OutgoingIq("gw-1", "caller-1", "localhost", "<iq type='get' id='gw-1'/>")


def reply(iq_id: str = "gw-1", sender: str | None = "localhost") -> domish.Element:
    """An answer as the stream parses it."""
    iq = domish.Element(("jabber:component:accept", "iq"))
    iq["type"] = "result"
    iq["id"] = iq_id
    if sender is not None:
        iq["from"] = sender
    iq.addElement(("urn:x", "query"))
    return iq


class IqTrackerTests(SynchronousTestCase):
    """IqTracker with a Clock and fake streams."""

    def setUp(self) -> None:
        self.clock = Clock()
        self.tracker = IqTracker(self.clock, COMPONENT)
        self.xs = FakeXmlStream()
        self.stream = Stream(cast(Any, self.xs), authenticated=True)

    def test_no_stream(self) -> None:
        """Without a stream the IQ is refused at once with Unavailable."""
        with self.assertRaises(Unavailable):
            self.tracker.send(None, OUTGOING, 5)

    def test_answer_matched(self) -> None:
        """The IQ is written; the answer fires it as jabber:client text with the caller's id."""
        answer = self.tracker.send(self.stream, OUTGOING, 5)
        self.assertEqual(self.xs.sent, [OUTGOING.text])
        self.assertNoResult(answer)
        self.assertTrue(self.tracker.answer(reply()))
        root = etree.fromstring(self.successResultOf(answer))
        self.assertEqual((root.tag, root.get("id")), ("{jabber:client}iq", "caller-1"))
        self.assertEqual(root[0].tag, "{urn:x}query")

    def test_answer_from_the_prepared_target(self) -> None:
        """The sender is compared after preparation: LocalHost answers for localhost."""
        answer = self.tracker.send(self.stream, OUTGOING, 5)
        self.assertTrue(self.tracker.answer(reply(sender="LocalHost")))
        self.successResultOf(answer)

    def test_other_answers_not_taken(self) -> None:
        """Another id, another sender or no sender is not the answer."""
        answer = self.tracker.send(self.stream, OUTGOING, 5)
        self.assertFalse(self.tracker.answer(reply("gw-2")))
        self.assertFalse(self.tracker.answer(reply(sender="evil@localhost")))
        self.assertFalse(self.tracker.answer(reply(sender=None)))
        self.assertNoResult(answer)

    def test_any_sender_without_target(self) -> None:
        """An IQ without 'to' goes to the server, whose answer may come from any JID."""
        outgoing = OutgoingIq("gw-1", None, None, "<iq type='get' id='gw-1'/>")
        answer = self.tracker.send(self.stream, outgoing, 5)
        self.assertTrue(self.tracker.answer(reply(sender="localhost")))
        self.assertIsNone(etree.fromstring(self.successResultOf(answer)).get("id"))

    def test_timeout_forgets(self) -> None:
        """No answer within the timeout fails with TimeoutError; a late answer is not taken."""
        answer = self.tracker.send(self.stream, OUTGOING, 5)
        self.clock.advance(5)
        self.failureResultOf(answer, defer.TimeoutError)
        self.assertFalse(self.tracker.answer(reply()))

    def test_cancel_forgets(self) -> None:
        """Cancelling the Deferred forgets the IQ."""
        answer = self.tracker.send(self.stream, OUTGOING, 5)
        answer.cancel()
        self.failureResultOf(answer, defer.CancelledError)
        self.assertFalse(self.tracker.answer(reply()))

    def test_stream_down_fails_its_iqs_only(self) -> None:
        """A stream's end fails the IQs sent on it with Unavailable, not those on another."""
        answer = self.tracker.send(self.stream, OUTGOING, 5)
        other = Stream(cast(Any, FakeXmlStream()), authenticated=True)
        elsewhere = self.tracker.send(other, OutgoingIq("gw-2", None, None, "<iq/>"), 5)
        self.tracker.stream_down(self.stream)
        failure = self.failureResultOf(answer, Unavailable)
        self.assertIn("went down before the answer", failure.value.message)
        self.assertNoResult(elsewhere)

    def test_unreadable_answer_is_internal_error(self) -> None:
        """An answer that cannot be written faithfully fails the IQ with an internal error."""
        answer = self.tracker.send(self.stream, OUTGOING, 5)
        bad = reply()
        bad.children[0].addElement(("", "bare"))
        self.assertTrue(self.tracker.answer(bad))
        self.failureResultOf(answer, InternalError)
        self.assertTrue(self.flushLoggedErrors())

    def test_ids_are_fresh(self) -> None:
        """Each IQ gets an id of its own."""
        self.assertEqual(len({self.tracker.new_id() for _ in range(50)}), 50)
