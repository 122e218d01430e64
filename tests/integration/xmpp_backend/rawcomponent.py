"""A tiny blocking XEP-0114 component, to check a test server's admin set-up without the gateway.

It knows just enough to log in, send an IQ and wait for the answer with the same id; other
stanzas that arrive meanwhile (e.g. XEP-0356's privilege announcement) are kept in
``received``.  Used before blaming the xmpp backend: if this fails, the server is misconfigured.
"""

from __future__ import annotations

import hashlib
import socket
import time
import uuid
import xml.etree.ElementTree as ET
from types import TracebackType
from typing import Self

NS_STREAM = "http://etherx.jabber.org/streams"
NS_COMMANDS = "http://jabber.org/protocol/commands"
NS_DATA = "jabber:x:data"
ADMIN = "http://jabber.org/protocol/admin"


class RawComponent:
    """A logged-in component; ``iq()`` sends and waits, with a deadline, for its answer."""

    def __init__(self, host: str, port: int, domain: str, secret: str, timeout: float = 10) -> None:
        self.domain = domain
        self.timeout = timeout
        self.received: list[ET.Element] = []
        self._sock = socket.create_connection((host, port), timeout=timeout)
        self._parser = ET.XMLPullParser(events=("start", "end"))
        self._depth = 0
        # top-level stanzas read but not yet handed out
        self._pending: list[ET.Element] = []
        self._stream_id: str | None = None
        self._send(
            f"<stream:stream xmlns='jabber:component:accept' xmlns:stream='{NS_STREAM}'"
            f" to='{domain}'>"
        )
        deadline = time.monotonic() + timeout
        while self._stream_id is None:
            self._read(deadline)
        digest = hashlib.sha1((self._stream_id + secret).encode()).hexdigest()
        self._send(f"<handshake>{digest}</handshake>")
        answer = self._next(deadline)
        if answer.tag != "{jabber:component:accept}handshake":
            raise ConnectionError(f"handshake refused: {ET.tostring(answer)!r}")

    def _send(self, text: str) -> None:
        self._sock.sendall(text.encode())

    def _read(self, deadline: float) -> list[ET.Element]:
        self._sock.settimeout(max(0.01, deadline - time.monotonic()))
        data = self._sock.recv(65536)
        if not data:
            raise ConnectionError("the server closed the stream")
        self._parser.feed(data)
        done = []
        for event, element in self._parser.read_events():
            if event == "start":
                self._depth += 1
                if self._depth == 1:
                    self._stream_id = element.get("id")
            else:
                self._depth -= 1
                if self._depth == 1:
                    done.append(element)
        return done

    def _next(self, deadline: float) -> ET.Element:
        while not self._pending:
            self._pending.extend(self._read(deadline))
        return self._pending.pop(0)

    def wait_for(self, tag: str, timeout: float | None = None) -> ET.Element:
        """The first stanza named ``tag`` (``{ns}name``) received so far or within ``timeout``."""
        deadline = time.monotonic() + (timeout or self.timeout)
        while True:
            for element in self.received:
                if element.find(f".//{tag}") is not None:
                    return element
            self.received.append(self._next(deadline))

    def iq(self, kind: str, to: str, payload: str, sender: str | None = None) -> ET.Element:
        """Send ``<iq type=kind to=to>payload</iq>``; the answering IQ."""
        iq_id = uuid.uuid4().hex
        origin = sender or self.domain
        self._send(f"<iq type='{kind}' id='{iq_id}' from='{origin}' to='{to}'>{payload}</iq>")
        deadline = time.monotonic() + self.timeout
        while True:
            element = self._next(deadline)
            if element.tag.endswith("}iq") and element.get("id") == iq_id:
                return element
            self.received.append(element)

    def command(self, host: str, node: str, fields: dict[str, str]) -> ET.Element:
        """Run a XEP-0133 command: execute, then submit ``fields``; the last answer."""
        first = self.iq(
            "set", host, f"<command xmlns='{NS_COMMANDS}' node='{node}' action='execute'/>"
        )
        if first.get("type") != "result":
            return first
        command = first.find(f"{{{NS_COMMANDS}}}command")
        assert command is not None, ET.tostring(first)
        session = command.get("sessionid", "")
        values = "".join(
            f"<field var='{name}'><value>{value}</value></field>" for name, value in fields.items()
        )
        form = (
            f"<x xmlns='{NS_DATA}' type='submit'><field var='FORM_TYPE' type='hidden'>"
            f"<value>{ADMIN}</value></field>{values}</x>"
        )
        return self.iq(
            "set",
            host,
            f"<command xmlns='{NS_COMMANDS}' node='{node}' sessionid='{session}'>{form}</command>",
        )

    def close(self) -> None:
        try:
            self._send("</stream:stream>")
        except OSError:
            pass
        self._sock.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
