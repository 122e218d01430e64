"""The ``xmpp`` backend end to end, as a new operator would try it (Prosody 0.12, ejabberd 23.01).

A gateway with ``gateway.backend: xmpp`` and ``gateway.auth: xmpp`` is linked to each server's
component port; the API caller is ``admin@localhost``, an account of the XMPP server whose
password the gateway checks by logging in.  Accounts are created through XML-RPC and used
with a real XMPP client (slixmpp).
"""

from __future__ import annotations

import time
import xmlrpc.client
from typing import Any

import pytest

from tests.integration.daemon import post_json
from tests.integration.xmpp_backend.conftest import ADMIN_PASSWORD, Setup
from tests.integration.xmpp_backend.rosterclient import RosterReceiver
from tests.integration.xmppclient import Receiver, can_login

ADMIN = {"user": "admin", "server": "localhost", "password": ADMIN_PASSWORD}


def xmlrpc_proxy(setup: Setup) -> Any:
    return xmlrpc.client.ServerProxy(f"http://127.0.0.1:{setup.gateway.xmlrpc_port}/")


def register(setup: Setup, user: str, password: str) -> None:
    """Create ``user@localhost`` through the gateway's XML-RPC, as ejabberd's own clients do."""
    answer = xmlrpc_proxy(setup).register(
        ADMIN, {"user": user, "host": "localhost", "password": password}
    )
    assert "successfully registered" in str(answer), answer


def logs_in(setup: Setup, user: str, password: str) -> bool:
    server = setup.server
    return can_login(server.host, server.c2s_port, server.jid(user), password)


def wait_for(predicate: Any, timeout: float = 15, what: str = "condition") -> Any:
    """Poll ``predicate()`` until it returns something true; that value, or AssertionError."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"{what}: not met within {timeout}s")


def test_registered_account_logs_in(setup: Setup) -> None:
    """An account registered through XML-RPC via the gateway logs in with a real client."""
    register(setup, "newbie", "first-pass")
    assert logs_in(setup, "newbie", "first-pass")
    assert not logs_in(setup, "newbie", "another")


def test_register_twice_is_a_conflict(setup: Setup) -> None:
    """Registering an existing account is refused with a clear error, not a success."""
    register(setup, "twice", "pw")
    with pytest.raises(xmlrpc.client.Fault) as raised:
        register(setup, "twice", "pw")
    assert "already" in raised.value.faultString.lower()


def test_change_password(setup: Setup) -> None:
    """change_password makes the old password fail and the new one work."""
    register(setup, "changer", "old-pass")
    answer = xmlrpc_proxy(setup).change_password(
        ADMIN, {"user": "changer", "host": "localhost", "newpass": "new-pass"}
    )
    assert answer == 0 or answer is True or answer == {"res": 0}, answer
    assert logs_in(setup, "changer", "new-pass")
    assert not logs_in(setup, "changer", "old-pass")


def test_unregister(setup: Setup) -> None:
    """unregister makes the login fail."""
    register(setup, "leaver", "pw")
    assert logs_in(setup, "leaver", "pw")
    xmlrpc_proxy(setup).unregister(ADMIN, {"user": "leaver", "host": "localhost"})
    assert not logs_in(setup, "leaver", "pw")


def test_connected_users_and_kick_session(setup: Setup) -> None:
    """connected_users lists a logged-in client; kick_session disconnects it.

    XEP-0133 lists online accounts, not sessions, so the backend's connected_users gives
    bare JIDs; the session to kick is named by the resource the client was bound to.
    """
    register(setup, "online", "pw")
    server = setup.server
    bare = server.jid("online")

    def listed() -> bool:
        status, sessions = setup.api("connected_users")
        assert status == 200, sessions
        assert isinstance(sessions, list)
        return any(s == bare or s.startswith(bare + "/") for s in sessions)

    assert not listed()
    client = RosterReceiver(server.host, server.c2s_port, bare, "pw", reconnect=False)
    with client:
        wait_for(listed, what="the client in connected_users")
        resource = client.bound_jid.split("/", 1)[1]
        status, answer = setup.api(
            "kick_session",
            {"user": "online", "host": "localhost", "resource": resource, "reason": "bye"},
        )
        assert (status, answer) == (200, 0)
        wait_for(lambda: not client.online, what="the kicked client disconnected")
        wait_for(lambda: not listed(), what="the account gone from connected_users")


def test_roster(setup: Setup) -> None:
    """add_rosteritem reaches the logged-in client as a roster push; get_roster returns it.

    ejabberd 23.01 cannot set a roster item for a component (XEP-0356 set fails there with
    internal-server-error), so on it the command must fail clearly and add nothing.
    """
    register(setup, "rosterer", "pw")
    server = setup.server
    args = {
        "localuser": "rosterer",
        "localhost": "localhost",
        "user": "pal",
        "host": "localhost",
        "nick": "Pal",
        "groups": ["Friends"],
        "subs": "both",
    }
    with RosterReceiver(server.host, server.c2s_port, server.jid("rosterer"), "pw") as client:
        status, answer = setup.api("add_rosteritem", args)
        if setup.kind == "ejabberd":
            assert status >= 400, answer
            assert isinstance(answer, dict) and answer.get("message"), answer
        else:
            assert (status, answer) == (200, 0)
            jid, name, _, groups = client.wait_for_push(server.jid("pal"))
            assert (name, groups) == ("Pal", ("Friends",))
    status, roster = setup.api("get_roster", {"user": "rosterer", "host": "localhost"})
    assert status == 200, roster
    assert isinstance(roster, list)
    if setup.kind == "ejabberd":
        assert roster == []
    else:
        [contact] = roster
        assert contact["jid"] == server.jid("pal")
        assert contact["nick"] == "Pal"
        assert contact["groups"] == ["Friends"]


def test_xmpp_auth_checks_passwords_by_login(setup: Setup) -> None:
    """gateway.auth: xmpp admits a server account with its password and refuses a wrong one.

    An ordinary account's right password gets "forbidden" (it is known, but not an admin),
    a wrong one "unauthorized"; after change_password through the gateway the old password
    is refused at once, although it was just verified (the credential cache forgets it).
    """
    assert setup.api("connected_users")[0] == 200
    status, body = setup.api("connected_users", password="wrong")
    assert status == 401, body
    register(setup, "caller", "one")
    status, body = post_as(setup, "caller", "one")
    assert status == 403, body
    assert post_as(setup, "caller", "two")[0] == 401
    setup.api("change_password", {"user": "caller", "host": "localhost", "newpass": "two"})
    assert post_as(setup, "caller", "one")[0] == 401
    assert post_as(setup, "caller", "two")[0] == 403


def test_xmlrpc_auth_wrong_password(setup: Setup) -> None:
    """An XML-RPC auth struct with a wrong password is refused with a fault."""
    wrong = {**ADMIN, "password": "nope"}
    with pytest.raises(xmlrpc.client.Fault):
        xmlrpc_proxy(setup).connected_users(wrong)


def post_as(setup: Setup, user: str, password: str) -> tuple[int, Any]:
    """POST /api/connected_users as ``user@localhost``."""
    auth = (f"{user}@localhost", password)
    return post_json(setup.gateway.http_port, "connected_users", None, timeout=30, auth=auth)


def test_send_message_as_a_user(setup: Setup) -> None:
    """send_message from an account of the host arrives from that account (XEP-0356 message
    privilege), not from the component."""
    register(setup, "talker", "pw")
    register(setup, "listener", "pw")
    server = setup.server
    with Receiver(server.host, server.c2s_port, server.jid("listener"), "pw") as listener:
        status, answer = setup.api(
            "send_message",
            {
                "type": "chat",
                "from": server.jid("talker"),
                "to": server.jid("listener"),
                "subject": "",
                "body": "from a user",
            },
        )
        assert (status, answer) == (200, 0)
        [message] = listener.wait_until(lambda ms: any(m.body == "from a user" for m in ms))
        assert message.sender.split("/")[0] == server.jid("talker")


#: commands the server offers no way to run, per server (README: "In front of Prosody")
NOT_OFFERED = {
    "prosody": ["connected_users_number", "registered_users", "ban_account"],
    "ejabberd": ["ban_account", "add_rosteritem", "delete_rosteritem"],
}


def test_what_is_not_offered_says_so(setup: Setup) -> None:
    """A command the server cannot run answers 501 "not supported by the xmpp backend",
    naming what the server lacks, never a made-up result."""
    args = {
        "connected_users_number": {},
        "registered_users": {"host": "localhost"},
        "ban_account": {"user": "admin", "host": "localhost", "reason": "test"},
        "add_rosteritem": {
            "localuser": "admin",
            "localhost": "localhost",
            "user": "x",
            "host": "localhost",
            "nick": "",
            "groups": [],
            "subs": "none",
        },
        "delete_rosteritem": {
            "localuser": "admin",
            "localhost": "localhost",
            "user": "x",
            "host": "localhost",
        },
    }
    for command in NOT_OFFERED[setup.kind]:
        status, answer = setup.api(command, args[command])
        assert status == 501, (command, answer)
        assert isinstance(answer, dict)
        assert "not supported by the xmpp backend on localhost" in answer["message"], answer


def test_counts_on_ejabberd(setup: Setup) -> None:
    """ejabberd 23.01 also offers the count and list nodes: registered_users, stats and
    connected_users_number run there."""
    if setup.kind != "ejabberd":
        pytest.skip("Prosody 0.12 offers no count or registered-users nodes")
    register(setup, "counted", "pw")
    status, users = setup.api("registered_users", {"host": "localhost"})
    assert status == 200 and "counted" in users and "admin" in users, users
    status, number = setup.api("stats", {"name": "registeredusers"})
    assert status == 200 and number == len(users), number
    assert setup.api("connected_users_number")[0] == 200
