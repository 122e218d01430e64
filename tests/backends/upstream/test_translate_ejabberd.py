"""The 23.01 translation against Debian's ejabberd 23.01 itself.

Each test sends a canonical call, translated by :func:`translate_call`, to
a private ejabberd's ``/api`` (loopback), decodes the answer by the 23.01
definition and reads it back with :func:`translate_result`: what 23.01
really answers must come back in the canonical shape.  The HTTP requests are
plain blocking ones; no reactor runs here.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from gateway.backends.upstream.decode import decode_result, encode_args
from gateway.backends.upstream.translate import translate_call, translate_result
from gateway.engine.model import ResTuple
from gateway.engine.names import LEGACY_PROFILE
from tests.integration.servers import EjabberdServer, missing_ejabberd, require

pytestmark = pytest.mark.integration

HOST = "localhost"
MUC = f"conference.{HOST}"
NODES = ["urn:xmpp:mucsub:nodes:messages", "urn:xmpp:mucsub:nodes:affiliations"]


@pytest.fixture(scope="module")
def ejabberd() -> Iterator[EjabberdServer]:
    """One ejabberd 23.01 with MUC, shared roster groups and admin-issued OAuth tokens."""
    require(missing_ejabberd())
    server = EjabberdServer(
        users={"alice": "a-secret", "bob": "b-secret", "carol": "c-secret"},
        component=False,
        extra={
            "modules": {
                "mod_admin_extra": {},
                "mod_muc": {"host": MUC},
                "mod_muc_admin": {},
                "mod_shared_roster": {},
            },
            "oauth_access": "all",
        },
    )
    try:
        server.start()
        yield server
    finally:
        server.close()


def run(server: EjabberdServer, command: str, args: dict[str, Any]) -> Any:
    """Canonical ``command`` run on ``server`` through the translation; the canonical answer."""
    call = translate_call(LEGACY_PROFILE, command, args)
    body = json.dumps(encode_args(call.definition.args, call.args)).encode()
    request = urllib.request.Request(
        f"http://127.0.0.1:{server.http_port}/api/{call.name}", data=body, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            raw = json.loads(answer.read() or b"null")
    except urllib.error.HTTPError as e:
        raise AssertionError(f"{command}: HTTP {e.code} {e.read()!r}") from None
    return translate_result(LEGACY_PROFILE, command, decode_result(call.definition.result, raw))


def test_roster_groups_go_and_come_back(ejabberd: EjabberdServer) -> None:
    """Groups sent as a list come back per contact, in the roster's order; the count agrees."""
    for user, nick, groups, subs in (
        ("bob", "Bob", ["Friends", "Work"], "both"),
        ("carol", "Carol", [], "to"),
        ("dave", "", ["X"], "none"),
    ):
        args = {
            "localuser": "alice",
            "localhost": HOST,
            "user": user,
            "host": HOST,
            "nick": nick,
            "groups": groups,
            "subs": subs,
        }
        assert run(ejabberd, "add_rosteritem", args) is True
    account = {"user": "alice", "host": HOST}
    assert run(ejabberd, "get_roster", account) == [
        (f"bob@{HOST}", "Bob", "both", "undefined", ["Friends", "Work"]),
        (f"carol@{HOST}", "Carol", "to", "undefined", []),
        (f"dave@{HOST}", "", "none", "undefined", ["X"]),
    ]
    assert run(ejabberd, "get_roster_count", account) == 3


def test_shared_roster_groups_display_lists(ejabberd: EjabberdServer) -> None:
    """Displayed groups sent as a list read back from srg_get_info and srg_get_displayed."""
    for group, display in (("staff", ["staff", "managers"]), ("solo", ["one"]), ("none", [])):
        args = {"group": group, "host": HOST, "label": "L", "description": "", "display": display}
        assert run(ejabberd, "srg_create", args) is True
        where = {"group": group, "host": HOST}
        assert run(ejabberd, "srg_get_displayed", where) == display
        info = dict(run(ejabberd, "srg_get_info", where))
        assert info["displayed_groups"] == ", ".join(display)
        assert info["label"] == "L"
    missing = {"group": "missing", "host": HOST}
    assert run(ejabberd, "srg_get_info", missing) == []
    assert run(ejabberd, "srg_get_displayed", missing) == []


def test_private_messages_are_allowpm(ejabberd: EjabberdServer) -> None:
    """allowpm none/anyone goes as 23.01's allow_private_messages and reads back as allowpm."""
    room = {"room": "quiet", "service": MUC}
    options = [("allowpm", "none"), ("members_only", "true")]
    assert run(ejabberd, "create_room_with_opts", {**room, "host": HOST, "options": options})
    found = dict(run(ejabberd, "get_room_options", room))
    assert (found["allowpm"], found["members_only"]) == ("none", "true")
    assert "allow_private_messages" not in found
    change = {**room, "option": "allowpm", "value": "anyone"}
    assert run(ejabberd, "change_room_option", change) is True
    assert dict(run(ejabberd, "get_room_options", room))["allowpm"] == "anyone"
    assert run(ejabberd, "get_room_options", {"room": "nosuch", "service": MUC}) == []


def test_affiliations_by_user_and_host(ejabberd: EjabberdServer) -> None:
    """24.12's user and host set an affiliation that reads back by JID, a server's by its domain."""
    room = {"room": "lobby", "service": MUC}
    assert run(ejabberd, "create_room", {**room, "host": HOST}) is True
    for user, host, affiliation in (("bob", HOST, "admin"), ("", "example.net", "outcast")):
        args = {**room, "user": user, "host": host, "affiliation": affiliation}
        assert run(ejabberd, "set_room_affiliation", args) is True
    assert sorted(run(ejabberd, "get_room_affiliations", room)) == [
        (f"bob@{HOST}", "admin", ""),
        ("example.net", "outcast", ""),
    ]
    assert run(ejabberd, "get_room_affiliation", {**room, "jid": f"bob@{HOST}"}) == "admin"


def test_subscriptions_by_user_and_room_parts(ejabberd: EjabberdServer) -> None:
    """Subscribing by parts and a node list works on 23.01, which took JIDs and a string."""
    room = {"room": "subs", "service": MUC}
    options = [("allow_subscription", "true")]
    assert run(ejabberd, "create_room_with_opts", {**room, "host": HOST, "options": options})
    one = {"user": "alice", "host": HOST, "nick": "al", **room, "nodes": NODES}
    assert run(ejabberd, "subscribe_room", one) == NODES
    many = {"users": [("bob", HOST, "bo"), ("carol", HOST, "ca")], **room, "nodes": NODES[:1]}
    assert run(ejabberd, "subscribe_room_many", many) is True
    everyone = {f"{name}@{HOST}" for name in ("alice", "bob", "carol")}
    assert set(run(ejabberd, "get_subscribers", room)) == everyone
    leave = {"user": "alice", "host": HOST, **room}
    assert run(ejabberd, "unsubscribe_room", leave) is True
    assert set(run(ejabberd, "get_subscribers", room)) == everyone - {f"alice@{HOST}"}


def test_nick_registration_by_user_and_host(ejabberd: EjabberdServer) -> None:
    """A nick registers and unregisters by user and host through 23.01's JID arguments."""
    who = {"user": "alice", "host": HOST, "service": MUC}
    assert run(ejabberd, "muc_register_nick", {"nick": "ally", **who}) is True
    assert run(ejabberd, "muc_unregister_nick", who) is True


def test_oauth_scopes_read_back_as_lists(ejabberd: EjabberdServer) -> None:
    """23.01 runs a token's scopes together; they read back as the scopes asked for."""
    scopes = ["get_roster", "ejabberd:user"]
    token, granted, expires = run(
        ejabberd, "oauth_issue_token", {"jid": f"alice@{HOST}", "ttl": 3600, "scopes": scopes}
    )
    assert (granted, expires) == (scopes, "3600 seconds")
    listed = {t: scope for t, _, scope, _ in run(ejabberd, "oauth_list_tokens", {})}
    assert listed[token] == "get_roster ejabberd:user"


def test_counts_read_back_as_texts(ejabberd: EjabberdServer) -> None:
    """kick_user's and rooms_empty_destroy's 23.01 answers read back as 24.12's texts."""
    assert run(ejabberd, "kick_user", {"user": "carol", "host": HOST}) == ResTuple(
        "Kicked sessions: 0"
    )
    outcome = run(ejabberd, "rooms_empty_destroy", {"service": MUC})
    assert outcome.ok and outcome.text.startswith("Destroyed rooms: ")
