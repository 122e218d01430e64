"""The outbound pump: from the durable queue to the stream, confirmed by pings.

XEP-0114 has no acknowledgements, so after each batch the pump sends an IQ
ping to the server's domain.  The server handles a stream in order: when its
answer (result or error) comes back, every stanza written before the ping has
been processed and leaves the queue.  On a new stream (after a reconnect or a
restart) every stanza still queued is written again, so only stanzas in
flight when a stream dropped can arrive twice.

A server may close the stream over one stanza it refuses (``invalid-from``
from a server that checks ``from``).  Written again first on every new
stream, that stanza would block the queue for good, so the pump takes it out
of the queue instead (at most one stanza per stream error, see
:mod:`gateway.xmpp.poison`), logs an error naming it and counts it as
dead-lettered.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from twisted.internet.defer import DeferredLock, ensureDeferred
from twisted.internet.interfaces import IDelayedCall, IReactorTime
from twisted.logger import Logger
from twisted.python.failure import Failure
from twisted.words.xish import domish

from gateway.backends.interfaces import OutboundQueue, QueueFull
from gateway.engine.errors import Unavailable
from gateway.stanza import COMPONENT_NS
from gateway.xmpp.handlers import NS_PING, error_condition
from gateway.xmpp.poison import BLAMED_CONDITIONS, Culprit, advice, find_culprit
from gateway.xmpp.session import Stream

__all__ = ["OutboundPump", "append_stanza"]

# the link's parts log as the link: one namespace for operators to follow
log = Logger(namespace="gateway.xmpp.link")


@dataclass(eq=False)
class _Flow:
    """What has been written to one stream and awaits confirmation."""

    stream: Stream
    #: the highest queue id written to this stream
    sent_upto: int
    #: ping id -> (queue id it confirms, its timeout)
    pings: dict[str, tuple[int, IDelayedCall]] = field(default_factory=dict)
    pumping: bool = False
    #: a stanza was queued while the pump was reading the queue
    again: bool = False


async def append_stanza(queue: OutboundQueue, text: str, limit: int, jid: str) -> None:
    """Append ``text`` to ``queue``; a full or failing queue is :class:`Unavailable`."""
    try:
        await queue.append(text, limit)
    except QueueFull:
        raise Unavailable(
            f"the XMPP outbound queue is full ({limit} stanzas); try again later"
        ) from None
    except Exception:
        log.failure("XMPP component {jid}: the outbound queue cannot store", jid=jid)
        raise Unavailable("the XMPP outbound queue cannot store the stanza") from None


class OutboundPump:
    """Writes the queue to the current stream in order and drops what the server confirmed.

    Args:
        queue: the durable queue.
        clock: times the pings.
        jid: the component JID, the pings' sender.
        server_domain: where the pings go.
        max_queued: the most stanzas the queue may hold.
        batch_size: stanzas written between two pings.
        window: batches that may await their ping at once; the pump pauses
            beyond that, which bounds how many stanzas a dropped stream can
            duplicate.
        ping_timeout: seconds without a ping answer after which the stream is
            dropped (and a new one resends).
    """

    def __init__(
        self,
        queue: OutboundQueue,
        clock: IReactorTime,
        *,
        jid: str,
        server_domain: str,
        max_queued: int,
        batch_size: int = 100,
        window: int = 4,
        ping_timeout: float = 60.0,
    ) -> None:
        self._queue = queue
        self._clock = clock
        self._jid = jid
        self._server_domain = server_domain
        self._max_queued = max_queued
        self._batch_size = batch_size
        self._window = window
        self._ping_timeout = ping_timeout
        #: stanzas in the queue, as last counted
        self.queued = 0
        #: stanza errors that came back for stanzas we sent
        self.bounced = 0
        #: queued stanzas dropped because the server closed the stream over them
        self.dead_lettered = 0
        #: stanzas stored in the queue since start
        self.accepted = 0
        self._confirmed_upto = 0
        self._flow: _Flow | None = None
        # No lock around appends: the queue commits them in the order they are made
        # (OutboundQueue.append), so ids are committed in the order the pump reads
        # them, and appends in flight together can share one commit.
        #: a poison stanza is being looked for; a new stream's pump waits for it
        self._purge_lock = DeferredLock()

    def start(self) -> None:
        """Count what an earlier run left in the queue."""
        ensureDeferred(self._refresh_count())

    # -- queueing ----------------------------------------------------------------------------

    async def enqueue(self, text: str) -> None:
        """Store stanza ``text`` (already in the stream's form) and write it when the stream is up.

        Raises:
            Unavailable: the queue is full or cannot store.
        """
        await append_stanza(self._queue, text, self._max_queued, self._jid)
        self.queued += 1
        self.accepted += 1
        self._kick()

    def stored_elsewhere(self) -> None:
        """Another process may have stored stanzas in the queue: write any there are now."""
        self._kick()

    # -- streams -----------------------------------------------------------------------------

    def stream_up(self, stream: Stream) -> None:
        """Start writing to ``stream``: everything not confirmed yet, then what comes."""
        # what was confirmed has left (or is leaving) the queue; all else is sent again
        self._flow = _Flow(stream, sent_upto=self._confirmed_upto)
        self._kick()

    def stream_down(self, stream: Stream) -> None:
        """Forget ``stream``'s pings; drop the stanza its stream error blames, if any."""
        flow = self._flow
        if flow is None or flow.stream is not stream:
            return
        self._flow = None
        for _, timer in flow.pings.values():
            if timer.active():
                timer.cancel()
        flow.pings.clear()
        if stream.condition in BLAMED_CONDITIONS:
            self._dead_letter(stream.condition, flow.sent_upto)

    # -- inbound -----------------------------------------------------------------------------

    def answer(self, iq: domish.Element) -> bool:
        """Take ``iq`` if it answers one of our pings: confirm what it covers."""
        iq_id = iq.getAttribute("id")
        flow = self._flow
        if iq_id is None or flow is None:
            return False
        ping = flow.pings.pop(iq_id, None)
        if ping is None:
            return False
        upto, timer = ping
        # the server answers in order: earlier pings are answered by this one too
        for key, (earlier, other) in list(flow.pings.items()):
            if earlier <= upto:
                del flow.pings[key]
                if other.active():
                    other.cancel()
        if timer.active():
            timer.cancel()
        self._confirm(upto)
        self._kick()  # the window has room again
        return True

    def bounce(self, stanza: domish.Element) -> None:
        """Count and log a stanza error that came back for something we sent."""
        self.bounced += 1
        log.warn(
            "XMPP component {jid}: a {kind} to {target} bounced: {condition}",
            jid=self._jid,
            kind=stanza.name,
            target=stanza.getAttribute("from"),
            condition=error_condition(stanza),
        )

    # -- writing -----------------------------------------------------------------------------

    def _kick(self) -> None:
        flow = self._flow
        if flow is None:
            return
        if flow.pumping:
            flow.again = True
            return
        flow.pumping = True
        ensureDeferred(self._pump(flow)).addErrback(self._pump_failed, flow)

    async def _pump(self, flow: _Flow) -> None:
        try:
            if self._purge_lock.locked:
                # a poison stanza may still be in the queue: never write it again
                await self._purge_lock.acquire()
                self._purge_lock.release()
            while flow.stream.open and len(flow.pings) < self._window:
                flow.again = False
                batch = await self._queue.peek(flow.sent_upto, self._batch_size)
                if not flow.stream.open:
                    return
                if not batch:
                    if flow.again:
                        continue
                    return
                for item_id, text in batch:
                    flow.stream.send(text)
                    flow.sent_upto = item_id
                self._send_ping(flow)
        finally:
            flow.pumping = False

    def _pump_failed(self, reason: Failure, flow: _Flow) -> None:
        log.failure("XMPP component {jid}: cannot read the outbound queue", reason, jid=self._jid)
        if flow.stream.open:
            # try again later rather than wait for the next stanza
            self._clock.callLater(5.0, self._kick)

    def _send_ping(self, flow: _Flow) -> None:
        ping_id = f"gw-ping-{uuid.uuid4().hex}"
        iq = domish.Element((COMPONENT_NS, "iq"))
        iq["type"] = "get"
        iq["id"] = ping_id
        iq["from"] = self._jid
        iq["to"] = self._server_domain
        iq.addElement((NS_PING, "ping"))
        timer = self._clock.callLater(self._ping_timeout, self._ping_timed_out, flow, ping_id)
        flow.pings[ping_id] = (flow.sent_upto, timer)
        flow.stream.send(iq)

    def _ping_timed_out(self, flow: _Flow, ping_id: str) -> None:
        if flow.pings.pop(ping_id, None) is None or not flow.stream.open:
            return
        flow.stream.drop(f"no answer to a ping within {self._ping_timeout:g} s")

    # -- leaving the queue -------------------------------------------------------------------

    def _confirm(self, upto: int) -> None:
        if upto <= self._confirmed_upto:
            return
        self._confirmed_upto = upto
        done = self._queue.confirm(upto)
        done.addCallback(lambda _: ensureDeferred(self._refresh_count()))
        done.addErrback(
            lambda f: log.failure(
                "XMPP component {jid}: cannot drop confirmed stanzas", f, jid=self._jid
            )
        )

    def _dead_letter(self, condition: str, sent_upto: int) -> None:
        work = ensureDeferred(self._purge(condition, self._confirmed_upto, sent_upto))
        work.addErrback(
            lambda f: log.failure(
                "XMPP component {jid}: cannot drop the stanza the server refused", f, jid=self._jid
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
                    jid=self._jid,
                    condition=condition,
                )
                return
            if not await self._queue.discard(culprit.item_id):
                return
        finally:
            self._purge_lock.release()
        self.dead_lettered += 1
        log.error(
            "XMPP component {jid}: the server closed the stream with {condition} because of "
            "{what}; it has been dropped from the queue and will not be sent: {advice}",
            jid=self._jid,
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
            culprit = find_culprit(condition, sent, self._jid)
            if culprit is not None or len(sent) < len(batch) or not batch:
                return culprit
            after = batch[-1][0]
        return None

    async def _refresh_count(self) -> None:
        try:
            self.queued = await self._queue.count()
        except Exception:
            log.failure("XMPP component {jid}: cannot count the outbound queue", jid=self._jid)


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
