"""Reading an answer body with a size cap, cancellable (the connection is then closed)."""

from __future__ import annotations

from twisted.internet.defer import Deferred
from twisted.internet.protocol import Protocol
from twisted.python.failure import Failure
from twisted.web.client import ResponseDone
from twisted.web.http import PotentialDataLoss
from twisted.web.iweb import IResponse

__all__ = ["BodyTooLarge", "read_body"]


class BodyTooLarge(Exception):
    """The body is longer than the cap."""


def read_body(response: IResponse, limit: int) -> Deferred[bytes]:
    """The whole body of ``response``; fails with :class:`BodyTooLarge` past ``limit`` bytes.

    Cancelling the Deferred, or a body over the cap, closes the connection
    rather than reading the rest.
    """
    reader = _Reader(limit)
    response.deliverBody(reader)
    if isinstance(response.length, int) and response.length > limit:
        reader.refuse(BodyTooLarge())  # announced too long: not a byte is read
    return reader.done


class _Reader(Protocol):
    def __init__(self, limit: int) -> None:
        self._limit = limit
        self._parts: list[bytes] = []
        self._size = 0
        self.done: Deferred[bytes] = Deferred(self._cancelled)

    def _cancelled(self, _: Deferred[bytes]) -> None:
        self._close()

    def _close(self) -> None:
        if self.transport is not None:
            self.transport.stopProducing()  # type: ignore[attr-defined]

    def refuse(self, error: Exception) -> None:
        self._close()
        if not self.done.called:
            self.done.errback(Failure(error))

    def dataReceived(self, data: bytes) -> None:  # noqa: N802
        if self.done.called:
            return
        self._size += len(data)
        if self._size > self._limit:
            self.refuse(BodyTooLarge())
            return
        self._parts.append(data)

    def connectionLost(self, reason: Failure = Failure(ResponseDone())) -> None:  # noqa: B008, N802
        if self.done.called:
            return
        if reason.check(ResponseDone, PotentialDataLoss):
            self.done.callback(b"".join(self._parts))
        else:
            self.done.errback(reason)
