"""The 23.01 translation of the commands whose calls or answers changed, one by one.

Properties are checked against the engine's forward adapters where they
exist: the 23.01 call produced from a canonical one adapts back to it, and
the 23.01 answer the forward adapter would give reads back as the canonical
answer it came from.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.backends.upstream.translate import Inexpressible, translate_call, translate_result
from gateway.backends.upstream.translate_users import split_scopes
from gateway.engine.adapters import standard_adapters
from gateway.engine.catalogue import Catalogue
from gateway.engine.dispatch import with_policy_args
from gateway.engine.errors import CommandFailed
from gateway.engine.model import ResTuple
from gateway.engine.names import CURRENT_PROFILE, LEGACY_PROFILE
from gateway.engine.versions import Adapter

ADAPTERS = standard_adapters()
MUC = "conference.example.org"
NODES = ["urn:xmpp:mucsub:nodes:messages", "urn:xmpp:mucsub:nodes:affiliations"]


def forward(name: str) -> Adapter:
    """The engine's adapter from 23.01's ``name`` to the canonical definition."""
    old = with_policy_args(Catalogue.load(LEGACY_PROFILE).newest(name))
    new = with_policy_args(Catalogue.load(CURRENT_PROFILE).newest(name))
    adapter = ADAPTERS.adapter_for(LEGACY_PROFILE, old, new)
    assert adapter is not None
    return adapter


def call_args(name: str, args: dict[str, Any]) -> dict[str, Any]:
    return translate_call(LEGACY_PROFILE, name, args).args


def read(name: str, value: Any) -> Any:
    return translate_result(LEGACY_PROFILE, name, value)


#: text without surrogates (which no JSON body carries)
TEXT = st.text(st.characters(exclude_categories=["Cs"]))
#: a JID's local part
USER = st.text("abcdefghijklmnopqrstuvwxyz0123456789.-_", min_size=1, max_size=12)
#: a JID's domain
DOMAIN = st.from_regex(r"[a-z0-9]{1,8}(\.[a-z0-9]{1,8}){0,2}", fullmatch=True)


def names_without(*forbidden: str) -> st.SearchStrategy[str]:
    return TEXT.filter(lambda s: s != "" and not any(f in s for f in forbidden))


# -- set_room_affiliation ----------------------------------------------------------------

AFFILIATION = {
    "room": "lobby",
    "service": MUC,
    "user": "alice",
    "host": "example.org",
    "affiliation": "member",
}


def test_set_room_affiliation_takes_the_jid_23_01_took() -> None:
    """24.12 v3's room, user and host become 23.01's name and jid, in 23.01's order."""
    call = translate_call(LEGACY_PROFILE, "set_room_affiliation", AFFILIATION)
    assert (call.name, call.version) == ("set_room_affiliation", None)
    assert list(call.args.items()) == [
        ("name", "lobby"),
        ("service", MUC),
        ("jid", "alice@example.org"),
        ("affiliation", "member"),
    ]


@given(user=USER, host=DOMAIN, room=USER)
def test_set_room_affiliation_round_trips(user: str, host: str, room: str) -> None:
    """The 23.01 call adapts back to the canonical call it came from."""
    args = {**AFFILIATION, "user": user, "host": host, "room": room}
    assert forward("set_room_affiliation").args(call_args("set_room_affiliation", args)) == args


def test_set_room_affiliation_of_a_server_is_its_domain() -> None:
    """An empty user names the server itself, which 23.01 takes as the bare domain."""
    args = {**AFFILIATION, "user": "", "host": "example.net"}
    assert call_args("set_room_affiliation", args)["jid"] == "example.net"


@pytest.mark.parametrize(
    ("user", "host"), [("a@b", "example.org"), ("a/b", "example.org"), ("alice", "x/y")]
)
def test_set_room_affiliation_refuses_parts_that_are_no_jid(user: str, host: str) -> None:
    """A part holding ``@`` or ``/`` would name another JID once joined: refused, not sent."""
    with pytest.raises(Inexpressible, match="cannot be part of one"):
        call_args("set_room_affiliation", {**AFFILIATION, "user": user, "host": host})


# -- add_rosteritem and get_roster ---------------------------------------------------------

ROSTERITEM = {
    "localuser": "alice",
    "localhost": "example.org",
    "user": "bob",
    "host": "example.org",
    "nick": "Bob",
    "groups": ["Friends", "Work"],
    "subs": "both",
}


def test_add_rosteritem_joins_the_groups_with_semicolons() -> None:
    """The groups list is 23.01's ``group`` string, in the argument's place."""
    args = call_args("add_rosteritem", ROSTERITEM)
    assert list(args) == ["localuser", "localhost", "user", "host", "nick", "group", "subs"]
    assert args["group"] == "Friends;Work"
    assert call_args("add_rosteritem", {**ROSTERITEM, "groups": []})["group"] == ""


@given(groups=st.lists(names_without(";")))
def test_add_rosteritem_round_trips(groups: list[str]) -> None:
    """Any list of non-empty names without ``;`` adapts back to itself."""
    args = {**ROSTERITEM, "groups": groups}
    assert forward("add_rosteritem").args(call_args("add_rosteritem", args)) == args


@pytest.mark.parametrize("groups", [["a;b"], ["ok", ""], [";"]])
def test_add_rosteritem_refuses_groups_23_01_would_split(groups: list[str]) -> None:
    """A group with ``;`` or an empty one would arrive as other groups: refused."""
    with pytest.raises(Inexpressible, match="roster group name"):
        call_args("add_rosteritem", {**ROSTERITEM, "groups": groups})


def test_get_roster_lines_become_contacts() -> None:
    """One line per contact and group becomes one contact; the roster's order is restored.

    23.01 lists the contacts last first, a contact without groups once with
    group ``""``, and ``ask`` carries what 24.12 calls ``pending``.
    """
    lines = [
        ("carol@example.org", "", "none", "subscribe", ""),
        ("bob@example.org", "Bob", "both", "undefined", "Friends"),
        ("bob@example.org", "Bob", "both", "undefined", "Work"),
    ]
    assert read("get_roster", lines) == [
        ("bob@example.org", "Bob", "both", "undefined", ["Friends", "Work"]),
        ("carol@example.org", "", "none", "subscribe", []),
    ]
    assert read("get_roster", []) == []


CONTACT = st.tuples(
    st.builds(lambda u, h: f"{u}@{h}", USER, DOMAIN),
    TEXT,
    st.sampled_from(["none", "to", "from", "both"]),
    st.sampled_from(["undefined", "subscribe"]),
    st.lists(names_without()),
)


@given(contacts=st.lists(CONTACT, unique_by=lambda c: c[0]))
def test_get_roster_round_trips(contacts: list[tuple[str, str, str, str, list[str]]]) -> None:
    """The 23.01 lines of any roster read back as that roster."""
    lines = forward("get_roster").result(contacts)
    assert read("get_roster", lines) == contacts


def test_get_roster_count_asks_get_roster() -> None:
    """23.01 has no get_roster_count: get_roster is asked and its contacts counted."""
    call = translate_call(
        LEGACY_PROFILE, "get_roster_count", {"user": "alice", "host": "example.org"}
    )
    assert (call.name, call.args) == ("get_roster", {"user": "alice", "host": "example.org"})
    lines = [
        ("bob@example.org", "Bob", "both", "undefined", "Friends"),
        ("bob@example.org", "Bob", "both", "undefined", "Work"),
        ("carol@example.org", "", "none", "subscribe", ""),
    ]
    assert read("get_roster_count", lines) == 2
    assert read("get_roster_count", []) == 0


# -- shared roster groups --------------------------------------------------------------------

SRG = {
    "group": "staff",
    "host": "example.org",
    "label": "Staff",
    "description": "Everyone at work",
    "display": ["staff", "managers"],
}


def test_srg_create_joins_displayed_groups_with_backslash_n() -> None:
    """The displayed groups are one string split on the two characters backslash and n."""
    assert call_args("srg_create", SRG)["display"] == "staff\\nmanagers"
    assert call_args("srg_create", {**SRG, "display": []})["display"] == ""


@given(display=st.lists(names_without("\\n", "\n", "\r")))
def test_srg_create_round_trips(display: list[str]) -> None:
    """Any list of names 23.01 can take adapts back to itself."""
    args = {**SRG, "display": display}
    assert forward("srg_create").args(call_args("srg_create", args)) == args


@pytest.mark.parametrize("display", [["a\\nb"], ["a\nb"], [""]])
def test_srg_create_refuses_names_23_01_would_split(display: list[str]) -> None:
    """A name holding the separator or a line break, or an empty one, is refused."""
    with pytest.raises(Inexpressible, match="displayed group"):
        call_args("srg_create", {**SRG, "display": display})


def test_srg_get_info_joins_displayed_groups_as_24_12_does() -> None:
    """23.01's line-broken displayed groups read back joined by a comma and a blank."""
    info = [
        ("label", "Staff"),
        ("displayed_groups", "staff\nmanagers"),
        ("description", ""),
        ("all_users", "true"),
    ]
    assert read("srg_get_info", info) == [
        ("label", "Staff"),
        ("displayed_groups", "staff, managers"),
        ("description", ""),
        ("all_users", "true"),
    ]
    assert read("srg_get_info", [("displayed_groups", "")]) == [("displayed_groups", "")]
    assert read("srg_get_info", []) == []


@given(display=st.lists(names_without("\n")))
def test_srg_get_displayed_reads_srg_get_info(display: list[str]) -> None:
    """23.01 has no srg_get_displayed: srg_get_info's displayed groups are read instead."""
    call = translate_call(LEGACY_PROFILE, "srg_get_displayed", {"group": "g", "host": "h"})
    assert (call.name, call.args) == ("srg_get_info", {"group": "g", "host": "h"})
    info = [("label", "x"), ("displayed_groups", "\n".join(display))]
    assert read("srg_get_displayed", info) == display


def test_srg_get_displayed_of_an_unknown_group_is_empty() -> None:
    """No information (an unknown group) is no displayed group, as 24.12 answers."""
    assert read("srg_get_displayed", []) == []


@pytest.mark.parametrize(
    ("command", "args"),
    [
        ("srg_add", {"group": "g", "host": "h"}),
        ("srg_add_displayed", {"group": "g", "host": "h", "add": "x"}),
        ("srg_del_displayed", {"group": "g", "host": "h", "del": "x"}),
        ("srg_set_info", {"group": "g", "host": "h", "key": "label", "value": "x"}),
    ],
)
def test_srg_commands_23_01_lacks_are_refused(command: str, args: dict[str, Any]) -> None:
    """The shared roster group commands added after 23.01 are refused, naming the command."""
    with pytest.raises(Inexpressible, match=f"'{command}'.*23.01 has no such command"):
        call_args(command, args)


# -- room options ----------------------------------------------------------------------------


@pytest.mark.parametrize(("level", "old"), [("anyone", "true"), ("none", "false")])
def test_allowpm_is_allow_private_messages(level: str, old: str) -> None:
    """``allowpm`` anyone/none is 23.01's ``allow_private_messages`` true/false."""
    args = {"room": "lobby", "service": MUC, "option": "allowpm", "value": level}
    assert call_args("change_room_option", args) == {
        "name": "lobby",
        "service": MUC,
        "option": "allow_private_messages",
        "value": old,
    }
    assert forward("change_room_option").args(call_args("change_room_option", args)) == args
    opts = {"room": "r", "service": MUC, "host": "h", "options": [("allowpm", level)]}
    assert call_args("create_room_with_opts", opts)["options"] == [("allow_private_messages", old)]


@pytest.mark.parametrize("level", ["participants", "moderators", "everyone"])
def test_allowpm_levels_23_01_lacks_are_refused(level: str) -> None:
    """23.01 rooms cannot allow private messages to only some occupants: refused."""
    args = {"room": "lobby", "service": MUC, "option": "allowpm", "value": level}
    with pytest.raises(Inexpressible, match=f"allowpm '{level}' has no equivalent"):
        call_args("change_room_option", args)
    opts = {
        "room": "r",
        "service": MUC,
        "host": "h",
        "options": [("title", "x"), ("allowpm", level)],
    }
    with pytest.raises(Inexpressible):
        call_args("create_room_with_opts", opts)


def test_other_room_options_pass_unchanged() -> None:
    """Options both releases know are sent as they are."""
    args = {"room": "lobby", "service": MUC, "option": "members_only", "value": "true"}
    assert call_args("change_room_option", args)["option"] == "members_only"


def test_get_room_options_reads_allow_private_messages_as_allowpm() -> None:
    """23.01's ``allow_private_messages`` reads back as ``allowpm``; other options stay put."""
    options = [
        ("title", "Lobby"),
        ("allow_private_messages", "false"),
        ("vcard_xupdate", "undefined"),
    ]
    assert read("get_room_options", options) == [
        ("title", "Lobby"),
        ("allowpm", "none"),
        ("vcard_xupdate", "undefined"),
    ]
    assert read("get_room_options", [("allow_private_messages", "true")]) == [("allowpm", "anyone")]
    assert read("get_room_options", []) == []  # no such room, in both releases
    with pytest.raises(Inexpressible, match="not true or false"):
        read("get_room_options", [("allow_private_messages", "maybe")])


# -- affiliations, nicks, subscriptions, invitations -----------------------------------------------


def test_get_room_affiliations_read_back_as_jids() -> None:
    """Each member's user and domain read back as one JID (a bare domain for a server)."""
    value = [("alice", "example.org", "owner", ""), ("", "example.net", "outcast", "spam")]
    canonical = read("get_room_affiliations", value)
    assert canonical == [
        ("alice@example.org", "owner", ""),
        ("example.net", "outcast", "spam"),
    ]
    assert forward("get_room_affiliations").result(canonical) == value
    call = translate_call(LEGACY_PROFILE, "get_room_affiliations", {"room": "r", "service": MUC})
    assert call.args == {"name": "r", "service": MUC}


def test_muc_nick_registration_takes_a_jid() -> None:
    """``user`` and ``host`` become 23.01's ``jid`` for registering and unregistering a nick."""
    register = {"nick": "al", "user": "alice", "host": "example.org", "service": MUC}
    assert call_args("muc_register_nick", register) == {
        "nick": "al",
        "jid": "alice@example.org",
        "service": MUC,
    }
    unregister = {"user": "alice", "host": "example.org", "service": MUC}
    assert call_args("muc_unregister_nick", unregister) == {
        "jid": "alice@example.org",
        "service": MUC,
    }
    assert forward("muc_register_nick").args(call_args("muc_register_nick", register)) == register


SUBSCRIBE = {
    "user": "alice",
    "host": "example.org",
    "nick": "al",
    "room": "lobby",
    "service": MUC,
    "nodes": NODES,
}


def test_subscribe_room_takes_jids_and_a_node_string() -> None:
    """The user's and room's parts become JIDs and the nodes one comma-separated string."""
    assert call_args("subscribe_room", SUBSCRIBE) == {
        "user": "alice@example.org",
        "nick": "al",
        "room": f"lobby@{MUC}",
        "nodes": ",".join(NODES),
    }


@given(nodes=st.lists(names_without(",").filter(lambda s: s.strip() == s), min_size=1))
def test_subscribe_room_round_trips(nodes: list[str]) -> None:
    """Any non-empty list of nodes 23.01 can split adapts back to itself."""
    args = {**SUBSCRIBE, "nodes": nodes}
    assert forward("subscribe_room").args(call_args("subscribe_room", args)) == args


@pytest.mark.parametrize("nodes", [[], ["a,b"], [" a"], ["a "], [""]])
def test_subscribe_room_refuses_nodes_23_01_would_split(nodes: list[str]) -> None:
    """No nodes, or a node 23.01 would split or trim, is refused."""
    with pytest.raises(Inexpressible, match="node"):
        call_args("subscribe_room", {**SUBSCRIBE, "nodes": nodes})


def test_subscribe_room_many_and_unsubscribe_room() -> None:
    """Each user becomes a JID with its nick; the room becomes its JID."""
    many = {
        "users": [("alice", "example.org", "al"), ("bob", "example.org", "bo")],
        "room": "lobby",
        "service": MUC,
        "nodes": NODES,
    }
    assert call_args("subscribe_room_many", many) == {
        "users": [("alice@example.org", "al"), ("bob@example.org", "bo")],
        "room": f"lobby@{MUC}",
        "nodes": ",".join(NODES),
    }
    assert forward("subscribe_room_many").args(call_args("subscribe_room_many", many)) == many
    leave = {"user": "alice", "host": "example.org", "room": "lobby", "service": MUC}
    assert call_args("unsubscribe_room", leave) == {
        "user": "alice@example.org",
        "room": f"lobby@{MUC}",
    }
    with pytest.raises(Inexpressible, match="room"):
        call_args("unsubscribe_room", {**leave, "room": "a@b"})


INVITATION = {
    "room": "lobby",
    "service": MUC,
    "password": "",
    "reason": "come in",
    "users": ["alice@example.org", "bob@example.org/home"],
}


def test_send_direct_invitation_joins_users_with_colons() -> None:
    """The users are one ``:``-separated string and the room is 23.01's ``name``."""
    args = call_args("send_direct_invitation", INVITATION)
    assert args["name"] == "lobby"
    assert args["users"] == "alice@example.org:bob@example.org/home"
    assert forward("send_direct_invitation").args(args) == INVITATION


@pytest.mark.parametrize("users", [[], ["a@b/c:d"], [""]])
def test_send_direct_invitation_refuses_what_23_01_cannot_split(users: list[str]) -> None:
    """No users (23.01 would decode an empty JID) or a JID holding ``:`` is refused."""
    with pytest.raises(Inexpressible, match="JID"):
        call_args("send_direct_invitation", {**INVITATION, "users": users})


def test_rooms_empty_destroy_counts_the_rooms() -> None:
    """23.01's list of destroyed rooms reads back as 24.12's count."""
    assert read("rooms_empty_destroy", ["a@muc", "b@muc"]) == ResTuple("Destroyed rooms: 2")
    assert read("rooms_empty_destroy", []) == ResTuple("Destroyed rooms: 0")


# -- sessions -------------------------------------------------------------------------------------

SESSION = st.tuples(
    USER,
    DOMAIN,
    TEXT,
    st.integers(-128, 127),
    TEXT,
)


@pytest.mark.parametrize("command", ["status_list", "status_list_host"])
@given(sessions=st.lists(SESSION))
def test_status_lists_round_trip(
    command: str, sessions: list[tuple[str, str, str, int, str]]
) -> None:
    """23.01's user, host and resource read back as one full JID, and adapt back to them."""
    canonical = read(command, sessions)
    assert [jid for jid, _, _ in canonical] == [
        f"{u}@{h}/{r}" if r else f"{u}@{h}" for u, h, r, _, _ in sessions
    ]
    assert forward(command).result(canonical) == sessions


def test_set_presence_sends_the_priority_as_text() -> None:
    """23.01 took the priority as a binary: its decimal text is sent."""
    args = {
        "user": "alice",
        "host": "example.org",
        "resource": "r",
        "type": "available",
        "show": "away",
        "status": "",
        "priority": -5,
    }
    assert call_args("set_presence", args)["priority"] == "-5"
    assert forward("set_presence").args(call_args("set_presence", args)) == args


@given(count=st.integers(0, 1000))
def test_kick_user_counts_in_words(count: int) -> None:
    """23.01's number of closed sessions reads back as 24.12's text, which adapts back."""
    canonical = read("kick_user", count)
    assert canonical == ResTuple(f"Kicked sessions: {count}")
    assert forward("kick_user").result(canonical) == count


def test_join_cluster_reads_a_rescode_as_a_restuple() -> None:
    """23.01's ok is an ok restuple; its failure an error restuple, which 23.01 callers see fail."""
    assert read("join_cluster", True).ok
    failed = read("join_cluster", False)
    assert not failed.ok
    assert "gives no reason" in failed.text
    assert forward("join_cluster").result(read("join_cluster", True)) is True
    with pytest.raises(CommandFailed):
        forward("join_cluster").result(failed)


# -- OAuth ---------------------------------------------------------------------------------------


def test_oauth_issue_token_joins_and_splits_scopes() -> None:
    """Scopes go as one ``;``-joined string; the answer's run-together scopes are split again."""
    args = {"jid": "alice@example.org", "ttl": 3600, "scopes": ["get_roster", "ejabberd:user"]}
    assert call_args("oauth_issue_token", args)["scopes"] == "get_roster;ejabberd:user"
    answer = ("tok", "get_rosterejabberd:user", "3600 seconds")
    assert read("oauth_issue_token", answer) == (
        "tok",
        ["get_roster", "ejabberd:user"],
        "3600 seconds",
    )
    with pytest.raises(Inexpressible, match="scope"):
        call_args("oauth_issue_token", {**args, "scopes": ["a;b"]})


def test_oauth_list_tokens_separates_scopes_with_blanks() -> None:
    """Each token's run-together scopes read back separated by blanks, as the canonical answer."""
    tokens = [("tok", "alice@example.org", "sasl_authget_roster", "60 seconds")]
    assert read("oauth_list_tokens", tokens) == [
        ("tok", "alice@example.org", "sasl_auth get_roster", "60 seconds")
    ]


def test_scopes_that_cannot_be_split_are_refused() -> None:
    """Scopes 23.01 would not grant, run together, cannot be told apart: refused, not guessed."""
    with pytest.raises(Inexpressible, match="cannot be told apart"):
        read("oauth_list_tokens", [("tok", "a@b", "get_rosterfoo", "1 seconds")])
    assert split_scopes("abc", ["a", "b", "c", "ab"]) is None  # two ways: a|b|c and ab|c
    assert split_scopes("", ["a"]) == []


LEGACY_SCOPES = sorted(
    set(Catalogue.load(LEGACY_PROFILE).names(include_internal=True))
    | {"ejabberd:user", "ejabberd:admin", "sasl_auth"}
)


@given(scopes=st.lists(st.sampled_from(LEGACY_SCOPES), max_size=6))
def test_split_scopes_never_guesses_wrong(scopes: list[str]) -> None:
    """Run-together 23.01 scopes split back into exactly those scopes, or not at all."""
    found = split_scopes("".join(scopes))
    assert found is None or found == scopes


@pytest.mark.parametrize(
    "scopes",
    [
        ["ejabberd:admin"],
        ["get_roster", "ejabberd:user"],
        ["sasl_auth", "status", "registered_users", "get_vcard2"],
    ],
)
def test_split_scopes_reads_what_clients_ask_for(scopes: list[str]) -> None:
    """The scopes clients ask for are told apart."""
    assert split_scopes("".join(scopes)) == scopes
