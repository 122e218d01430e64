"""23.01's own answers where its definitions match 24.12's but its results read differently.

The definitions of these commands did not change between the releases, so no
signature tells the difference; ejabberd 23.01's code simply answered in
another shape.  Each adapter here turns the canonical (24.12) answer into the
one a real ejabberd 23.01 gives, checked against Debian's ejabberd 23.01:

* ``get_room_options``: 23.01's room configuration had
  ``allow_private_messages`` (``true``/``false``) where 24.x has ``allowpm``
  (``anyone``/``participants``/``moderators``/``none``), and also listed
  ``vcard_xupdate`` and ``captcha_whitelist`` (after ``vcard``), which the
  gateway cannot set and shows with a new room's values.  ``change_room_option``
  and ``create_room_with_opts`` take ``allow_private_messages`` the same way;
  ``allowpm`` is no 23.01 option.  ``true`` is ``anyone`` and ``false`` is
  ``none``, as ejabberd converts rooms stored by 23.x; the levels between read
  back as ``true`` (private messages are allowed to someone).  A room 23.01
  cannot find has no options (``{}`` over ``/api``, ``[]`` over XML-RPC), be
  there no room of that name (24.12 answers so too) or a name or service that
  cannot be one (24.12 and its profile refuse those with an error); a client
  may probe for a room that way before creating it.
* ``srg_get_info``: the keys come as ``srg_create`` stored them (label,
  displayed groups, description), ``displayed_groups`` always.  ejabberd
  answered the group's Erlang strings, which each dialect prints its own way:
  mod_http_api joins the displayed groups with line breaks (an empty value is
  ``""``), XML-RPC and ejabberdctl print the list with ``~p``
  (``["g1","g3"]``, ``[]``) and an empty label or description as ``[]``.  The
  value is a :class:`~gateway.engine.erlprint.TermText` carrying both.
* ``delete_old_users``/``delete_old_users_vhost``: the deleted accounts are the
  ``~p`` print of ``[{User, Host}]`` binaries, line breaks included
  (``Deleted 2 users: [{<<"a">>,<<"example.org">>},…]``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from gateway.engine.erlpretty import format_p
from gateway.engine.erlprint import TermText, charlist
from gateway.engine.errors import CommandFailed
from gateway.engine.model import ResTuple
from gateway.engine.names import LEGACY_PROFILE
from gateway.engine.versions import AdapterRegistry, Execute, rename_keys

__all__ = ["register_legacy_shapes"]

# -- room options ----------------------------------------------------------------------------

#: 23.01's name for 24.x's ``allowpm``
PRIVATE_MESSAGES = "allow_private_messages"
#: options 23.01 lists after ``vcard``, with the values of a room that never set them
_AFTER_VCARD = (("vcard_xupdate", "undefined"), ("captcha_whitelist", "{0,nil}"))


def _room_options_result(value: Sequence[tuple[str, str]]) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    # a real 24.12 upstream lists these two itself; only a store that lacks them gets 23.01's
    present = {name for name, _ in value}
    missing = [pair for pair in _AFTER_VCARD if pair[0] not in present]
    for name, option in value:
        if name == "allowpm":
            out.append((PRIVATE_MESSAGES, "false" if option == "none" else "true"))
            continue
        out.append((name, option))
        if name == "vcard":
            out.extend(missing)
    return out


#: 24.12's failures of get_room_options (a bad name or service, and the missing room a
#: backend may report) where 23.01 finds no room
_NO_ROOM_2412 = frozenset(
    (
        "The room does not exist",
        "Invalid value of room name",
        "Invalid value of 'service'",
        "Unknown host passed in 'service'",
    )
)


async def _room_options_run(args: dict[str, Any], execute: Execute) -> Any:
    """23.01 answers no options (``{}`` / ``[]``) for a room it cannot find."""
    try:
        return await execute("get_room_options", dict(args))
    except CommandFailed as e:
        if e.message in _NO_ROOM_2412:
            return []
        raise


def _option_2301(name: str, value: str) -> tuple[str, str]:
    """A 23.01 option as the canonical command takes it."""
    if name == "allowpm":
        raise CommandFailed(f"Unknown room option '{name}'")
    if name != PRIVATE_MESSAGES:
        return name, value
    allowed = value.lower()
    if allowed not in ("true", "false"):
        raise CommandFailed(
            f"Invalid value '{value}' for room option {PRIVATE_MESSAGES}: use true or false"
        )
    return "allowpm", "anyone" if allowed == "true" else "none"


def _rename_room(given: dict[str, Any]) -> dict[str, Any]:
    """24.12 calls the room argument ``room``; 23.01 called it ``name``."""
    return rename_keys(given, {"name": "room"})


def _change_room_option_args(given: dict[str, Any]) -> dict[str, Any]:
    out = _rename_room(given)
    out["option"], out["value"] = _option_2301(out["option"], out["value"])
    return out


def _create_room_with_opts_args(given: dict[str, Any]) -> dict[str, Any]:
    out = _rename_room(given)
    out["options"] = [_option_2301(name, value) for name, value in out["options"]]
    return out


# -- shared roster groups ------------------------------------------------------------------------


def _charlist_text(text: str) -> str:
    """A label or description: ``[]`` for XML-RPC and ejabberdctl when empty."""
    return text if text else TermText("", "[]")


def _displayed_text(groups: Sequence[str]) -> TermText:
    return TermText("\n".join(groups), format_p([charlist(group) for group in groups]))


async def _srg_get_info_run(args: dict[str, Any], execute: Execute) -> list[tuple[str, str]]:
    info: list[tuple[str, str]] = await execute("srg_get_info", dict(args))
    if not info:
        return []  # no such group: no information, as ejabberd answers
    fields = dict(info)
    displayed: list[str] = []
    if "displayed_groups" in fields:
        # the canonical answer joins the names; ask for them one by one
        displayed = await execute("srg_get_displayed", dict(args))
    out: list[tuple[str, str]] = [
        ("label", _charlist_text(fields.get("label", ""))),
        ("displayed_groups", _displayed_text(displayed)),
        ("description", _charlist_text(fields.get("description", ""))),
    ]
    out += [(k, v) for k, v in info if k not in ("label", "displayed_groups", "description")]
    return out


# -- accounts ------------------------------------------------------------------------------------

_DELETED = re.compile(r"Deleted ([0-9]+) users: \[(.*)\]", re.DOTALL)
_QUOTED_JID = re.compile(r'"([^"@]+)@([^"@]+)"')


def _deleted_accounts(text: str) -> tuple[int, list[tuple[str, str]]] | None:
    """The count and accounts of a canonical ``Deleted N users: ["u@h", …]``, or ``None``."""
    found = _DELETED.fullmatch(text)
    if found is None:
        return None
    count, inner = int(found.group(1)), found.group(2)
    accounts = []
    for piece in inner.split(", ") if inner else []:
        jid = _QUOTED_JID.fullmatch(piece)
        if jid is None:
            return None
        accounts.append((jid.group(1), jid.group(2)))
    return count, accounts


def _delete_old_users_result(value: ResTuple) -> ResTuple:
    """The accounts as 23.01's ``~p`` of ``{User, Host}`` binaries; other texts stay."""
    parsed = _deleted_accounts(value.text) if value.ok else None
    if parsed is None:
        return value
    count, accounts = parsed
    prefix = f"Deleted {count} users: "
    term = [(user.encode("utf-8"), host.encode("utf-8")) for user, host in accounts]
    return ResTuple(prefix + format_p(term, column=len(prefix) + 1), value.status)


# -- the registry ---------------------------------------------------------------------------------


def register_legacy_shapes(registry: AdapterRegistry) -> None:
    """Register the adapters above for the 23.01 profile.

    They replace any adapter already registered for these commands: the three
    room commands rename ``name`` to ``room`` (24.12's name) themselves.
    """
    legacy = LEGACY_PROFILE
    registry.register(
        legacy,
        "get_room_options",
        0,
        args=_rename_room,
        result=_room_options_result,
        run=_room_options_run,
    )
    registry.register(legacy, "change_room_option", 0, args=_change_room_option_args)
    registry.register(legacy, "create_room_with_opts", 0, args=_create_room_with_opts_args)
    registry.register(legacy, "srg_get_info", 0, run=_srg_get_info_run)
    for name in ("delete_old_users", "delete_old_users_vhost"):
        registry.register(legacy, name, 0, result=_delete_old_users_result)
