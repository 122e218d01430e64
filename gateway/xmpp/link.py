"""The XEP-0114 component link: one outgoing stream, kept up, fed from a durable queue.

:class:`ComponentLink` is the face the rest of the gateway uses (the
``StanzaSink`` of mod_rest, the stanza commands, ``status`` and ``/health``).
It puts together:

- :class:`~gateway.xmpp.session.ComponentSession`: the connection, with
  backoff, the handshake and its timeout;
- :class:`~gateway.xmpp.pump.OutboundPump`: the
  :class:`~gateway.backends.interfaces.OutboundQueue` written to the stream in
  order, confirmed by pings, resent after a reconnect, poison stanzas dropped;
- :class:`~gateway.xmpp.iq_tracker.IqTracker`: IQs a caller waits for;
- :class:`~gateway.xmpp.handlers.InboundHandlers`: what the component answers;
- :mod:`gateway.xmpp.status`: the state, status lines and health check.

Stanzas arrive checked (:class:`~gateway.stanza.Stanza`); the link applies
its ``from`` policy and writes them in the stream's namespace
(:mod:`gateway.xmpp.wire`), off the event loop when they are large.

:meth:`ComponentLink.iq` is different from :meth:`ComponentLink.submit`: an
IQ whose answer a caller waits for is written straight to the live stream,
never queued, and fails at once while the link is down.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

from twisted.application.internet import backoffPolicy
from twisted.application.service import MultiService
from twisted.internet.defer import Deferred, ensureDeferred
from twisted.internet.endpoints import clientFromString
from twisted.internet.interfaces import IStreamClientEndpoint
from twisted.logger import Logger
from twisted.words.xish import domish

from gateway import __version__
from gateway.backends.interfaces import OutboundQueue
from gateway.config.model import ComponentConfig
from gateway.offload import Offload, run_inline
from gateway.stanza import DEFAULT_MAX_BYTES, DEFAULT_MAX_DEPTH, FROM_POLICIES, parse_jid
from gateway.xmpp.handlers import InboundHandlers
from gateway.xmpp.iq_tracker import IqTracker
from gateway.xmpp.pump import OutboundPump
from gateway.xmpp.session import ComponentSession, Stream
from gateway.xmpp.status import NOT_CONFIGURED, LinkState, health_check, plural, status_lines
from gateway.xmpp.wire import OutgoingIq, Postable, prepare_iq, prepare_outbound, stanza_cost

__all__ = [
    "NOT_CONFIGURED",
    "ComponentLink",
    "LinkState",
    "detached",
    "health_check",
    "notify",
    "server_domain_of",
]

log = Logger()

SOFTWARE = ("xmpp-api-gateway", __version__)


def server_domain_of(component_jid: str) -> str:
    """The domain the link pings: the component's parent domain (``rest.example`` -> ``example``).

    A single-label component domain pings itself.
    """
    host = parse_jid(component_jid).host
    _, dot, parent = host.partition(".")
    return parent if dot and parent else host


class ComponentLink(MultiService):
    """The component connection, its durable outbound queue and its inbound handlers.

    Args:
        config: the ``gateway.component`` section.
        queue: the durable queue (the embedded store's, in production).
        reactor: provides the clock and, unless ``endpoint`` is given, the connection.
        endpoint: overrides the endpoint built from ``config.endpoint()``.
        jitter: random noise added to each retry delay (0..1 s by default).
        initial_delay, max_delay, factor: the exponential backoff.
        batch_size: stanzas written between two confirmation pings.
        window: batches that may await their ping at once (see
            :class:`~gateway.xmpp.pump.OutboundPump`).
        ping_timeout: seconds without a ping answer after which the stream is
            considered dead and reconnected.
        handshake_timeout: seconds a connection may take to authenticate.
        server_domain: where the confirmation pings go (default: the
            component's parent domain).
        max_bytes, max_depth: limits for stanzas given as text.
        offload: prepares large stanzas (the ``from`` policy, the namespace
            rewrite, parsing text) off the event loop; inline by default.
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
        self._max_bytes = max_bytes
        self._max_depth = max_depth
        self._offload = offload
        self._pump = OutboundPump(
            queue,
            reactor,
            jid=self.jid,
            server_domain=self.server_domain,
            max_queued=config.max_queued,
            batch_size=batch_size,
            window=window,
            ping_timeout=ping_timeout,
        )
        self._iqs = IqTracker(reactor, self.jid)
        self._handlers = InboundHandlers(self.jid, SOFTWARE, self._answered, self._pump.bounce)
        self._session = ComponentSession(
            self.jid,
            config.secret,
            endpoint if endpoint is not None else clientFromString(reactor, config.endpoint()),
            reactor,
            where=config.where(),
            backoff=backoffPolicy(initial_delay, max_delay, factor, jitter),
            handshake_timeout=handshake_timeout,
            up=self._stream_up,
            down=self._stream_down,
        )
        self._session.setServiceParent(self)
        self._up_listeners: list[Callable[[], None]] = []
        self._message_listeners: list[Callable[[str], None]] = []

    # -- the public face ---------------------------------------------------------------------

    def state(self) -> LinkState:
        """The link's current state."""
        return LinkState(
            connected=self._session.current is not None,
            since=self._session.since,
            queued=self._pump.queued,
            configured=True,
            bounced=self._pump.bounced,
            dead_lettered=self._pump.dead_lettered,
            reconnects=max(0, self._session.streams - 1),
            accepted=self._pump.accepted,
        )

    def status_lines(self) -> list[str]:
        """Lines for the ``status`` command."""
        return status_lines(self.jid, self._session.where, self.state())

    def submit(self, stanza: Postable, *, size: int | None = None) -> Deferred[None]:
        """Queue a stanza durably; fires once it is stored.

        ``stanza`` is best a checked :class:`~gateway.stanza.Stanza`; an
        element or text is checked here.  ``size`` is the stanza's size in
        bytes when the caller knows it (a posted body); text is measured
        here.  A large stanza is prepared off the event loop.

        Fails with :class:`~gateway.stanza.InvalidStanza` or
        :class:`~gateway.stanza.FromRefused` (both ``BadRequest``) and with
        :class:`~gateway.engine.errors.Unavailable` when the queue is full or
        cannot store.  Cancelling the returned Deferred does not withdraw a
        stanza already being prepared or stored.
        """
        prepared: Deferred[str] = self._offload(
            stanza_cost(stanza, size),
            prepare_outbound,
            stanza,
            self.jid,
            self.config.from_policy,
            max_bytes=self._max_bytes,
            max_depth=self._max_depth,
        )
        stored = prepared.addCallback(lambda text: ensureDeferred(self._pump.enqueue(text)))
        return detached(stored)

    def iq(self, stanza: Postable, timeout: float, *, size: int | None = None) -> Deferred[str]:
        """Send an ``<iq type='get'|'set'>`` now and fire with the answering IQ as text.

        The answer is written in the ``jabber:client`` namespace and carries
        the caller's ``id``.  Fails with
        :class:`~gateway.engine.errors.Unavailable` while the link is down or
        when it drops before the answer, with
        :class:`twisted.internet.defer.TimeoutError` after ``timeout``
        seconds, and like :meth:`submit` for a bad stanza.  Cancelling
        forgets the IQ.  ``stanza`` and ``size`` are as for :meth:`submit`.
        """
        prepared: Deferred[OutgoingIq] = self._offload(
            stanza_cost(stanza, size),
            prepare_iq,
            stanza,
            self.jid,
            self.config.from_policy,
            self._iqs.new_id(),
            max_bytes=self._max_bytes,
            max_depth=self._max_depth,
        )
        # whether the link is up is known only once the IQ is ready
        return prepared.addCallback(
            lambda outgoing: self._iqs.send(self._session.current, outgoing, timeout)
        )

    def on_up(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` each time a stream is authenticated (the first and every reconnect).

        The XMPP backend reruns its discovery from here.
        """
        self._up_listeners.append(callback)

    def on_message(self, callback: Callable[[str], None]) -> None:
        """Hand ``callback`` each ``<message/>`` the server sends that is not an error, as text.

        XEP-0356 privileges are announced this way right after the handshake.
        """
        self._message_listeners.append(callback)

    def queue_prepared(self, text: str) -> Deferred[None]:
        """Store a stanza another process prepared (``from`` policy applied, stream form).

        Fires once it is stored; fails with :class:`~gateway.engine.errors.Unavailable`
        when the queue is full or cannot store.
        """
        return detached(ensureDeferred(self._pump.enqueue(text)))

    def wake(self) -> None:
        """Look at the shared queue again: another process may have appended to it."""
        self._pump.stored_elsewhere()

    def startService(self) -> None:  # noqa: N802 - Twisted's name
        self._pump.start()
        super().startService()

    # -- wiring ------------------------------------------------------------------------------

    def _stream_up(self, stream: Stream) -> None:
        self._handlers.install(stream.xs)
        log.info(
            "XMPP component {jid}: authenticated, {queued} queued",
            jid=self.jid,
            queued=plural(self._pump.queued, "stanza"),
        )
        self._pump.stream_up(stream)
        stream.xs.addObserver("/message", self._inbound_message)
        for callback in list(self._up_listeners):
            notify(callback)

    def _inbound_message(self, message: domish.Element) -> None:
        if message.getAttribute("type") == "error" or not self._message_listeners:
            return
        text = message.toXml()
        for callback in list(self._message_listeners):
            notify(callback, text)

    def _stream_down(self, stream: Stream) -> None:
        self._iqs.stream_down(stream)
        self._pump.stream_down(stream)

    def _answered(self, iq: domish.Element) -> bool:
        return self._pump.answer(iq) or self._iqs.answer(iq)


def notify(callback: Callable[..., None], *args: Any) -> None:
    """Run a listener; one that fails is logged and does not disturb the link."""
    try:
        callback(*args)
    except Exception:
        log.failure("XMPP component: a link listener failed")


def detached(work: Deferred[None]) -> Deferred[None]:
    """A view of ``work`` that its caller may cancel without stopping ``work``."""
    view: Deferred[None] = Deferred()
    # once the view is cancelled, these calls are ignored
    work.addCallbacks(view.callback, view.errback)
    return view
