"""Issue 8, item 3 (bodies): decoding a body of up to max_body_bytes never holds the event loop.

Each test sends valid bodies just under the shipped 1 MiB limit, several at
once and over and over, that take a noticeable time to decode (many small
JSON objects, XML-RPC structs, stanza elements, an unterminated quoted
mod_rest word, a url-encoded form of many fields), and checks each answer
while a normal client must keep getting ``status`` in well under a second.
"""

from __future__ import annotations

import json
import threading
import time
import xmlrpc.client
from collections.abc import Callable

from tests.hostile import live

MIB = 1 << 20
#: concurrent senders, and how long they keep sending
SENDERS = 4
DURATION = 4.0


def json_body() -> bytes:
    """A valid JSON object of just under 1 MiB: thousands of small objects."""
    items = [{f"k{i}": [1, "x", True]} for i in range(40_000)]
    while len(json.dumps({"padding": items})) > MIB - 1024:
        del items[-500:]
    return json.dumps({"padding": items}).encode()


def xmlrpc_body() -> bytes:
    """An echothis call of just under 1 MiB: an array of thousands of structs."""
    values = [{"n": "abc"}] * 10_000
    while len(xmlrpc.client.dumps((values,), "echothis")) > MIB - 1024:
        del values[-200:]
    return xmlrpc.client.dumps((values,), "echothis").encode()


def stanza_body() -> bytes:
    """A message stanza of just under 1 MiB with thousands of extension elements."""
    count = (MIB - 1024) // len(b"<x xmlns='urn:x'><y a='1'/></x>")
    return (
        b"<message to='alice@localhost'>"
        + b"<x xmlns='urn:x'><y a='1'/></x>" * count
        + b"</message>"
    )


def hammer(send: Callable[[], None]) -> list[str]:
    """Run ``send`` from SENDERS threads for DURATION seconds; the problems they met."""
    problems: list[str] = []
    stop = time.monotonic() + DURATION

    def loop() -> None:
        while time.monotonic() < stop:
            try:
                send()
            except Exception as e:  # recorded, asserted on by the test
                problems.append(repr(e))
                return

    threads = [threading.Thread(target=loop) for _ in range(SENDERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return problems


def test_large_json_bodies(shipped: live.ShippedDaemon) -> None:
    """1 MiB JSON bodies get their answer (an unknown argument) while others are served."""
    body = json_body()

    def send() -> None:
        status, _, answer = shipped.http(
            "POST", "/api/status", body, {"Content-Type": "application/json"}, timeout=30
        )
        assert (status, answer) == (400, b'"Request have unknown arguments: [padding]"')

    with live.normal_client(shipped):
        assert hammer(send) == []


def test_large_xmlrpc_bodies(shipped: live.ShippedDaemon) -> None:
    """1 MiB XML-RPC calls are decoded, and echoed back whole, while others are served."""
    body = xmlrpc_body()
    expected = xmlrpc.client.loads(body)[0]

    def send() -> None:
        status, _, answer = shipped.http(
            "POST", "/", body, {"Content-Type": "text/xml"}, port=shipped.xmlrpc_port, timeout=30
        )
        assert status == 200
        assert xmlrpc.client.loads(answer)[0] == expected

    with live.normal_client(shipped):
        assert hammer(send) == []


def test_large_stanzas(shipped: live.ShippedDaemon) -> None:
    """1 MiB stanzas posted to mod_rest are parsed and queued while others are served."""
    body = stanza_body()

    def send() -> None:
        assert shipped.rest(body) == (200, b"Ok")

    with live.normal_client(shipped):
        assert hammer(send) == []


def test_large_command_lines(shipped: live.ShippedDaemon) -> None:
    """1 MiB mod_rest command lines (an unterminated quote, a form) are split off the loop."""
    quoted = b'registered_users "' + b"a" * (MIB - 1024)
    form = b"&".join([b"registered_users=localhost"] * ((MIB - 1024) // 27))

    def send() -> None:
        status, answer = shipped.rest(quoted)
        assert status == 403 and b"api_permissions" in answer, answer[:200]
        status, _, answer = shipped.http(
            "POST", "/rest", form, {"Content-Type": "application/x-www-form-urlencoded"}
        )
        assert status == 200 and answer.startswith(b"Error: unknown command"), answer[:200]

    with live.normal_client(shipped):
        assert hammer(send) == []
