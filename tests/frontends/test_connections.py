"""Connection caps and graceful draining: Admission, GuardedFactory and drain_all."""

from __future__ import annotations

from dataclasses import dataclass, field

from twisted.internet.defer import Deferred
from twisted.internet.error import ConnectionDone
from twisted.internet.protocol import Factory, Protocol
from twisted.internet.task import Clock
from twisted.internet.testing import StringTransport
from twisted.python.failure import Failure
from twisted.trial.unittest import SynchronousTestCase

from gateway.frontends.connections import Admission, GuardedFactory, drain_all


class AdmissionTests(SynchronousTestCase):
    """The count, the cap and the drain of one listener."""

    def setUp(self) -> None:
        self.clock = Clock()
        self.admission: Admission[object] = Admission("listener", 2, self.clock)

    def test_cap(self) -> None:
        """Connections are admitted up to the cap, then again once one closes."""
        first, second = object(), object()
        self.assertTrue(self.admission.admit())
        self.admission.opened(first)
        self.admission.opened(second)
        self.assertFalse(self.admission.admit())
        self.admission.closed(first)
        self.assertTrue(self.admission.admit())
        self.assertEqual(len(self.admission), 1)

    def test_drain_waits_for_the_last(self) -> None:
        """drain() refuses new connections and fires when the last open one closes."""
        connection = object()
        self.admission.opened(connection)
        drained = self.admission.drain()
        self.assertFalse(self.admission.admit())
        self.assertNoResult(drained)
        self.admission.closed(connection)
        self.successResultOf(drained)

    def test_drain_when_empty(self) -> None:
        """With nothing open, drain() has fired already."""
        self.successResultOf(self.admission.drain())

    def test_cap_must_be_positive(self) -> None:
        """A cap below one would refuse everyone."""
        with self.assertRaises(ValueError):
            Admission("listener", 0, self.clock)


class GuardedFactoryTests(SynchronousTestCase):
    """Any factory, wrapped: capped and drainable."""

    def setUp(self) -> None:
        self.clock = Clock()
        self.factory = GuardedFactory(
            Factory.forProtocol(Protocol), Admission("ctl", 2, self.clock)
        )

    def connect(self) -> tuple[Protocol, StringTransport]:
        protocol = self.factory.buildProtocol(None)
        assert protocol is not None
        transport = StringTransport()
        protocol.makeConnection(transport)
        return protocol, transport

    def test_cap(self) -> None:
        """Past the cap no protocol is built; a closed connection makes room."""
        first, _ = self.connect()
        self.connect()
        self.assertIsNone(self.factory.buildProtocol(None))
        first.connectionLost(Failure(ConnectionDone()))
        self.assertIsNotNone(self.factory.buildProtocol(None))

    def test_drain_and_abort(self) -> None:
        """Draining waits for open connections; abort() drops them and counts them."""
        protocol, transport = self.connect()
        drained = self.factory.drain()
        self.assertEqual(self.factory.busy(), 1)
        self.assertIsNone(self.factory.buildProtocol(None))
        self.assertNoResult(drained)
        self.assertEqual(self.factory.abort(), 1)
        self.assertTrue(transport.disconnected)
        protocol.connectionLost(Failure(ConnectionDone()))
        self.successResultOf(drained)


@dataclass
class FakeListener:
    """A Drainable whose connections finish when the test says so."""

    busy_connections: int = 0
    aborted: int = 0
    waiting: list[Deferred[None]] = field(default_factory=list)

    def drain(self) -> Deferred[None]:
        done: Deferred[None] = Deferred()
        if self.busy_connections:
            self.waiting.append(done)
        else:
            done.callback(None)
        return done

    def abort(self) -> int:
        self.aborted += self.busy_connections
        return self.busy_connections

    def busy(self) -> int:
        return self.busy_connections

    def finish_all(self) -> None:
        self.busy_connections = 0
        for done in self.waiting:
            done.callback(None)


class DrainAllTests(SynchronousTestCase):
    """Waiting for every listener, up to the grace period."""

    def setUp(self) -> None:
        self.clock = Clock()

    def test_idle_listeners(self) -> None:
        """Nothing in flight: drained at once, no timer left behind."""
        self.successResultOf(drain_all([FakeListener(), FakeListener()], 10, self.clock))
        self.assertEqual(self.clock.getDelayedCalls(), [])

    def test_waits_for_requests_in_flight(self) -> None:
        """Fires when the last listener is drained, before the grace period ends."""
        quiet, busy = FakeListener(), FakeListener(busy_connections=2)
        done = drain_all([quiet, busy], 10, self.clock)
        self.clock.advance(9)
        self.assertNoResult(done)
        busy.finish_all()
        self.successResultOf(done)
        self.assertEqual(busy.aborted, 0)
        self.assertEqual(self.clock.getDelayedCalls(), [])

    def test_grace_over(self) -> None:
        """At the end of the grace period what is left is aborted, then it fires."""
        busy = FakeListener(busy_connections=1)
        done = drain_all([busy], 10, self.clock)
        self.clock.advance(10)
        self.assertEqual(busy.aborted, 1)
        self.assertNoResult(done)
        busy.finish_all()  # the aborted connections report their loss
        self.successResultOf(done)

    def test_backstop(self) -> None:
        """A connection that never reports its loss does not hold the shutdown for ever."""
        busy = FakeListener(busy_connections=1)
        done = drain_all([busy], 10, self.clock)
        self.clock.advance(10)
        self.assertNoResult(done)
        self.clock.advance(2)
        self.successResultOf(done)
