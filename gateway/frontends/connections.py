"""How many connections a listener holds, and closing them all gracefully.

Every listener admits at most ``max_connections`` connections at once; one
more is closed as soon as it is accepted (the factory builds no protocol for
it), so a client that opens connections faster than it finishes them cannot
take the daemon's file descriptors or memory.  A refusal is logged at most
once a minute per listener, with the count since the last line.

On shutdown a listener *drains*: it admits nothing more and tells its
connections to finish what they are doing; :func:`drain_all` waits for all
listeners up to a grace period and then aborts whatever is left.  What
"finishing" means belongs to the protocol: the HTTP site
(:mod:`gateway.frontends.http_guard`) answers the requests in flight and
closes idle connections at once; :class:`GuardedFactory` wraps any other
factory (the control socket) and waits for its connections to close.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, Generic, Protocol, TypeVar, runtime_checkable

from twisted.internet.defer import Deferred, DeferredList
from twisted.internet.interfaces import IAddress, IDelayedCall, IReactorTime
from twisted.internet.protocol import Factory
from twisted.logger import Logger
from twisted.protocols.policies import ProtocolWrapper, WrappingFactory

__all__ = ["Admission", "Drainable", "GuardedFactory", "abort_connection", "drain_all"]

log = Logger()

C = TypeVar("C")

#: seconds between two log lines about refused connections on one listener
_REFUSAL_LOG_INTERVAL = 60.0
#: seconds to wait, after aborting connections, for them to report their loss
_ABORT_BACKSTOP = 2.0


@runtime_checkable
class Drainable(Protocol):
    """A listener's factory that can be emptied before the daemon stops."""

    def drain(self) -> Deferred[None]:
        """Admit no more connections, let the open ones finish; fire once all are closed."""
        ...

    def abort(self) -> int:
        """Abort every connection still open; how many there were."""
        ...

    def busy(self) -> int:
        """How many connections are doing work that a shutdown should wait for."""
        ...


class Admission(Generic[C]):
    """The open connections of one listener, its cap and whether it drains.

    Args:
        name: the listener, for log lines.
        max_connections: connections open at once; more are refused.
        clock: times the refusal log lines.
    """

    def __init__(self, name: str, max_connections: int, clock: IReactorTime) -> None:
        if max_connections < 1:
            raise ValueError("max_connections must be at least 1")
        self.name = name
        self.max_connections = max_connections
        self.draining = False
        self._clock = clock
        self._open: set[C] = set()
        self._waiters: list[Deferred[None]] = []
        self._refused = 0
        self._last_warning: float | None = None

    def __len__(self) -> int:
        return len(self._open)

    def __iter__(self) -> Iterator[C]:
        # a copy: closing a connection while iterating removes it
        return iter(list(self._open))

    def admit(self) -> bool:
        """Whether a connection being accepted may get a protocol."""
        if self.draining:
            return False
        if len(self._open) < self.max_connections:
            return True
        self._refused += 1
        now = self._clock.seconds()
        if self._last_warning is None or now - self._last_warning >= _REFUSAL_LOG_INTERVAL:
            log.warn(
                "{name}: {open} connections open (max_connections); refused {refused} "
                "new connection(s)",
                name=self.name,
                open=len(self._open),
                refused=self._refused,
            )
            self._last_warning = now
            self._refused = 0
        return False

    def opened(self, connection: C) -> None:
        self._open.add(connection)

    def closed(self, connection: C) -> None:
        self._open.discard(connection)
        if not self._open and self.draining:
            waiters, self._waiters = self._waiters, []
            for waiter in waiters:
                waiter.callback(None)

    def drain(self) -> Deferred[None]:
        """Refuse every new connection from now on; fires once none is open."""
        self.draining = True
        done: Deferred[None] = Deferred()
        if self._open:
            self._waiters.append(done)
        else:
            done.callback(None)
        return done


class _Tracked(ProtocolWrapper):
    """Tells its :class:`GuardedFactory` when the connection opens."""

    factory: GuardedFactory

    def makeConnection(self, transport: Any) -> None:
        self.factory.admission.opened(self)
        super().makeConnection(transport)


class GuardedFactory(WrappingFactory):
    """Any server factory, with a connection cap and draining.

    Meant for protocols whose connections end by themselves once their work
    is done (the control socket answers one request and hangs up): draining
    waits for them to close.
    """

    protocol = _Tracked

    def __init__(self, wrapped: Factory, admission: Admission[ProtocolWrapper]) -> None:
        super().__init__(wrapped)
        self.admission = admission

    # None is how a factory refuses a connection (the port closes it at once)
    def buildProtocol(self, addr: IAddress | None) -> ProtocolWrapper | None:  # type: ignore[override]
        if not self.admission.admit():
            return None
        return super().buildProtocol(addr)

    def unregisterProtocol(self, protocol: ProtocolWrapper) -> None:
        super().unregisterProtocol(protocol)
        self.admission.closed(protocol)

    def drain(self) -> Deferred[None]:
        return self.admission.drain()

    def abort(self) -> int:
        return sum(abort_connection(wrapper.transport) for wrapper in self.admission)

    def busy(self) -> int:
        return len(self.admission)


def abort_connection(transport: Any) -> bool:
    """Drop ``transport`` without flushing what it buffers; False when there is none."""
    if transport is None:
        return False
    abort = getattr(transport, "abortConnection", None)
    if abort is not None:
        abort()
    else:
        transport.loseConnection()
    return True


def drain_all(parts: Sequence[Drainable], grace: float, clock: IReactorTime) -> Deferred[None]:
    """Drain every listener; after ``grace`` seconds abort what is left.

    Fires once every connection is closed: at once when all were idle, when
    the last request in flight is answered, or just after the aborts.
    """
    busy = sum(part.busy() for part in parts)
    if busy:
        log.info(
            "shutting down: {busy} request(s) in flight, waiting up to {grace:g} s",
            busy=busy,
            grace=grace,
        )
    done: Deferred[None] = Deferred()
    timers: list[IDelayedCall] = []

    def finish(_: object = None) -> None:
        for timer in timers:
            if timer.active():
                timer.cancel()
        if not done.called:
            done.callback(None)

    def expire() -> None:
        aborted = sum(part.abort() for part in parts)
        if aborted:
            log.warn(
                "shutting down: {grace:g} s grace period over; aborted {count} connection(s) "
                "still at work",
                grace=grace,
                count=aborted,
            )
        # aborted connections report their loss on the next reactor turn, which
        # fires ``everything``; the backstop only guards against one that never does
        timers.append(clock.callLater(_ABORT_BACKSTOP, finish))

    timers.append(clock.callLater(grace, expire))
    everything = DeferredList([part.drain() for part in parts], consumeErrors=True)
    everything.addCallback(finish)
    return done
