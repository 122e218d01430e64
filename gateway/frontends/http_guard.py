"""HTTP listeners that slow or numerous clients cannot hold: deadlines, a cap, draining.

:class:`GuardedSite` is a :class:`~twisted.web.server.Site` whose
connections (:class:`GuardedChannel`) obey three limits:

- **receive deadline** (``receive_timeout``): once a request has started —
  from the connection's opening for its first request, from the first byte
  of any later one — its head and body must have arrived within that many
  seconds.  A client that trickles its request is answered ``408 Request
  Timeout`` and disconnected, however regularly it sends.
- **idle timeout** (``idle_timeout``): a keep-alive connection may stay
  silent between two requests that long.  This is twisted.web's own timer
  (``Site.timeout``), which waits while a request is being answered.
- **connection cap** (``max_connections``): see
  :mod:`gateway.frontends.connections`.

Request heads are read as ejabberd reads them: bare-LF header lines and
identical repeated ``Content-Length`` values are accepted
(:mod:`gateway.frontends.http_framing`).

Bodies are left to the resources (no form parsing into ``request.args``,
which would decode a large url-encoded body on the event loop).

The access log is optional and written in batches
(:mod:`gateway.frontends.access_log`), not line by line through the logging
chain as twisted.web does.

On shutdown the site drains: idle connections are closed at once, requests
being received or answered finish (their answers say ``Connection: close``)
and then their connections close.
"""

from __future__ import annotations

from typing import Any

from twisted.internet.defer import Deferred
from twisted.internet.interfaces import IAddress, IDelayedCall, IReactorTime
from twisted.internet.protocol import connectionDone
from twisted.logger import Logger
from twisted.python.failure import Failure
from twisted.web.resource import IResource
from twisted.web.server import Site

from gateway.frontends.access_log import AccessLog
from gateway.frontends.connections import Admission, abort_connection
from gateway.frontends.http_framing import LenientHeadChannel

__all__ = ["GuardedChannel", "GuardedSite"]

log = Logger()

_TIMEOUT_BODY = b"408 Request Timeout: the request did not arrive in time\n"
_REQUEST_TIMEOUT = (
    b"HTTP/1.1 408 Request Timeout\r\n"
    b"Content-Type: text/plain; charset=utf-8\r\n"
    b"Content-Length: " + str(len(_TIMEOUT_BODY)).encode("ascii") + b"\r\n"
    b"Connection: close\r\n"
    b"\r\n" + _TIMEOUT_BODY
)


class GuardedChannel(LenientHeadChannel):
    """An HTTP/1.1 connection with a receive deadline that reports to its site.

    Its request heads are read as ejabberd reads them (see
    :mod:`gateway.frontends.http_framing`).
    """

    site: GuardedSite

    def __init__(self, receive_timeout: float) -> None:
        super().__init__()
        self.receive_timeout = receive_timeout
        self._deadline: IDelayedCall | None = None
        self._draining = False

    # -- the receive deadline ---------------------------------------------------

    def connectionMade(self) -> None:
        super().connectionMade()
        self.site.admission.opened(self)
        self._start_deadline()

    def dataReceived(self, data: bytes) -> None:
        # bytes while no request is being answered start the next request
        if data and self._deadline is None and not self._handlingRequest:
            self._start_deadline()
        super().dataReceived(data)

    def allContentReceived(self) -> None:
        self._cancel_deadline()
        super().allContentReceived()

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        self._cancel_deadline()
        super().connectionLost(reason)
        self.site.admission.closed(self)

    def _start_deadline(self) -> None:
        self._deadline = self.callLater(self.receive_timeout, self._too_slow)

    def _cancel_deadline(self) -> None:
        if self._deadline is not None and self._deadline.active():
            self._deadline.cancel()
        self._deadline = None

    def _too_slow(self) -> None:
        self._deadline = None
        if self.transport is None or getattr(self.transport, "disconnecting", False):
            return  # already closing (e.g. a 400 for a malformed head)
        log.info(
            "{site}: no complete request from {peer} within {timeout:g} s; closing",
            site=self.site.admission.name,
            peer=self.transport.getPeer(),
            timeout=self.receive_timeout,
        )
        # nothing is being answered on this connection (the deadline only runs
        # while a request is received), so the 408 cannot interleave with an answer
        self.transport.write(_REQUEST_TIMEOUT)
        self._hang_up()

    def timeoutConnection(self) -> None:
        # the idle timer closes the connection: the deadline has nothing left to guard
        self._cancel_deadline()
        super().timeoutConnection()

    def _hang_up(self) -> None:
        """Close after what is buffered is written; abort if the peer does not read it."""
        self.setTimeout(None)  # the idle timer must not close it a second time
        if self.abortTimeout is not None:
            self._abortingCall = self.callLater(self.abortTimeout, self.forceAbortClient)
        self.loseConnection()

    # -- draining ---------------------------------------------------------------

    def drain(self) -> None:
        """Close now when idle; otherwise after the request in progress is answered."""
        self._draining = True
        if not self.requests:
            self._cancel_deadline()
            self.setTimeout(None)
            self.loseConnection()
            return
        # requestDone closes a connection that is not persistent
        self.persistent = False
        for request in self.requests:
            if not request.startedWriting:
                request.responseHeaders.setRawHeaders(b"connection", [b"close"])

    @property
    def busy(self) -> bool:
        """True while a request is being received or answered."""
        return bool(self.requests)

    def checkPersistence(self, request: Any, version: bytes) -> bool:
        if self._draining:
            # a request whose head completes while draining is the connection's last
            request.responseHeaders.setRawHeaders(b"connection", [b"close"])
            return False
        persistent: bool = super().checkPersistence(request, version)
        return persistent


class GuardedSite(Site):
    """A :class:`~twisted.web.server.Site` for one listener, with the limits above.

    Args:
        resource: the root resource.
        name: the listener, for log lines.
        reactor: the clock for every timer and the access log.
        receive_timeout: seconds a request may take to arrive.
        idle_timeout: seconds a connection may stay silent between requests.
        max_connections: connections open at once.
        access_log: whether to log a line per request (in batches, see
            :class:`~gateway.frontends.access_log.AccessLog`).
    """

    def __init__(
        self,
        resource: IResource,
        *,
        name: str,
        reactor: IReactorTime,
        receive_timeout: float,
        idle_timeout: float,
        max_connections: int,
        access_log: bool = True,
    ) -> None:
        if receive_timeout <= 0 or idle_timeout <= 0:
            raise ValueError("receive_timeout and idle_timeout must be positive")
        # the resources read bodies themselves: twisted.web's own form parsing
        # would only spend event-loop time on a large url-encoded body
        super().__init__(
            resource, reactor=reactor, timeout=idle_timeout, parsePOSTFormSubmission=False
        )
        self.receive_timeout = receive_timeout
        self.admission: Admission[GuardedChannel] = Admission(name, max_connections, reactor)
        self.access_log = AccessLog(reactor) if access_log else None

    def log(self, request: Any) -> None:
        # replaces twisted.web's line-by-line write through the logging chain
        if self.access_log is not None:
            self.access_log.add(self._logFormatter(self._logDateTime, request))

    def stopFactory(self) -> None:
        if self.access_log is not None:
            self.access_log.flush()
        super().stopFactory()

    def buildProtocol(self, addr: IAddress | None) -> Any:
        if not self.admission.admit():
            return None  # the port closes the connection at once
        # what HTTPFactory and Site set up, on our channel (HTTP/1.1 only)
        channel = GuardedChannel(self.receive_timeout)
        channel.factory = self
        channel.site = self
        channel.requestFactory = self.requestFactory
        # twisted.web's own way of putting the channel's timers on our reactor
        channel.callLater = self.reactor.callLater  # type: ignore[method-assign,assignment]
        channel.timeOut = self.timeOut  # type: ignore[assignment]
        return channel

    def acceptableProtocols(self) -> list[bytes]:
        # GuardedChannel speaks HTTP/1.1 only: never offer h2 over TLS
        return [b"http/1.1"]

    # -- Drainable ----------------------------------------------------------------

    def drain(self) -> Deferred[None]:
        done = self.admission.drain()
        for channel in self.admission:
            channel.drain()
        return done

    def abort(self) -> int:
        return sum(abort_connection(channel.transport) for channel in self.admission)

    def busy(self) -> int:
        return sum(1 for channel in self.admission if channel.busy)
