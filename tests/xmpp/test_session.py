"""The session on its own: connecting, the handshake and its timeout, each stream's end."""

from __future__ import annotations

from twisted.application.internet import backoffPolicy
from twisted.internet.endpoints import clientFromString
from twisted.internet.testing import MemoryReactorClock
from twisted.logger import formatEvent
from twisted.trial.unittest import SynchronousTestCase

from gateway.xmpp.session import ComponentSession, Stream
from tests.xmpp.fakes import COMPONENT, SECRET, FakeServer, capture_log


class SessionTests(SynchronousTestCase):
    """ComponentSession against the fake server on a memory reactor."""

    def setUp(self) -> None:
        self.reactor = MemoryReactorClock()
        self.server = FakeServer(self.reactor)
        self.ups: list[Stream] = []
        self.downs: list[Stream] = []
        self.session = ComponentSession(
            COMPONENT,
            SECRET,
            clientFromString(self.reactor, "tcp:127.0.0.1:5347"),
            self.reactor,
            where="127.0.0.1:5347",
            backoff=backoffPolicy(1.0, 60.0, 1.5, lambda: 0.0),
            handshake_timeout=30,
            up=self.ups.append,
            down=self.downs.append,
        )
        self.reactor.advance(100)
        self.session.startService()
        self.addCleanup(self._stop)

    def _stop(self) -> None:
        if self.session.running:
            self.session.stopService()

    def test_up_once_authenticated(self) -> None:
        """``up`` gets the stream only after the handshake; it writes to the connection."""
        self.assertEqual(self.session.since, 100)
        connection = self.server.accept()
        connection.open_stream()
        self.assertEqual(self.ups, [])
        self.reactor.advance(1)
        connection.feed("<handshake/>")
        [stream] = self.ups
        self.assertIs(self.session.current, stream)
        self.assertEqual(self.session.since, 101)
        connection.read()
        stream.send("<presence/>")
        [sent] = connection.read()
        self.assertEqual(sent.name, "presence")

    def test_down_after_the_end(self) -> None:
        """``down`` gets the ended stream (no longer open); the session has none then."""
        connection, _ = self.server.connect()
        [stream] = self.ups
        connection.drop()
        self.assertEqual(self.downs, [stream])
        self.assertFalse(stream.open)
        self.assertIsNone(self.session.current)

    def test_drop_gives_the_reason(self) -> None:
        """A stream dropped with a reason is logged as lost with that reason."""
        events = capture_log(self)
        connection, _ = self.server.connect()
        [stream] = self.ups
        stream.drop("no answer to a ping within 60 s")
        self.assertTrue(connection.transport.disconnecting)
        connection.drop()
        lost = [formatEvent(e) for e in events if "link lost" in formatEvent(e)]
        self.assertEqual(len(lost), 1)
        self.assertIn("no answer to a ping within 60 s", lost[0])

    def test_stream_error_condition_kept(self) -> None:
        """The condition of the server's stream error reaches ``down`` on the stream."""
        connection, _ = self.server.connect()
        connection.feed(
            "<stream:error><invalid-from xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>"
            "</stream:error>"
        )
        connection.drop()
        [stream] = self.downs
        self.assertEqual(
            (stream.condition, stream.why), ("invalid-from", "stream error invalid-from")
        )

    def test_handshake_timeout(self) -> None:
        """A connection not authenticated in time is dropped; ``down`` is never called for it."""
        connection = self.server.accept()
        connection.open_stream()
        self.reactor.advance(30)
        self.assertTrue(connection.transport.disconnecting)
        connection.drop()
        self.assertEqual((self.ups, self.downs), ([], []))

    def test_stop_closes_politely(self) -> None:
        """Stopping ends the stream with its footer, logs it as closed, and does not reconnect."""
        events = capture_log(self)
        connection, _ = self.server.connect()
        self.session.stopService()
        self.assertTrue(connection.transport.value().endswith(b"</stream:stream>"))
        connection.drop()
        self.reactor.advance(3600)
        self.assertEqual(self.server.attempts, 1)
        self.assertTrue(any("link closed" in formatEvent(e) for e in events))
