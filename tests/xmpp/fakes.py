"""An in-memory XMPP server side for the component link tests (checked in ``test_fakes.py``).

:class:`FakeServer` plays the XMPP server's component port over
:class:`~twisted.internet.testing.MemoryReactorClock`: the link connects with a
real ``tcp:`` client endpoint, and the test completes (or refuses) each
connection, reads what the link wrote as domish elements and feeds answers.
:class:`FakeXmlStream` is what a :class:`~gateway.xmpp.session.Stream` writes
to, for the link's parts tested on their own.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

from twisted.internet.error import ConnectionDone, ConnectionRefusedError
from twisted.internet.testing import EventLoggingObserver, MemoryReactorClock, StringTransport
from twisted.logger import globalLogPublisher
from twisted.python.failure import Failure
from twisted.trial.unittest import SynchronousTestCase
from twisted.words.protocols.jabber.xmlstream import hashPassword
from twisted.words.xish import domish

from gateway.config.model import ComponentConfig

COMPONENT = "rest.localhost"
SECRET = "s3cret"
STREAM_HEADER = (
    "<stream:stream xmlns='jabber:component:accept' "
    "xmlns:stream='http://etherx.jabber.org/streams' from='{jid}' id='{sid}'>"
)


def component_config(**overrides: Any) -> ComponentConfig:
    """A component section pointing at 127.0.0.1:5347."""
    values: dict[str, Any] = {"jid": COMPONENT, "secret": SECRET, "from_policy": "pass"}
    values.update(overrides)
    return ComponentConfig(**values)


def temp_dir(test: SynchronousTestCase) -> Path:
    """A fresh directory removed after ``test`` (trial's mktemp writes below the cwd)."""
    path = Path(tempfile.mkdtemp(prefix="xmpp-test-"))
    test.addCleanup(shutil.rmtree, path, True)
    return path


def capture_log(test: SynchronousTestCase) -> EventLoggingObserver:
    """Collect the log events emitted during ``test``."""
    events = EventLoggingObserver()
    globalLogPublisher.addObserver(events)
    test.addCleanup(globalLogPublisher.removeObserver, events)
    return events


class Connection:
    """One accepted connection, seen from the server."""

    def __init__(self, protocol: Any, transport: StringTransport) -> None:
        self.protocol = protocol
        self.transport = transport
        self.header: domish.Element | None = None
        self._elements: list[domish.Element] = []
        self._stream = domish.elementStream()
        self._stream.DocumentStartEvent = self._started
        self._stream.ElementEvent = self._elements.append
        self._stream.DocumentEndEvent = lambda: None

    def _started(self, root: domish.Element) -> None:
        self.header = root

    def read(self) -> list[domish.Element]:
        """The elements written since the last read."""
        data = self.transport.value()
        self.transport.clear()
        if data:
            self._stream.parse(data)
        found, self._elements[:] = list(self._elements), []
        return found

    def feed(self, text: str) -> None:
        self.protocol.dataReceived(text.encode("utf-8"))

    def open_stream(self, sid: str = "sid-1") -> None:
        """Answer the link's stream header."""
        self.feed(STREAM_HEADER.format(jid=COMPONENT, sid=sid))

    def accept_handshake(self, sid: str = "sid-1", secret: str = SECRET) -> None:
        """Open the stream, check the handshake digest, and accept it."""
        self.open_stream(sid)
        sent = self.read()
        handshakes = [e for e in sent if e.name == "handshake"]
        assert handshakes, f"no handshake in {[e.toXml() for e in sent]}"
        assert str(handshakes[0]) == hashPassword(sid, secret)
        self.feed("<handshake/>")

    def answer_pings(self, elements: list[domish.Element], kind: str = "result") -> int:
        """Answer every ping among ``elements``; how many."""
        count = 0
        for element in elements:
            if is_ping(element):
                self.answer(element, kind)
                count += 1
        return count

    def answer(self, iq: domish.Element, kind: str = "result", payload: str = "") -> None:
        self.feed(
            f"<iq type='{kind}' id='{iq['id']}' from='{iq['to']}' to='{iq['from']}'>{payload}</iq>"
        )

    def drop(self, reason: Exception | None = None) -> None:
        self.protocol.connectionLost(Failure(reason or ConnectionDone()))


class FakeServer:
    """The server side of every connection the link attempts on ``reactor``."""

    def __init__(self, reactor: MemoryReactorClock) -> None:
        self.reactor = reactor
        self._served = 0

    @property
    def attempts(self) -> int:
        return len(self.reactor.tcpClients)

    def _next(self) -> tuple[Any, Any]:
        assert self.attempts > self._served, "the link has not tried to connect"
        host, port, factory, _, _ = self.reactor.tcpClients[self._served]
        assert (host, port) == ("127.0.0.1", 5347)
        connector = self.reactor.connectors[self._served]
        self._served += 1
        return factory, connector

    def accept(self) -> Connection:
        """Complete the pending connection attempt."""
        factory, _ = self._next()
        protocol = factory.buildProtocol(None)
        transport = StringTransport()
        protocol.makeConnection(transport)
        return Connection(protocol, transport)

    def refuse(self) -> None:
        """Fail the pending connection attempt."""
        factory, connector = self._next()
        factory.clientConnectionFailed(connector, Failure(ConnectionRefusedError()))

    def connect(self) -> tuple[Connection, list[domish.Element]]:
        """Accept, authenticate, and return what the link wrote after the handshake."""
        connection = self.accept()
        connection.accept_handshake()
        return connection, connection.read()


def is_ping(element: domish.Element) -> bool:
    return (
        element.name == "iq"
        and element.getAttribute("type") == "get"
        and any(c.uri == "urn:xmpp:ping" for c in element.elements())
    )


def stanzas(elements: list[domish.Element]) -> list[domish.Element]:
    """``elements`` without the link's own pings."""
    return [e for e in elements if not is_ping(e)]


def bodies(elements: list[domish.Element]) -> list[str]:
    return [str(e.body) for e in stanzas(elements) if e.body is not None]


class FakeXmlStream:
    """What a Stream writes to: records every element and text, over a StringTransport."""

    def __init__(self) -> None:
        self.sent: list[str | domish.Element] = []
        self.transport = StringTransport()

    def send(self, data: str | domish.Element) -> None:
        self.sent.append(data)
