"""The AMP commands between the supervisor and its workers, and both ends of the channel.

Each worker has one channel to the supervisor: a UNIX socket pair made when
the worker is spawned, so nothing else can connect to it.

Worker to supervisor:

- :class:`Ready`: the worker serves (signals sent before would have ended it).
- :class:`Queue`: a stanza for the shared queue, which the supervisor appends
  for every worker (answered once it is stored).
- :class:`SendIq`: an IQ whose answer a caller waits for (``?wait=iq``); it
  can only go over the live stream, which the supervisor holds.
- :class:`CollectMetrics`: every worker's metrics, for ``/metrics``.
- :class:`Broadcast`: a change of process-wide state (log level, reload,
  caches, brute-force counts) to apply in every other process.

Supervisor to worker:

- :class:`LinkUpdate`: the link's state, for ``status``, ``/health`` and
  ``/metrics`` (pushed when it changes).
- :class:`Apply`: a change another process made (see :class:`Broadcast`).
- :class:`Scrape`: the worker's own metrics.
- :class:`LinkEvent`: the link came up, or the server sent the component a
  message (what the XMPP-native backend listens to).
- :class:`ReopenLog`: the log file's new descriptor after SIGUSR1 (workers
  write their log lines straight into the supervisor's log file).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from typing import Any, ClassVar, Protocol

from twisted.internet import defer
from twisted.internet.defer import Deferred
from twisted.internet.protocol import connectionDone
from twisted.logger import Logger
from twisted.protocols import amp
from twisted.python.failure import Failure

from gateway.engine.errors import BadRequest, CommandError, InternalError, Unavailable

__all__ = [
    "Apply",
    "Broadcast",
    "CollectMetrics",
    "LinkEvent",
    "LinkUpdate",
    "LongText",
    "Queue",
    "Owner",
    "OwnerEnd",
    "Ready",
    "ReopenLog",
    "Scrape",
    "SendIq",
    "WorkerEnd",
]

log = Logger()

#: bytes per AMP value (AMP allows at most 65535)
CHUNK = 60000
#: the most chunks one value may take (about 60 MB, far above any body limit)
MAX_CHUNKS = 1000


class LongText(amp.Argument):
    """A text of any length: AMP values hold 64 KiB, so it is sent in numbered chunks.

    The value under ``name`` is the number of chunks; ``name.0``, ``name.1``
    … hold the UTF-8 bytes.
    """

    def toBox(self, name: bytes, strings: Any, objects: Any, proto: Any) -> None:  # noqa: N802
        data = objects[name.decode("ascii")].encode("utf-8")
        chunks = [data[i : i + CHUNK] for i in range(0, len(data), CHUNK)] or [b""]
        if len(chunks) > MAX_CHUNKS:
            raise ValueError(f"text of {len(data)} bytes is too long for the worker channel")
        strings[name] = str(len(chunks)).encode("ascii")
        for number, chunk in enumerate(chunks):
            strings[name + b".%d" % number] = chunk

    def fromBox(self, name: bytes, strings: Any, objects: Any, proto: Any) -> None:  # noqa: N802
        count = int(strings[name])
        if not 0 < count <= MAX_CHUNKS:
            raise ValueError(f"{name!r}: {count} chunks")
        data = b"".join(strings[name + b".%d" % number] for number in range(count))
        objects[name.decode("ascii")] = data.decode("utf-8")


#: how an IQ's failure crosses the channel (AMP rebuilds the class from the code)
_IQ_ERRORS: dict[type[Exception], bytes] = {
    Unavailable: b"UNAVAILABLE",
    BadRequest: b"BAD_REQUEST",
    defer.TimeoutError: b"TIMEOUT",
    InternalError: b"INTERNAL",
}


class Ready(amp.Command):
    """The worker serves: its listeners and signal handlers are in place."""

    requiresAnswer = False


class Queue(amp.Command):
    """Store a prepared stanza in the shared queue; answered once it is durably stored.

    The supervisor does every worker's appends, so they share its commits
    instead of taking turns at the store's write lock.
    """

    arguments = [(b"stanza", LongText())]
    response: ClassVar[list[tuple[bytes, amp.Argument]]] = []
    errors = {Unavailable: b"UNAVAILABLE", InternalError: b"INTERNAL"}


class SendIq(amp.Command):
    """Send an IQ over the link now; the answer is the IQ that answers it, as text."""

    arguments = [(b"stanza", LongText()), (b"timeout", amp.Float())]
    response = [(b"answer", LongText())]
    errors = _IQ_ERRORS


class Broadcast(amp.Command):
    """Apply ``action`` with ``argument`` (JSON) in every process but the sender."""

    arguments = [(b"action", amp.Unicode()), (b"argument", LongText())]


class Apply(amp.Command):
    """Apply ``action`` with ``argument`` (JSON), which another process did."""

    arguments = [(b"action", amp.Unicode()), (b"argument", LongText())]


class ReopenLog(amp.Command):
    """The log file was reopened: write to this descriptor from now on (passed over the socket)."""

    arguments = [(b"fd", amp.Descriptor())]
    # answered once the worker writes there: the supervisor then says so in the log
    response: ClassVar[list[tuple[bytes, amp.Argument]]] = []


class CollectMetrics(amp.Command):
    """Every worker's metrics (a JSON list of Prometheus texts), for one worker's /metrics."""

    response = [(b"texts", LongText())]


class Scrape(amp.Command):
    """This worker's metrics, in the Prometheus text format."""

    response = [(b"text", LongText())]


class LinkEvent(amp.Command):
    """The link came up (``kind`` ``up``) or brought a ``message`` (the stanza, as text)."""

    arguments = [(b"kind", amp.Unicode()), (b"stanza", LongText())]
    requiresAnswer = False


class LinkUpdate(amp.Command):
    """The link's state (a JSON object: ``jid``, ``where`` and the ``LinkState`` fields)."""

    arguments = [(b"state", amp.Unicode())]
    requiresAnswer = False


class Owner(Protocol):
    """What the supervisor does for its workers (see :class:`OwnerEnd`)."""

    def ready(self, end: OwnerEnd) -> None:
        """The worker at ``end`` serves now."""
        ...

    def iq(self, stanza: str, timeout: float) -> Deferred[str]:
        """Send an IQ over the link; fires with the answer as text."""
        ...

    def queue(self, stanza: str) -> Deferred[None]:
        """Store a stanza a worker prepared; fires once it is stored."""
        ...

    def broadcast(self, action: str, argument: str, source: OwnerEnd) -> Deferred[None]:
        """Apply a change here and in every worker but ``source``."""
        ...

    def collect_metrics(self) -> Deferred[list[str]]:
        """Every worker's metrics in the Prometheus text format."""
        ...

    def lost(self, end: OwnerEnd) -> None:
        """The channel to a worker closed."""
        ...


class OwnerEnd(amp.AMP):
    """The supervisor's end of the channel to one worker."""

    def __init__(self, owner: Owner, worker: int) -> None:
        super().__init__()
        self.owner = owner
        self.worker = worker

    @Ready.responder
    def worker_ready(self) -> dict[str, Any]:
        self.owner.ready(self)
        return {}

    @Queue.responder
    def queue(self, stanza: str) -> Deferred[dict[str, Any]]:
        stored = defer.maybeDeferred(self.owner.queue, stanza)
        return stored.addCallbacks(lambda _: {}, _queue_failure)

    @SendIq.responder
    def send_iq(self, stanza: str, timeout: float) -> Deferred[dict[str, Any]]:
        answer = defer.maybeDeferred(self.owner.iq, stanza, timeout)
        return answer.addCallbacks(lambda text: {"answer": text}, _iq_failure)

    @CollectMetrics.responder
    def collect_metrics(self) -> Deferred[dict[str, Any]]:
        return self.owner.collect_metrics().addCallback(lambda texts: {"texts": json.dumps(texts)})

    @Broadcast.responder
    def broadcasted(self, action: str, argument: str) -> Deferred[dict[str, Any]]:
        done = self.owner.broadcast(action, argument, self)
        return done.addCallback(lambda _: {})

    def connectionLost(self, reason: Failure = connectionDone) -> None:  # noqa: N802 - Twisted's name
        super().connectionLost(reason)
        self.owner.lost(self)


def _queue_failure(failure: Failure) -> Failure:
    """A queueing failure as the channel carries it: unavailable, or an internal error."""
    error = failure.value
    if isinstance(error, Unavailable):
        raise Unavailable(error.message)
    log.failure("worker channel: queueing a stanza failed", failure)
    raise InternalError()


def _iq_failure(failure: Failure) -> Failure:
    """Turn an IQ's failure into one of the errors the channel carries."""
    error = failure.value
    if isinstance(error, TimeoutError | defer.TimeoutError):
        raise defer.TimeoutError(str(error) or "no answer")
    # the classes the channel knows; the message is what the caller sees
    if isinstance(error, Unavailable):
        raise Unavailable(error.message)
    if isinstance(error, BadRequest):
        raise BadRequest(error.message)
    if not isinstance(error, CommandError):
        log.failure("worker channel: sending an IQ failed", failure)
    raise InternalError()


class WorkerEnd(amp.AMP):
    """A worker's end of the channel to the supervisor.

    Args:
        on_state: told each link state the supervisor pushes (decoded JSON).
        on_apply: applies a change another process made.
        on_lost: the supervisor is gone.
        on_log: takes the reopened log file's descriptor (and closes it).
        on_scrape: this worker's metrics in the Prometheus text format.
        on_event: told each link event (``up`` or ``message``, and the stanza).
    """

    def __init__(
        self,
        on_state: Callable[[dict[str, Any]], None],
        on_apply: Callable[[str, Any], None],
        on_lost: Callable[[], None],
        on_log: Callable[[int], None] | None = None,
        on_scrape: Callable[[], Deferred[str]] | None = None,
        on_event: Callable[[str, str], None] | None = None,
    ) -> None:
        super().__init__()
        self._on_state = on_state
        self._on_apply = on_apply
        self._on_lost = on_lost
        self._on_log = on_log
        self._on_scrape = on_scrape
        self._on_event = on_event
        self.connected = False

    def connectionMade(self) -> None:  # noqa: N802 - Twisted's name
        super().connectionMade()
        self.connected = True

    @LinkUpdate.responder
    def link_update(self, state: str) -> dict[str, Any]:
        self._on_state(json.loads(state))
        return {}

    @LinkEvent.responder
    def link_event(self, kind: str, stanza: str) -> dict[str, Any]:
        if self._on_event is not None:
            self._on_event(kind, stanza)
        return {}

    @Scrape.responder
    def scrape(self) -> Deferred[dict[str, Any]]:
        if self._on_scrape is None:
            return defer.succeed({"text": ""})
        return self._on_scrape().addCallback(lambda text: {"text": text})

    @ReopenLog.responder
    def reopen_log(self, fd: int) -> dict[str, Any]:
        if self._on_log is not None:
            self._on_log(fd)
        else:
            os.close(fd)
        return {}

    @Apply.responder
    def apply(self, action: str, argument: str) -> dict[str, Any]:
        try:
            self._on_apply(action, json.loads(argument))
        except Exception:
            log.failure("worker channel: applying {action} failed", action=action)
        return {}

    def connectionLost(self, reason: Failure = connectionDone) -> None:  # noqa: N802 - Twisted's name
        self.connected = False
        super().connectionLost(reason)
        self._on_lost()
