"""Issue 8 item 4: a host with an empty label must be a failed login, not a crash.

Before the fix, ``admin@a..b`` or ``admin@.`` in HTTP Basic or a mod_rest
``--auth`` line reached Twisted's nameprep, which fails on an empty label
with an IndexError: the caller got a 500 and the log a critical traceback.
Now every malformed identifier is refused by the one preparation module, and
the caller gets the dialect's authentication error (401, XML-RPC fault -118).
"""

from __future__ import annotations

import base64
import time
import xmlrpc.client

import pytest

from tests.hostile import live
from tests.hostile.live import ATTACKER_IP, ShippedDaemon

HOSTS = ["a..b", ".", "a.", ".localhost", "localhost..", "\u200b", "a\u3002\u3002b"]

pytestmark = pytest.mark.skipif(
    not live.can_bind(ATTACKER_IP), reason=f"cannot bind {ATTACKER_IP} on this machine"
)


def basic(jid: str, password: str) -> dict[str, str]:
    token = base64.b64encode(f"{jid}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}", "Content-Type": "application/json"}


def logged_after(running: ShippedDaemon, start: int, requests: int) -> str:
    """The daemon's log since ``start``, once it holds an access line for each request."""
    deadline = time.monotonic() + 10
    while True:
        text = running.output()[start:]
        if text.count('HTTP/1.1"') >= requests or time.monotonic() > deadline:
            return text
        time.sleep(0.05)


def assert_quiet(text: str, requests: int) -> None:
    """No traceback, nothing above a warning, and at most one warning per request."""
    assert "Traceback" not in text, text
    assert "#critical]" not in text and "#error]" not in text, text
    assert text.count("#warn]") <= requests, text


def test_basic(shipped: ShippedDaemon) -> None:
    """HTTP Basic with an empty host label is 401, and the log stays quiet."""
    start = len(shipped.output())
    with live.normal_client(shipped):
        for host in HOSTS:
            status, _, body = shipped.http(
                "POST",
                "/api/status",
                b"{}",
                basic(f"admin@{host}", "adminpass"),
                source=ATTACKER_IP,
            )
            assert status == 401, (host, status, body)
    assert_quiet(logged_after(shipped, start, len(HOSTS)), len(HOSTS))


def test_rest_auth_line(shipped: ShippedDaemon) -> None:
    """A mod_rest ``--auth`` line with an empty host label is 401, and the log stays quiet."""
    start = len(shipped.output())
    # shipped mod_rest only admits loopback's 127.0.0.1: the attack comes from there
    hosts = HOSTS[:3]
    with live.normal_client(shipped):
        for host in hosts:
            status, body = shipped.rest(f"--auth admin {host} adminpass status")
            assert status == 401, (host, status, body)
    assert_quiet(logged_after(shipped, start, len(hosts)), len(hosts))


def test_xmlrpc_auth_struct(shipped: ShippedDaemon) -> None:
    """An XML-RPC auth struct with an empty host label is fault -118."""
    start = len(shipped.output())
    with live.normal_client(shipped):
        for host in HOSTS:
            auth = {"user": "admin", "server": host, "password": "adminpass"}
            answer = shipped.xmlrpc("status", auth, {}, source=ATTACKER_IP)
            assert isinstance(answer, xmlrpc.client.Fault), (host, answer)
            assert answer.faultCode == -118
    assert_quiet(logged_after(shipped, start, len(HOSTS)), len(HOSTS))


def test_command_arguments(shipped: ShippedDaemon) -> None:
    """Commands naming such a host answer like for any unknown host, without a traceback."""
    start = len(shipped.output())
    admin = ("admin@localhost", "adminpass")
    with live.normal_client(shipped):
        for host in HOSTS[:3]:
            status, _, body = shipped.api(
                "check_account", {"user": "admin", "host": host}, auth=admin
            )
            assert status == 200, (host, status, body)
            status, _, body = shipped.api(
                "send_message",
                {
                    "type": "chat",
                    "from": "admin@localhost",
                    "to": f"bob@{host}",
                    "subject": "",
                    "body": "x",
                },
                auth=admin,
            )
            assert status in (400, 404, 503), (host, status, body)
    assert_quiet(logged_after(shipped, start, 6), 6)
