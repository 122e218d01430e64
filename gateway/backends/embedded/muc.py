"""MUC administration records: rooms, options, affiliations, subscriptions and nicknames.

No XMPP service runs these rooms: they are records the API manages (the
README says so).  The store therefore cannot tell which rooms are online,
who occupies them, whether their archive is empty or when anyone last spoke
in them, so ``muc_online_rooms``, ``muc_online_rooms_by_regex``,
``rooms_empty_list``/``_destroy`` and ``rooms_unused_list``/``_destroy`` are
not claimed: the engine answers them "not supported" rather than listing
records as live rooms or destroying rooms on a guess.

Texts follow ejabberd 24.12's mod_muc_admin where it has them, and like it
these failures are thrown (``throw({error, Text})``), which XML-RPC and
ejabberdctl show differently from a returned error.  Each command has its own
words for a room that does not exist (``Room doesn't exists``, ``Room not
found``, ``The room does not exist.``, ``The room does not exist``); a room
name or service that cannot be one is ``Invalid value of room name`` /
``Invalid value of 'service'`` / ``Unknown host passed in 'service'``,
checked in that order.  The 23.01 profile rewords them as 23.01 did
(:mod:`gateway.engine.adapters`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from gateway.backends.embedded.context import Context, Handler, prep_host, prep_user
from gateway.backends.embedded.muc_options import OPTIONS, normalise
from gateway.backends.embedded.store import Tx
from gateway.engine.errors import CommandFailed

__all__ = ["HANDLERS", "NODES", "read_room_list"]

AFFILIATIONS = ("owner", "admin", "member", "outcast", "none")
#: MUC/Sub event nodes (XEP-0405 as ejabberd implements it)
NODES = tuple(
    f"urn:xmpp:mucsub:nodes:{n}"
    for n in (
        "presence", "messages", "subject", "config", "affiliations",
        "participants", "system", "subscribers",
    )
)  # fmt: skip
#: what a room whose allow_subscription is false answers a subscription
SUBSCRIPTIONS_NOT_ALLOWED = "Subscriptions are not allowed"
#: ejabberd's default subscribe_room_many_max_users
MAX_MANY = 50
MAX_FILE_BYTES = 16 * 1024 * 1024


#: each command's words for a room that does not exist (the same in 23.01 and 24.12)
NO_ROOM = "The room does not exist"
NO_ROOM_DOT = "The room does not exist."
ROOM_DOES_NOT_EXIST = "Room doesn't exists"
ROOM_NOT_FOUND = "Room not found"
#: a room name that nodeprep refuses
INVALID_ROOM = "Invalid value of room name"
#: a service that nameprep refuses, and one that is no MUC service served here
INVALID_SERVICE = "Invalid value of 'service'"
UNKNOWN_SERVICE = "Unknown host passed in 'service'"
#: muc_register_nick's words for the latter
UNKNOWN_NICK_SERVICE = "Unknown host in 'service'"


def _thrown(text: str) -> CommandFailed:
    """A failure as mod_muc_admin reports it: ``throw({error, Text})``."""
    return CommandFailed(text, thrown=True)


def _no_room(text: str = NO_ROOM) -> CommandFailed:
    return _thrown(text)


def _service(ctx: Context, raw: str, unknown: str = UNKNOWN_SERVICE) -> str:
    service = prep_host(raw)
    if service is None:
        raise _thrown(INVALID_SERVICE)
    if service not in ctx.muc_services:
        raise _thrown(unknown)
    return service


def _room(raw: str) -> str:
    room = prep_user(raw)
    if room is None:
        raise _thrown(INVALID_ROOM)
    return room


def _room_and_service(ctx: Context, args: Mapping[str, Any]) -> tuple[str, str]:
    """``(service, room)``, the room name checked first as ejabberd 24.12 does."""
    room = _room(args["room"])
    return _service(ctx, args["service"]), room


def _user_jid(user: str, host: str, malformed: str = "Malformed user JID") -> str:
    prepared_user, prepared_host = prep_user(user), prep_host(host)
    if prepared_user is None or prepared_host is None:
        raise _thrown(malformed)
    return f"{prepared_user}@{prepared_host}"


def _jid(raw: str, malformed: str = "Malformed user JID") -> str:
    user, sep, host = raw.split("/", 1)[0].rpartition("@")
    if not sep:
        prepared = prep_host(host)
        if prepared is None:
            raise _thrown(malformed)
        return prepared
    return _user_jid(user, host, malformed)


def _exists(tx: Tx, service: str, room: str) -> bool:
    found = tx.one("SELECT 1 FROM muc_rooms WHERE service = ? AND room = ?", (service, room))
    return found is not None


def _require(
    tx: Tx, service: str, room: str, now: float | None = None, missing: str = NO_ROOM
) -> None:
    """Fail with ``missing`` unless the room exists; with ``now``, mark it as changed."""
    if now is None:
        if not _exists(tx, service, room):
            raise _no_room(missing)
        return
    changed = tx.execute(
        "UPDATE muc_rooms SET updated_at = ? WHERE service = ? AND room = ?", (now, service, room)
    )
    if changed != 1:
        raise _no_room(missing)


def _set_option(tx: Tx, service: str, room: str, name: str, value: str) -> None:
    tx.execute(
        "INSERT INTO muc_room_options (service, room, name, value) VALUES (?, ?, ?, ?)"
        " ON CONFLICT (service, room, name) DO UPDATE SET value = excluded.value",
        (service, room, name, value),
    )


def _set_affiliation(tx: Tx, service: str, room: str, jid: str, affiliation: str) -> None:
    if affiliation == "none":
        tx.execute(
            "DELETE FROM muc_affiliations WHERE service = ? AND room = ? AND jid = ?",
            (service, room, jid),
        )
        return
    tx.execute(
        "INSERT INTO muc_affiliations (service, room, jid, affiliation, reason)"
        " VALUES (?, ?, ?, ?, '') ON CONFLICT (service, room, jid)"
        " DO UPDATE SET affiliation = excluded.affiliation",
        (service, room, jid, affiliation),
    )


def _affiliation(raw: str) -> str:
    if raw not in AFFILIATIONS:
        raise _thrown("Invalid affiliation")
    return raw


def _create(tx: Tx, service: str, room: str, server_host: str, now: float) -> bool:
    changed = tx.execute(
        "INSERT INTO muc_rooms (service, room, server_host, created_at, updated_at)"
        " VALUES (?, ?, ?, ?, ?) ON CONFLICT (service, room) DO NOTHING",
        (service, room, server_host, now, now),
    )
    return changed == 1


# -- rooms and options --------------------------------------------------------------------------


def _parse_affiliations(value: str) -> list[tuple[str, str]]:
    """``owner:a@b;member:c@d`` (``;`` or ``,`` between entries) as (jid, affiliation)."""
    pairs = []
    for entry in re.split(r"[;,]", value):
        if not entry.strip():
            continue
        affiliation, sep, jid = entry.strip().partition(":")
        # "none" removes an affiliation elsewhere; a room's option cannot list it
        if not sep or affiliation not in AFFILIATIONS or affiliation == "none":
            raise _thrown("Invalid 'affiliation'")
        pairs.append((_jid(jid, "Malformed JID in affiliation"), affiliation))
    return pairs


async def _create_room_with(
    ctx: Context, args: Mapping[str, Any], options: Sequence[tuple[str, str]]
) -> bool:
    server_host = ctx.host(args["host"])
    service, room = _room_and_service(ctx, args)
    settings: list[tuple[str, str]] = []
    affiliations: list[tuple[str, str]] = []
    for name, value in options:
        if name == "affiliations":
            affiliations += _parse_affiliations(value)
        else:
            settings.append((name, normalise(name, value)))
    now = ctx.now()

    def create(tx: Tx) -> bool:
        if not _create(tx, service, room, server_host, now):
            raise _thrown("Room already exists")
        for name, value in settings:
            _set_option(tx, service, room, name, value)
        for jid, affiliation in affiliations:
            _set_affiliation(tx, service, room, jid, affiliation)
        return True

    return await ctx.store.write(create)


async def _create_room(ctx: Context, args: Mapping[str, Any]) -> bool:
    # the default options, as ejabberd's create_room (23.01 and 24.12) takes mod_muc's
    # default_room_options, where persistent is false; the store keeps the room all the same
    return await _create_room_with(ctx, args, [])


async def _create_room_with_opts(ctx: Context, args: Mapping[str, Any]) -> bool:
    return await _create_room_with(ctx, args, list(args["options"]))


async def _destroy_room(ctx: Context, args: Mapping[str, Any]) -> bool:
    service, room = _room_and_service(ctx, args)
    removed = await ctx.store.write(
        lambda tx: tx.execute(
            "DELETE FROM muc_rooms WHERE service = ? AND room = ?", (service, room)
        )
    )
    if removed != 1:
        raise _no_room(ROOM_DOES_NOT_EXIST)
    return True


async def _change_room_option(ctx: Context, args: Mapping[str, Any]) -> bool:
    service, room = _room_and_service(ctx, args)
    name = args["option"]
    # affiliations are entries of their own; every other option is checked here
    value = args["value"] if name == "affiliations" else normalise(name, args["value"])
    now = ctx.now()

    def change(tx: Tx) -> bool:
        _require(tx, service, room, now, ROOM_NOT_FOUND)
        if name == "affiliations":
            for jid, affiliation in _parse_affiliations(value):
                _set_affiliation(tx, service, room, jid, affiliation)
        else:
            _set_option(tx, service, room, name, value)
        return True

    return await ctx.store.write(change)


def _options(tx: Tx, service: str, room: str) -> dict[str, str]:
    stored: dict[str, str] = dict(
        tx.all(
            "SELECT name, value FROM muc_room_options WHERE service = ? AND room = ?",
            (service, room),
        )
    )
    return {name: stored.get(name, option.default) for name, option in OPTIONS.items()}


async def _get_room_options(ctx: Context, args: Mapping[str, Any]) -> list[tuple[str, str]]:
    service, room = _room_and_service(ctx, args)

    def read(tx: Tx) -> list[tuple[str, str]]:
        if not _exists(tx, service, room):
            return []  # ejabberd lists no options for a room it does not find
        return list(_options(tx, service, room).items())

    return await ctx.store.read(read)


# -- affiliations ---------------------------------------------------------------------------------


async def _get_room_affiliation(ctx: Context, args: Mapping[str, Any]) -> str:
    service, room = _room_and_service(ctx, args)
    jid = _jid(args["jid"])

    def read(tx: Tx) -> str:
        _require(tx, service, room, missing=NO_ROOM_DOT)
        found = tx.scalar(
            "SELECT affiliation FROM muc_affiliations WHERE service = ? AND room = ? AND jid = ?",
            (service, room, jid),
        )
        return str(found) if found is not None else "none"

    return await ctx.store.read(read)


async def _get_room_affiliations(ctx: Context, args: Mapping[str, Any]) -> list[Any]:
    service, room = _room_and_service(ctx, args)

    def read(tx: Tx) -> list[tuple[str, str, str]]:
        _require(tx, service, room, missing=NO_ROOM_DOT)
        rows = tx.all(
            "SELECT jid, affiliation, reason FROM muc_affiliations WHERE service = ? AND room = ?",
            (service, room),
        )
        return sorted((r[0], r[1], r[2]) for r in rows)

    return await ctx.store.read(read)


async def _set_room_affiliation(ctx: Context, args: Mapping[str, Any]) -> bool:
    # ejabberd reads the affiliation before it looks for the room
    affiliation = _affiliation(args["affiliation"])
    service, room = _room_and_service(ctx, args)
    jid = _user_jid(args["user"], args["host"])
    now = ctx.now()

    def change(tx: Tx) -> bool:
        _require(tx, service, room, now, ROOM_DOES_NOT_EXIST)
        _set_affiliation(tx, service, room, jid, affiliation)
        return True

    return await ctx.store.write(change)


# -- nicknames ------------------------------------------------------------------------------------


async def _muc_register_nick(ctx: Context, args: Mapping[str, Any]) -> bool:
    service = _service(ctx, args["service"], UNKNOWN_NICK_SERVICE)
    jid = _user_jid(args["user"], args["host"], "Invalid 'jid'")
    nick = args["nick"]
    if not nick:
        raise _thrown("Nickname must be set")

    def register(tx: Tx) -> bool:
        owner = tx.scalar(
            "SELECT jid FROM muc_nicks WHERE service = ? AND nick = ?", (service, nick)
        )
        if owner is not None and owner != jid:
            raise _thrown("Nick already registered")
        tx.execute(
            "INSERT INTO muc_nicks (service, jid, nick) VALUES (?, ?, ?)"
            " ON CONFLICT (service, jid) DO UPDATE SET nick = excluded.nick",
            (service, jid, nick),
        )
        return True

    return await ctx.store.write(register)


async def _muc_unregister_nick(ctx: Context, args: Mapping[str, Any]) -> bool:
    service = _service(ctx, args["service"], UNKNOWN_NICK_SERVICE)
    jid = _user_jid(args["user"], args["host"], "Invalid 'jid'")
    await ctx.store.write(
        lambda tx: tx.execute("DELETE FROM muc_nicks WHERE service = ? AND jid = ?", (service, jid))
    )
    return True


# -- MUC/Sub subscriptions ----------------------------------------------------------------------


def _nodes(raw: Sequence[str]) -> list[str]:
    nodes = list(dict.fromkeys(raw))
    for node in nodes:
        if node not in NODES:
            raise CommandFailed(f"Unknown MUC/Sub node '{node}'")
    return nodes


def _subscriptions_allowed(tx: Tx, service: str, room: str) -> bool:
    """The room's ``allow_subscription`` option (false unless set)."""
    value = tx.scalar(
        "SELECT value FROM muc_room_options WHERE service = ? AND room = ? AND name = ?",
        (service, room, "allow_subscription"),
    )
    return (value if value is not None else OPTIONS["allow_subscription"].default) == "true"


def _subscribe(tx: Tx, service: str, room: str, jid: str, nick: str, nodes: list[str]) -> None:
    if not nick:
        raise _thrown("Nickname must be set")
    # ejabberd's room refuses any subscription, a renewed one too, unless the option allows it
    if not _subscriptions_allowed(tx, service, room):
        raise _thrown(SUBSCRIPTIONS_NOT_ALLOWED)
    taken = tx.scalar(
        "SELECT jid FROM muc_subscribers WHERE service = ? AND room = ? AND nick = ? AND jid <> ?",
        (service, room, nick, jid),
    )
    if taken is not None:
        raise _thrown("That nickname is already in use by another occupant")
    owner = tx.scalar("SELECT jid FROM muc_nicks WHERE service = ? AND nick = ?", (service, nick))
    if owner is not None and owner != jid:
        raise _thrown("That nickname is registered by another person")
    tx.execute(
        "INSERT INTO muc_subscribers (service, room, jid, nick, nodes) VALUES (?, ?, ?, ?, ?)"
        " ON CONFLICT (service, room, jid) DO UPDATE"
        " SET nick = excluded.nick, nodes = excluded.nodes",
        (service, room, jid, nick, " ".join(nodes)),
    )


async def _subscribe_room(ctx: Context, args: Mapping[str, Any]) -> list[str]:
    if not args["nick"]:
        raise _thrown("Nickname must be set")  # before anything else, as in ejabberd
    service, room = _room_and_service(ctx, args)
    jid = _user_jid(args["user"], args["host"])
    nodes, nick, now = _nodes(args["nodes"]), args["nick"], ctx.now()

    def subscribe(tx: Tx) -> list[str]:
        _require(tx, service, room, now)
        _subscribe(tx, service, room, jid, nick, nodes)
        return nodes

    return await ctx.store.write(subscribe)


async def _subscribe_room_many(ctx: Context, args: Mapping[str, Any]) -> bool:
    users = list(args["users"])
    if len(users) > MAX_MANY:
        raise _thrown("Too many users in subscribe_room_many command")
    service, room = _room_and_service(ctx, args)
    members = [(_user_jid(user, host), nick) for user, host, nick in users]
    nodes, now = _nodes(args["nodes"]), ctx.now()

    def subscribe(tx: Tx) -> bool:
        _require(tx, service, room, now)
        for jid, nick in members:
            _subscribe(tx, service, room, jid, nick, nodes)
        return True

    return await ctx.store.write(subscribe)


async def _unsubscribe_room(ctx: Context, args: Mapping[str, Any]) -> bool:
    service, room = _room_and_service(ctx, args)
    jid = _user_jid(args["user"], args["host"])
    now = ctx.now()

    def unsubscribe(tx: Tx) -> bool:
        _require(tx, service, room, now)
        tx.execute(
            "DELETE FROM muc_subscribers WHERE service = ? AND room = ? AND jid = ?",
            (service, room, jid),
        )
        return True

    return await ctx.store.write(unsubscribe)


async def _get_subscribers(ctx: Context, args: Mapping[str, Any]) -> list[str]:
    service, room = _room_and_service(ctx, args)

    def read(tx: Tx) -> list[str]:
        _require(tx, service, room)
        rows = tx.all(
            "SELECT jid FROM muc_subscribers WHERE service = ? AND room = ?", (service, room)
        )
        return sorted(r[0] for r in rows)

    return await ctx.store.read(read)


async def _get_user_subscriptions(ctx: Context, args: Mapping[str, Any]) -> list[Any]:
    ctx.host(args["host"])
    jid = _user_jid(args["user"], args["host"])
    rows = await ctx.store.read(
        lambda tx: tx.all(
            "SELECT room, service, nick, nodes FROM muc_subscribers WHERE jid = ?", (jid,)
        )
    )
    return sorted((f"{room}@{service}", nick, nodes.split()) for room, service, nick, nodes in rows)


# -- rooms files -----------------------------------------------------------------------------------


def read_room_list(raw: bytes) -> list[tuple[int, str]]:
    """``(line number, room JID)`` for each non-blank line of a rooms file's bytes.

    Raises:
        CommandFailed: when the bytes are not UTF-8 text (the error quotes none of them).
    """
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise CommandFailed("The rooms file is not UTF-8 text") from None
    return [(n, line.strip()) for n, line in enumerate(text.splitlines(), 1) if line.strip()]


def _file_rooms(ctx: Context, lines: list[tuple[int, str]]) -> list[tuple[str, str]]:
    rooms = []
    for number, jid in lines:
        room, sep, service = jid.partition("@")
        prepared_room, prepared_service = prep_user(room), prep_host(service)
        if (
            not sep
            or prepared_room is None
            or prepared_service is None
            or (prepared_service not in ctx.muc_services)
        ):
            # the line is not quoted: an error must never show what a file holds
            raise CommandFailed(
                f"Rooms file, line {number}: not the JID of a room of a served MUC service"
            )
        rooms.append((prepared_service, prepared_room))
    return rooms


async def _rooms_of_file(ctx: Context, given: str) -> list[tuple[str, str]]:
    lines = await ctx.read_file(given, "rooms file", MAX_FILE_BYTES, read_room_list)
    return _file_rooms(ctx, lines)


async def _create_rooms_file(ctx: Context, args: Mapping[str, Any]) -> bool:
    rooms = await _rooms_of_file(ctx, args["file"])
    now = ctx.now()

    def create(tx: Tx) -> bool:
        for service, room in rooms:
            _create(tx, service, room, ctx.muc_services[service], now)
        return True

    return await ctx.store.write(create)


async def _destroy_rooms_file(ctx: Context, args: Mapping[str, Any]) -> bool:
    rooms = await _rooms_of_file(ctx, args["file"])
    await ctx.store.write(
        lambda tx: tx.executemany("DELETE FROM muc_rooms WHERE service = ? AND room = ?", rooms)
    )
    return True


HANDLERS: dict[str, Handler] = {
    "create_room": _create_room,
    "create_room_with_opts": _create_room_with_opts,
    "destroy_room": _destroy_room,
    "change_room_option": _change_room_option,
    "get_room_options": _get_room_options,
    "get_room_affiliation": _get_room_affiliation,
    "get_room_affiliations": _get_room_affiliations,
    "set_room_affiliation": _set_room_affiliation,
    "muc_register_nick": _muc_register_nick,
    "muc_unregister_nick": _muc_unregister_nick,
    "get_subscribers": _get_subscribers,
    "subscribe_room": _subscribe_room,
    "subscribe_room_many": _subscribe_room_many,
    "unsubscribe_room": _unsubscribe_room,
    "get_user_subscriptions": _get_user_subscriptions,
    "create_rooms_file": _create_rooms_file,
    "destroy_rooms_file": _destroy_rooms_file,
}
