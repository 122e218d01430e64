"""Issue 8, item 11: SIGTERM lets requests in flight finish; SIGHUP reloads the configuration.

The slow requests are legitimate ones: mod_rest ``?wait=iq`` calls waiting
for the XMPP server's answer.  The server here is a silent one that accepts
the component link and never answers an IQ, so each call ends with its
proper 504 after ``request_timeout`` (3 s, shorter than ``shutdown_grace``).
SIGTERM arrives while they wait.
"""

from __future__ import annotations

import signal
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from tests.hostile import live

REQUEST_TIMEOUT = 3
SHUTDOWN_GRACE = 15
IN_FLIGHT = 8
IQ = b"<iq type='get' id='slow' to='localhost'><query xmlns='jabber:iq:version'/></iq>"
#: twistd's exit after a clean stop on SIGTERM: it ends by re-raising the signal,
#: so its parent sees "terminated by SIGTERM" (systemd counts that as a clean stop)
STOPPED_BY_SIGTERM = -signal.SIGTERM
STANZA = b"<message to='alice@localhost' type='chat'><body>sent during shutdown</body></message>"


@dataclass
class SilentXmppServer:
    """An XMPP server's component port that completes the handshake, then never answers."""

    listener: socket.socket = field(default_factory=socket.socket)
    received: bytearray = field(default_factory=bytearray)
    authenticated: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def port(self) -> int:
        return int(self.listener.getsockname()[1])

    def start(self) -> None:
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(5)
        threading.Thread(target=self._serve, daemon=True).start()

    def close(self) -> None:
        self.listener.close()

    def count(self, text: bytes) -> int:
        with self._lock:
            return self.received.count(text)

    def _serve(self) -> None:
        try:
            while True:
                connection, _ = self.listener.accept()
                threading.Thread(target=self._talk, args=(connection,), daemon=True).start()
        except OSError:
            return

    def _talk(self, connection: socket.socket) -> None:
        stream_opened = handshaken = False
        with connection:
            while True:
                try:
                    data = connection.recv(65536)
                except OSError:
                    return
                if not data:
                    return
                with self._lock:
                    self.received += data
                    seen = bytes(self.received)
                if not stream_opened and b"<stream:stream" in seen:
                    stream_opened = True
                    connection.sendall(
                        b"<?xml version='1.0'?><stream:stream "
                        b"xmlns:stream='http://etherx.jabber.org/streams' "
                        b"xmlns='jabber:component:accept' from='rest.localhost' id='s1'>"
                    )
                if stream_opened and not handshaken and b"</handshake>" in seen:
                    handshaken = True
                    connection.sendall(b"<handshake/>")
                    self.authenticated.set()


@contextmanager
def silent_server() -> Iterator[SilentXmppServer]:
    server = SilentXmppServer()
    server.start()
    try:
        yield server
    finally:
        server.close()


def wait_for(condition: Any, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def refused(port: int) -> bool:
    """True when nothing accepts connections on ``port`` any more."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return False
    except ConnectionRefusedError:
        return True


def nothing_answered(sock: socket.socket) -> bool:
    """True when ``sock`` was closed or reset without a byte of answer."""
    try:
        return sock.recv(65536) == b""
    except ConnectionResetError:
        return True


def link_connected(d: live.ShippedDaemon) -> bool:
    _, _, body = d.http("POST", "/api/status", b"{}")
    return b"connected to" in body and b"not connected" not in body


def test_sigterm_lets_requests_in_flight_finish(tmp_path: Path) -> None:
    """After SIGTERM every request in flight gets its complete answer, then the daemon stops.

    Eight ``?wait=iq`` calls get their 504 after request_timeout, a stanza
    POST whose body is still arriving is queued and answered ``Ok``, an idle
    keep-alive connection is closed at once, new connections are refused,
    and the process ends cleanly (see STOPPED_BY_SIGTERM) well within
    shutdown_grace, without aborting anything.
    """
    with silent_server() as xmpp:

        def adjust(config: dict[str, Any]) -> None:
            config["gateway"]["component"]["port"] = xmpp.port
            live.with_limits(request_timeout=REQUEST_TIMEOUT, shutdown_grace=SHUTDOWN_GRACE)(config)

        with live.shipped_daemon(tmp_path, register=False, adjust=adjust) as d:
            wait_for(lambda: link_connected(d), 15, "the component link")
            answers: list[tuple[int, bytes] | BaseException] = []

            def slow_call() -> None:
                try:
                    status, _, body = d.http("POST", "/rest?wait=iq", IQ, timeout=30)
                    answers.append((status, body))
                except BaseException as e:  # recorded and asserted on below
                    answers.append(e)

            callers = [threading.Thread(target=slow_call) for _ in range(IN_FLIGHT)]
            for caller in callers:
                caller.start()
            # in flight for sure: the server has every IQ
            wait_for(lambda: xmpp.count(b"jabber:iq:version") >= IN_FLIGHT, 10, "the IQs")

            upload = socket.create_connection(("127.0.0.1", d.http_port), timeout=30)
            upload.sendall(
                b"POST /rest HTTP/1.1\r\nHost: localhost\r\nContent-Length: "
                + str(len(STANZA)).encode()
                + b"\r\n\r\n"
                + STANZA[:10]
            )
            idle = socket.create_connection(("127.0.0.1", d.http_port), timeout=30)
            idle.sendall(
                b"POST /api/status HTTP/1.1\r\nHost: localhost\r\nContent-Length: 2\r\n\r\n{}"
            )
            assert idle.recv(65536).startswith(b"HTTP/1.1 200")
            assert not answers, "the slow calls did not wait"

            started = time.monotonic()
            d.process.send_signal(signal.SIGTERM)

            wait_for(lambda: refused(d.http_port), 3, "the HTTP listener to close")
            wait_for(lambda: refused(d.xmlrpc_port), 3, "the XML-RPC listener to close")
            idle.settimeout(3)
            assert idle.recv(65536) == b"", "the idle keep-alive connection stayed open"
            idle.close()

            upload.sendall(STANZA[10:])
            reply = b""
            while chunk := upload.recv(65536):
                reply += chunk
            upload.close()
            assert reply.startswith(b"HTTP/1.1 200"), reply
            assert reply.endswith(b"\r\n\r\nOk"), reply
            assert b"connection: close" in reply.lower()

            for caller in callers:
                caller.join(timeout=30)
            expected = f"Error: no answer to the IQ within {REQUEST_TIMEOUT} seconds".encode()
            assert answers == [(504, expected)] * IN_FLIGHT

            returncode = d.process.wait(timeout=SHUTDOWN_GRACE + 10)
            elapsed = time.monotonic() - started
            assert returncode == STOPPED_BY_SIGTERM, d.output()
            assert elapsed < SHUTDOWN_GRACE, f"the daemon took {elapsed:.1f} s to stop"
            output = d.output()
            assert "Server Shut Down." in output
            assert "grace period over" not in output
            assert "Traceback" not in output


def test_sigterm_aborts_what_outlasts_the_grace_period(tmp_path: Path) -> None:
    """A request still running when shutdown_grace ends is cut, and the daemon still stops.

    request_timeout (60 s) outlasts shutdown_grace (2 s): SIGTERM must not
    wait for it.
    """
    with silent_server() as xmpp:

        def adjust(config: dict[str, Any]) -> None:
            config["gateway"]["component"]["port"] = xmpp.port
            live.with_limits(request_timeout=60, shutdown_grace=2)(config)

        with live.shipped_daemon(tmp_path, register=False, adjust=adjust) as d:
            wait_for(lambda: link_connected(d), 15, "the component link")
            with socket.create_connection(("127.0.0.1", d.http_port), timeout=30) as call:
                call.sendall(
                    b"POST /rest?wait=iq HTTP/1.1\r\nHost: localhost\r\nContent-Length: "
                    + str(len(IQ)).encode()
                    + b"\r\n\r\n"
                    + IQ
                )
                wait_for(lambda: xmpp.count(b"jabber:iq:version") >= 1, 10, "the IQ")
                started = time.monotonic()
                d.process.send_signal(signal.SIGTERM)
                returncode = d.process.wait(timeout=20)
                elapsed = time.monotonic() - started
                assert returncode == STOPPED_BY_SIGTERM, d.output()
                assert nothing_answered(call), "the aborted call got an answer"
                assert 1.5 <= elapsed < 2 + 5, f"stopped after {elapsed:.1f} s"
                assert "grace period over" in d.output()


def test_sighup_reloads_the_configuration(tmp_path: Path) -> None:
    """SIGHUP applies a changed loglevel; a broken file is logged and changes nothing.

    The daemon keeps running and serving the normal client throughout.
    """
    with live.shipped_daemon(tmp_path, register=False) as d, live.normal_client(d):
        assert "info" in d.ctl("get_loglevel").stdout
        config = yaml.safe_load(d.config_path.read_text())
        config["loglevel"] = "debug"
        d.config_path.write_text(yaml.safe_dump(config))
        d.process.send_signal(signal.SIGHUP)
        wait_for(lambda: "debug" in d.ctl("get_loglevel").stdout, 10, "the new loglevel")
        assert d.process.poll() is None

        good = d.config_path.read_text()
        d.config_path.write_text("loglevel: [this is not a level\n")
        d.process.send_signal(signal.SIGHUP)
        wait_for(lambda: "was not reloaded" in d.output(), 10, "the reload error")
        d.config_path.write_text(good)  # gatewayctl reads it too
        assert d.process.poll() is None
        assert "debug" in d.ctl("get_loglevel").stdout
