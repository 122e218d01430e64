"""Version adapters: old definitions run the newest backend operation.

Each case calls an old definition through a real :class:`Engine` whose
backend (:class:`gateway.testing.FakeBackend`) records the canonical call it
receives and answers a canned value shaped like the newest definition's
result.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pytest
from twisted.internet.defer import Deferred
from twisted.python.failure import Failure

from gateway.engine.adapters import standard_adapters
from gateway.engine.catalogue import Catalogue
from gateway.engine.dispatch import Engine, with_policy_args
from gateway.engine.erlprint import TermText
from gateway.engine.errors import (
    BadArgumentType,
    CommandFailed,
    InternalError,
    NotSupported,
)
from gateway.engine.model import Caller, CommandCall, ResTuple, Result
from gateway.engine.names import PROFILES
from gateway.testing import FakeBackend
from tests.engine.helpers import NoCommands, canonical_calls, make_engine

CALLER = Caller(frontend="mod_http_api")
MUC = "conference.example.org"
NODES = ["urn:xmpp:mucsub:nodes:messages", "urn:xmpp:mucsub:nodes:affiliations"]


#: the registry the daemon's engine gets
ADAPTERS = standard_adapters()


def engine_for(profile: str, backend: FakeBackend) -> Engine:
    return make_engine(backend, profile=profile, gateway=NoCommands())


def outcome(deferred: Deferred[Result]) -> Result:
    """The result of an already fired Deferred, raising its failure."""
    fired: list[Any] = []
    deferred.addBoth(fired.append)
    assert fired, "the call did not complete synchronously"
    if isinstance(fired[0], Failure):
        fired[0].raiseException()
    result: Result = fired[0]
    return result


def call(
    profile: str, name: str, version: int, args: Mapping[str, Any], answers: Mapping[str, Any]
) -> tuple[Result, FakeBackend]:
    backend = FakeBackend(answers=answers)
    engine = engine_for(profile, backend)
    deferred = engine.call(
        CommandCall(name, tuple(args.items()), version, frontend=CALLER.frontend)
    )
    return outcome(deferred), backend


@dataclass(frozen=True)
class Case:
    """One adapter exercised both ways."""

    profiles: tuple[str, ...]
    name: str
    version: int
    given: dict[str, Any]
    #: the canonical calls the backend must receive, in order
    calls: list[tuple[str, dict[str, Any]]]
    answers: dict[str, Any]
    expected: Any
    label: str = field(default="")


BOTH = ("24.12", "23.01")

CASES: list[Case] = [
    Case(
        BOTH,
        "add_rosteritem",
        0,
        {
            "localuser": "alice",
            "localhost": "example.org",
            "user": "bob",
            "host": "example.org",
            "nick": "Bob",
            "group": "Friends;Work",
            "subs": "both",
        },
        [
            (
                "add_rosteritem",
                {
                    "localuser": "alice",
                    "localhost": "example.org",
                    "user": "bob",
                    "host": "example.org",
                    "nick": "Bob",
                    "groups": ["Friends", "Work"],
                    "subs": "both",
                },
            )
        ],
        {"add_rosteritem": True},
        True,
    ),
    Case(
        BOTH,
        "ban_account",
        0,
        {"user": "eve", "host": "example.org", "reason": "spam"},
        [("ban_account", {"user": "eve", "host": "example.org", "reason": "spam"})],
        {"ban_account": True},
        True,
    ),
    Case(
        BOTH,
        "get_room_affiliations",
        0,
        {"name": "lobby", "service": MUC},
        [("get_room_affiliations", {"room": "lobby", "service": MUC})],
        {
            "get_room_affiliations": [
                ("alice@example.org", "owner", ""),
                ("example.net", "outcast", "spam server"),
            ]
        },
        [("alice", "example.org", "owner", ""), ("", "example.net", "outcast", "spam server")],
    ),
    Case(
        BOTH,
        "kick_user",
        0,
        {"user": "alice", "host": "example.org"},
        [("kick_user", {"user": "alice", "host": "example.org"})],
        {"kick_user": ResTuple("Stopped sessions: 2")},
        2,
    ),
    Case(
        BOTH,
        "muc_register_nick",
        0,
        {"nick": "ali", "jid": "alice@example.org/phone", "service": MUC},
        [
            (
                "muc_register_nick",
                {"nick": "ali", "user": "alice", "host": "example.org", "service": MUC},
            )
        ],
        {"muc_register_nick": True},
        True,
    ),
    Case(
        BOTH,
        "muc_unregister_nick",
        0,
        {"jid": "alice@example.org", "service": MUC},
        [("muc_unregister_nick", {"user": "alice", "host": "example.org", "service": MUC})],
        {"muc_unregister_nick": True},
        True,
    ),
    Case(
        ("24.12",),
        "oauth_issue_token",
        0,
        {"jid": "alice@example.org", "ttl": 3600, "scopes": "ejabberd:admin;sasl_auth"},
        [
            (
                "oauth_issue_token",
                {
                    "jid": "alice@example.org",
                    "ttl": 3600,
                    "scopes": ["ejabberd:admin", "sasl_auth"],
                },
            )
        ],
        {"oauth_issue_token": ("t0k3n", ["ejabberd:admin", "sasl_auth"], "3600 seconds")},
        ("t0k3n", "ejabberd:admin;sasl_auth", "3600 seconds"),
    ),
    Case(
        BOTH,
        "rooms_empty_destroy",
        0,
        {"service": MUC},
        [
            ("rooms_empty_list", {"service": MUC}),
            ("rooms_empty_destroy", {"service": MUC}),
        ],
        {
            "rooms_empty_list": [f"a@{MUC}", f"b@{MUC}"],
            "rooms_empty_destroy": ResTuple("Destroyed rooms: 2"),
        },
        [f"a@{MUC}", f"b@{MUC}"],
    ),
    Case(
        ("24.12",),
        "send_direct_invitation",
        0,
        {
            "room": "lobby",
            "service": MUC,
            "password": "",
            "reason": "join us",
            "users": "bob@example.org:carol@example.org/pc",
        },
        [
            (
                "send_direct_invitation",
                {
                    "room": "lobby",
                    "service": MUC,
                    "password": "",
                    "reason": "join us",
                    "users": ["bob@example.org", "carol@example.org/pc"],
                },
            )
        ],
        {"send_direct_invitation": True},
        True,
    ),
    Case(
        ("23.01",),
        "send_direct_invitation",
        0,
        {
            "name": "lobby",
            "service": MUC,
            "password": "secret",
            "reason": "",
            "users": "bob@example.org",
        },
        [
            (
                "send_direct_invitation",
                {
                    "room": "lobby",
                    "service": MUC,
                    "password": "secret",
                    "reason": "",
                    "users": ["bob@example.org"],
                },
            )
        ],
        {"send_direct_invitation": True},
        True,
    ),
    Case(
        BOTH,
        "set_presence",
        0,
        {
            "user": "alice",
            "host": "example.org",
            "resource": "phone",
            "type": "available",
            "show": "away",
            "status": "lunch",
            "priority": "-5",
        },
        [
            (
                "set_presence",
                {
                    "user": "alice",
                    "host": "example.org",
                    "resource": "phone",
                    "type": "available",
                    "show": "away",
                    "status": "lunch",
                    "priority": -5,
                },
            )
        ],
        {"set_presence": True},
        True,
    ),
    Case(
        BOTH,
        "set_room_affiliation",
        0,
        {"name": "lobby", "service": MUC, "jid": "bob@example.org", "affiliation": "member"},
        [
            (
                "set_room_affiliation",
                {
                    "room": "lobby",
                    "service": MUC,
                    "user": "bob",
                    "host": "example.org",
                    "affiliation": "member",
                },
            )
        ],
        {"set_room_affiliation": True},
        True,
    ),
    Case(
        BOTH,
        "srg_create",
        0,
        {
            "group": "staff",
            "host": "example.org",
            "label": "Staff",
            "description": "",
            "display": "staff\\nfriends",
        },
        [
            (
                "srg_create",
                {
                    "group": "staff",
                    "host": "example.org",
                    "label": "Staff",
                    "description": "",
                    "display": ["staff", "friends"],
                },
            )
        ],
        {"srg_create": True},
        True,
    ),
    Case(
        BOTH,
        "status_list",
        0,
        {"status": "away"},
        [("status_list", {"status": "away"})],
        {"status_list": [("alice@example.org/phone", 5, "lunch")]},
        [("alice", "example.org", "phone", 5, "lunch")],
    ),
    Case(
        BOTH,
        "status_list_host",
        0,
        {"host": "example.org", "status": "away"},
        [("status_list_host", {"host": "example.org", "status": "away"})],
        {"status_list_host": [("bob@example.org/pc", 0, "")]},
        [("bob", "example.org", "pc", 0, "")],
    ),
    Case(
        BOTH,
        "subscribe_room",
        0,
        {
            "user": "alice@example.org/phone",
            "nick": "ali",
            "room": f"lobby@{MUC}",
            "nodes": " , ".join(NODES),
        },
        [
            (
                "subscribe_room",
                {
                    "user": "alice",
                    "host": "example.org",
                    "nick": "ali",
                    "room": "lobby",
                    "service": MUC,
                    "nodes": NODES,
                },
            )
        ],
        {"subscribe_room": NODES},
        NODES,
    ),
    Case(
        ("24.12",),
        "subscribe_room",
        1,
        {"user": "alice@example.org", "nick": "ali", "room": f"lobby@{MUC}", "nodes": NODES},
        [
            (
                "subscribe_room",
                {
                    "user": "alice",
                    "host": "example.org",
                    "nick": "ali",
                    "room": "lobby",
                    "service": MUC,
                    "nodes": NODES,
                },
            )
        ],
        {"subscribe_room": NODES[:1]},
        NODES[:1],
    ),
    Case(
        BOTH,
        "subscribe_room_many",
        0,
        {
            "users": [
                {"jid": "alice@example.org", "nick": "ali"},
                {"jid": "bob@example.net/pc", "nick": "bob"},
            ],
            "room": f"lobby@{MUC}",
            "nodes": NODES[0],
        },
        [
            (
                "subscribe_room_many",
                {
                    "users": [("alice", "example.org", "ali"), ("bob", "example.net", "bob")],
                    "room": "lobby",
                    "service": MUC,
                    "nodes": NODES[:1],
                },
            )
        ],
        {"subscribe_room_many": True},
        True,
    ),
    Case(
        ("24.12",),
        "subscribe_room_many",
        1,
        {
            "users": [{"jid": "alice@example.org", "nick": "ali"}],
            "room": f"lobby@{MUC}",
            "nodes": NODES,
        },
        [
            (
                "subscribe_room_many",
                {
                    "users": [("alice", "example.org", "ali")],
                    "room": "lobby",
                    "service": MUC,
                    "nodes": NODES,
                },
            )
        ],
        {"subscribe_room_many": True},
        True,
    ),
    Case(
        BOTH,
        "unsubscribe_room",
        0,
        {"user": "alice@example.org", "room": f"lobby@{MUC}"},
        [
            (
                "unsubscribe_room",
                {"user": "alice", "host": "example.org", "room": "lobby", "service": MUC},
            )
        ],
        {"unsubscribe_room": True},
        True,
    ),
    # 23.01 only: the room argument was still called ``name``
    Case(
        ("23.01",),
        "change_room_option",
        0,
        {"name": "lobby", "service": MUC, "option": "public", "value": "false"},
        [
            (
                "change_room_option",
                {"room": "lobby", "service": MUC, "option": "public", "value": "false"},
            )
        ],
        {"change_room_option": True},
        True,
    ),
    Case(
        ("23.01",),
        "create_room",
        0,
        {"name": "lobby", "service": MUC, "host": "example.org"},
        [("create_room", {"room": "lobby", "service": MUC, "host": "example.org"})],
        {"create_room": True},
        True,
    ),
    Case(
        ("23.01",),
        "create_room_with_opts",
        0,
        {
            "name": "lobby",
            "service": MUC,
            "host": "example.org",
            "options": [{"name": "persistent", "value": "true"}],
        },
        [
            (
                "create_room_with_opts",
                {
                    "room": "lobby",
                    "service": MUC,
                    "host": "example.org",
                    "options": [("persistent", "true")],
                },
            )
        ],
        {"create_room_with_opts": True},
        True,
    ),
    Case(
        ("23.01",),
        "destroy_room",
        0,
        {"name": "lobby", "service": MUC},
        [("destroy_room", {"room": "lobby", "service": MUC})],
        {"destroy_room": True},
        True,
    ),
    Case(
        ("23.01",),
        "get_room_affiliation",
        0,
        {"name": "lobby", "service": MUC, "jid": "alice@example.org"},
        [("get_room_affiliation", {"room": "lobby", "service": MUC, "jid": "alice@example.org"})],
        {"get_room_affiliation": "owner"},
        "owner",
    ),
    Case(
        ("23.01",),
        "get_room_occupants",
        0,
        {"name": "lobby", "service": MUC},
        [("get_room_occupants", {"room": "lobby", "service": MUC})],
        {"get_room_occupants": [("alice@example.org/phone", "ali", "moderator")]},
        [("alice@example.org/phone", "ali", "moderator")],
    ),
    Case(
        ("23.01",),
        "get_room_occupants_number",
        0,
        {"name": "lobby", "service": MUC},
        [("get_room_occupants_number", {"room": "lobby", "service": MUC})],
        {"get_room_occupants_number": 3},
        3,
    ),
    Case(
        ("23.01",),
        "get_room_options",
        0,
        {"name": "lobby", "service": MUC},
        [("get_room_options", {"room": "lobby", "service": MUC})],
        {"get_room_options": [("title", "Lobby"), ("allowpm", "none"), ("vcard", "")]},
        # 23.01's names, and its two options after vcard (legacy_shapes)
        [
            ("title", "Lobby"),
            ("allow_private_messages", "false"),
            ("vcard", ""),
            ("vcard_xupdate", "undefined"),
            ("captcha_whitelist", "{0,nil}"),
        ],
    ),
    Case(
        ("23.01",),
        "change_room_option",
        0,
        {"name": "lobby", "service": MUC, "option": "allow_private_messages", "value": "true"},
        [
            (
                "change_room_option",
                {"room": "lobby", "service": MUC, "option": "allowpm", "value": "anyone"},
            )
        ],
        {"change_room_option": True},
        True,
    ),
    Case(
        ("23.01",),
        "create_room_with_opts",
        0,
        {
            "name": "lobby",
            "service": MUC,
            "host": "example.org",
            "options": [{"name": "allow_private_messages", "value": "false"}],
        },
        [
            (
                "create_room_with_opts",
                {
                    "room": "lobby",
                    "service": MUC,
                    "host": "example.org",
                    "options": [("allowpm", "none")],
                },
            )
        ],
        {"create_room_with_opts": True},
        True,
    ),
    Case(
        ("23.01",),
        "get_subscribers",
        0,
        {"name": "lobby", "service": MUC},
        [("get_subscribers", {"room": "lobby", "service": MUC})],
        {"get_subscribers": ["alice@example.org"]},
        ["alice@example.org"],
    ),
    Case(
        ("23.01",),
        "get_roster",
        0,
        {"user": "alice", "host": "example.org"},
        [("get_roster", {"user": "alice", "host": "example.org"})],
        {
            "get_roster": [
                ("bob@example.org", "Bob", "both", "none", ["Friends", "Work"]),
                ("carol@example.org", "", "none", "out", []),
            ]
        },
        # in reverse contact order, as 23.01's make_roster_xmlrpc prepended each contact
        [
            ("carol@example.org", "", "none", "subscribe", ""),
            ("bob@example.org", "Bob", "both", "undefined", "Friends"),
            ("bob@example.org", "Bob", "both", "undefined", "Work"),
        ],
    ),
    Case(
        ("23.01",),
        "join_cluster",
        0,
        {"node": "ejabberd@other"},
        [("join_cluster", {"node": "ejabberd@other"})],
        {"join_cluster": ResTuple("Trying to join that cluster, wait a few seconds.")},
        True,
    ),
    # 23.01's key order and Erlang strings (legacy_shapes); the names come one by one
    Case(
        ("23.01",),
        "srg_get_info",
        0,
        {"group": "team", "host": "example.org"},
        [
            ("srg_get_info", {"group": "team", "host": "example.org"}),
            ("srg_get_displayed", {"group": "team", "host": "example.org"}),
        ],
        {
            "srg_get_info": [
                ("label", "Team"),
                ("description", ""),
                ("displayed_groups", "a, b"),
                ("all_users", "true"),
            ],
            "srg_get_displayed": ["a", "b"],
        },
        [
            ("label", "Team"),
            ("displayed_groups", "a\nb"),
            ("description", ""),
            ("all_users", "true"),
        ],
    ),
    # 23.01 printed the deleted accounts as Erlang terms (legacy_shapes)
    Case(
        ("23.01",),
        "delete_old_users",
        0,
        {"days": 30},
        [("delete_old_users", {"days": 30})],
        {"delete_old_users": ResTuple('Deleted 1 users: ["bob@example.org"]')},
        ResTuple('Deleted 1 users: [{<<"bob">>,<<"example.org">>}]'),
    ),
    Case(
        ("23.01",),
        "delete_old_users_vhost",
        0,
        {"host": "example.org", "days": 30},
        [("delete_old_users_vhost", {"host": "example.org", "days": 30})],
        {"delete_old_users_vhost": ResTuple("Deleted 0 users: []")},
        ResTuple("Deleted 0 users: []"),
    ),
    # 23.01 ran the two sentences of status together and names its own release
    Case(
        ("23.01",),
        "status",
        0,
        {},
        [("status", {})],
        {
            "status": ResTuple(
                "The node gw@test is started. Status: started  ejabberd 24.12 is running"
                " in that node\nxmpp-api-gateway 0.1.0\nXMPP component: connected"
            )
        },
        ResTuple(
            "The node gw@test is started. Status: startedejabberd 23.01 is running"
            " in that node\nxmpp-api-gateway 0.1.0\nXMPP component: connected"
        ),
    ),
    # 23.01 answered {ok, ""} on success for these (ejabberd_admin, ejabberd_oauth)
    Case(
        ("23.01",),
        "unregister",
        0,
        {"user": "bob", "host": "example.org"},
        [("unregister", {"user": "bob", "host": "example.org"})],
        {"unregister": ResTuple("User bob@example.org unregistered")},
        ResTuple(""),
    ),
    Case(
        ("23.01",),
        "oauth_add_client_password",
        0,
        {"client_id": "c", "client_name": "C", "secret": "s"},
        [("oauth_add_client_password", {"client_id": "c", "client_name": "C", "secret": "s"})],
        {"oauth_add_client_password": ResTuple("Client c saved")},
        ResTuple(""),
    ),
    Case(
        ("23.01",),
        "oauth_add_client_implicit",
        0,
        {"client_id": "c", "client_name": "C", "redirect_uri": "https://x/"},
        [
            (
                "oauth_add_client_implicit",
                {"client_id": "c", "client_name": "C", "redirect_uri": "https://x/"},
            )
        ],
        {"oauth_add_client_implicit": ResTuple("Client c saved")},
        ResTuple(""),
    ),
    Case(
        ("23.01",),
        "oauth_remove_client",
        0,
        {"client_id": "c"},
        [("oauth_remove_client", {"client_id": "c"})],
        {"oauth_remove_client": ResTuple("No client c; nothing was removed")},
        ResTuple(""),
    ),
    Case(
        ("23.01",),
        "oauth_revoke_token",
        0,
        {"token": "t"},
        [("oauth_revoke_token", {"token": "t"})],
        {"oauth_revoke_token": ResTuple("Token revoked")},
        ResTuple(""),
    ),
    # 23.01 answered a token's scopes as its list of binaries (see the tests below)
    Case(
        ("23.01",),
        "oauth_issue_token",
        0,
        {"jid": "alice@example.org", "ttl": 600, "scopes": "get_roster;ejabberd:user"},
        [
            (
                "oauth_issue_token",
                {"jid": "alice@example.org", "ttl": 600, "scopes": ["get_roster", "ejabberd:user"]},
            )
        ],
        {"oauth_issue_token": ("t0k3n", ["get_roster", "ejabberd:user"], "600 seconds")},
        ("t0k3n", "get_rosterejabberd:user", "600 seconds"),
    ),
    Case(
        ("23.01",),
        "oauth_list_tokens",
        0,
        {},
        [("oauth_list_tokens", {})],
        {
            "oauth_list_tokens": [
                ("sha256:ab", "alice@example.org", "get_roster ejabberd:user", "599 seconds")
            ]
        },
        [("sha256:ab", "alice@example.org", "get_rosterejabberd:user", "599 seconds")],
    ),
]

PARAMS = [
    pytest.param(profile, case, id=f"{profile}-{case.name}-v{case.version}")
    for case in CASES
    for profile in case.profiles
]


@pytest.mark.parametrize(("profile", "case"), PARAMS)
def test_adapter_translates_both_ways(profile: str, case: Case) -> None:
    """The old call reaches the backend in the newest shape; the answer comes back old-shaped."""
    result, backend = call(profile, case.name, case.version, case.given, case.answers)
    assert canonical_calls(backend) == case.calls
    assert result.value == case.expected
    assert result.definition.version == case.version


def test_every_registered_adapter_has_a_case() -> None:
    """Each adapter the engine knows about is exercised by a case above."""
    covered = {(p, c.name, c.version) for c in CASES for p in c.profiles}
    real = {key for key in ADAPTERS.keys() if key[0] in PROFILES}
    assert real - covered == set()


def _needs_adapter() -> list[tuple[str, str, int]]:
    newest = Catalogue.load("24.12")
    needed = []
    for profile in PROFILES:
        for definition in Catalogue.load(profile):
            if definition.internal:
                continue
            target = with_policy_args(newest.newest(definition.name))
            if not with_policy_args(definition).same_signature(target):
                needed.append((profile, definition.name, definition.version))
    return needed


def test_every_changed_definition_has_an_adapter() -> None:
    """No public old definition whose signature differs from the newest lacks an adapter."""
    needed = _needs_adapter()
    missing = [key for key in needed if not ADAPTERS.has(*key)]
    assert missing == []
    # the enumeration itself must find the known changes, or it proves nothing
    assert ("23.01", "get_roster", 0) in needed
    assert ("24.12", "subscribe_room", 1) in needed


def test_every_adapter_targets_an_existing_definition() -> None:
    """A registered adapter names a real, callable old definition (no typos, no dead entries)."""
    for profile, name, version in ADAPTERS.keys():
        if profile not in PROFILES:
            continue
        catalogue = Catalogue.load(profile)
        assert version in catalogue.versions(name), (profile, name, version)
        assert version != catalogue.newest(name).version or profile != "24.12"


# -- edge cases --------------------------------------------------------------


def _fails(
    profile: str, name: str, version: int, args: Mapping[str, Any], answers: Mapping[str, Any]
) -> tuple[BaseException, FakeBackend]:
    backend = FakeBackend(answers=answers)
    deferred = engine_for(profile, backend).call(
        CommandCall(name, tuple(args.items()), version, frontend=CALLER.frontend)
    )
    with pytest.raises(Exception) as raised:
        outcome(deferred)
    return raised.value, backend


@pytest.mark.parametrize(
    ("name", "args", "message"),
    [
        ("muc_register_nick", {"nick": "n", "jid": "alice", "service": MUC}, "Invalid 'jid'"),
        ("muc_register_nick", {"nick": "n", "jid": "@@", "service": MUC}, "Invalid 'jid'"),
        ("muc_unregister_nick", {"jid": "@example.org", "service": MUC}, "Invalid 'jid'"),
        (
            "set_room_affiliation",
            {"name": "r", "service": MUC, "jid": "example.org", "affiliation": "member"},
            "Invalid 'jid'",
        ),
        (
            "set_room_affiliation",
            {"name": "r", "service": MUC, "jid": "not a jid", "affiliation": "member"},
            "Invalid 'jid'",
        ),
        ("unsubscribe_room", {"user": "alice", "room": f"lobby@{MUC}"}, "Malformed user JID"),
        (
            "unsubscribe_room",
            {"user": "a b@example.org", "room": f"lobby@{MUC}"},
            "Malformed user JID",
        ),
        ("unsubscribe_room", {"user": "alice@example.org", "room": "lobby"}, "Malformed room JID"),
        # the room is decoded first, whatever order the arguments came in
        ("unsubscribe_room", {"user": "@@", "room": "@@"}, "Malformed room JID"),
        (
            "subscribe_room",
            {"user": "alice@example.org", "nick": "a", "room": f"{MUC}/x", "nodes": ""},
            "Malformed room JID",
        ),
        (
            "subscribe_room",
            {"user": "not a jid", "nick": "a", "room": f"lobby@{MUC}", "nodes": ""},
            "Malformed user JID",
        ),
        (
            "subscribe_room_many",
            {"users": [{"jid": "alice", "nick": "a"}], "room": f"lobby@{MUC}", "nodes": ""},
            "Malformed user JID",
        ),
        (
            "subscribe_room_many",
            {"users": [{"jid": "@@", "nick": "a"}], "room": "@@", "nodes": ""},
            "Malformed room JID",
        ),
    ],
)
def test_malformed_jid_gets_ejabberds_error(name: str, args: dict[str, Any], message: str) -> None:
    """A JID that is no JID, or lacks the user part the newest definition needs, fails
    with the text mod_muc_admin answers for it (an ``{error, Text}`` of the command),
    before the backend is asked anything."""
    error, backend = _fails("23.01", name, 0, args, {name: True})
    assert isinstance(error, CommandFailed)
    assert (error.message, error.thrown) == (message, True)
    assert backend.calls == []


@pytest.mark.parametrize("priority", ["high", "", "1.5", "5x", "١"])
def test_set_presence_bad_priority(priority: str) -> None:
    """A v0 priority that is not a whole number is a BadArgumentType naming ``priority``."""
    args = {
        "user": "alice",
        "host": "example.org",
        "resource": "r",
        "type": "available",
        "show": "chat",
        "status": "",
        "priority": priority,
    }
    error, backend = _fails("24.12", "set_presence", 0, args, {"set_presence": True})
    assert isinstance(error, BadArgumentType)
    assert error.argument == "priority"
    assert backend.calls == []


def test_empty_packed_strings_become_empty_lists() -> None:
    """An empty v0 group, scopes, display or nodes string is an empty list, not ``[""]``."""
    _, backend = call(
        "24.12",
        "add_rosteritem",
        0,
        {
            "localuser": "a",
            "localhost": "h",
            "user": "b",
            "host": "h",
            "nick": "",
            "group": "",
            "subs": "none",
        },
        {"add_rosteritem": True},
    )
    assert backend.calls[0][1]["groups"] == []
    result, backend = call(
        "23.01",
        "oauth_issue_token",
        0,
        {"jid": "a@h", "ttl": 60, "scopes": ""},
        {"oauth_issue_token": ("t", [], "60 seconds")},
    )
    assert backend.calls[0][1]["scopes"] == []
    assert result.value == ("t", "", "60 seconds")
    _, backend = call(
        "23.01",
        "srg_create",
        0,
        {"group": "g", "host": "h", "label": "G", "description": "", "display": ""},
        {"srg_create": True},
    )
    assert backend.calls[0][1]["display"] == []
    _, backend = call(
        "23.01",
        "subscribe_room",
        0,
        {"user": "a@h", "nick": "a", "room": f"r@{MUC}", "nodes": ""},
        {"subscribe_room": []},
    )
    assert backend.calls[0][1]["nodes"] == []


def test_srg_create_accepts_real_line_breaks() -> None:
    """Besides ejabberd's literal backslash-n, a real line break also separates displayed groups."""
    _, backend = call(
        "24.12",
        "srg_create",
        0,
        {"group": "g", "host": "h", "label": "G", "description": "", "display": "a\nb\\nc\r\nd"},
        {"srg_create": True},
    )
    assert backend.calls[0][1]["display"] == ["a", "b", "c", "d"]


def test_kick_user_failure_is_a_command_error() -> None:
    """A v2 error restuple becomes a command failure for the v0 caller, not a count."""
    error, _ = _fails(
        "24.12",
        "kick_user",
        0,
        {"user": "alice", "host": "example.org"},
        {"kick_user": ResTuple("No such user", "error")},
    )
    assert isinstance(error, CommandFailed)
    assert error.message == "No such user"


def test_kick_user_text_without_count_is_an_internal_error() -> None:
    """A backend text with no session count is a backend bug: an internal error, not a guess."""
    error, _ = _fails(
        "24.12",
        "kick_user",
        0,
        {"user": "alice", "host": "example.org"},
        {"kick_user": ResTuple("done")},
    )
    assert isinstance(error, InternalError)


def test_rooms_empty_destroy_needs_rooms_empty_list() -> None:
    """v0 cannot answer its room list when the backend cannot list empty rooms."""
    error, backend = _fails(
        "23.01",
        "rooms_empty_destroy",
        0,
        {"service": MUC},
        {"rooms_empty_destroy": ResTuple("Destroyed rooms: 0")},
    )
    assert isinstance(error, NotSupported)
    assert error.command == "rooms_empty_list"
    assert backend.calls == []


def test_rooms_empty_destroy_failure_is_a_command_error() -> None:
    """A failed v2 destroy is reported to the v0 caller instead of the listed rooms."""
    error, backend = _fails(
        "24.12",
        "rooms_empty_destroy",
        0,
        {"host": MUC},
        {
            "rooms_empty_list": [f"a@{MUC}"],
            "rooms_empty_destroy": ResTuple("Unknown service", "error"),
        },
    )
    assert isinstance(error, CommandFailed)
    assert [name for name, _, _ in backend.calls] == ["rooms_empty_list", "rooms_empty_destroy"]


def test_join_cluster_failure_is_a_command_error() -> None:
    """23.01's rescode join_cluster reports a failed restuple as an error."""
    error, _ = _fails(
        "23.01",
        "join_cluster",
        0,
        {"node": "ejabberd@nowhere"},
        {"join_cluster": ResTuple("cannot reach node", "error")},
    )
    assert isinstance(error, CommandFailed)
    assert error.message == "cannot reach node"


_ROOM = {"name": "lobby", "service": MUC}


@pytest.mark.parametrize(
    ("name", "args", "new", "old"),
    [
        ("destroy_room", _ROOM, "Invalid value of room name", "Invalid 'name'"),
        ("destroy_room", _ROOM, "Unknown host passed in 'service'", "Invalid 'service'"),
        ("destroy_room", _ROOM, "Room doesn't exists", "Room doesn't exists"),
        (
            "create_room",
            {**_ROOM, "host": "example.org"},
            "Invalid value of 'service'",
            "Invalid 'service'",
        ),
        (
            "change_room_option",
            {**_ROOM, "option": "title", "value": "x"},
            "Invalid value of room name",
            "Room not found",
        ),
        (
            "get_room_affiliations",
            _ROOM,
            "Unknown host passed in 'service'",
            "The room does not exist.",
        ),
        ("get_subscribers", _ROOM, "Invalid value of room name", "The room does not exist"),
        (
            "muc_register_nick",
            {"nick": "N", "jid": "a@example.org", "service": MUC},
            "Unknown host in 'service'",
            "Invalid 'service'",
        ),
        (
            "unsubscribe_room",
            {"user": "a@example.org", "room": f"lobby@{MUC}"},
            "Invalid value of room name",
            "Malformed room JID",
        ),
    ],
)
def test_23_01_words_failures_its_own_way(
    name: str, args: dict[str, Any], new: str, old: str
) -> None:
    """The 23.01 profile rewords 24.12's MUC failure texts as 23.01 said them.

    The failure stays thrown; the 24.12 profile keeps 24.12's words.
    """
    failure = CommandFailed(new, thrown=True)
    error, _ = _fails("23.01", name, 0, args, {name: failure})
    assert isinstance(error, CommandFailed)
    assert (error.message, error.thrown) == (old, True)


def test_24_12_keeps_its_failure_texts() -> None:
    """The 24.12 profile passes 24.12's failure texts through unchanged."""
    failure = CommandFailed("Invalid value of room name", thrown=True)
    error, _ = _fails(
        "24.12", "destroy_room", 0, {"room": "a b", "service": MUC}, {"destroy_room": failure}
    )
    assert isinstance(error, CommandFailed) and error.message == "Invalid value of room name"


def test_empty_ok_text_keeps_a_failure_text() -> None:
    """Only a successful 23.01 restuple loses its text; a failure still says what went wrong."""
    result, _ = call(
        "23.01",
        "oauth_revoke_token",
        0,
        {"token": "t"},
        {"oauth_revoke_token": ResTuple("db error", "error")},
    )
    assert result.value == ResTuple("db error", "error")


def test_current_profile_keeps_its_restuple_texts() -> None:
    """The 24.12 profile passes the backend's success text through unchanged."""
    result, _ = call(
        "24.12",
        "unregister",
        0,
        {"user": "bob", "host": "example.org"},
        {"unregister": ResTuple("User bob@example.org unregistered")},
    )
    assert result.value == ResTuple("User bob@example.org unregistered")


@pytest.mark.parametrize(
    ("pending", "ask"),
    [
        ("none", "undefined"),
        ("in", "undefined"),
        ("out", "subscribe"),
        ("both", "subscribe"),
        ("subscribe", "subscribe"),
        ("undefined", "undefined"),
    ],
)
def test_get_roster_ask_from_pending(pending: str, ask: str) -> None:
    """23.01's ``ask`` is ``subscribe`` only while an outgoing request waits, else ``undefined``."""
    result, _ = call(
        "23.01",
        "get_roster",
        0,
        {"user": "alice", "host": "example.org"},
        {"get_roster": [("bob@example.org", "Bob", "to", pending, ["G"])]},
    )
    assert result.value == [("bob@example.org", "Bob", "to", ask, "G")]


def test_newest_definitions_need_no_adapter() -> None:
    """A call to the newest version passes arguments and result through untouched."""
    result, backend = call(
        "24.12",
        "kick_user",
        2,
        {"user": "alice", "host": "example.org"},
        {"kick_user": ResTuple("Stopped sessions: 1")},
    )
    assert canonical_calls(backend) == [("kick_user", {"user": "alice", "host": "example.org"})]
    assert result.value == ResTuple("Stopped sessions: 1")


def test_unchanged_old_definition_runs_as_is() -> None:
    """An old definition with the newest signature (24.12 rooms_empty_list v0) needs no adapter."""
    result, backend = call(
        "24.12", "rooms_empty_list", 0, {"service": MUC}, {"rooms_empty_list": []}
    )
    assert canonical_calls(backend) == [("rooms_empty_list", {"service": MUC})]
    assert result.value == []


# -- 23.01's OAuth scopes -----------------------------------------------------------------------

#: captured from Debian's ejabberd 23.01: oauth_issue_token with scopes
#: "get_roster;ejabberd:user" (and oauth_list_tokens after it) answers the scope as
#: mod_http_api flattens the list of binaries and as XML-RPC prints it with ~p
SCOPES_2301 = [
    (["ejabberd:admin"], "ejabberd:admin", '[<<"ejabberd:admin">>]'),
    (
        ["get_roster", "ejabberd:user"],
        "get_rosterejabberd:user",
        '[<<"get_roster">>,<<"ejabberd:user">>]',
    ),
]


@pytest.mark.parametrize(("scopes", "api", "xmlrpc"), SCOPES_2301)
def test_oauth_issue_token_scopes_in_2301(scopes: list[str], api: str, xmlrpc: str) -> None:
    """23.01's scopes: run together for /api, the ``~p`` of the binaries for XML-RPC and ctl."""
    result, _ = call(
        "23.01",
        "oauth_issue_token",
        0,
        {"jid": "alice@example.org", "ttl": 600, "scopes": ";".join(scopes)},
        {"oauth_issue_token": ("t0k3n", scopes, "600 seconds")},
    )
    shown = result.value[1]
    assert isinstance(shown, TermText)
    assert (str(shown), shown.printed) == (api, xmlrpc)


@pytest.mark.parametrize(("scopes", "api", "xmlrpc"), SCOPES_2301)
def test_oauth_list_tokens_scopes_in_2301(scopes: list[str], api: str, xmlrpc: str) -> None:
    """oauth_list_tokens shows each token's scopes as oauth_issue_token did in 23.01."""
    answer = [("sha256:ab", "alice@example.org", " ".join(scopes), "599 seconds")]
    result, _ = call("23.01", "oauth_list_tokens", 0, {}, {"oauth_list_tokens": answer})
    [(_, _, shown, _)] = result.value
    assert isinstance(shown, TermText)
    assert (str(shown), shown.printed) == (api, xmlrpc)


def test_oauth_scopes_in_2412_are_unchanged() -> None:
    """The 24.12 profile keeps its own forms: v0 joins with ``;``, the listing is untouched."""
    result, _ = call(
        "24.12",
        "oauth_issue_token",
        0,
        {"jid": "alice@example.org", "ttl": 600, "scopes": "get_roster;ejabberd:user"},
        {"oauth_issue_token": ("t0k3n", ["get_roster", "ejabberd:user"], "600 seconds")},
    )
    assert result.value[1] == "get_roster;ejabberd:user"
    assert not isinstance(result.value[1], TermText)
    answer = [("sha256:ab", "alice@example.org", "get_roster ejabberd:user", "599 seconds")]
    listed, _ = call("24.12", "oauth_list_tokens", 0, {}, {"oauth_list_tokens": answer})
    assert listed.value == answer
