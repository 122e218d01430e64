"""Issue 8 item 5: a password with trailing NUL bytes must not log in.

PBKDF2 pads a key shorter than its block with zero bytes, so before the fix
``adminpass\\0`` produced the same SCRAM keys as ``adminpass`` and logged in.
Passwords are now SASLprepped (RFC 4013) on register, change and every check,
as XMPP servers do: NUL and the other prohibited characters are refused when
setting a password and never match when checking one.
"""

from __future__ import annotations

import base64
import json

import pytest

from tests.hostile import live
from tests.hostile.live import ATTACKER_IP, ShippedDaemon

ADMIN_AUTH = ("admin@localhost", "adminpass")

pytestmark = pytest.mark.skipif(
    not live.can_bind(ATTACKER_IP), reason=f"cannot bind {ATTACKER_IP} on this machine"
)


def basic(jid: str, password: str) -> dict[str, str]:
    token = base64.b64encode(f"{jid}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}", "Content-Type": "application/json"}


def test_basic_login(shipped: ShippedDaemon) -> None:
    """Basic ``admin@localhost:adminpass\\0`` is 401; the real password still works."""
    with live.normal_client(shipped):
        for password in ("adminpass\x00", "adminpass\x00\x00\x00"):
            status, _, body = shipped.http(
                "POST", "/api/status", b"{}", basic("admin@localhost", password), source=ATTACKER_IP
            )
            assert status == 401, (password, status, body)
        status, _, body = shipped.http(
            "POST", "/api/status", b"{}", basic(*ADMIN_AUTH), source=ATTACKER_IP
        )
        assert status == 200, body


def test_rest_auth_line(shipped: ShippedDaemon) -> None:
    """``--auth admin localhost adminpass\\0`` is 401 on mod_rest; without the NUL it works."""
    with live.normal_client(shipped):
        status, body = shipped.rest(b"--auth admin localhost adminpass\x00 status")
        assert status == 401, body
        status, body = shipped.rest(b"--auth admin localhost adminpass status")
        assert status == 200, body


def test_check_password_command(shipped: ShippedDaemon) -> None:
    """check_password answers false for the password with a NUL appended."""
    with live.normal_client(shipped):
        for password, expected in (("alicepass\x00", False), ("alicepass", True)):
            args = {"user": "alice", "host": "localhost", "password": password}
            status, _, body = shipped.api("check_password", args, auth=ADMIN_AUTH)
            assert status == 200, body
            # check_password is a rescode: 0 for true, 1 for false
            assert json.loads(body) == (0 if expected else 1), (password, body)


def test_cannot_set_a_password_with_nul(shipped: ShippedDaemon) -> None:
    """register and change_password refuse a NUL with a clear 400 naming the argument."""
    with live.normal_client(shipped):
        status, _, body = shipped.api(
            "register",
            {"user": "mallory", "host": "localhost", "password": "pw\x00"},
            auth=ADMIN_AUTH,
        )
        assert status == 400 and b"password" in body, body
        status, _, body = shipped.api(
            "check_account", {"user": "mallory", "host": "localhost"}, auth=ADMIN_AUTH
        )
        assert (status, json.loads(body)) == (200, 1), body
        status, _, body = shipped.api(
            "change_password",
            {"user": "alice", "host": "localhost", "newpass": "alicepass\x00"},
            auth=ADMIN_AUTH,
        )
        assert status == 400 and b"newpass" in body, body
        args = {"user": "alice", "host": "localhost", "password": "alicepass"}
        status, _, body = shipped.api("check_password", args, auth=ADMIN_AUTH)
        assert (status, json.loads(body)) == (200, 0), body
