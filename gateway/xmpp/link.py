"""The XEP-0114 component link: one outgoing stream, kept up, fed from a durable queue.

:class:`ComponentLink` is a :class:`~twisted.application.service.MultiService`
holding a :class:`~twisted.application.internet.ClientService`, which keeps
one connection to the XMPP server's component port with exponential backoff
plus jitter.  Once the handshake succeeds the link drains its
:class:`~gateway.xmpp.queue.OutboundQueue` in order.

XEP-0114 has no acknowledgements, so after each batch the link sends an IQ
ping to the server's domain.  The server handles a stream in order: when its
answer (result or error) comes back, every stanza written before the ping has
been processed and leaves the queue.  After a reconnect (or a restart) every
stanza still queued is written again, so only stanzas in flight when a link
dropped can arrive twice; messages carry an XEP-0359 origin-id for receivers
to spot those.

A server may close the stream over one stanza it refuses (``invalid-from``
from a server that checks ``from``).  Written again first on every new
stream, that stanza would block the queue for good, so the link takes it out
of the queue instead (at most one stanza per stream error, see
:mod:`gateway.xmpp.poison`), logs an error naming it and counts it in
:attr:`LinkState.dead_lettered`.

:meth:`ComponentLink.iq` is different: an IQ whose answer a caller waits for
is written straight to the live stream, never queued.  A queued IQ could be
answered minutes later to a caller that is long gone; failing fast while the
link is down is the honest answer.
"""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from lxml import etree
from twisted.application.internet import ClientService, backoffPolicy
from twisted.application.service import MultiService
from twisted.internet.defer import Deferred, DeferredLock, ensureDeferred
from twisted.internet.endpoints import clientFromString
from twisted.internet.interfaces import IDelayedCall, IStreamClientEndpoint
from twisted.logger import Logger
from twisted.python.failure import Failure
from twisted.words.protocols.jabber import component, error, xmlstream
from twisted.words.xish import domish
from zope.interface import implementer

from gateway import __version__
from gateway.config.model import ComponentConfig
from gateway.engine.errors import InternalError, Unavailable
from gateway.offload import Offload, run_inline
from gateway.xmpp.handlers import NS_PING, InboundHandlers, error_condition
from gateway.xmpp.poison import BLAMED_CONDITIONS, Culprit, advice, find_culprit
from gateway.xmpp.queue import OutboundQueue, QueueFull
from gateway.xmpp.stanzas import (
    COMPONENT_NS,
    DEFAULT_MAX_BYTES,
    DEFAULT_MAX_DEPTH,
    FROM_POLICIES,
    NS_CLIENT,
    InvalidStanza,
    apply_from_policy,
    parse_jid,
    parse_xml,
    prepare_outbound,
    restamp,
    stream_text,
    to_element,
)

__all__ = ["NOT_CONFIGURED", "ComponentLink", "LinkState", "health_check", "server_domain_of"]

log = Logger()

SOFTWARE = ("xmpp-api-gateway", __version__)
_ANSWER_MAX_BYTES = 256 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class LinkState:
    """What ``status`` and the health endpoint report about the link."""

    #: the stream is up and authenticated
    connected: bool
    #: POSIX time the link last went up or down (``None``: never started)
    since: float | None
    #: stanzas waiting in the durable queue
    queued: int
    #: whether a component is configured at all
    configured: bool
    #: stanza errors that came back for stanzas we sent
    bounced: int = 0
    #: queued stanzas dropped because the server closed the stream over them
    dead_lettered: int = 0

    def as_dict(self) -> dict[str, Any]:
        """The state as JSON-ready values."""
        return asdict(self)


#: the state to report when no component is configured
NOT_CONFIGURED = LinkState(connected=False, since=None, queued=0, configured=False)


def health_check(link: ComponentLink | None) -> Callable[[], tuple[bool, dict[str, Any]]]:
    """A ``/health`` check: healthy when the link is up or no component is configured."""

    def check() -> tuple[bool, dict[str, Any]]:
        state = link.state() if link is not None else NOT_CONFIGURED
        return state.connected or not state.configured, state.as_dict()

    return check


def server_domain_of(component_jid: str) -> str:
    """The domain the link pings: the component's parent domain (``rest.example`` -> ``example``).

    A single-label component domain pings itself.
    """
    host = parse_jid(component_jid).host
    _, dot, parent = host.partition(".")
    return parent if dot and parent else host


@dataclass(eq=False)
class _Session:
    """One authenticated stream and what has been written to it."""

    xs: xmlstream.XmlStream
    #: the highest queue id written to this stream
    sent_upto: int
    #: ping id -> (queue id it confirms, its timeout)
    pings: dict[str, tuple[int, IDelayedCall]] = field(default_factory=dict)
    open: bool = True
    pumping: bool = False
    #: a submit arrived while the pump was reading the queue
    again: bool = False


@dataclass(eq=False)
class _PendingIq:
    deferred: Deferred[str]
    caller_id: str | None
    target: str | None
    session: _Session


@dataclass(frozen=True, slots=True)
class _OutgoingIq:
    """An awaited IQ ready to write: its own id, the caller's, its target and its text."""

    own_id: str
    caller_id: str | None
    target: str | None
    text: str


def _cost(element: object, size: int | None) -> int:
    """How large a stanza is, in bytes, for deciding whether to prepare it off the loop."""
    if size is not None:
        return size
    if isinstance(element, str | bytes):
        return len(element)
    return 0  # an element built in-process is small


@implementer(IStreamClientEndpoint)
class _ObservedEndpoint:
    """Tells the link about every connection attempt and its failure."""

    def __init__(self, inner: IStreamClientEndpoint, link: ComponentLink) -> None:
        self._inner = inner
        self._link = link

    def connect(self, protocolFactory: Any) -> Deferred[Any]:  # noqa: N803 - interface name
        self._link._connecting()
        attempt: Deferred[Any] = self._inner.connect(protocolFactory)

        def failed(reason: Failure) -> Failure:
            self._link._connect_failed(reason)
            return reason

        return attempt.addErrback(failed)

    def __repr__(self) -> str:
        # ClientService names the endpoint in its own retry log line
        return f"<XMPP component endpoint {self._link._where}>"


class ComponentLink(MultiService):
    """The component connection, its durable outbound queue and its inbound handlers.

    Args:
        config: the ``gateway.component`` section.
        queue: the durable queue (a :class:`~gateway.xmpp.queue.SqlQueue` in production).
        reactor: provides the clock and, unless ``endpoint`` is given, the connection.
        endpoint: overrides the endpoint built from ``config.endpoint()``.
        jitter: random noise added to each retry delay (0..1 s by default).
        initial_delay, max_delay, factor: the exponential backoff.
        batch_size: stanzas written between two confirmation pings.
        window: batches that may await their ping at once; the pump pauses
            beyond that, which bounds how many stanzas a dropped link can
            duplicate.
        ping_timeout: seconds without a ping answer after which the stream is
            considered dead and reconnected.
        handshake_timeout: seconds a connection may take to authenticate.
        server_domain: where the confirmation pings go (default: the
            component's parent domain).
        max_bytes, max_depth: limits for stanzas given as text.
        offload: prepares large stanzas (parsing, the ``from`` policy, the
            namespace rewrite) off the event loop; inline by default.
    """

    def __init__(
        self,
        config: ComponentConfig,
        queue: OutboundQueue,
        reactor: Any,
        *,
        endpoint: IStreamClientEndpoint | None = None,
        jitter: Callable[[], float] = random.random,
        initial_delay: float = 1.0,
        max_delay: float = 60.0,
        factor: float = 1.5,
        batch_size: int = 100,
        window: int = 4,
        ping_timeout: float = 60.0,
        handshake_timeout: float = 30.0,
        server_domain: str | None = None,
        max_bytes: int = DEFAULT_MAX_BYTES,
        max_depth: int = DEFAULT_MAX_DEPTH,
        offload: Offload = run_inline,
    ) -> None:
        super().__init__()
        if config.from_policy not in FROM_POLICIES:
            raise ValueError(f"unknown from policy {config.from_policy!r}")
        self.config = config
        self.jid = parse_jid(config.jid).full()
        self.server_domain = server_domain or server_domain_of(config.jid)
        self._queue = queue
        self._clock = reactor
        self._backoff = backoffPolicy(initial_delay, max_delay, factor, jitter)
        self._batch_size = batch_size
        self._window = window
        self._ping_timeout = ping_timeout
        self._handshake_timeout = handshake_timeout
        self._max_bytes = max_bytes
        self._max_depth = max_depth
        self._offload = offload
        self._where = f"{config.host}:{config.port}" + (" (TLS)" if config.tls else "")

        self._connected_since: float | None = None
        self._queued = 0
        self._bounced = 0
        self._dead_lettered = 0
        #: a poison stanza is being looked for; a new stream's pump waits for it
        self._purge_lock = DeferredLock()
        #: connection attempts since the last successful handshake
        self._failures = 0
        self._confirmed_upto = 0
        self._xs: xmlstream.XmlStream | None = None
        self._authenticated = False
        self._stream_error: str | None = None
        #: the condition of the stream error that ended the current stream
        self._stream_condition: str | None = None
        self._handshake_timer: IDelayedCall | None = None
        self._session: _Session | None = None
        self._pending_iqs: dict[str, _PendingIq] = {}
        self._append_lock = DeferredLock()
        self._handlers = InboundHandlers(self.jid, SOFTWARE, self._match_answer, self._bounce)

        factory = component.componentFactory(self.jid, config.secret)
        factory.addBootstrap(xmlstream.STREAM_CONNECTED_EVENT, self._stream_connected)
        factory.addBootstrap(xmlstream.STREAM_AUTHD_EVENT, self._stream_authenticated)
        factory.addBootstrap(xmlstream.STREAM_ERROR_EVENT, self._stream_failed)
        factory.addBootstrap(xmlstream.STREAM_END_EVENT, self._stream_ended)
        inner = endpoint if endpoint is not None else clientFromString(reactor, config.endpoint())
        self.client = ClientService(
            _ObservedEndpoint(inner, self), factory, retryPolicy=self._retry_delay, clock=reactor
        )
        self.client.setServiceParent(self)

    # -- the public face ---------------------------------------------------

    def state(self) -> LinkState:
        """The link's current state."""
        return LinkState(
            connected=self._session is not None,
            since=self._connected_since,
            queued=self._queued,
            configured=True,
            bounced=self._bounced,
            dead_lettered=self._dead_lettered,
        )

    def status_lines(self) -> list[str]:
        """Lines for the ``status`` command."""
        state = self.state()
        if state.since is None:
            link = "not started"
        elif state.connected:
            link = f"connected to {self._where} since {_utc(state.since)}"
        else:
            link = f"not connected to {self._where} since {_utc(state.since)}"
        return [
            f"XMPP component {self.jid}: {link}",
            f"XMPP component {self.jid}: {_count(state.queued, 'stanza')} queued, "
            f"{_count(state.bounced, 'stanza error')} bounced, "
            f"{_count(state.dead_lettered, 'stanza')} dead-lettered",
        ]

    def submit(
        self, element: etree._Element | domish.Element | str, *, size: int | None = None
    ) -> Deferred[None]:
        """Queue a stanza durably; fires once it is stored.

        ``size`` is the stanza's size in bytes when the caller knows it (a
        posted body); text is measured here.  A large stanza is prepared off
        the event loop.

        Fails with :class:`~gateway.xmpp.stanzas.InvalidStanza` or
        :class:`~gateway.xmpp.stanzas.FromRefused` (both ``BadRequest``) and
        with :class:`~gateway.engine.errors.Unavailable` when the queue is
        full or cannot store.  Cancelling the returned Deferred does not
        withdraw a stanza already being prepared or stored.
        """
        prepared: Deferred[str] = self._offload(
            _cost(element, size),
            prepare_outbound,
            element,
            self.jid,
            self.config.from_policy,
            max_bytes=self._max_bytes,
            max_depth=self._max_depth,
        )
        stored = prepared.addCallback(lambda text: ensureDeferred(self._enqueue(text)))
        return _detached(stored)

    def iq(
        self,
        element: etree._Element | domish.Element | str,
        timeout: float,
        *,
        size: int | None = None,
    ) -> Deferred[str]:
        """Send an ``<iq type='get'|'set'>`` now and fire with the answering IQ as text.

        The answer is written in the ``jabber:client`` namespace and carries
        the caller's ``id``.  Fails with
        :class:`~gateway.engine.errors.Unavailable` while the link is down or
        when it drops before the answer, with
        :class:`twisted.internet.defer.TimeoutError` after ``timeout``
        seconds, and like :meth:`submit` for a bad stanza.  Cancelling
        forgets the IQ.  ``size`` is as for :meth:`submit`.
        """
        own_id = f"gw-{uuid.uuid4().hex}"
        prepared: Deferred[_OutgoingIq] = self._offload(
            _cost(element, size), self._prepare_iq, element, own_id
        )
        return prepared.addCallback(self._send_iq, timeout)

    def _prepare_iq(
        self, element: etree._Element | domish.Element | str, own_id: str
    ) -> _OutgoingIq:
        """The IQ's stream text under ``own_id`` (thread-safe: reads only settings)."""
        root = to_element(element, max_bytes=self._max_bytes, max_depth=self._max_depth)
        if etree.QName(root).localname != "iq" or root.get("type") not in ("get", "set"):
            raise InvalidStanza("only an <iq type='get'/> or <iq type='set'/> can be awaited")
        apply_from_policy(root, self.jid, self.config.from_policy)
        caller_id = root.get("id")
        root.set("id", own_id)
        return _OutgoingIq(own_id, caller_id, root.get("to"), stream_text(root))

    def _send_iq(self, outgoing: _OutgoingIq, timeout: float) -> Deferred[str]:
        session = self._session
        if session is None:
            raise Unavailable("the XMPP component link is not connected")
        own_id = outgoing.own_id

        def forget(_: Deferred[str]) -> None:
            self._pending_iqs.pop(own_id, None)

        answer: Deferred[str] = Deferred(forget)
        self._pending_iqs[own_id] = _PendingIq(answer, outgoing.caller_id, outgoing.target, session)
        session.xs.send(outgoing.text)
        return answer.addTimeout(timeout, self._clock)

    # -- service -------------------------------------------------------------

    def startService(self) -> None:  # noqa: N802 - Twisted's name
        self._connected_since = self._clock.seconds()
        ensureDeferred(self._refresh_count())
        super().startService()

    def stopService(self) -> Deferred[None]:  # noqa: N802 - Twisted's name
        if self._session is not None:
            self._session.xs.sendFooter()
        stopped: Deferred[None] = super().stopService()
        return stopped

    # -- connection events -----------------------------------------------

    def _connecting(self) -> None:
        log.info("XMPP component {jid}: connecting to {where}", jid=self.jid, where=self._where)

    def _connect_failed(self, reason: Failure) -> None:
        self._failures += 1
        log.warn(
            "XMPP component {jid}: cannot connect to {where}: {reason}",
            jid=self.jid,
            where=self._where,
            reason=reason.getErrorMessage(),
        )

    def _retry_delay(self, attempt: int) -> float:
        # ClientService counts failed TCP attempts only; a stream that connects
        # and is then refused (wrong secret) must back off as well
        delay = float(self._backoff(max(attempt, self._failures)))
        log.info("XMPP component {jid}: retrying in {delay:.1f} s", jid=self.jid, delay=delay)
        return delay

    def _stream_connected(self, xs: xmlstream.XmlStream) -> None:
        self._xs = xs
        self._authenticated = False
        self._stream_error = None
        self._stream_condition = None
        log.info(
            "XMPP component {jid}: connected to {where}, handshaking",
            jid=self.jid,
            where=self._where,
        )
        self._handshake_timer = self._clock.callLater(
            self._handshake_timeout, self._handshake_timed_out, xs
        )

    def _handshake_timed_out(self, xs: xmlstream.XmlStream) -> None:
        self._handshake_timer = None
        if xs is self._xs and not self._authenticated:
            self._stream_error = f"no handshake answer within {self._handshake_timeout:g} s"
            _drop(xs)

    def _stream_authenticated(self, xs: xmlstream.XmlStream) -> None:
        self._cancel_handshake_timer()
        self._authenticated = True
        self._failures = 0
        self._connected_since = self._clock.seconds()
        self._handlers.install(xs)
        # what was confirmed has left (or is leaving) the queue; all else is sent again
        self._session = _Session(xs, sent_upto=self._confirmed_upto)
        log.info(
            "XMPP component {jid}: authenticated, {queued} queued",
            jid=self.jid,
            queued=_count(self._queued, "stanza"),
        )
        self._kick()

    def _stream_failed(self, reason: Failure) -> None:
        # a stream error or unparseable data; the connection closes next,
        # and that loss is what gets logged (with this reason)
        value = reason.value
        if isinstance(value, error.StreamError):
            text = value.condition + (f" ({value.text})" if value.text else "")
            self._stream_error = f"stream error {text}"
            self._stream_condition = value.condition
        else:
            self._stream_error = f"stream failed: {reason.getErrorMessage()}"

    def _stream_ended(self, reason: Failure) -> None:
        self._cancel_handshake_timer()
        why = self._stream_error or reason.getErrorMessage()
        self._xs = None
        session, self._session = self._session, None
        if session is not None:
            self._close_session(session)
            self._connected_since = self._clock.seconds()
            if self.running:
                log.warn("XMPP component {jid}: link lost: {reason}", jid=self.jid, reason=why)
            else:
                log.info("XMPP component {jid}: link closed", jid=self.jid)
            if self._stream_condition in BLAMED_CONDITIONS:
                self._dead_letter(self._stream_condition, session.sent_upto)
        elif self.running:
            self._failures += 1
            log.warn("XMPP component {jid}: handshake failed: {reason}", jid=self.jid, reason=why)

    def _cancel_handshake_timer(self) -> None:
        timer, self._handshake_timer = self._handshake_timer, None
        if timer is not None and timer.active():
            timer.cancel()

    def _close_session(self, session: _Session) -> None:
        session.open = False
        for _, timer in session.pings.values():
            if timer.active():
                timer.cancel()
        session.pings.clear()
        lost = [key for key, pending in self._pending_iqs.items() if pending.session is session]
        for key in lost:
            pending = self._pending_iqs.pop(key)
            pending.deferred.errback(
                Unavailable("the XMPP component link went down before the answer came")
            )

    # -- outbound ------------------------------------------------------------

    async def _enqueue(self, text: str) -> None:
        await self._append_lock.acquire()
        try:
            # one append at a time: ids must be committed in the order the
            # pump reads them, or a later id could be sent before an earlier one
            await self._queue.append(text, self.config.max_queued)
        except QueueFull:
            raise Unavailable(
                f"the XMPP outbound queue is full ({self.config.max_queued} stanzas); "
                "try again later"
            ) from None
        except Exception:
            log.failure("XMPP component {jid}: the outbound queue cannot store", jid=self.jid)
            raise Unavailable("the XMPP outbound queue cannot store the stanza") from None
        finally:
            self._append_lock.release()
        self._queued += 1
        self._kick()

    def _kick(self) -> None:
        session = self._session
        if session is None:
            return
        if session.pumping:
            session.again = True
            return
        session.pumping = True
        ensureDeferred(self._pump(session)).addErrback(self._pump_failed, session)

    async def _pump(self, session: _Session) -> None:
        try:
            if self._purge_lock.locked:
                # a poison stanza may still be in the queue: never write it again
                await self._purge_lock.acquire()
                self._purge_lock.release()
            while session.open and len(session.pings) < self._window:
                session.again = False
                batch = await self._queue.peek(session.sent_upto, self._batch_size)
                if not session.open:
                    return
                if not batch:
                    if session.again:
                        continue
                    return
                for item_id, text in batch:
                    session.xs.send(text)
                    session.sent_upto = item_id
                self._send_ping(session)
        finally:
            session.pumping = False

    def _pump_failed(self, reason: Failure, session: _Session) -> None:
        log.failure("XMPP component {jid}: cannot read the outbound queue", reason, jid=self.jid)
        if session.open:
            # try again later rather than wait for the next submit
            self._clock.callLater(5.0, self._kick)

    def _send_ping(self, session: _Session) -> None:
        ping_id = f"gw-ping-{uuid.uuid4().hex}"
        iq = domish.Element((COMPONENT_NS, "iq"))
        iq["type"] = "get"
        iq["id"] = ping_id
        iq["from"] = self.jid
        iq["to"] = self.server_domain
        iq.addElement((NS_PING, "ping"))
        timer = self._clock.callLater(self._ping_timeout, self._ping_timed_out, session, ping_id)
        session.pings[ping_id] = (session.sent_upto, timer)
        session.xs.send(iq)

    def _ping_timed_out(self, session: _Session, ping_id: str) -> None:
        if session.pings.pop(ping_id, None) is None or not session.open:
            return
        self._stream_error = f"no answer to a ping within {self._ping_timeout:g} s"
        _drop(session.xs)

    def _confirm(self, upto: int) -> None:
        if upto <= self._confirmed_upto:
            return
        self._confirmed_upto = upto
        done = self._queue.confirm(upto)
        done.addCallback(lambda _: ensureDeferred(self._refresh_count()))
        done.addErrback(
            lambda f: log.failure(
                "XMPP component {jid}: cannot drop confirmed stanzas", f, jid=self.jid
            )
        )

    def _dead_letter(self, condition: str, sent_upto: int) -> None:
        work = ensureDeferred(self._purge(condition, self._confirmed_upto, sent_upto))
        work.addErrback(
            lambda f: log.failure(
                "XMPP component {jid}: cannot drop the stanza the server refused", f, jid=self.jid
            )
        )

    async def _purge(self, condition: str, after: int, upto: int) -> None:
        """Drop the one stanza among ids ``after < id <= upto`` that ``condition`` blames."""
        await self._purge_lock.acquire()
        try:
            culprit = await self._find_culprit(condition, after, upto)
            if culprit is None:
                log.error(
                    "XMPP component {jid}: the server closed the stream with {condition}, "
                    "and no unconfirmed stanza explains it; nothing was dropped",
                    jid=self.jid,
                    condition=condition,
                )
                return
            if not await self._queue.discard(culprit.item_id):
                return
        finally:
            self._purge_lock.release()
        self._dead_lettered += 1
        log.error(
            "XMPP component {jid}: the server closed the stream with {condition} because of "
            "{what}; it has been dropped from the queue and will not be sent: {advice}",
            jid=self.jid,
            condition=condition,
            what=_describe(culprit),
            advice=advice(condition),
        )
        await self._refresh_count()

    async def _find_culprit(self, condition: str, after: int, upto: int) -> Culprit | None:
        """The first stanza with an id in ``after < id <= upto`` that ``condition`` blames."""
        while after < upto:
            batch = await self._queue.peek(after, self._batch_size)
            sent = [item for item in batch if item[0] <= upto]
            culprit = find_culprit(condition, sent, self.jid)
            if culprit is not None or len(sent) < len(batch) or not batch:
                return culprit
            after = batch[-1][0]
        return None

    async def _refresh_count(self) -> None:
        try:
            self._queued = await self._queue.count()
        except Exception:
            log.failure("XMPP component {jid}: cannot count the outbound queue", jid=self.jid)

    # -- inbound -------------------------------------------------------------

    def _match_answer(self, iq: domish.Element) -> bool:
        iq_id = iq.getAttribute("id")
        session = self._session
        if iq_id is None or session is None:
            return False
        ping = session.pings.pop(iq_id, None)
        if ping is not None:
            upto = ping[0]
            # the server answers in order: earlier pings are answered by this one too
            for key, (earlier, timer) in list(session.pings.items()):
                if earlier <= upto:
                    del session.pings[key]
                    if timer.active():
                        timer.cancel()
            if ping[1].active():
                ping[1].cancel()
            self._confirm(upto)
            self._kick()  # the window has room again
            return True
        pending = self._pending_iqs.get(iq_id)
        if pending is None or not _same_jid(iq.getAttribute("from"), pending.target):
            return False
        del self._pending_iqs[iq_id]
        try:
            text = _answer_text(iq, pending.caller_id)
        except Exception:
            log.failure("XMPP component {jid}: cannot read an IQ answer", jid=self.jid)
            pending.deferred.errback(InternalError())
        else:
            pending.deferred.callback(text)
        return True

    def _bounce(self, stanza: domish.Element) -> None:
        self._bounced += 1
        log.warn(
            "XMPP component {jid}: a {kind} to {target} bounced: {condition}",
            jid=self.jid,
            kind=stanza.name,
            target=stanza.getAttribute("from"),
            condition=error_condition(stanza),
        )


def _detached(work: Deferred[None]) -> Deferred[None]:
    """A view of ``work`` that its caller may cancel without stopping ``work``."""
    view: Deferred[None] = Deferred()
    # once the view is cancelled, these calls are ignored
    work.addCallbacks(view.callback, view.errback)
    return view


def _same_jid(answer_from: str | None, target: str | None) -> bool:
    if target is None:
        return True
    if answer_from is None:
        return False
    try:
        return parse_jid(answer_from).full() == parse_jid(target).full()
    except ValueError:
        return False


def _answer_text(iq: domish.Element, caller_id: str | None) -> str:
    # an answer from the server is not size-checked like caller input; lxml still
    # refuses pathological trees (no huge_tree)
    root = restamp(parse_xml(iq.toXml(), max_bytes=_ANSWER_MAX_BYTES, max_depth=10000), NS_CLIENT)
    if caller_id is None:
        del root.attrib["id"]
    else:
        root.set("id", caller_id)
    text: str = etree.tostring(root, encoding="unicode")
    return text


def _describe(culprit: Culprit) -> str:
    ids = [f"queue id {culprit.item_id}"]
    if culprit.stanza_id is not None:
        ids.append(f"id {culprit.stanza_id!r}")
    if culprit.origin_id is not None:
        ids.append(f"origin-id {culprit.origin_id!r}")
    return (
        f"the <{culprit.kind}/> from {culprit.sender or '(none)'} "
        f"to {culprit.target or '(none)'} ({', '.join(ids)})"
    )


def _drop(xs: xmlstream.XmlStream) -> None:
    if xs.transport is not None:
        xs.transport.loseConnection()


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _utc(when: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(when))
