"""Multi-user chat commands on an ejabberd 23.01 upstream.

24.12 calls the room ``room`` where 23.01 called it ``name``, takes users
and rooms as parts where 23.01 took JIDs, and lists where 23.01 took one
string.  23.01's rooms had ``allow_private_messages`` (``true``/``false``)
where 24.x has ``allowpm`` (``anyone``/``participants``/``moderators``/
``none``); ``true`` is ``anyone`` and ``false`` is ``none``, as ejabberd
converts rooms stored by 23.x, and the two levels between have no 23.01
equivalent.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from gateway.backends.upstream.translate_rules import (
    Inexpressible,
    Rule,
    jid_from_parts,
    jid_of,
    join_pieces,
    renamed,
    room_jid,
)
from gateway.engine.model import ResTuple

__all__ = ["MUC_RULES"]

#: 24.12 argument name → 23.01's, for the room
_ROOM_AS_NAME = {"room": "name"}
_rename_room = renamed(_ROOM_AS_NAME)

# -- room options ---------------------------------------------------------------

#: 23.01's option for what 24.x calls ``allowpm``
PRIVATE_MESSAGES = "allow_private_messages"
_ALLOWPM = "allowpm"
_ALLOWPM_TO_2301 = {"anyone": "true", "none": "false"}
_ALLOWPM_FROM_2301 = {"true": "anyone", "false": "none"}


def _option(command: str, name: str, value: str) -> tuple[str, str]:
    """One canonical room option as 23.01 takes it."""
    if name != _ALLOWPM:
        return name, value
    old = _ALLOWPM_TO_2301.get(value)
    if old is None:
        raise Inexpressible(
            command,
            f"23.01 rooms allow private messages to anyone or to no one "
            f"({PRIVATE_MESSAGES} true/false); allowpm '{value}' has no equivalent",
        )
    return PRIVATE_MESSAGES, old


def _change_room_option(given: Mapping[str, Any]) -> dict[str, Any]:
    out = _rename_room(given)
    out["option"], out["value"] = _option("change_room_option", out["option"], out["value"])
    return out


def _create_room_with_opts(given: Mapping[str, Any]) -> dict[str, Any]:
    out = _rename_room(given)
    out["options"] = [
        _option("create_room_with_opts", name, value) for name, value in out["options"]
    ]
    return out


def _room_options_result(value: Sequence[tuple[str, str]]) -> list[tuple[str, str]]:
    """23.01's ``allow_private_messages`` read as ``allowpm``; every other option as it is."""
    out: list[tuple[str, str]] = []
    for name, option in value:
        if name == PRIVATE_MESSAGES:
            level = _ALLOWPM_FROM_2301.get(option)
            if level is None:
                raise Inexpressible(
                    "get_room_options",
                    f"the upstream answered {PRIVATE_MESSAGES} {option!r}, not true or false",
                )
            out.append((_ALLOWPM, level))
        else:
            out.append((name, option))
    return out


# -- affiliations -----------------------------------------------------------------


def _set_room_affiliation(given: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "name": given["room"],
        "service": given["service"],
        "jid": jid_of("set_room_affiliation", given["user"], given["host"]),
        "affiliation": given["affiliation"],
    }


def _get_room_affiliations_result(
    value: Sequence[tuple[str, str, str, str]],
) -> list[tuple[str, str, str]]:
    """23.01 gave each member's user and domain apart; 24.12 gives its JID."""
    return [
        (jid_from_parts(user, domain), affiliation, reason)
        for user, domain, affiliation, reason in value
    ]


def _muc_register_nick(given: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "nick": given["nick"],
        "jid": jid_of("muc_register_nick", given["user"], given["host"]),
        "service": given["service"],
    }


def _muc_unregister_nick(given: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "jid": jid_of("muc_unregister_nick", given["user"], given["host"]),
        "service": given["service"],
    }


# -- subscriptions (MucSub) -------------------------------------------------------

#: 23.01 split the nodes on a comma with any blanks around it
_BLANK_AT_EDGE = r"^\s|\s$"


def _nodes(command: str, nodes: Sequence[str]) -> str:
    return join_pieces(
        command, "node", nodes, ",", forbidden=_BLANK_AT_EDGE, allow_empty_list=False
    )


def _subscribe_room(given: Mapping[str, Any]) -> dict[str, Any]:
    command = "subscribe_room"
    return {
        "user": jid_of(command, given["user"], given["host"]),
        "nick": given["nick"],
        "room": room_jid(command, given["room"], given["service"]),
        "nodes": _nodes(command, given["nodes"]),
    }


def _subscribe_room_many(given: Mapping[str, Any]) -> dict[str, Any]:
    command = "subscribe_room_many"
    return {
        "users": [(jid_of(command, user, host), nick) for user, host, nick in given["users"]],
        "room": room_jid(command, given["room"], given["service"]),
        "nodes": _nodes(command, given["nodes"]),
    }


def _unsubscribe_room(given: Mapping[str, Any]) -> dict[str, Any]:
    command = "unsubscribe_room"
    return {
        "user": jid_of(command, given["user"], given["host"]),
        "room": room_jid(command, given["room"], given["service"]),
    }


# -- the rest ---------------------------------------------------------------------


def _send_direct_invitation(given: Mapping[str, Any]) -> dict[str, Any]:
    out = _rename_room(given)
    # 23.01 splits on ':' and decodes every piece, so no piece may be empty
    out["users"] = join_pieces(
        "send_direct_invitation", "JID", given["users"], ":", allow_empty_list=False
    )
    return out


def _rooms_empty_destroy_result(value: Sequence[str]) -> ResTuple:
    """23.01 listed the destroyed rooms; 24.12 counts them in its own words."""
    return ResTuple(f"Destroyed rooms: {len(value)}")


#: 24.12 renamed only the room argument of these
_ROOM_RENAMED = (
    "create_room",
    "destroy_room",
    "get_room_affiliation",
    "get_room_occupants",
    "get_room_occupants_number",
    "get_subscribers",
)

MUC_RULES: dict[str, Rule] = {
    **{name: Rule(args=_rename_room) for name in _ROOM_RENAMED},
    "change_room_option": Rule(args=_change_room_option),
    "create_room_with_opts": Rule(args=_create_room_with_opts),
    "get_room_options": Rule(args=_rename_room, result=_room_options_result),
    "get_room_affiliations": Rule(args=_rename_room, result=_get_room_affiliations_result),
    "set_room_affiliation": Rule(args=_set_room_affiliation),
    "muc_register_nick": Rule(args=_muc_register_nick),
    "muc_unregister_nick": Rule(args=_muc_unregister_nick),
    "subscribe_room": Rule(args=_subscribe_room),
    "subscribe_room_many": Rule(args=_subscribe_room_many),
    "unsubscribe_room": Rule(args=_unsubscribe_room),
    "send_direct_invitation": Rule(args=_send_direct_invitation),
    "rooms_empty_destroy": Rule(result=_rooms_empty_destroy_result),
}
