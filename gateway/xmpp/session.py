"""The component's connection: connecting with backoff, the XEP-0114 handshake, each stream's end.

:class:`ComponentSession` is a :class:`~twisted.application.service.MultiService`
holding a :class:`~twisted.application.internet.ClientService`, which keeps
one connection to the server's component port, retrying with exponential
backoff plus jitter.  A connection that does not authenticate within the
handshake timeout is dropped.  Each authenticated stream is handed to the
``up`` callback as a :class:`Stream`, and to ``down`` when it ends; what
travels on it is the business of the outbound pump and the IQ tracker.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from twisted.application.internet import ClientService
from twisted.application.service import MultiService
from twisted.internet.defer import Deferred
from twisted.internet.interfaces import IDelayedCall, IReactorTime, IStreamClientEndpoint
from twisted.logger import Logger
from twisted.python.failure import Failure
from twisted.words.protocols.jabber import component, error, xmlstream
from twisted.words.xish import domish
from zope.interface import implementer

__all__ = ["ComponentSession", "Stream"]

# the link's parts log as the link: one namespace for operators to follow
log = Logger(namespace="gateway.xmpp.link")


@dataclass(eq=False)
class Stream:
    """One connection's XML stream, from connection to its end."""

    xs: xmlstream.XmlStream
    #: the handshake succeeded
    authenticated: bool = False
    #: the stream has not ended yet
    open: bool = True
    #: why the stream ended, when we know better than the connection loss
    why: str | None = None
    #: the stream error condition the server closed the stream with
    condition: str | None = None

    def send(self, data: str | domish.Element) -> None:
        """Write ``data`` (stanza text or an element) to the stream."""
        self.xs.send(data)

    def drop(self, why: str) -> None:
        """Close the connection; ``why`` is what the end of the stream will be logged with."""
        self.why = why
        if self.xs.transport is not None:
            self.xs.transport.loseConnection()


class ComponentSession(MultiService):
    """Keeps one authenticated component stream up.

    Args:
        jid: the prepared component JID.
        secret: the handshake secret.
        endpoint: where the server's component port is.
        clock: times the handshake and the retries.
        where: ``host:port`` for log lines.
        backoff: the delay before retry ``n`` (:func:`twisted.application.internet.backoffPolicy`).
        handshake_timeout: seconds a connection may take to authenticate.
        up: called with each stream once it is authenticated.
        down: called with an authenticated stream once it has ended (``open`` is false).
    """

    def __init__(
        self,
        jid: str,
        secret: str,
        endpoint: IStreamClientEndpoint,
        clock: IReactorTime,
        *,
        where: str,
        backoff: Callable[[int], float],
        handshake_timeout: float,
        up: Callable[[Stream], None],
        down: Callable[[Stream], None],
    ) -> None:
        super().__init__()
        self.jid = jid
        self.where = where
        self._clock = clock
        self._backoff = backoff
        self._handshake_timeout = handshake_timeout
        self._up = up
        self._down = down
        #: POSIX time the link last went up or down (``None``: never started)
        self.since: float | None = None
        #: the authenticated stream, ``None`` while there is none
        self.current: Stream | None = None
        #: the connection's stream, authenticated or not
        self._stream: Stream | None = None
        #: connection attempts since the last successful handshake
        self._failures = 0
        #: streams authenticated since start (the first one and every reconnection)
        self.streams = 0
        self._handshake_timer: IDelayedCall | None = None

        factory = component.componentFactory(jid, secret)
        factory.addBootstrap(xmlstream.STREAM_CONNECTED_EVENT, self._connected)
        factory.addBootstrap(xmlstream.STREAM_AUTHD_EVENT, self._authenticated)
        factory.addBootstrap(xmlstream.STREAM_ERROR_EVENT, self._failed)
        factory.addBootstrap(xmlstream.STREAM_END_EVENT, self._ended)
        self.client = ClientService(
            _ObservedEndpoint(endpoint, self), factory, retryPolicy=self._retry_delay, clock=clock
        )
        self.client.setServiceParent(self)

    def startService(self) -> None:  # noqa: N802 - Twisted's name
        self.since = self._clock.seconds()
        super().startService()

    def stopService(self) -> Deferred[None]:  # noqa: N802 - Twisted's name
        if self.current is not None:
            self.current.xs.sendFooter()
        stopped: Deferred[None] = super().stopService()
        return stopped

    # -- connection attempts -----------------------------------------------------------------

    def _connecting(self) -> None:
        log.info("XMPP component {jid}: connecting to {where}", jid=self.jid, where=self.where)

    def _connect_failed(self, reason: Failure) -> None:
        self._failures += 1
        log.warn(
            "XMPP component {jid}: cannot connect to {where}: {reason}",
            jid=self.jid,
            where=self.where,
            reason=reason.getErrorMessage(),
        )

    def _retry_delay(self, attempt: int) -> float:
        # ClientService counts failed TCP attempts only; a stream that connects
        # and is then refused (wrong secret) must back off as well
        delay = float(self._backoff(max(attempt, self._failures)))
        log.info("XMPP component {jid}: retrying in {delay:.1f} s", jid=self.jid, delay=delay)
        return delay

    # -- stream events -----------------------------------------------------------------------

    def _connected(self, xs: xmlstream.XmlStream) -> None:
        stream = self._stream = Stream(xs)
        log.info(
            "XMPP component {jid}: connected to {where}, handshaking",
            jid=self.jid,
            where=self.where,
        )
        self._handshake_timer = self._clock.callLater(
            self._handshake_timeout, self._handshake_timed_out, stream
        )

    def _handshake_timed_out(self, stream: Stream) -> None:
        self._handshake_timer = None
        if stream is self._stream and not stream.authenticated:
            stream.drop(f"no handshake answer within {self._handshake_timeout:g} s")

    def _authenticated(self, xs: xmlstream.XmlStream) -> None:
        self._cancel_handshake_timer()
        stream = self._stream
        if stream is None or stream.xs is not xs:  # cannot happen: one connection at a time
            return
        stream.authenticated = True
        self._failures = 0
        self.streams += 1
        self.since = self._clock.seconds()
        self.current = stream
        self._up(stream)

    def _failed(self, reason: Failure) -> None:
        # a stream error or unparseable data; the connection closes next,
        # and that loss is what gets logged (with this reason)
        stream = self._stream
        if stream is None:
            return
        value = reason.value
        if isinstance(value, error.StreamError):
            text = value.condition + (f" ({value.text})" if value.text else "")
            stream.why = f"stream error {text}"
            stream.condition = value.condition
        else:
            stream.why = f"stream failed: {reason.getErrorMessage()}"

    def _ended(self, reason: Failure) -> None:
        self._cancel_handshake_timer()
        stream, self._stream = self._stream, None
        if stream is None:
            return
        stream.open = False
        why = stream.why or reason.getErrorMessage()
        if not stream.authenticated:
            if self.running:
                self._failures += 1
                log.warn(
                    "XMPP component {jid}: handshake failed: {reason}", jid=self.jid, reason=why
                )
            return
        self.current = None
        self.since = self._clock.seconds()
        if self.running:
            log.warn("XMPP component {jid}: link lost: {reason}", jid=self.jid, reason=why)
        else:
            log.info("XMPP component {jid}: link closed", jid=self.jid)
        self._down(stream)

    def _cancel_handshake_timer(self) -> None:
        timer, self._handshake_timer = self._handshake_timer, None
        if timer is not None and timer.active():
            timer.cancel()


@implementer(IStreamClientEndpoint)
class _ObservedEndpoint:
    """Tells the session about every connection attempt and its failure."""

    def __init__(self, inner: IStreamClientEndpoint, session: ComponentSession) -> None:
        self._inner = inner
        self._session = session

    def connect(self, protocolFactory: Any) -> Deferred[Any]:  # noqa: N803 - interface name
        self._session._connecting()
        attempt: Deferred[Any] = self._inner.connect(protocolFactory)

        def failed(reason: Failure) -> Failure:
            self._session._connect_failed(reason)
            return reason

        return attempt.addErrback(failed)

    def __repr__(self) -> str:
        # ClientService names the endpoint in its own retry log line
        return f"<XMPP component endpoint {self._session.where}>"
