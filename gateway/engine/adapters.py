"""Every adapter from an old command definition to the newest 24.12 one.

:func:`standard_adapters` gathers them in an
:class:`~gateway.engine.versions.AdapterRegistry` for the engine.  Each adapter rewrites
the caller's typed arguments into the newest definition's (keyed by its
argument names) and the newest-shaped result back into the old shape, so a
backend only ever implements the newest definition.

Where an old argument packed several values into one string, the separator
is the one ejabberd's own compatibility code splits on; empty pieces are
dropped, since an empty group, scope, node or JID means nothing:

* ``add_rosteritem`` v0 ``group``: ``;`` (``"a;b"``; ``""`` is no group).
* ``oauth_issue_token`` v0 ``scopes``: ``;``; the result's scope list is
  joined with ``;`` again so the answer reads like the argument.
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

from gateway.engine.errors import BadArgumentType, CommandFailed
from gateway.engine.model import ResTuple
from gateway.engine.names import CURRENT_PROFILE, LEGACY_PROFILE
from gateway.engine.versions import AdapterRegistry, Execute, rename_keys

__all__ = ["ASK_FROM_PENDING", "BOTH_PROFILES", "split_jid", "standard_adapters"]

#: every profile whose version-0 definitions need the same adapter
BOTH_PROFILES: tuple[str, ...] = (CURRENT_PROFILE, LEGACY_PROFILE)

_JID_EXPECTED = "a JID of the form user@host"

ArgsFn = Callable[[dict[str, Any]], dict[str, Any]]


def split_jid(command: str, argument: str, value: str) -> tuple[str, str]:
    """``user@host[/resource]`` as ``(user, host)``; the resource is dropped.

    Raises:
        BadArgumentType: naming ``argument`` when ``value`` has no user or no host part.
    """
    bare = value.split("/", 1)[0]
    user, at, host = bare.partition("@")
    if not at or not user or not host:
        raise BadArgumentType(command, argument, value, _JID_EXPECTED)
    return user, host


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


def _jid_args_split(command: str, jid_args: Mapping[str, tuple[str, str]]) -> ArgsFn:
    """Replace each JID argument by two parts, keeping every other argument's place.

    ``jid_args`` maps an old argument to the two new names its JID splits into.
    """

    def args(given: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in given.items():
            if key in jid_args:
                first, second = jid_args[key]
                out[first], out[second] = split_jid(command, key, value)
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
        raise BadArgumentType("set_presence", "priority", priority, "an integer")
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


_subscribe_room_jids = _jid_args_split(
    "subscribe_room", {"user": ("user", "host"), "room": ("room", "service")}
)


def _subscribe_room_many_users(given: dict[str, Any]) -> dict[str, Any]:
    """Each ``{jid, nick}`` becomes ``{user, host, nick}``; the room JID is split."""
    users = [
        (*split_jid("subscribe_room_many", "users", jid), nick) for jid, nick in given["users"]
    ]
    room, service = split_jid("subscribe_room_many", "room", given["room"])
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
    ``out``/``both`` (or ``subscribe``) for the former.
    """
    out: list[tuple[str, str, str, str, str]] = []
    for jid, nick, subscription, pending, groups in value:
        ask = ASK_FROM_PENDING.get(pending, "undefined")
        out.extend((jid, nick, subscription, ask, group) for group in groups or [""])
    return out


def _join_cluster_result(value: ResTuple) -> bool:
    """23.01 answered ok or an error; a failed restuple becomes that error."""
    if not value.ok:
        raise CommandFailed(value.text)
    return True


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
        args=_jid_args_split("muc_register_nick", {"jid": ("user", "host")}),
    )
    _register(
        registry,
        both,
        "muc_unregister_nick",
        args=_jid_args_split("muc_unregister_nick", {"jid": ("user", "host")}),
    )
    _register(
        registry,
        both,
        "set_room_affiliation",
        args=_then(
            _renamed({"name": "room"}),
            _jid_args_split("set_room_affiliation", {"jid": ("user", "host")}),
        ),
    )
    _register(
        registry,
        both,
        "unsubscribe_room",
        args=_jid_args_split(
            "unsubscribe_room", {"user": ("user", "host"), "room": ("room", "service")}
        ),
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
    _register(registry, legacy, "get_roster", result=_get_roster_result)
    _register(registry, legacy, "join_cluster", result=_join_cluster_result)
    return registry
