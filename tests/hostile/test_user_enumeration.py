"""Issue 8 item 8: answers must not tell which accounts exist.

Before the fix ``check_password_hash`` failed with "cannot check a md5
password hash" for an existing account but answered false for a missing
one, and ``check_password`` hashed only for existing accounts.  Now every
login path and both commands answer an unknown account exactly like an
existing one given a wrong password: same status, same body (the equal
work, one PBKDF2 either way, is checked by counting hashes in
``tests/backends/embedded/test_enumeration.py`` rather than by timing here).
"""

from __future__ import annotations

import base64
import xmlrpc.client
from functools import partial
from typing import Any

import pytest

from tests.hostile import live
from tests.hostile.live import ATTACKER_IP, ShippedDaemon

ADMIN_AUTH = ("admin@localhost", "adminpass")
#: an existing account and one that does not exist
ACCOUNTS = ("alice", "ghost")

pytestmark = pytest.mark.skipif(
    not live.can_bind(ATTACKER_IP), reason=f"cannot bind {ATTACKER_IP} on this machine"
)


def same_for_both(answer: Any) -> None:
    """``answer(user)`` is identical for the existing and the missing account."""
    existing, missing = (answer(user) for user in ACCOUNTS)
    assert existing == missing, (existing, missing)


def without_date(reply: tuple[int, dict[str, str], bytes]) -> tuple[int, dict[str, str], bytes]:
    status, headers, body = reply
    return status, {k: v for k, v in headers.items() if k != "date"}, body


def test_check_password_hash(shipped: ShippedDaemon) -> None:
    """check_password_hash answers a missing account like an existing one."""

    def check(user: str, method: str) -> Any:
        args = {"user": user, "host": "localhost", "passwordhash": "0" * 32, "hashmethod": method}
        return without_date(shipped.api("check_password_hash", args, auth=ADMIN_AUTH))

    with live.normal_client(shipped):
        for method in ("md5", "sha"):
            same_for_both(partial(check, method=method))


def test_check_password(shipped: ShippedDaemon) -> None:
    """check_password with a wrong password answers a missing account like an existing one."""
    with live.normal_client(shipped):
        same_for_both(
            lambda user: without_date(
                shipped.api(
                    "check_password",
                    {"user": user, "host": "localhost", "password": "wrong"},
                    auth=ADMIN_AUTH,
                )
            )
        )


def test_logins(shipped: ShippedDaemon) -> None:
    """Basic, XML-RPC and --auth logins of a missing account fail like a wrong password."""

    def basic(user: str) -> Any:
        token = base64.b64encode(f"{user}@localhost:wrong".encode()).decode()
        headers = {"Authorization": f"Basic {token}", "Content-Type": "application/json"}
        return without_date(shipped.http("POST", "/api/status", b"{}", headers, source=ATTACKER_IP))

    def xmlrpc_call(user: str) -> Any:
        auth = {"user": user, "server": "localhost", "password": "wrong"}
        fault = shipped.xmlrpc("status", auth, {}, source=ATTACKER_IP)
        assert isinstance(fault, xmlrpc.client.Fault)
        return fault.faultCode, fault.faultString

    def rest(user: str) -> Any:
        return shipped.rest(f"--auth {user} localhost wrong status")

    with live.normal_client(shipped):
        for login in (basic, xmlrpc_call, rest):
            same_for_both(login)
