"""IQs a caller waits for: written straight to the live stream, matched to their answers.

Such an IQ is never queued: a queued IQ could be answered minutes later to a
caller that is long gone, so while the link is down it fails at once.  Each
goes out under an id of our own; the answer must carry that id and come from
the JID the IQ was sent to, and is handed back with the caller's id.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from twisted.internet.defer import Deferred
from twisted.internet.interfaces import IReactorTime
from twisted.logger import Logger
from twisted.words.xish import domish

from gateway.engine.errors import InternalError, Unavailable
from gateway.stanza import parse_jid
from gateway.xmpp.session import Stream
from gateway.xmpp.wire import OutgoingIq, answer_text

__all__ = ["IqTracker"]

# the link's parts log as the link: one namespace for operators to follow
log = Logger(namespace="gateway.xmpp.link")


@dataclass(eq=False)
class _Pending:
    deferred: Deferred[str]
    caller_id: str | None
    target: str | None
    stream: Stream


class IqTracker:
    """The awaited IQs in flight, by our id.

    Args:
        clock: times each IQ's timeout.
        jid: the component JID (for log lines).
    """

    def __init__(self, clock: IReactorTime, jid: str) -> None:
        self._clock = clock
        self._jid = jid
        self._pending: dict[str, _Pending] = {}

    def new_id(self) -> str:
        """A fresh id to send an IQ under."""
        return f"gw-{uuid.uuid4().hex}"

    def send(self, stream: Stream | None, outgoing: OutgoingIq, timeout: float) -> Deferred[str]:
        """Write ``outgoing`` to ``stream``; fires with the answer's text.

        Fails with :class:`~gateway.engine.errors.Unavailable` when there is
        no stream or it ends before the answer, with
        :class:`twisted.internet.defer.TimeoutError` after ``timeout``
        seconds.  Cancelling forgets the IQ.

        Raises:
            Unavailable: ``stream`` is ``None``.
        """
        if stream is None:
            raise Unavailable("the XMPP component link is not connected")
        own_id = outgoing.own_id

        def forget(_: Deferred[str]) -> None:
            self._pending.pop(own_id, None)

        answer: Deferred[str] = Deferred(forget)
        self._pending[own_id] = _Pending(answer, outgoing.caller_id, outgoing.target, stream)
        stream.send(outgoing.text)
        return answer.addTimeout(timeout, self._clock)

    def answer(self, iq: domish.Element) -> bool:
        """Take ``iq`` if it answers an awaited IQ: fire that IQ's Deferred."""
        iq_id = iq.getAttribute("id")
        pending = self._pending.get(iq_id) if iq_id is not None else None
        if pending is None or not _same_jid(iq.getAttribute("from"), pending.target):
            return False
        del self._pending[iq_id]
        try:
            text = answer_text(iq, pending.caller_id)
        except Exception:
            log.failure("XMPP component {jid}: cannot read an IQ answer", jid=self._jid)
            pending.deferred.errback(InternalError())
        else:
            pending.deferred.callback(text)
        return True

    def stream_down(self, stream: Stream) -> None:
        """Fail every IQ still waiting for an answer on ``stream``."""
        lost = [key for key, pending in self._pending.items() if pending.stream is stream]
        for key in lost:
            pending = self._pending.pop(key)
            pending.deferred.errback(
                Unavailable("the XMPP component link went down before the answer came")
            )


def _same_jid(answer_from: str | None, target: str | None) -> bool:
    """Whether the answer comes from ``target`` (prepared; ``None``: the server, any sender)."""
    if target is None:
        return True
    if answer_from is None:
        return False
    try:
        return parse_jid(answer_from).full() == target
    except ValueError:
        return False
