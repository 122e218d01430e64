"""``GET /metrics``: the resource serving a scrape, over a real channel."""

from __future__ import annotations

from twisted.internet.address import IPv4Address
from twisted.internet.defer import Deferred, fail, succeed
from twisted.internet.error import ConnectionLost
from twisted.internet.testing import MemoryReactorClock, StringTransport
from twisted.python.failure import Failure
from twisted.trial.unittest import SynchronousTestCase

from gateway.frontends.http_guard import GuardedChannel, GuardedSite
from gateway.frontends.metrics import MetricsResource

PEER = IPv4Address("TCP", "127.0.0.1", 40000)
TEXT = "text/plain; version=0.0.4; charset=utf-8"


class Metrics:
    """Answers scrapes with what the test gives and keeps the Accept headers seen."""

    def __init__(self, answer: Deferred[tuple[bytes, str]] | None = None) -> None:
        self.answer = answer
        self.accepts: list[str | None] = []

    def scrape(self, accept: str | None = None) -> Deferred[tuple[bytes, str]]:
        self.accepts.append(accept)
        if self.answer is not None:
            return self.answer
        return succeed((b"xmpp_gateway_info 1\n", TEXT))


class MetricsResourceTests(SynchronousTestCase):
    def request(self, metrics: Metrics, head: bytes) -> tuple[GuardedChannel, StringTransport]:
        site = GuardedSite(
            MetricsResource(metrics),
            name="test",
            reactor=MemoryReactorClock(),
            receive_timeout=5,
            idle_timeout=5,
            max_connections=5,
        )
        channel = site.buildProtocol(PEER)
        assert isinstance(channel, GuardedChannel)
        transport = StringTransport(peerAddress=PEER)
        channel.makeConnection(transport)
        channel.dataReceived(head)
        return channel, transport

    def test_get(self) -> None:
        """GET answers 200 with the scrape's body, its content type and no caching."""
        _, transport = self.request(Metrics(), b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
        answer = transport.value()
        self.assertTrue(answer.startswith(b"HTTP/1.1 200 OK\r\n"), answer)
        self.assertIn(b"Content-Type: " + TEXT.encode(), answer)
        self.assertIn(b"Cache-Control: no-store", answer)
        self.assertTrue(answer.endswith(b"\r\n\r\nxmpp_gateway_info 1\n"))

    def test_accept_header_is_passed_on(self) -> None:
        """The scraper's Accept header picks the format."""
        metrics = Metrics()
        self.request(
            metrics,
            b"GET /metrics HTTP/1.1\r\nHost: x\r\nAccept: application/openmetrics-text\r\n\r\n",
        )
        self.assertEqual(metrics.accepts, ["application/openmetrics-text"])

    def test_head_has_no_body(self) -> None:
        """HEAD answers the same headers without the body."""
        _, transport = self.request(Metrics(), b"HEAD /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
        answer = transport.value()
        self.assertTrue(answer.startswith(b"HTTP/1.1 200 OK\r\n"), answer)
        self.assertTrue(answer.endswith(b"\r\n\r\n"), answer)

    def test_post_is_not_allowed(self) -> None:
        """Other methods get 405: the resource only serves reads."""
        _, transport = self.request(
            Metrics(), b"POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n"
        )
        self.assertTrue(transport.value().startswith(b"HTTP/1.1 405 "))
        self.assertIn(b"Allow: GET, HEAD", transport.value())

    def test_render_failure_is_500(self) -> None:
        """A scrape that fails is logged and answered 500."""
        metrics = Metrics(fail(ValueError("broken collector")))
        _, transport = self.request(metrics, b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
        self.assertTrue(transport.value().startswith(b"HTTP/1.1 500 "))
        self.assertEqual(len(self.flushLoggedErrors(ValueError)), 1)

    def test_scraper_going_away_cancels_the_wait(self) -> None:
        """When the scraper disconnects before the answer, its scrape is cancelled quietly."""
        cancelled: list[bool] = []
        pending: Deferred[tuple[bytes, str]] = Deferred(lambda _: cancelled.append(True))
        channel, transport = self.request(
            Metrics(pending), b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"
        )
        self.assertEqual(cancelled, [])
        channel.connectionLost(Failure(ConnectionLost()))
        self.assertEqual(cancelled, [True])
        self.assertEqual(transport.value(), b"")
        self.assertEqual(self.flushLoggedErrors(), [])
