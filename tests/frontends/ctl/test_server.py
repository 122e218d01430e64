"""The control socket protocol: one JSON request line in, one JSON answer line out."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, cast

from twisted.internet.defer import Deferred, fail, succeed
from twisted.internet.protocol import Protocol
from twisted.internet.testing import MemoryReactorClock, StringTransport
from twisted.test import iosim
from twisted.trial.unittest import SynchronousTestCase

from gateway.frontends.ctl.process import CtlProcessor
from gateway.frontends.ctl.server import MAX_REQUEST, REQUEST_TIMEOUT, CtlFactory, CtlProtocol


class StubProcessor:
    """Records argv lists and answers with a canned reply (or a Deferred of one)."""

    def __init__(self, answer: Deferred[tuple[str, int]] | None = None) -> None:
        self.calls: list[list[str]] = []
        self.json: list[bool] = []
        self.answer = answer

    def process(
        self, argv: Sequence[str], ip: Any = None, *, json: bool = False
    ) -> Deferred[tuple[str, int]]:
        self.calls.append(list(argv))
        self.json.append(json)
        if self.answer is not None:
            return self.answer
        return succeed((" ".join(argv), 0))


def connect(
    processor: StubProcessor, clock: MemoryReactorClock | None = None
) -> tuple[CtlProtocol, StringTransport]:
    factory = CtlFactory(cast(CtlProcessor, processor), clock)
    protocol = factory.buildProtocol(None)
    transport = StringTransport()
    protocol.makeConnection(transport)
    return protocol, transport


def answer(transport: StringTransport) -> dict[str, Any]:
    data = transport.value()
    assert data.endswith(b"\n") and data.count(b"\n") == 1
    result: dict[str, Any] = json.loads(data)
    return result


class CtlProtocolTests(SynchronousTestCase):
    def test_request_answer_close(self) -> None:
        """A request line is run and answered with output and exit, then the server hangs up."""
        processor = StubProcessor()
        protocol, transport = connect(processor)
        protocol.dataReceived(b'{"argv": ["registered_users", "h\xc3\xa9"]}\n')
        self.assertEqual(processor.calls, [["registered_users", "hé"]])
        self.assertEqual(answer(transport), {"output": "registered_users hé", "exit": 0})
        self.assertTrue(transport.disconnecting)

    def test_split_request(self) -> None:
        """A request arriving in pieces is run once complete."""
        processor = StubProcessor()
        protocol, transport = connect(processor)
        protocol.dataReceived(b'{"argv": ["sta')
        self.assertEqual(processor.calls, [])
        protocol.dataReceived(b'tus"]}\r\n')
        self.assertEqual(answer(transport)["output"], "status")

    def test_one_request_per_connection(self) -> None:
        """Lines after the first request are ignored."""
        processor = StubProcessor()
        protocol, transport = connect(processor)
        protocol.dataReceived(b'{"argv": ["a"]}\n{"argv": ["b"]}\n')
        protocol.dataReceived(b'{"argv": ["c"]}\n')
        self.assertEqual(processor.calls, [["a"]])

    def test_malformed(self) -> None:
        """Lines that are not ``{"argv": [strings]}`` get an error answer with exit 2."""
        for line in (b"not json", b"[]", b'{"argv": "status"}', b'{"argv": [1]}', b"\xff"):
            processor = StubProcessor()
            protocol, transport = connect(processor)
            protocol.dataReceived(line + b"\n")
            reply = answer(transport)
            self.assertEqual(reply["exit"], 2, line)
            self.assertIn("malformed request", reply["output"])
            self.assertEqual(processor.calls, [])
            self.assertTrue(transport.disconnecting)

    def test_json_flag(self) -> None:
        """``"json": true`` asks the processor for JSON; a non-boolean flag is malformed."""
        processor = StubProcessor()
        protocol, transport = connect(processor)
        protocol.dataReceived(b'{"argv": ["status"], "json": true}\n')
        self.assertEqual((processor.calls, processor.json), ([["status"]], [True]))
        processor = StubProcessor()
        protocol, transport = connect(processor)
        protocol.dataReceived(b'{"argv": ["status"], "json": "yes"}\n')
        self.assertEqual((processor.calls, answer(transport)["exit"]), ([], 2))

    def test_too_large(self) -> None:
        """A request longer than the limit is refused without running anything."""
        processor = StubProcessor()
        protocol, transport = connect(processor)
        protocol.dataReceived(b"x" * (MAX_REQUEST + 1))
        reply = answer(transport)
        self.assertEqual(
            reply, {"output": f"Error: request longer than {MAX_REQUEST} bytes", "exit": 1}
        )
        self.assertEqual(processor.calls, [])
        protocol.dataReceived(b'{"argv": ["status"]}\n')
        self.assertEqual(processor.calls, [])

    def test_lost_before_answer(self) -> None:
        """When the client leaves before the answer is ready, nothing is written."""
        pending: Deferred[tuple[str, int]] = Deferred()
        protocol, transport = connect(StubProcessor(pending))
        protocol.dataReceived(b'{"argv": ["status"]}\n')
        protocol.connectionLost(None)
        pending.callback(("late", 0))
        self.assertEqual(transport.value(), b"")

    def test_processor_failure(self) -> None:
        """A failing processor Deferred is logged and answered with an internal error."""
        protocol, transport = connect(StubProcessor(fail(RuntimeError("boom"))))
        protocol.dataReceived(b'{"argv": ["status"]}\n')
        self.assertEqual(answer(transport), {"output": "Error: internal error", "exit": 1})
        self.assertEqual(len(self.flushLoggedErrors(RuntimeError)), 1)

    def test_timeout(self) -> None:
        """A client that sends nothing in time is answered with an error and dropped."""
        clock = MemoryReactorClock()
        processor = StubProcessor()
        protocol, transport = connect(processor, clock)
        clock.advance(REQUEST_TIMEOUT - 1)
        self.assertEqual(transport.value(), b"")
        clock.advance(1)
        self.assertEqual(answer(transport)["exit"], 1)
        self.assertTrue(transport.disconnecting)
        protocol.dataReceived(b'{"argv": ["status"]}\n')
        self.assertEqual(processor.calls, [])

    def test_timeout_cancelled_by_request(self) -> None:
        """Once the request arrives, the timer stops: slow commands are not cut off."""
        clock = MemoryReactorClock()
        pending: Deferred[tuple[str, int]] = Deferred()
        protocol, transport = connect(StubProcessor(pending), clock)
        protocol.dataReceived(b'{"argv": ["status"]}\n')
        self.assertEqual(clock.getDelayedCalls(), [])
        clock.advance(REQUEST_TIMEOUT * 10)
        pending.callback(("done", 0))
        self.assertEqual(answer(transport), {"output": "done", "exit": 0})

    def test_over_loopback_pump(self) -> None:
        """A client and the server exchange a request over an in-memory connection."""

        class Client(Protocol):
            def __init__(self) -> None:
                self.received = b""
                self.closed = False

            def connectionMade(self) -> None:
                assert self.transport is not None
                self.transport.write(b'{"argv": ["--version", "0", "status"]}\n')

            def dataReceived(self, data: bytes) -> None:
                self.received += data

            def connectionLost(self, reason: object = None) -> None:
                self.closed = True

        client = Client()
        processor = StubProcessor()
        server = CtlFactory(cast(CtlProcessor, processor)).buildProtocol(None)
        _, _, pump = iosim.connectedServerAndClient(lambda: server, lambda: client)
        pump.flush()
        self.assertEqual(json.loads(client.received), {"output": "--version 0 status", "exit": 0})
        self.assertTrue(client.closed)
