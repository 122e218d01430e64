"""Roster commands: items of local accounts, bulk pushes and filtered listing.

Rosters live in the store only; no XMPP client is notified (the README says
so).  Choices where ejabberd is silent:

- the local account of ``add_rosteritem``, ``delete_rosteritem`` and
  ``push_roster`` must exist (``not_found`` / ``unknown_user``); an unknown
  host answers ``Unknown virtual host``;
- deleting an item that is not there succeeds, as in ejabberd;
- ``push_roster_all`` needs every listed account to be local and registered,
  and writes nothing otherwise (one transaction);
- ``get_roster`` of an account that does not exist is an empty list, but
  for what shared roster groups with ``@all@`` display (as in ejabberd).

``get_roster`` and ``get_roster_count`` answer like ejabberd's roster_get
hook: an item only asked for by the contact (subscription ``none``, ask
``in``) is left out; ``pending`` is ``subscribe`` while our own request
waits and ``undefined`` otherwise; the contacts the account's shared roster
groups add are merged in (:func:`~gateway.backends.embedded.srg.shared_contacts`):
an item already there becomes ``both`` with the groups' labels appended, the
others come first, named from their vCard.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any

from gateway.backends.embedded.context import (
    Context,
    Handler,
    account_exists,
    prep_host,
    prep_user,
    unknown_user,
)
from gateway.backends.embedded.erlterms import ErlTermError, parse_terms, text_of
from gateway.backends.embedded.srg import shared_contacts
from gateway.backends.embedded.store import Tx
from gateway.backends.embedded.vcard import roster_name
from gateway.engine.errors import CommandFailed

__all__ = ["HANDLERS", "RosterItem", "read_roster_file"]

SUBSCRIPTIONS = ("none", "from", "to", "both")
ASKS = ("none", "out", "in")
#: largest roster file read, so a wrong path cannot exhaust memory
MAX_FILE_BYTES = 16 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class RosterItem:
    """One contact to write into one local account's roster."""

    host: str
    user: str
    contact: str
    nick: str
    subscription: str
    groups: tuple[str, ...]
    ask: str = "none"


def _jid(user: str, host: str) -> str:
    return f"{user}@{host}" if user else host


def _contact(user: str, host: str) -> str:
    """The prepared bare JID of a contact; ejabberd's ``Invalid 'user'/'server'`` (its
    text in 23.01 and 24.12 alike) when malformed."""
    prepared_host = prep_host(host)
    prepared_user = prep_user(user) if user else ""
    if prepared_host is None or prepared_user is None:
        raise CommandFailed("Invalid 'user'/'server'")
    return _jid(prepared_user, prepared_host)


def _local(ctx: Context, user: str, host: str) -> tuple[str, str]:
    prepared_host = ctx.host(host)
    prepared_user = prep_user(user)
    if prepared_user is None:
        raise unknown_user()
    return prepared_user, prepared_host


def write_items(tx: Tx, items: Sequence[RosterItem]) -> None:
    """Create or replace roster items, groups included."""
    tx.executemany(
        "INSERT INTO roster_items (host, username, contact, nick, subscription, ask)"
        " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (host, username, contact) DO UPDATE"
        " SET nick = excluded.nick, subscription = excluded.subscription, ask = excluded.ask",
        [(i.host, i.user, i.contact, i.nick, i.subscription, i.ask) for i in items],
    )
    tx.executemany(
        "DELETE FROM roster_groups WHERE host = ? AND username = ? AND contact = ?",
        [(i.host, i.user, i.contact) for i in items],
    )
    tx.executemany(
        "INSERT INTO roster_groups (host, username, contact, group_name) VALUES (?, ?, ?, ?)"
        " ON CONFLICT DO NOTHING",
        [(i.host, i.user, i.contact, g) for i in items for g in i.groups],
    )


# -- roster files -------------------------------------------------------------------------------


def read_roster_file(raw: bytes) -> list[tuple[str, str, str, str]]:
    """The ``{User, Server, Group, Nick}`` entries of a roster file's bytes.

    Errors say where the file is wrong, never what it holds.

    Raises:
        CommandFailed: when the bytes are not such a list.
    """
    try:
        terms = parse_terms(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise CommandFailed("The roster file is not UTF-8 text") from None
    except ErlTermError as e:
        raise CommandFailed(
            f"The roster file is not valid Erlang terms (line {e.line}, column {e.column})"
        ) from None
    if len(terms) != 1 or not isinstance(terms[0], list):
        raise CommandFailed("The roster file must hold one list of {User, Server, Group, Nick}")
    entries = []
    for number, term in enumerate(terms[0], 1):
        fields = [text_of(t) for t in term] if isinstance(term, tuple) else []
        if len(fields) != 4 or any(f is None for f in fields):
            raise CommandFailed(
                f"Roster file, entry {number}: not a {{User, Server, Group, Nick}} tuple"
            )
        user, server, group, nick = (f or "" for f in fields)
        entries.append((user, server, group, nick))
    return entries


async def _roster_file(ctx: Context, given: str) -> list[tuple[str, str, str, str]]:
    return await ctx.read_file(given, "roster file", MAX_FILE_BYTES, read_roster_file)


def _cross_items(
    owners: Iterable[tuple[str, str]], contacts: Sequence[tuple[str, str, str, str]]
) -> list[RosterItem]:
    """Every contact into every owner's roster, skipping the owner itself (subscription both)."""
    items = []
    for owner_user, owner_host in owners:
        for user, host, group, nick in contacts:
            contact = _contact(user, host)
            if contact == _jid(owner_user, owner_host):
                continue
            groups = (group,) if group else ()
            items.append(RosterItem(owner_host, owner_user, contact, nick, "both", groups))
    return items


# -- command handlers ---------------------------------------------------------------------------


async def _add_rosteritem(ctx: Context, args: Mapping[str, Any]) -> bool:
    user, host = _local(ctx, args["localuser"], args["localhost"])
    contact = _contact(args["user"], args["host"])
    subs = args["subs"]
    if subs not in SUBSCRIPTIONS:
        raise CommandFailed(f"Invalid subscription '{subs}': use none, from, to or both")
    groups = tuple(dict.fromkeys(g for g in args["groups"] if g))
    item = RosterItem(host, user, contact, args["nick"], subs, groups)

    def add(tx: Tx) -> bool:
        if not account_exists(tx, user, host):
            raise unknown_user()
        write_items(tx, [item])
        return True

    return await ctx.store.write(add)


async def _delete_rosteritem(ctx: Context, args: Mapping[str, Any]) -> bool:
    user, host = _local(ctx, args["localuser"], args["localhost"])
    contact = _contact(args["user"], args["host"])

    def delete(tx: Tx) -> bool:
        if not account_exists(tx, user, host):
            raise unknown_user()
        tx.execute(
            "DELETE FROM roster_items WHERE host = ? AND username = ? AND contact = ?",
            (host, user, contact),
        )
        return True

    return await ctx.store.write(delete)


#: what get_roster shows as ``pending`` for a stored ``ask`` (ejabberd's roster_item ask)
_PENDING = {"out": "subscribe"}
#: ``pending`` of an item a shared roster group makes
_NOT_PENDING = "undefined"

_Item = tuple[str, str, str, str, list[str]]


def _read_roster(tx: Tx, user: str, host: str) -> list[_Item]:
    """The roster ejabberd's roster_get hook gives: stored items and shared groups' contacts."""
    items = tx.all(
        "SELECT contact, nick, subscription, ask FROM roster_items WHERE host = ? AND username = ?"
        " AND NOT (subscription = 'none' AND ask = 'in')",
        (host, user),
    )
    groups: dict[str, list[str]] = {}
    for contact, group in tx.all(
        "SELECT contact, group_name FROM roster_groups WHERE host = ? AND username = ?",
        (host, user),
    ):
        groups.setdefault(contact, []).append(group)
    shared = shared_contacts(tx, user, host)
    stored: list[_Item] = []
    for contact, nick, subs, ask in sorted(items):
        own = sorted(groups.get(contact, []))
        labels = shared.pop(contact, None)
        if labels is None:
            stored.append((contact, nick, subs, _PENDING.get(ask, _NOT_PENDING), own))
        else:
            stored.append((contact, nick, "both", _NOT_PENDING, own + labels))
    added: list[_Item] = []
    for contact, labels in sorted(shared.items()):
        contact_user, _, contact_host = contact.partition("@")
        nick = roster_name(tx, contact_user, contact_host)
        added.append((contact, nick, "both", _NOT_PENDING, labels))
    return added + stored


async def _get_roster(ctx: Context, args: Mapping[str, Any]) -> list[Any]:
    host = ctx.host(args["host"])
    user = prep_user(args["user"])
    if user is None:
        return []
    return await ctx.store.read(lambda tx: _read_roster(tx, user, host))


async def _get_roster_count(ctx: Context, args: Mapping[str, Any]) -> int:
    host = ctx.host(args["host"])
    user = prep_user(args["user"])
    if user is None:
        return 0
    return await ctx.store.read(lambda tx: len(_read_roster(tx, user, host)))


async def _push_roster(ctx: Context, args: Mapping[str, Any]) -> bool:
    user, host = _local(ctx, args["user"], args["host"])
    entries = await _roster_file(ctx, args["file"])
    items = _cross_items([(user, host)], entries)

    def push(tx: Tx) -> bool:
        if not account_exists(tx, user, host):
            raise unknown_user()
        write_items(tx, items)
        return True

    return await ctx.store.write(push)


async def _push_roster_all(ctx: Context, args: Mapping[str, Any]) -> bool:
    entries = await _roster_file(ctx, args["file"])
    owners = []
    # entries are named by number: an error never quotes what a file holds
    for number, (user, server, _, _) in enumerate(entries, 1):
        prepared_user, prepared_host = prep_user(user), prep_host(server)
        if prepared_user is None or prepared_host is None or not ctx.is_local(prepared_host):
            raise CommandFailed(f"Roster file, entry {number}: not a local account")
        owners.append((prepared_user, prepared_host))
    items = _cross_items(owners, entries)

    def push(tx: Tx) -> bool:
        for number, (user, host) in enumerate(owners, 1):
            if not account_exists(tx, user, host):
                raise CommandFailed(f"Roster file, entry {number}: the account is not registered")
        write_items(tx, items)
        return True

    return await ctx.store.write(push)


async def _push_alltoall(ctx: Context, args: Mapping[str, Any]) -> bool:
    host = ctx.host(args["host"])
    group = args["group"]

    def push(tx: Tx) -> bool:
        users = [r[0] for r in tx.all("SELECT username FROM accounts WHERE host = ?", (host,))]
        entries = [(u, host, group, u) for u in sorted(users)]
        write_items(tx, _cross_items([(u, host) for u in sorted(users)], entries))
        return True

    return await ctx.store.write(push)


def _choices(raw: str, allowed: Sequence[str], what: str) -> tuple[str, ...]:
    if raw == "any":
        return tuple(allowed)
    chosen = tuple(raw.split(":"))
    for value in chosen:
        if value not in allowed:
            raise CommandFailed(f"Invalid {what} '{value}': use any or {':'.join(allowed)}")
    return chosen


def _globs(raw: str) -> tuple[str, ...] | None:
    return None if raw == "any" else tuple(raw.split(":"))


def _matches(value: str, globs: tuple[str, ...] | None) -> bool:
    return globs is None or any(fnmatchcase(value, g) for g in globs)


async def _process_rosteritems(ctx: Context, args: Mapping[str, Any]) -> list[tuple[str, str]]:
    action = args["action"]
    if action not in ("list", "delete"):
        raise CommandFailed(f"Invalid action '{action}': use list or delete")
    subs = _choices(args["subs"], SUBSCRIPTIONS, "subscription")
    asks = _choices(args["asks"], ASKS, "ask")
    users, contacts = _globs(args["users"]), _globs(args["contacts"])
    hosts = sorted(ctx.hosts)

    def process(tx: Tx) -> list[tuple[str, str]]:
        rows = tx.all(
            "SELECT username, host, contact FROM roster_items"
            f" WHERE host IN ({', '.join('?' for _ in hosts)})"
            f" AND subscription IN ({', '.join('?' for _ in subs)})"
            f" AND ask IN ({', '.join('?' for _ in asks)})",
            (*hosts, *subs, *asks),
        )
        chosen = sorted(
            (user, host, contact)
            for user, host, contact in rows
            if _matches(f"{user}@{host}", users) and _matches(contact, contacts)
        )
        if action == "delete":
            tx.executemany(
                "DELETE FROM roster_items WHERE username = ? AND host = ? AND contact = ?", chosen
            )
        return [(f"{user}@{host}", contact) for user, host, contact in chosen]

    run = ctx.store.write if action == "delete" else ctx.store.read
    return await run(process)


HANDLERS: dict[str, Handler] = {
    "add_rosteritem": _add_rosteritem,
    "delete_rosteritem": _delete_rosteritem,
    "get_roster": _get_roster,
    "get_roster_count": _get_roster_count,
    "push_roster": _push_roster,
    "push_roster_all": _push_roster_all,
    "push_alltoall": _push_alltoall,
    "process_rosteritems": _process_rosteritems,
}
