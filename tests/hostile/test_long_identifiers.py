"""Issue 8 item 3: megabyte-long identifiers must not hold the event loop.

Before the fix, a user, host or password of a megabyte in an XML-RPC auth
struct, a Basic header, an ``--auth`` line or a command argument was run
through stringprep on the event loop before any length check: every other
client waited seconds.  Now user, host and resource are refused past 1023
UTF-8 bytes and passwords past ``gateway.limits.max_password_bytes`` before
any preparation, so each attack is answered at once with the dialect's
authentication error, and a normal client is served throughout.
"""

from __future__ import annotations

import base64
import json
import xmlrpc.client

import pytest

from tests.hostile import live
from tests.hostile.live import ADMIN, ATTACKER_IP, ShippedDaemon

#: under max_body_bytes (1 MiB) with the rest of the request around it
HUGE = "a" * 1_000_000

pytestmark = pytest.mark.skipif(
    not live.can_bind(ATTACKER_IP), reason=f"cannot bind {ATTACKER_IP} on this machine"
)


def basic(user_at_host: str, password: str) -> dict[str, str]:
    token = base64.b64encode(f"{user_at_host}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}", "Content-Type": "application/json"}


@pytest.mark.parametrize(
    "auth",
    [
        {"user": HUGE, "server": "localhost", "password": "x"},
        {"user": "admin", "server": HUGE, "password": "x"},
        {"user": "admin", "server": "localhost", "password": HUGE},
    ],
    ids=["user", "server", "password"],
)
def test_xmlrpc_auth_struct(shipped: ShippedDaemon, auth: dict[str, str]) -> None:
    """A 1 MB member of the XML-RPC auth struct is fault -118, and others are served meanwhile."""
    with live.normal_client(shipped):
        for _ in range(3):
            answer = shipped.xmlrpc("status", auth, {}, source=ATTACKER_IP)
            assert isinstance(answer, xmlrpc.client.Fault), answer
            assert answer.faultCode == -118


def test_basic_header(shipped: ShippedDaemon) -> None:
    """Basic credentials as long as an HTTP header allows are 401 at once."""
    # Twisted caps a request's headers at 16 KiB; this is as long as a header gets
    long = "a" * 12_000
    with live.normal_client(shipped):
        for jid, password in ((f"{long}@localhost", "x"), (f"admin@{long}", "x")):
            status, _, body = shipped.http(
                "POST", "/api/status", b"{}", basic(jid, password), source=ATTACKER_IP
            )
            assert status == 401, body


def test_rest_auth_line(shipped: ShippedDaemon) -> None:
    """A 1 MB user, host or password in a mod_rest ``--auth`` line is 401 at once."""
    # shipped mod_rest only admits loopback's 127.0.0.1: the attack comes from there
    with live.normal_client(shipped):
        for line in (
            f"--auth {HUGE} localhost x status",
            f"--auth admin {HUGE} x status",
            f"--auth admin localhost {HUGE} status",
        ):
            status, body = shipped.rest(line)
            assert status == 401, body[:200]


def test_command_arguments(shipped: ShippedDaemon) -> None:
    """An administrator's command naming a 1 MB user or host answers at once."""
    user, host, password = ADMIN
    admin = (f"{user}@{host}", password)
    unknown = shipped.api("check_account", {"user": "ghost", "host": "localhost"}, auth=admin)
    assert unknown[0] == 200, unknown
    with live.normal_client(shipped):
        for args in ({"user": HUGE, "host": "localhost"}, {"user": "admin", "host": HUGE}):
            status, _, body = shipped.api("check_account", args, auth=admin)
            # the same answer as for any account that does not exist
            assert (status, json.loads(body)) == (200, json.loads(unknown[2])), body[:200]
