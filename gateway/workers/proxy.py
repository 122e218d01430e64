"""A worker's stand-in for the component link, which only the supervisor holds.

:class:`LinkProxy` offers what the frontends and commands use of
:class:`~gateway.xmpp.link.ComponentLink`:

- :meth:`~LinkProxy.submit` checks and prepares the stanza here, as the link
  would, stores it in the shared durable queue and tells the supervisor, whose
  pump sends it.  The stanza is durable before the caller hears ``Ok``, as with
  the link itself; if the word to the supervisor is lost, the supervisor still
  finds the stanza on its next look at the queue.
- :meth:`~LinkProxy.iq` asks the supervisor to send the IQ over its stream and
  waits for the answer.
- :meth:`~LinkProxy.state` and :meth:`~LinkProxy.status_lines` report what the
  supervisor last pushed (it pushes each change).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from lxml import etree
from twisted.application.service import Service
from twisted.internet import error as net_error
from twisted.internet.defer import Deferred, ensureDeferred, fail
from twisted.logger import Logger
from twisted.python.failure import Failure

from gateway.backends.interfaces import OutboundQueue
from gateway.config.model import ComponentConfig
from gateway.engine.errors import CommandError, Unavailable
from gateway.offload import Offload, run_inline
from gateway.stanza import DEFAULT_MAX_BYTES, DEFAULT_MAX_DEPTH, Stanza, parse_jid
from gateway.workers.channel import Queue, SendIq, WorkerEnd
from gateway.xmpp.link import detached, notify
from gateway.xmpp.pump import append_stanza
from gateway.xmpp.status import LinkState, status_lines
from gateway.xmpp.wire import Postable, prepare_outbound, stanza_cost

__all__ = ["LinkProxy"]

log = Logger()


class LinkProxy(Service):
    """The component link as a worker sees it.

    Args:
        config: the ``gateway.component`` section.
        queue: the shared durable queue (the store's outbox).
        channel: the worker's channel to the supervisor, ``None`` while it is down.
        max_bytes, max_depth: limits for stanzas given as text.
        offload: prepares large stanzas off the event loop.
    """

    def __init__(
        self,
        config: ComponentConfig,
        queue: OutboundQueue,
        channel: Callable[[], WorkerEnd | None],
        *,
        max_bytes: int = DEFAULT_MAX_BYTES,
        max_depth: int = DEFAULT_MAX_DEPTH,
        offload: Offload = run_inline,
    ) -> None:
        self.config = config
        self.jid = parse_jid(config.jid).full()
        self._queue = queue
        self._channel = channel
        self._max_bytes = max_bytes
        self._max_depth = max_depth
        self._offload = offload
        self._state = LinkState(connected=False, since=None, queued=0, configured=True)
        # the link's own wording for "not started" until the supervisor says more
        self._lines = status_lines(self.jid, config.where(), self._state)
        self._up_listeners: list[Callable[[], None]] = []
        self._message_listeners: list[Callable[[str], None]] = []

    # -- what the supervisor pushes ------------------------------------------------------------

    def update(self, pushed: dict[str, Any]) -> None:
        """Take the state and status lines the supervisor pushed."""
        self._state = LinkState(**pushed["state"])
        self._lines = [str(line) for line in pushed["lines"]]

    def event(self, kind: str, stanza: str) -> None:
        """The supervisor's link came up (``up``) or got a ``message`` (its text)."""
        listeners: list[Callable[..., None]]
        args: tuple[str, ...]
        if kind == "up":
            listeners, args = list(self._up_listeners), ()
        elif kind == "message":
            listeners, args = list(self._message_listeners), (stanza,)
        else:
            return
        for listener in listeners:
            notify(listener, *args)

    def on_up(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` each time the supervisor's link is up (also when this worker
        starts while it is up)."""
        self._up_listeners.append(callback)

    def on_message(self, callback: Callable[[str], None]) -> None:
        """Hand ``callback`` each non-error ``<message/>`` the server sends the component
        (those since the link last came up are replayed to a worker that starts later)."""
        self._message_listeners.append(callback)

    # -- the link's face -----------------------------------------------------------------------

    def state(self) -> LinkState:
        """The link's state as last pushed by the supervisor."""
        return self._state

    def status_lines(self) -> list[str]:
        """Lines for the ``status`` command."""
        return list(self._lines)

    def submit(self, stanza: Postable, *, size: int | None = None) -> Deferred[None]:
        """Check, prepare and durably queue a stanza; fires once it is stored.

        Fails like :meth:`ComponentLink.submit <gateway.xmpp.link.ComponentLink.submit>`.
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
        stored = prepared.addCallback(lambda text: ensureDeferred(self._store(text)))
        # a caller that gives up does not withdraw a stanza being stored
        return detached(stored)

    def iq(self, stanza: Postable, timeout: float, *, size: int | None = None) -> Deferred[str]:
        """Have the supervisor send an IQ now; fires with the answering IQ as text.

        Fails with :class:`~gateway.engine.errors.Unavailable` when the
        supervisor cannot be reached or its link is down, and otherwise like
        :meth:`ComponentLink.iq <gateway.xmpp.link.ComponentLink.iq>`.
        """
        end = self._channel()
        if end is None:
            return fail(Unavailable("the XMPP component link cannot be reached from this worker"))
        text: Deferred[str] = self._offload(stanza_cost(stanza, size), _as_text, stanza)

        def send(xml: str) -> Deferred[str]:
            answer: Deferred[dict[str, Any]] = end.callRemote(SendIq, stanza=xml, timeout=timeout)
            return answer.addCallbacks(lambda box: str(box["answer"]), _channel_lost)

        return text.addCallback(send)

    # -- storing -------------------------------------------------------------------------------

    async def _store(self, text: str) -> None:
        end = self._channel()
        if end is not None:
            # the supervisor appends for every worker, in its shared commits: appends
            # from several processes would take turns at the store's write lock
            queued: Deferred[Any] = end.callRemote(Queue, stanza=text)
            await queued.addErrback(_not_queued)
            return
        # no supervisor to ask (the channel is gone, the worker is stopping): append
        # here, where the supervisor's regular look at the queue finds it.  Ids are
        # committed in order across processes: each append takes the store's write lock
        # (SQLite) or the counter row's lock (PostgreSQL)
        await append_stanza(self._queue, text, self.config.max_queued, self.jid)


def _as_text(stanza: Postable) -> str:
    """The stanza as XML text, for the channel (the supervisor's link checks it again)."""
    if isinstance(stanza, Stanza):
        return str(etree.tostring(stanza.element, encoding="unicode"))
    if isinstance(stanza, bytes):
        return stanza.decode("utf-8")
    if isinstance(stanza, str):
        return stanza
    return str(etree.tostring(stanza, encoding="unicode"))


def _not_queued(failure: Failure) -> Failure:
    """Why the supervisor did not confirm a stanza; a lost channel leaves it in doubt."""
    if failure.check(CommandError):
        return failure
    if failure.check(net_error.ConnectionDone, net_error.ConnectionLost):
        raise Unavailable(
            "the supervisor went away while queueing the stanza; it may have been queued"
        )
    log.failure("worker: queueing a stanza through the supervisor failed", failure)
    raise Unavailable("the XMPP outbound queue cannot store the stanza")


def _channel_lost(failure: Failure) -> Failure:
    """A channel that closed mid-call means the link cannot be reached."""
    if failure.check(net_error.ConnectionDone, net_error.ConnectionLost):
        raise Unavailable("the XMPP component link cannot be reached from this worker")
    return failure
