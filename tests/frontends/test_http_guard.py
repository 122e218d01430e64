"""GuardedSite: the receive deadline, the idle timeout, the connection cap and draining.

Connections are driven by hand: a channel from ``buildProtocol`` on a
``StringTransport``, time on a ``MemoryReactorClock``, and a resource that
answers only when the test finishes its request.
"""

from __future__ import annotations

from typing import Any

from twisted.internet.address import IPv4Address
from twisted.internet.error import ConnectionDone
from twisted.internet.testing import MemoryReactorClock, StringTransport
from twisted.logger import LogLevel, capturedLogs
from twisted.python.failure import Failure
from twisted.trial.unittest import SynchronousTestCase
from twisted.web.resource import Resource
from twisted.web.server import NOT_DONE_YET, Request

from gateway.frontends.http_guard import GuardedChannel, GuardedSite

RECEIVE = 5.0
IDLE = 8.0
PEER = IPv4Address("TCP", "127.0.0.1", 40000)
REQUEST = b"POST / HTTP/1.1\r\nHost: localhost\r\nContent-Length: 2\r\n\r\n{}"


class Held(Resource):
    """Answers a request only when the test calls :meth:`finish`."""

    isLeaf = True

    def __init__(self) -> None:
        super().__init__()
        self.requests: list[Request] = []

    def render(self, request: Any) -> Any:
        self.requests.append(request)
        return NOT_DONE_YET

    def finish(self, index: int = -1) -> None:
        request = self.requests[index]
        request.setHeader(b"content-length", b"2")
        request.write(b"ok")
        request.finish()


class GuardTestCase(SynchronousTestCase):
    """A guarded site on a memory clock, and a way to open connections to it."""

    def setUp(self) -> None:
        self.clock = MemoryReactorClock()
        self.resource = Held()
        self.site = self.make_site()

    def make_site(self, max_connections: int = 10) -> GuardedSite:
        return GuardedSite(
            self.resource,
            name="test listener",
            reactor=self.clock,
            receive_timeout=RECEIVE,
            idle_timeout=IDLE,
            max_connections=max_connections,
        )

    def connect(self) -> tuple[GuardedChannel, StringTransport]:
        channel = self.site.buildProtocol(PEER)
        assert isinstance(channel, GuardedChannel)
        transport = StringTransport(peerAddress=PEER)
        channel.makeConnection(transport)
        return channel, transport

    def lose(self, channel: GuardedChannel) -> None:
        channel.connectionLost(Failure(ConnectionDone()))


class ReceiveDeadlineTests(GuardTestCase):
    """A request must arrive whole within receive_timeout."""

    def test_silent_connection(self) -> None:
        """A new connection that sends nothing gets 408 and is closed after receive_timeout."""
        _, transport = self.connect()
        self.clock.advance(RECEIVE - 0.1)
        self.assertFalse(transport.disconnecting)
        self.clock.advance(0.2)
        self.assertTrue(transport.value().startswith(b"HTTP/1.1 408 Request Timeout\r\n"))
        self.assertIn(b"Connection: close", transport.value())
        self.assertTrue(transport.disconnecting)

    def test_trickle(self) -> None:
        """A byte every second keeps the idle timer happy but not the receive deadline."""
        channel, transport = self.connect()
        for byte in b"POST / HTTP/1.1\r\nX-Padding: ppppppppppppppp":
            if transport.disconnecting:
                break
            channel.dataReceived(bytes([byte]))
            self.clock.advance(1.0)
        self.assertTrue(transport.disconnecting)
        self.assertTrue(transport.value().startswith(b"HTTP/1.1 408"))
        self.assertEqual(self.clock.seconds(), RECEIVE)

    def test_complete_request_stops_the_deadline(self) -> None:
        """A request answered slowly is not cut: the deadline ends when the body is in."""
        channel, transport = self.connect()
        channel.dataReceived(REQUEST)
        self.clock.advance(RECEIVE * 3)
        self.assertFalse(transport.disconnecting)
        self.resource.finish()
        self.assertTrue(transport.value().startswith(b"HTTP/1.1 200"))
        self.assertNotIn(b"408", transport.value())

    def test_next_request_timed_from_its_first_byte(self) -> None:
        """After an answer the deadline waits for the next byte, then runs again."""
        channel, transport = self.connect()
        channel.dataReceived(REQUEST)
        self.resource.finish()
        transport.clear()
        self.clock.advance(IDLE - 0.5)  # longer than RECEIVE: between requests no deadline runs
        channel.dataReceived(b"P")
        for _ in range(int(RECEIVE)):
            channel.dataReceived(b"O")
            self.clock.advance(1.0)
        self.assertTrue(transport.value().startswith(b"HTTP/1.1 408"))

    def test_pipelined_request(self) -> None:
        """A request sent while the previous one is answered is timed from its replay."""
        channel, transport = self.connect()
        channel.dataReceived(REQUEST + b"POST / HTTP/1.1\r\n")
        self.clock.advance(RECEIVE * 2)  # the first is being answered: nothing runs out
        self.assertFalse(transport.disconnecting)
        self.resource.finish()
        self.clock.advance(RECEIVE - 0.1)
        self.assertFalse(transport.disconnecting)
        self.clock.advance(0.2)
        self.assertTrue(transport.disconnecting)
        self.assertIn(b"408", transport.value())

    def test_loss_cancels_the_deadline(self) -> None:
        """A connection that goes away leaves no timer behind."""
        channel, _ = self.connect()
        channel.dataReceived(b"POST / HT")
        self.lose(channel)
        self.assertEqual(self.clock.getDelayedCalls(), [])


class IdleTimeoutTests(GuardTestCase):
    """A keep-alive connection may be silent idle_timeout seconds between requests."""

    def test_idle_after_answer(self) -> None:
        """After the answer, idle_timeout of silence closes the connection, without a 408."""
        channel, transport = self.connect()
        channel.dataReceived(REQUEST)
        self.resource.finish()
        self.clock.advance(IDLE - 0.1)
        self.assertFalse(transport.disconnecting)
        self.clock.advance(0.2)
        self.assertTrue(transport.disconnecting)
        self.assertNotIn(b"408", transport.value())

    def test_not_while_answering(self) -> None:
        """A long answer is not an idle connection."""
        channel, transport = self.connect()
        channel.dataReceived(REQUEST)
        self.clock.advance(IDLE * 10)
        self.assertFalse(transport.disconnecting)


class CapTests(GuardTestCase):
    """At most max_connections connections at once."""

    def test_refused_over_the_cap_then_admitted(self) -> None:
        """One connection too many gets no protocol; once one closes, a new one does."""
        self.site = self.make_site(max_connections=2)
        first, _ = self.connect()
        self.connect()
        self.assertIsNone(self.site.buildProtocol(PEER))
        self.lose(first)
        self.assertIsInstance(self.site.buildProtocol(PEER), GuardedChannel)

    def test_refusals_logged_once_a_minute(self) -> None:
        """Refusals are logged at most once a minute, with how many there were."""
        self.site = self.make_site(max_connections=1)
        self.connect()
        with capturedLogs() as events:
            for _ in range(5):
                self.site.buildProtocol(PEER)
            self.clock.advance(61)
            self.site.buildProtocol(PEER)
        warnings = [e for e in events if e["log_level"] == LogLevel.warn]
        self.assertEqual(len(warnings), 2)
        self.assertEqual([w["refused"] for w in warnings], [1, 5])
        self.assertEqual(warnings[0]["name"], "test listener")


class DrainTests(GuardTestCase):
    """Shutdown: idle connections close at once, requests in flight finish first."""

    def test_idle_closed_busy_finishes(self) -> None:
        """drain() closes the idle connection, lets the busy one answer with Connection: close."""
        idle, idle_transport = self.connect()
        busy, busy_transport = self.connect()
        busy.dataReceived(REQUEST)
        drained = self.site.drain()
        self.assertTrue(idle_transport.disconnecting)
        self.assertFalse(busy_transport.disconnecting)
        self.assertEqual(self.site.busy(), 1)
        self.lose(idle)
        self.assertNoResult(drained)
        self.resource.finish()
        self.assertIn(b"Connection: close", busy_transport.value())
        self.assertIn(b"\r\n\r\nok", busy_transport.value())
        self.assertTrue(busy_transport.disconnecting)
        self.lose(busy)
        self.successResultOf(drained)

    def test_request_arriving_finishes(self) -> None:
        """A request whose head is still arriving completes, is answered, and closes."""
        channel, transport = self.connect()
        channel.dataReceived(REQUEST[:20])
        self.site.drain()
        self.assertFalse(transport.disconnecting)
        channel.dataReceived(REQUEST[20:])
        self.resource.finish()
        self.assertIn(b"Connection: close", transport.value())
        self.assertTrue(transport.disconnecting)

    def test_no_connections_after_drain(self) -> None:
        """A draining site builds no protocol; with nothing open it is drained at once."""
        self.successResultOf(self.site.drain())
        self.assertIsNone(self.site.buildProtocol(PEER))

    def test_abort(self) -> None:
        """abort() drops every connection still open and says how many."""
        channel, transport = self.connect()
        channel.dataReceived(REQUEST)
        self.site.drain()
        self.assertEqual(self.site.abort(), 1)
        self.assertTrue(transport.disconnected)


class SiteTests(GuardTestCase):
    """What else the guarded site changes."""

    def test_http11_only(self) -> None:
        """Only HTTP/1.1 is offered over TLS: the channel cannot switch to h2."""
        self.assertEqual(self.site.acceptableProtocols(), [b"http/1.1"])

    def test_form_bodies_not_parsed(self) -> None:
        """A url-encoded body is left to the resource (no request.args work on the loop)."""
        channel, _ = self.connect()
        body = b"a=1&b=2"
        channel.dataReceived(
            b"POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n"
            b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body
        )
        [request] = self.resource.requests
        self.assertEqual(request.args, {})
        self.assertEqual(request.content.read(), body)

    def test_bad_limits(self) -> None:
        """Timeouts must be positive."""
        with self.assertRaises(ValueError):
            GuardedSite(
                self.resource,
                name="x",
                reactor=self.clock,
                receive_timeout=0,
                idle_timeout=1,
                max_connections=1,
            )


class TimerTests(GuardTestCase):
    """One close per connection: the timers do not close a connection twice."""

    def test_deadline_stops_the_idle_timer(self) -> None:
        """After a 408 only the abort backstop is left; the idle timer does not fire again."""
        _, transport = self.connect()
        self.clock.advance(RECEIVE)
        self.assertTrue(transport.disconnecting)
        self.assertEqual(len(self.clock.getDelayedCalls()), 1)  # abortTimeout

    def test_drain_stops_the_timers(self) -> None:
        """An idle connection closed by drain() keeps no timer."""
        self.connect()
        self.site.drain()
        self.assertEqual(self.clock.getDelayedCalls(), [])
