"""The local control socket that ``gatewayctl`` talks to.

One connection carries one request: a single line of JSON
``{"argv": ["--version", "2", "status"]}``, answered by a single line
``{"output": "...", "exit": 0}`` after which the server closes the
connection.  ``"json": true`` in the request asks for the command's result
or error as ``/api``'s JSON (``gatewayctl --json``).  The socket is meant
for a UNIX endpoint that only the daemon's user can open
(``unix:PATH:mode=600``).
"""

from __future__ import annotations

import json
from typing import Any

from twisted.internet.interfaces import IDelayedCall, IReactorTime
from twisted.internet.protocol import Factory
from twisted.logger import Logger
from twisted.protocols.basic import LineOnlyReceiver
from twisted.python.failure import Failure

from gateway.frontends.ctl.process import EXIT_ERROR, EXIT_USAGE, CtlProcessor

__all__ = ["MAX_REQUEST", "CtlFactory", "CtlProtocol", "encode_answer"]

log = Logger()

#: the longest request line accepted, in bytes
MAX_REQUEST = 1024 * 1024
#: seconds a client may take to send its request
REQUEST_TIMEOUT = 60.0


def encode_answer(output: str, status: int) -> bytes:
    """One response line."""
    return json.dumps({"output": output, "exit": status}).encode("utf-8") + b"\n"


def _decode_request(line: bytes) -> tuple[list[str], bool] | None:
    """The argv of a request line and whether it asks for JSON; ``None`` when malformed."""
    try:
        request: Any = json.loads(line.decode("utf-8"))
    except ValueError:
        return None
    argv = request.get("argv") if isinstance(request, dict) else None
    if not isinstance(argv, list) or not all(isinstance(a, str) for a in argv):
        return None
    as_json = request.get("json", False)
    if not isinstance(as_json, bool):
        return None
    return argv, as_json


class CtlProtocol(LineOnlyReceiver):
    """Reads one request line, runs it, writes the answer and hangs up."""

    delimiter = b"\n"
    MAX_LENGTH = MAX_REQUEST

    def __init__(self, processor: CtlProcessor, clock: IReactorTime | None = None) -> None:
        self._processor = processor
        self._clock = clock
        self._timeout: IDelayedCall | None = None
        self._busy = False
        self._gone = False

    def connectionMade(self) -> None:
        if self._clock is not None:
            self._timeout = self._clock.callLater(REQUEST_TIMEOUT, self._timed_out)

    def connectionLost(self, reason: Failure | None = None) -> None:
        self._gone = True
        self._cancel_timeout()

    def dataReceived(self, data: bytes) -> None:
        if self._busy:
            return  # one request per connection; anything after it is ignored
        super().dataReceived(data)

    def lineReceived(self, line: bytes) -> None:
        if self._busy:
            return
        self._busy = True
        self._cancel_timeout()
        request = _decode_request(line.rstrip(b"\r"))
        if request is None:
            self._answer(
                'Error: malformed request; expected one JSON line {"argv": [...]}', EXIT_USAGE
            )
            return
        argv, as_json = request
        d = self._processor.process(argv, json=as_json)
        d.addCallbacks(lambda answer: self._answer(*answer), self._failed)

    def lineLengthExceeded(self, line: bytes) -> None:
        if self._busy:
            return
        self._busy = True
        self._cancel_timeout()
        self._answer(f"Error: request longer than {self.MAX_LENGTH} bytes", EXIT_ERROR)

    def _failed(self, failure: Failure) -> None:
        log.failure("ctl request failed unexpectedly", failure)
        self._answer("Error: internal error", EXIT_ERROR)

    def _timed_out(self) -> None:
        self._timeout = None
        if not self._busy:
            self._busy = True
            self._answer("Error: no request received in time", EXIT_ERROR)

    def _cancel_timeout(self) -> None:
        if self._timeout is not None and self._timeout.active():
            self._timeout.cancel()
        self._timeout = None

    def _answer(self, output: str, status: int) -> None:
        if self._gone or self.transport is None:
            return
        self.transport.write(encode_answer(output, status))
        self.transport.loseConnection()


class CtlFactory(Factory):
    """Builds a :class:`CtlProtocol` per connection.

    Args:
        processor: runs the command lines.
        clock: when given, a client that sends no request within
            :data:`REQUEST_TIMEOUT` seconds is answered with an error.
    """

    def __init__(self, processor: CtlProcessor, clock: IReactorTime | None = None) -> None:
        self.processor = processor
        self.clock = clock

    def buildProtocol(self, addr: Any) -> CtlProtocol:
        protocol = CtlProtocol(self.processor, self.clock)
        protocol.factory = self
        return protocol
