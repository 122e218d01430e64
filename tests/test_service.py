"""GatewayService.stopService: stop accepting, drain the listeners, then stop everything else."""

from __future__ import annotations

from typing import Any

from twisted.application.service import Service
from twisted.internet.defer import Deferred
from twisted.internet.protocol import Factory, Protocol
from twisted.internet.testing import MemoryReactorClock
from twisted.trial.unittest import SynchronousTestCase

from gateway.logs import LogLevelControl
from gateway.service import GatewayService


class RecordingPort:
    def __init__(self) -> None:
        self.listening = True

    def stopListening(self) -> None:  # noqa: N802 - Twisted's name
        self.listening = False


class Reactor(MemoryReactorClock):
    """A memory reactor whose ports say whether they still listen."""

    def __init__(self) -> None:
        super().__init__()
        self.ports: list[RecordingPort] = []

    def listenTCP(self, port: int, factory: Any, backlog: int = 50, interface: str = "") -> Any:  # noqa: N802
        super().listenTCP(port, factory, backlog, interface)
        self.ports.append(RecordingPort())
        return self.ports[-1]


class DrainableFactory(Factory):
    """A listener factory with one request in flight until the test finishes it."""

    protocol = Protocol

    def __init__(self) -> None:
        self.in_flight = 1
        self.aborted = 0
        self.drained: Deferred[None] = Deferred()
        self.draining = False

    def drain(self) -> Deferred[None]:
        self.draining = True
        return self.drained

    def abort(self) -> int:
        self.aborted += self.in_flight
        return self.in_flight

    def busy(self) -> int:
        return self.in_flight

    def finish(self) -> None:
        self.in_flight = 0
        self.drained.callback(None)


class Child(Service):
    """Stands for the store and the component link, which must outlive the requests."""


class StopTests(SynchronousTestCase):
    """The order of a graceful stop."""

    def setUp(self) -> None:
        self.reactor = Reactor()
        self.service = GatewayService(self.reactor, LogLevelControl(), shutdown_grace=10)
        self.listener = DrainableFactory()
        self.service.add_listener("http", "tcp:5280", lambda: self.listener)
        self.service.add_listener("plain", "tcp:5281", lambda: Factory.forProtocol(Protocol))
        self.child = Child()
        self.child.setServiceParent(self.service)
        self.service.privilegedStartService()
        self.service.startService()

    def test_stop_waits_for_requests_in_flight(self) -> None:
        """Listening stops at once; the rest stops only once the requests in flight are done."""
        stopped = self.service.stopService()
        self.assertEqual([port.listening for port in self.reactor.ports], [False, False])
        self.assertTrue(self.listener.draining)
        self.assertTrue(self.child.running)
        self.assertNoResult(stopped)
        self.listener.finish()
        self.successResultOf(stopped)
        self.assertFalse(self.child.running)
        self.assertEqual(self.listener.aborted, 0)

    def test_grace_period(self) -> None:
        """After shutdown_grace the requests still running are aborted and the rest stops."""
        stopped = self.service.stopService()
        self.reactor.advance(9.9)
        self.assertTrue(self.child.running)
        self.reactor.advance(0.1)
        self.assertEqual(self.listener.aborted, 1)
        self.listener.finish()  # the aborted connection is lost
        self.successResultOf(stopped)
        self.assertFalse(self.child.running)
