"""Issue 8, item 10: slow clients cannot hold connections, and each listener has a cap.

Every test starts its own daemon with short limits (``live.with_limits``)
so the deadlines can be watched in seconds: a request trickled byte by byte
is cut off by ``receive_timeout`` whatever ``idle_timeout`` says, a silent
keep-alive connection is closed after ``idle_timeout``, and a listener
holding ``max_connections`` connections closes further ones at once and
serves again as soon as some close.
"""

from __future__ import annotations

import http.client
import socket
import time
import xmlrpc.client
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

from tests.hostile import live

#: seconds; short so the tests are quick, long enough for a busy machine
RECEIVE_TIMEOUT = 2.0
IDLE_TIMEOUT = 2.0
#: how late the daemon may act on a deadline on a loaded CI machine
SLACK = 2.0

#: a request head too long to finish at one byte per TRICKLE seconds within the test
SLOW_HEAD = (
    b"POST /api/status HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
    + b"X-Padding: "
    + b"p" * 200
    + b"\r\nContent-Length: 2\r\n\r\n{}"
)
TRICKLE = 0.2


def trickle_until_closed(sock: socket.socket, data: bytes, give_up: float) -> tuple[float, bytes]:
    """Send ``data`` one byte every TRICKLE s until the server closes; (when, what it sent).

    Returns ``(inf, b"")`` if the connection is still open at ``give_up``
    (a monotonic time).
    """
    received = b""
    sock.settimeout(TRICKLE)
    for byte in data:
        if time.monotonic() > give_up:
            break
        try:
            sock.sendall(bytes([byte]))
            chunk = sock.recv(4096)
        except TimeoutError:
            continue
        except OSError:
            return time.monotonic(), received  # reset by the server
        if not chunk:
            return time.monotonic(), received
        received += chunk
        # the server answered: read until it closes
        while chunk:
            try:
                chunk = sock.recv(4096)
            except TimeoutError:
                if time.monotonic() > give_up:
                    return float("inf"), received
                continue
            except OSError:
                break
            received += chunk
        return time.monotonic(), received
    return float("inf"), received


def closes_within(sock: socket.socket, seconds: float) -> bool:
    """True when the server closes ``sock`` (EOF or reset) within ``seconds``."""
    sock.settimeout(seconds)
    try:
        while sock.recv(4096):
            pass
    except TimeoutError:
        return False
    except OSError:
        return True
    return True


def answered(port: int, path: str = "/api/status", body: bytes = b"{}") -> bool:
    """True when a request on a fresh connection gets an HTTP answer; False when refused."""
    try:
        status, _, _ = live.http_request(port, "POST", path, body, timeout=5)
    except (OSError, http.client.HTTPException):
        return False
    return status == 200


@contextmanager
def held_connections(port: int, count: int) -> Iterator[list[socket.socket]]:
    """``count`` idle connections to ``port``, closed afterwards."""
    with ExitStack() as stack:
        socks = [
            stack.enter_context(socket.create_connection(("127.0.0.1", port))) for _ in range(count)
        ]
        yield socks


def test_trickled_request_is_cut_off(tmp_path: Path) -> None:
    """A head trickled a byte every 0.2 s gets 408 and is closed after receive_timeout.

    ``idle_timeout`` is a minute, so only the receive deadline can end the
    connection; a normal client is served throughout.
    """
    limits = live.with_limits(receive_timeout=RECEIVE_TIMEOUT, idle_timeout=60)
    with live.shipped_daemon(tmp_path, register=False, adjust=limits) as d, live.normal_client(d):
        with socket.create_connection(("127.0.0.1", d.http_port)) as sock:
            started = time.monotonic()
            closed_at, answer = trickle_until_closed(
                sock, SLOW_HEAD, started + RECEIVE_TIMEOUT + 10
            )
        assert closed_at - started < RECEIVE_TIMEOUT + SLACK, "the trickling client was not cut off"
        assert closed_at - started >= RECEIVE_TIMEOUT - 0.5, "cut off before its deadline"
        assert answer.startswith(b"HTTP/1.1 408 "), answer


def test_silent_connection_is_closed(tmp_path: Path) -> None:
    """A connection that never sends a byte is closed after receive_timeout.

    The first request's deadline runs from the connection's opening.
    """
    limits = live.with_limits(receive_timeout=RECEIVE_TIMEOUT, idle_timeout=60)
    with live.shipped_daemon(tmp_path, register=False, adjust=limits) as d, live.normal_client(d):
        with socket.create_connection(("127.0.0.1", d.xmlrpc_port)) as sock:
            assert closes_within(sock, RECEIVE_TIMEOUT + SLACK)


def test_idle_keep_alive_connection_is_closed(tmp_path: Path) -> None:
    """After an answered request, a keep-alive connection silent for idle_timeout is closed.

    The receive deadline is long, so only the idle timeout can close it.
    """
    limits = live.with_limits(receive_timeout=60, idle_timeout=IDLE_TIMEOUT)
    with live.shipped_daemon(tmp_path, register=False, adjust=limits) as d, live.normal_client(d):
        connection = http.client.HTTPConnection("127.0.0.1", d.http_port, timeout=10)
        try:
            connection.request("POST", "/api/status", b"{}")
            response = connection.getresponse()
            assert response.status == 200
            response.read()
            assert connection.sock is not None, "the server did not keep the connection open"
            started = time.monotonic()
            assert closes_within(connection.sock, IDLE_TIMEOUT + SLACK)
            assert time.monotonic() - started >= IDLE_TIMEOUT - 0.5
        finally:
            connection.close()


def _capped_one_process(cap: int) -> Callable[[dict[str, Any]], None]:
    """The shipped config with ``max_connections: cap``, served by one process.

    The cap counts one process's connections: with several workers each has its own, and
    which worker a connection lands on is the kernel's choice.
    """
    limits = live.with_limits(max_connections=cap)

    def adjust(config: dict[str, Any]) -> None:
        limits(config)
        config["gateway"]["workers"] = 1

    return adjust


def test_connection_cap_on_the_xmlrpc_listener(tmp_path: Path) -> None:
    """With max_connections held on the XML-RPC listener, one more is closed unanswered.

    The HTTP listener has its own cap and keeps serving the normal client;
    once the held connections close, XML-RPC answers again.  One worker (see
    :func:`_capped_one_process`).
    """
    cap = 4
    call = xmlrpc.client.dumps(("hi",), "echothis").encode()
    adjust = _capped_one_process(cap)
    with live.shipped_daemon(tmp_path, register=False, adjust=adjust) as d, live.normal_client(d):
        assert answered(d.xmlrpc_port, "/", call)
        with held_connections(d.xmlrpc_port, cap):
            for _ in range(3):
                assert not answered(d.xmlrpc_port, "/", call), (
                    "a connection over the cap was served"
                )
        deadline = time.monotonic() + 5
        while not answered(d.xmlrpc_port, "/", call):
            assert time.monotonic() < deadline, (
                "XML-RPC did not serve again after the connections closed"
            )
            time.sleep(0.1)
        assert "max_connections" in d.output()


def test_connection_cap_on_the_http_listener(tmp_path: Path) -> None:
    """With max_connections held on the HTTP listener, callers are refused, then served again.

    One worker (see :func:`_capped_one_process`).
    """
    cap = 4
    with live.shipped_daemon(tmp_path, register=False, adjust=_capped_one_process(cap)) as d:
        assert answered(d.http_port)
        with held_connections(d.http_port, cap):
            assert not answered(d.http_port), "a connection over the cap was served"
        deadline = time.monotonic() + 5
        while not answered(d.http_port):
            assert time.monotonic() < deadline, "the listener did not serve again"
            time.sleep(0.1)
        with live.normal_client(d):
            time.sleep(0.5)
