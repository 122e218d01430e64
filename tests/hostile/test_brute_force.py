"""Issue 8, item 9: password guessing is limited per client address.

Each test starts its own daemon on the shipped configuration (bans are
lasting state).  The attacker comes from :data:`live.ATTACKER_IP` while a
normal client keeps asking for ``status`` from 127.0.0.1, except for the
``/rest`` attack, which ``allowed_ips`` only admits from 127.0.0.1: that test
runs no normal client, since the attacker's ban rightly covers its address.
"""

from __future__ import annotations

import base64
import json
import xmlrpc.client
from pathlib import Path

import pytest

from tests.hostile import live

#: the shipped brute_force.max_failures and ban_time
MAX_FAILURES = 20
BAN_TIME = 300

pytestmark = pytest.mark.skipif(
    not live.can_bind(live.ATTACKER_IP), reason=f"cannot bind to {live.ATTACKER_IP}"
)


def assert_retry_after(headers: dict[str, str]) -> None:
    """A ``Retry-After`` of whole seconds within the ban time."""
    assert "retry-after" in headers, headers
    assert 0 < int(headers["retry-after"]) <= BAN_TIME, headers


def status_text(daemon: live.ShippedDaemon) -> str:
    """``gatewayctl status``: the control socket has no address and is never banned."""
    done = daemon.ctl("status")
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_basic_guessing_on_api_bans_the_address_not_the_admin(tmp_path: Path) -> None:
    """Wrong Basic passwords from one address get it 429 + Retry-After; admin elsewhere is fine.

    The first ``max_failures`` wrong passwords are 401s; from then on the
    address is refused with 429, even with the right password and even
    anonymously, while the admin logging in from 127.0.0.1 is still served.
    ``status`` lists the ban (not the account: anonymous callers may read
    status), the log names the guessed account, and ``gatewayctl
    unban_ip`` lifts it (answering the number of bans lifted).
    """
    with live.shipped_daemon(tmp_path) as daemon, live.normal_client(daemon):
        attacker = live.ATTACKER_IP
        for _ in range(MAX_FAILURES):
            status, _, _ = daemon.api("status", auth=("admin@localhost", "guess"), source=attacker)
            assert status == 401
        status, headers, body = daemon.api(
            "status", auth=("admin@localhost", "guess"), source=attacker
        )
        assert status == 429, body
        assert_retry_after(headers)
        answer = json.loads(body)
        assert answer["status"] == "error" and answer["code"] == 29, answer
        assert "Too many failed authentications" in answer["message"]

        # banned: the right password from the attacker's address is refused too, before hashing
        status, headers, _ = daemon.api(
            "status", auth=("admin@localhost", "adminpass"), source=attacker
        )
        assert status == 429
        assert_retry_after(headers)
        status, _, _ = daemon.api("status", source=attacker)
        assert status == 429, "anonymous requests from a banned address are refused"

        # a stranger cannot lock the admin out: the admin from 127.0.0.1 still gets in
        status, _, body = daemon.api(
            "registered_users", {"host": "localhost"}, auth=("admin@localhost", "adminpass")
        )
        assert status == 200, body
        assert sorted(json.loads(body)) == ["admin", "alice"]

        shown = status_text(daemon)
        assert f"banned {attacker}" in shown, shown
        assert "admin@localhost" not in shown, shown
        assert "20 failed logins naming account admin@localhost" in daemon.output()

        done = daemon.ctl("unban_ip", attacker)
        assert (done.returncode, done.stdout.strip()) == (0, "1"), done.stdout + done.stderr
        assert f"banned {attacker}" not in status_text(daemon)
        status, _, body = daemon.api(
            "status", auth=("admin@localhost", "adminpass"), source=attacker
        )
        assert status == 200, body


def test_xmlrpc_auth_struct_guessing_gets_a_fault(tmp_path: Path) -> None:
    """Wrong XML-RPC auth structs from one address end in fault -118 "Too many failed …".

    Before the limit each wrong struct is the usual -118 ``Invalid
    authentication data``; past it the address gets the ban fault, even with
    the right password, while the admin from 127.0.0.1 runs ``unban_ip``
    through XML-RPC (the engine's command, answering 1).
    """
    with live.shipped_daemon(tmp_path) as daemon, live.normal_client(daemon):
        attacker = live.ATTACKER_IP

        def call(password: str, source: str | None = attacker) -> object:
            auth = {"user": "admin", "server": "localhost", "password": password}
            return daemon.xmlrpc("registered_users", auth, {"host": "localhost"}, source=source)

        for _ in range(MAX_FAILURES):
            fault = call("guess")
            assert isinstance(fault, xmlrpc.client.Fault), fault
            assert (fault.faultCode, fault.faultString) == (
                -118,
                "Error -118\nInvalid authentication data",
            )
        for password in ("guess", "adminpass"):
            fault = call(password)
            assert isinstance(fault, xmlrpc.client.Fault), fault
            assert fault.faultCode == -118
            assert "Too many failed authentications" in fault.faultString, fault.faultString
        anonymous = daemon.xmlrpc("status", source=attacker)
        assert isinstance(anonymous, xmlrpc.client.Fault), anonymous
        assert "Too many failed authentications" in anonymous.faultString

        # the admin from another address is not locked out, and lifts the ban
        assert call("adminpass", source=None) == {"users": ["admin", "alice"]}
        auth = {"user": "admin", "server": "localhost", "password": "adminpass"}
        assert daemon.xmlrpc("unban_ip", auth, {"address": attacker}) == {"unbanned": 1}
        assert call("adminpass") == {"users": ["admin", "alice"]}


def test_rest_auth_guessing_gets_429(tmp_path: Path) -> None:
    """Wrong ``--auth`` lines on /rest end in 429 + Retry-After with a mod_rest text body.

    /rest only admits 127.0.0.1 (``allowed_ips``), so the attacker and the
    admin share that address here; gatewayctl, which has no address, is
    never banned and lifts the ban with ``unban_ip``.
    """
    with live.shipped_daemon(tmp_path) as daemon:
        line = "--auth admin localhost guess status"
        for _ in range(MAX_FAILURES):
            status, _ = daemon.rest(line)
            assert status == 401
        status, headers, body = daemon.http("POST", "/rest", line.encode())
        assert status == 429, body
        assert_retry_after(headers)
        assert body.startswith(b"Error: Too many failed authentications"), body
        status, _ = daemon.rest("--auth admin localhost adminpass status")
        assert status == 429

        assert "banned 127.0.0.1" in status_text(daemon)
        done = daemon.ctl("unban_ip", "127.0.0.0/8")
        assert (done.returncode, done.stdout.strip()) == (0, "1"), done.stdout + done.stderr
        status, body = daemon.rest("--auth admin localhost adminpass status")
        assert status == 200 and b"is started" in body, body


def test_malformed_basic_credentials_count_as_failures(tmp_path: Path) -> None:
    """Garbage Authorization headers are failures too: they lead to the same ban."""
    with live.shipped_daemon(tmp_path, register=False) as daemon:
        attacker = live.ATTACKER_IP
        garbage = "Basic " + base64.b64encode(b"no-colon-here").decode()
        for _ in range(MAX_FAILURES):
            status, _, _ = daemon.http(
                "POST", "/api/status", b"{}", {"Authorization": garbage}, source=attacker
            )
            assert status == 401
        status, headers, _ = daemon.http(
            "POST", "/api/status", b"{}", {"Authorization": garbage}, source=attacker
        )
        assert status == 429
        assert_retry_after(headers)
