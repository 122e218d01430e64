"""Every adapter from an old command definition to the newest 24.12 one.

:func:`standard_adapters` gathers them in an
:class:`~gateway.engine.versions.AdapterRegistry` for the engine.  Each adapter rewrites
the caller's typed arguments into the newest definition's (keyed by its
argument names) and the newest-shaped result back into the old shape, so a
backend only ever implements the newest definition.  23.01 answers that
differ in shape under an unchanged definition are in
:mod:`~gateway.engine.legacy_shapes`.

Where an old argument packed several values into one string, the separator
is the one ejabberd's own compatibility code splits on; empty pieces are
dropped, since an empty group, scope, node or JID means nothing:

* ``add_rosteritem`` v0 ``group``: ``;`` (``"a;b"``; ``""`` is no group).
* ``oauth_issue_token`` v0 ``scopes``: ``;``; in the 24.12 profile the
  result's scope list is joined with ``;`` again so the answer reads like the
  argument (the 23.01 profile answers 23.01's shapes, see ``_scopes_2301``).
* ``send_direct_invitation`` v0 ``users``: ``:`` (``"a@b:c@d"``).
* ``srg_create`` v0 ``display``: the two characters backslash and ``n``
  (ejabberd splits on the regular expression ``\\\\n``, so a shell or JSON
  client writes ``a\\nb``).  A real line break is accepted as well, because
  a client that sends one clearly means two groups.
* ``subscribe_room``/``subscribe_room_many`` v0 ``nodes``: ``,`` with any
  blanks around it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from gateway.engine.builtin import profile_status_text
from gateway.engine.erlpretty import format_p
from gateway.engine.erlprint import TermText
from gateway.engine.errors import BadArgumentType, CommandFailed
from gateway.engine.identifiers import InvalidIdentifier, prepare_jid
from gateway.engine.legacy_shapes import register_legacy_shapes
from gateway.engine.model import ResTuple
from gateway.engine.names import CURRENT_PROFILE, LEGACY_PROFILE
from gateway.engine.types import Type
from gateway.engine.versions import AdapterRegistry, Execute, rename_keys

__all__ = ["ASK_FROM_PENDING", "BOTH_PROFILES", "split_jid", "standard_adapters"]

#: every profile whose version-0 definitions need the same adapter
BOTH_PROFILES: tuple[str, ...] = (CURRENT_PROFILE, LEGACY_PROFILE)

#: ejabberd's own texts for a JID argument it cannot decode (mod_muc_admin, 23.01 and 24.12)
MALFORMED_ROOM = "Malformed room JID"
MALFORMED_USER = "Malformed user JID"
INVALID_JID = "Invalid 'jid'"

ArgsFn = Callable[[dict[str, Any]], dict[str, Any]]


def split_jid(value: str, malformed: str) -> tuple[str, str]:
    """``user@host[/resource]`` as ``(user, host)``; the resource is dropped.

    Raises:
        CommandFailed: with ejabberd's text ``malformed`` when ``value`` is no
            JID (ejabberd's ``bad_jid``) or has no user part; thrown, as
            mod_muc_admin throws it.
    """
    try:
        user, _, _ = prepare_jid(value)
    except InvalidIdentifier:
        raise CommandFailed(malformed, thrown=True) from None
    if user is None:
        raise CommandFailed(malformed, thrown=True)
    bare = value.split("/", 1)[0]
    name, _, host = bare.partition("@")
    return name, host


def _jid_parts(jid: str) -> tuple[str, str, str]:
    """A result JID as ``(user, host, resource)``; a server JID has user ``""``."""
    bare, _, resource = jid.partition("/")
    user, at, host = bare.partition("@")
    if not at:
        return "", user, resource
    return user, host, resource


def _pieces(text: str, separator: str) -> list[str]:
    """Split ``text`` on the regular expression ``separator``, dropping empty pieces."""
    return [piece for piece in re.split(separator, text) if piece]


def _register(
    registry: AdapterRegistry, profiles: Iterable[str], name: str, version: int = 0, **maps: Any
) -> None:
    for profile in profiles:
        registry.register(profile, name, version, **maps)


def _renamed(renames: Mapping[str, str]) -> ArgsFn:
    """An argument map that only renames keys."""

    def args(given: dict[str, Any]) -> dict[str, Any]:
        return rename_keys(given, renames)

    return args


# -- argument rewrites that several commands share ---------------------------


def _jid_args_split(jid_args: Mapping[str, tuple[str, str, str]]) -> ArgsFn:
    """Replace each JID argument by two parts, keeping every other argument's place.

    ``jid_args`` maps an old argument to the two new names its JID splits into
    and ejabberd's text for a malformed one; the JIDs are checked in its order
    (ejabberd's), whatever order the caller sent them in.
    """

    def args(given: dict[str, Any]) -> dict[str, Any]:
        parts = {
            key: split_jid(given[key], malformed)
            for key, (_, _, malformed) in jid_args.items()
            if key in given
        }
        out: dict[str, Any] = {}
        for key, value in given.items():
            if key in parts:
                first, second, _ = jid_args[key]
                out[first], out[second] = parts[key]
            else:
                out[key] = value
        return out

    return args


def _nodes(given: dict[str, Any]) -> dict[str, Any]:
    """The v0 ``nodes`` string becomes the v1 list."""
    return {
        key: _pieces(value.strip(), r"\s*,\s*") if key == "nodes" else value
        for key, value in given.items()
    }


def _then(*steps: ArgsFn) -> ArgsFn:
    def args(given: dict[str, Any]) -> dict[str, Any]:
        for step in steps:
            given = step(given)
        return given

    return args


# -- roster and accounts ----------------------------------------------------


def _add_rosteritem(given: dict[str, Any]) -> dict[str, Any]:
    return {
        ("groups" if key == "group" else key): (_pieces(value, ";") if key == "group" else value)
        for key, value in given.items()
    }


def _kick_user_result(value: ResTuple) -> int:
    """v0 answered the number of closed sessions; v2 says it in text.

    ejabberd's v2 text is ``"Stopped sessions: N"``; backends use the same
    wording, and the last number in the text is the count.
    """
    if not value.ok:
        raise CommandFailed(value.text)
    numbers = re.findall(r"[0-9]+", value.text)
    if not numbers:
        raise ValueError(f"kick_user answered no session count: {value.text!r}")
    return int(numbers[-1])


def _set_presence(given: dict[str, Any]) -> dict[str, Any]:
    out = dict(given)
    priority = given["priority"]
    text = priority.strip()
    if not re.fullmatch(r"[+-]?[0-9]+", text):
        raise BadArgumentType("set_presence", "priority", priority, Type("integer"))
    out["priority"] = int(text)
    return out


def _oauth_issue_token_args(given: dict[str, Any]) -> dict[str, Any]:
    return {**given, "scopes": _pieces(given["scopes"], ";")}


def _oauth_issue_token_result(value: tuple[str, list[str], str]) -> tuple[str, str, str]:
    token, scopes, expires_in = value
    return token, ";".join(scopes), expires_in


def _srg_create(given: dict[str, Any]) -> dict[str, Any]:
    return {**given, "display": _pieces(given["display"], r"\\n|\r?\n")}


# -- sessions ---------------------------------------------------------------

#: one entry of status_list v3: (jid, priority, status)
_Status = tuple[str, int, str]


def _status_list_result(value: list[_Status]) -> list[tuple[str, str, str, int, str]]:
    """v3 gives full JIDs; v0 gave user, host and resource apart."""
    return [(*_jid_parts(jid), priority, status) for jid, priority, status in value]


# -- multi-user chat --------------------------------------------------------


#: ejabberd decodes the room before the user
_ROOM_AND_USER = {
    "room": ("room", "service", MALFORMED_ROOM),
    "user": ("user", "host", MALFORMED_USER),
}
_subscribe_room_jids = _jid_args_split(_ROOM_AND_USER)


def _subscribe_room_many_users(given: dict[str, Any]) -> dict[str, Any]:
    """Each ``{jid, nick}`` becomes ``{user, host, nick}``; the room JID is split first."""
    room, service = split_jid(given["room"], MALFORMED_ROOM)
    users = [(*split_jid(jid, MALFORMED_USER), nick) for jid, nick in given["users"]]
    return {"users": users, "room": room, "service": service, "nodes": given["nodes"]}


def _send_direct_invitation(given: dict[str, Any]) -> dict[str, Any]:
    out = rename_keys(given, {"name": "room"})
    out["users"] = _pieces(out["users"], ":")
    return out


def _get_room_affiliations_result(
    value: list[tuple[str, str, str]],
) -> list[tuple[str, str, str, str]]:
    """v3 gives the member's JID; v0 gave its user and domain apart."""
    out = []
    for jid, affiliation, reason in value:
        user, host, _ = _jid_parts(jid)
        out.append((user, host, affiliation, reason))
    return out


async def _rooms_empty_destroy_run(args: dict[str, Any], execute: Execute) -> list[str]:
    """v0 answered the rooms it destroyed; v2 only counts them in text.

    The list is read first with ``rooms_empty_list``, then the rooms are
    destroyed: a room that becomes empty in between is destroyed but not
    listed, as it would be had it emptied a moment later.
    """
    rooms: list[str] = await execute("rooms_empty_list", dict(args))
    outcome: ResTuple = await execute("rooms_empty_destroy", dict(args))
    if not outcome.ok:
        raise CommandFailed(outcome.text)
    return rooms


# -- 23.01 only ---------------------------------------------------------------


#: 23.01's ``ask`` only knew two values: an outgoing request is pending or not
ASK_FROM_PENDING: dict[str, str] = {
    "out": "subscribe",
    "both": "subscribe",
    "subscribe": "subscribe",
}


def _get_roster_result(
    value: list[tuple[str, str, str, str, list[str]]],
) -> list[tuple[str, str, str, str, str]]:
    """23.01 listed a contact once per group (once with group ``""`` without any).

    ``ask`` was ``"subscribe"`` while our own subscription request waited for
    an answer and ``"undefined"`` otherwise; 24.12's ``pending`` says
    ``out``/``both`` (or ``subscribe``) for the former.  23.01 put each
    contact's lines before those of the contacts before it, so the contacts
    come in the reverse of 24.12's order (a contact's groups keep theirs).
    """
    out: list[tuple[str, str, str, str, str]] = []
    for jid, nick, subscription, pending, groups in reversed(value):
        ask = ASK_FROM_PENDING.get(pending, "undefined")
        out.extend((jid, nick, subscription, ask, group) for group in groups or [""])
    return out


#: commands whose successful answer is ``{ok, ""}`` in ejabberd 23.01
_EMPTY_OK_TEXT_IN_2301 = (
    "unregister",
    "oauth_add_client_implicit",
    "oauth_add_client_password",
    "oauth_remove_client",
    "oauth_revoke_token",
)


def _empty_ok_text(value: ResTuple) -> ResTuple:
    """23.01 said nothing on success (``{ok, ""}``); a failure keeps its text."""
    return ResTuple("", value.status) if value.ok else value


def _status_2301(value: ResTuple) -> ResTuple:
    """23.01 words the first line its own way, naming 23.01 as the release clients read."""
    return ResTuple(profile_status_text(value.text, LEGACY_PROFILE), value.status)


def _scopes_2301(scopes: Iterable[str]) -> TermText:
    """A token's scopes as 23.01 answers them: its list of binaries in a ``string`` result.

    mod_http_api runs the list together (``get_rosterejabberd:user``, no
    separator); XML-RPC and ejabberdctl print it with ``~p``
    (``[<<"get_roster">>,<<"ejabberd:user">>]``).  Captured from Debian's
    ejabberd 23.01, for ``oauth_issue_token`` and ``oauth_list_tokens`` alike.
    """
    names = list(scopes)
    return TermText("".join(names), format_p([name.encode("utf-8") for name in names]))


def _oauth_issue_token_result_2301(value: tuple[str, list[str], str]) -> tuple[str, str, str]:
    token, scopes, expires_in = value
    return token, _scopes_2301(scopes), expires_in


def _oauth_list_tokens_result_2301(
    value: list[tuple[str, str, str, str]],
) -> list[tuple[str, str, str, str]]:
    """The canonical answer gives each token's scopes separated by blanks."""
    return [
        (token, user, _scopes_2301(scope.split()), expires_in)
        for token, user, scope, expires_in in value
    ]


def _join_cluster_result(value: ResTuple) -> bool:
    """23.01 answered ok or an error; a failed restuple becomes that error."""
    if not value.ok:
        raise CommandFailed(value.text)
    return True


# -- how 23.01 worded failures ------------------------------------------------------

# The backend words a MUC failure as 24.12's mod_muc_admin does; 23.01 checked
# room names and services differently in each command and said so in its own
# words, which legacy clients match.
_ROOM_NAME_2412 = "Invalid value of room name"
_SERVICE_2412 = ("Invalid value of 'service'", "Unknown host passed in 'service'")
_NICK_SERVICE_2412 = ("Invalid value of 'service'", "Unknown host in 'service'")
_INVALID_SERVICE_2301 = "Invalid 'service'"


def _muc_wording(room_name: str, service: str) -> dict[str, str]:
    """23.01's texts for a bad room name and for a bad or unknown service."""
    return {_ROOM_NAME_2412: room_name, **dict.fromkeys(_SERVICE_2412, service)}


#: 24.12 text -> 23.01 text, per command (version 0 of the 23.01 profile)
_FAILURES_2301: dict[str, dict[str, str]] = {
    "create_room": _muc_wording("Invalid 'name'", _INVALID_SERVICE_2301),
    "create_room_with_opts": _muc_wording("Invalid 'name'", _INVALID_SERVICE_2301),
    "destroy_room": _muc_wording("Invalid 'name'", _INVALID_SERVICE_2301),
    "change_room_option": _muc_wording("Room not found", _INVALID_SERVICE_2301),
    "set_room_affiliation": _muc_wording("Room doesn't exists", _INVALID_SERVICE_2301),
    "get_room_affiliation": _muc_wording("The room does not exist.", "The room does not exist."),
    "get_room_affiliations": _muc_wording("The room does not exist.", "The room does not exist."),
    "get_subscribers": _muc_wording("The room does not exist", "The room does not exist"),
    # these take the room's JID, which cannot be decoded with a bad name
    "subscribe_room": _muc_wording("Malformed room JID", "The room does not exist"),
    "subscribe_room_many": _muc_wording("Malformed room JID", "The room does not exist"),
    "unsubscribe_room": _muc_wording("Malformed room JID", "The room does not exist"),
    "muc_register_nick": dict.fromkeys(_NICK_SERVICE_2412, _INVALID_SERVICE_2301),
    "muc_unregister_nick": dict.fromkeys(_NICK_SERVICE_2412, _INVALID_SERVICE_2301),
}

# -- the registry ---------------------------------------------------------------

#: 24.12 renamed the room argument ``name`` to ``room`` of these without a new version
_ROOM_RENAMED_IN_2412 = (
    "change_room_option",
    "create_room",
    "create_room_with_opts",
    "destroy_room",
    "get_room_affiliation",
    "get_room_occupants",
    "get_room_occupants_number",
    "get_room_options",
    "get_subscribers",
)


def standard_adapters() -> AdapterRegistry:
    """A registry holding every adapter above, for both profiles."""
    registry = AdapterRegistry()
    both, current, legacy = BOTH_PROFILES, (CURRENT_PROFILE,), (LEGACY_PROFILE,)

    # roster and accounts
    _register(registry, both, "add_rosteritem", args=_add_rosteritem)
    # v2 only changed what the command does (it also kicks and blocks the
    # account); its arguments and result are those of v0, so the identity
    # adapter is right: an old caller gets the newer, stricter behaviour.
    _register(registry, both, "ban_account")
    _register(registry, both, "kick_user", result=_kick_user_result)
    _register(registry, both, "set_presence", args=_set_presence)
    _register(
        registry,
        both,
        "oauth_issue_token",
        args=_oauth_issue_token_args,
        result=_oauth_issue_token_result,
    )
    _register(registry, both, "srg_create", args=_srg_create)

    # sessions
    _register(registry, both, "status_list", result=_status_list_result)
    _register(registry, both, "status_list_host", result=_status_list_result)

    # multi-user chat
    _register(
        registry,
        both,
        "muc_register_nick",
        args=_jid_args_split({"jid": ("user", "host", INVALID_JID)}),
    )
    _register(
        registry,
        both,
        "muc_unregister_nick",
        args=_jid_args_split({"jid": ("user", "host", INVALID_JID)}),
    )
    _register(
        registry,
        both,
        "set_room_affiliation",
        args=_then(
            _renamed({"name": "room"}),
            # ejabberd crashes on a malformed jid here; its muc_register_nick's text says it
            _jid_args_split({"jid": ("user", "host", INVALID_JID)}),
        ),
    )
    _register(
        registry,
        both,
        "unsubscribe_room",
        args=_jid_args_split(_ROOM_AND_USER),
    )
    _register(registry, both, "subscribe_room", args=_then(_nodes, _subscribe_room_jids))
    _register(registry, current, "subscribe_room", 1, args=_subscribe_room_jids)
    _register(registry, both, "subscribe_room_many", args=_then(_nodes, _subscribe_room_many_users))
    _register(registry, current, "subscribe_room_many", 1, args=_subscribe_room_many_users)
    _register(registry, both, "send_direct_invitation", args=_send_direct_invitation)
    _register(
        registry,
        both,
        "get_room_affiliations",
        args=_renamed({"name": "room"}),
        result=_get_room_affiliations_result,
    )
    _register(registry, both, "rooms_empty_destroy", run=_rooms_empty_destroy_run)

    # 23.01 only
    for name in _ROOM_RENAMED_IN_2412:
        _register(registry, legacy, name, args=_renamed({"name": "room"}))
    # after the renames: some of these replace them (they rename as well)
    register_legacy_shapes(registry)
    _register(registry, legacy, "get_roster", result=_get_roster_result)
    _register(registry, legacy, "join_cluster", result=_join_cluster_result)
    _register(
        registry,
        legacy,
        "oauth_issue_token",
        args=_oauth_issue_token_args,
        result=_oauth_issue_token_result_2301,
    )
    _register(registry, legacy, "oauth_list_tokens", result=_oauth_list_tokens_result_2301)
    _register(registry, legacy, "status", result=_status_2301)
    for name in _EMPTY_OK_TEXT_IN_2301:
        _register(registry, legacy, name, result=_empty_ok_text)
    for name, texts in _FAILURES_2301.items():
        registry.register_failures(LEGACY_PROFILE, name, 0, texts)
    return registry
