"""Shared roster group commands (``srg_*``): the groups, their displayed groups and members.

``get_roster`` merges the contacts a user's groups display, as
mod_shared_roster does (:func:`shared_contacts`); nothing is pushed to XMPP
clients (the README says so).  The store knows no sessions, so the members
``@online@`` stands for are nobody here.  Choices where ejabberd is silent:

- every command but ``srg_create``, ``srg_add``, ``srg_delete`` and
  ``srg_list`` needs the group to exist (``not_found``, naming the group);
- ``srg_add`` leaves an existing group untouched, ``srg_create`` replaces
  its label, description and displayed groups (members stay);
- deleting what is not there (group, member, displayed group) succeeds;
- the members ``@all@`` and ``@online@`` set the group's ``all_users`` /
  ``online_users`` flags, as in ejabberd, and are not listed as members.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from gateway.backends.embedded.context import Context, Handler, prep_host, prep_user
from gateway.backends.embedded.store import Tx
from gateway.engine.errors import CommandFailed

__all__ = ["HANDLERS", "shared_contacts"]

#: special members and the flag column each one sets
FLAGS = {"@all@": "all_users", "@online@": "online_users"}
INFO_KEYS = ("label", "description")


def _missing(group: str, host: str) -> CommandFailed:
    return CommandFailed(f"Shared roster group {group}@{host} does not exist", atom="not_found")


def _group_exists(tx: Tx, host: str, group: str) -> bool:
    return (
        tx.one("SELECT 1 FROM srg_groups WHERE host = ? AND group_id = ?", (host, group))
        is not None
    )


def _require(tx: Tx, host: str, group: str) -> None:
    if not _group_exists(tx, host, group):
        raise _missing(group, host)


def _group_id(raw: str) -> str:
    if not raw:
        raise CommandFailed("The group identifier must not be empty")
    return raw


def _set_displayed(tx: Tx, host: str, group: str, displayed: Sequence[str]) -> None:
    tx.execute("DELETE FROM srg_displayed WHERE host = ? AND group_id = ?", (host, group))
    tx.executemany(
        "INSERT INTO srg_displayed (host, group_id, displayed, position) VALUES (?, ?, ?, ?)",
        [(host, group, name, position) for position, name in enumerate(displayed)],
    )


def _displayed(tx: Tx, host: str, group: str) -> list[str]:
    rows = tx.all(
        "SELECT displayed FROM srg_displayed WHERE host = ? AND group_id = ? ORDER BY position",
        (host, group),
    )
    return [r[0] for r in rows]


def _split_group(host: str, name: str) -> tuple[str, str]:
    """A displayed group's ``(host, group)``: ``group@host`` names one of another host."""
    pieces = [piece for piece in name.split("@") if piece]
    if len(pieces) == 2:
        return pieces[1], pieces[0]
    return host, name


def shared_contacts(tx: Tx, user: str, host: str) -> dict[str, list[str]]:
    """The contacts the shared roster groups of ``user@host`` add, each with its groups.

    What mod_shared_roster's ``get_user_roster`` (24.12) computes: the user's
    groups are those listing it and those with ``@all@`` or ``@online@`` on
    its host; their displayed groups that exist, in sorted order, each add
    their members (every account of the group's host with ``@all@``, then the
    listed ones) under the group's label, the user itself excepted.  A member
    of several displayed groups gets every label, in that order.
    """
    me = f"{user}@{host}"
    mine = {
        r[0]
        for r in tx.all(
            "SELECT group_id FROM srg_members WHERE host = ? AND member = ?", (host, me)
        )
    }
    mine.update(
        r[0]
        for r in tx.all(
            "SELECT group_id FROM srg_groups"
            " WHERE host = ? AND (all_users <> 0 OR online_users <> 0)",
            (host,),
        )
    )
    displayed: set[str] = set()
    for group in mine:
        if _group_exists(tx, host, group):
            displayed.update(_displayed(tx, host, group))
    contacts: dict[str, list[str]] = {}
    for name in sorted(displayed):
        group_host, group = _split_group(host, name)
        row = tx.one(
            "SELECT label, all_users FROM srg_groups WHERE host = ? AND group_id = ?",
            (group_host, group),
        )
        if row is None:
            continue
        label, all_users = row
        members: list[str] = []
        if all_users:
            accounts = tx.all("SELECT username FROM accounts WHERE host = ?", (group_host,))
            members += sorted(f"{r[0]}@{group_host}" for r in accounts)
        listed = tx.all(
            "SELECT member FROM srg_members WHERE host = ? AND group_id = ?", (group_host, group)
        )
        members += sorted(r[0] for r in listed)
        for member in members:
            if member != me:
                contacts.setdefault(member, []).append(label)
    return contacts


async def _srg_create(ctx: Context, args: Mapping[str, Any]) -> bool:
    host, group = ctx.host(args["host"]), _group_id(args["group"])
    label, description = args["label"], args["description"]
    displayed = list(dict.fromkeys(d for d in args["display"] if d))

    def create(tx: Tx) -> bool:
        tx.execute(
            "INSERT INTO srg_groups (host, group_id, label, description) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (host, group_id) DO UPDATE"
            " SET label = excluded.label, description = excluded.description",
            (host, group, label, description),
        )
        _set_displayed(tx, host, group, displayed)
        return True

    return await ctx.store.write(create)


async def _srg_add(ctx: Context, args: Mapping[str, Any]) -> bool:
    host, group = ctx.host(args["host"]), _group_id(args["group"])
    await ctx.store.write(
        lambda tx: tx.execute(
            "INSERT INTO srg_groups (host, group_id, label, description) VALUES (?, ?, ?, '')"
            " ON CONFLICT (host, group_id) DO NOTHING",
            (host, group, group),
        )
    )
    return True


async def _srg_delete(ctx: Context, args: Mapping[str, Any]) -> bool:
    host, group = ctx.host(args["host"]), args["group"]
    await ctx.store.write(
        lambda tx: tx.execute(
            "DELETE FROM srg_groups WHERE host = ? AND group_id = ?", (host, group)
        )
    )
    return True


async def _srg_list(ctx: Context, args: Mapping[str, Any]) -> list[str]:
    host = ctx.host(args["host"])
    rows = await ctx.store.read(
        lambda tx: tx.all("SELECT group_id FROM srg_groups WHERE host = ?", (host,))
    )
    return sorted(r[0] for r in rows)


async def _srg_get_info(ctx: Context, args: Mapping[str, Any]) -> list[tuple[str, str]]:
    host, group = ctx.host(args["host"]), args["group"]

    def info(tx: Tx) -> list[tuple[str, str]]:
        row = tx.one(
            "SELECT label, description, all_users, online_users FROM srg_groups"
            " WHERE host = ? AND group_id = ?",
            (host, group),
        )
        if row is None:
            return []  # ejabberd answers an unknown group with no information
        label, description, all_users, online_users = row
        pairs = [("label", label), ("description", description)]
        displayed = _displayed(tx, host, group)
        if displayed:
            pairs.append(("displayed_groups", ", ".join(displayed)))
        if all_users:
            pairs.append(("all_users", "true"))
        if online_users:
            pairs.append(("online_users", "true"))
        return pairs

    return await ctx.store.read(info)


async def _srg_set_info(ctx: Context, args: Mapping[str, Any]) -> bool:
    host, group, key, value = ctx.host(args["host"]), args["group"], args["key"], args["value"]
    if key not in INFO_KEYS:
        raise CommandFailed(f"Unknown information key '{key}': use label or description")

    def update(tx: Tx) -> bool:
        _require(tx, host, group)
        # key is one of INFO_KEYS, so it is safe to name the column with it
        tx.execute(
            f"UPDATE srg_groups SET {key} = ? WHERE host = ? AND group_id = ?",
            (value, host, group),
        )
        return True

    return await ctx.store.write(update)


async def _srg_get_displayed(ctx: Context, args: Mapping[str, Any]) -> list[str]:
    host, group = ctx.host(args["host"]), args["group"]

    def read(tx: Tx) -> list[str]:
        _require(tx, host, group)
        return _displayed(tx, host, group)

    return await ctx.store.read(read)


async def _srg_add_displayed(ctx: Context, args: Mapping[str, Any]) -> bool:
    host, group, name = ctx.host(args["host"]), args["group"], _group_id(args["add"])

    def add(tx: Tx) -> bool:
        _require(tx, host, group)
        current = _displayed(tx, host, group)
        if name not in current:
            _set_displayed(tx, host, group, [*current, name])
        return True

    return await ctx.store.write(add)


async def _srg_del_displayed(ctx: Context, args: Mapping[str, Any]) -> bool:
    host, group, name = ctx.host(args["host"]), args["group"], args["del"]

    def delete(tx: Tx) -> bool:
        _require(tx, host, group)
        tx.execute(
            "DELETE FROM srg_displayed WHERE host = ? AND group_id = ? AND displayed = ?",
            (host, group, name),
        )
        return True

    return await ctx.store.write(delete)


async def _srg_get_members(ctx: Context, args: Mapping[str, Any]) -> list[str]:
    host, group = ctx.host(args["host"]), args["group"]

    def read(tx: Tx) -> list[str]:
        _require(tx, host, group)
        rows = tx.all(
            "SELECT member FROM srg_members WHERE host = ? AND group_id = ?", (host, group)
        )
        return sorted(r[0] for r in rows)

    return await ctx.store.read(read)


def _member(user: str, host: str) -> tuple[str | None, str]:
    """``(flag column, None)`` for @all@/@online@, else ``(None, bare JID)``."""
    member_host = prep_host(host)
    if member_host is None:
        raise CommandFailed("Invalid 'user'/'host'")
    if user in FLAGS:
        return FLAGS[user], member_host
    member_user = prep_user(user)
    if member_user is None:
        raise CommandFailed("Invalid 'user'/'host'")
    return None, f"{member_user}@{member_host}"


async def _srg_user_change(ctx: Context, args: Mapping[str, Any], add: bool) -> bool:
    host, group = ctx.host(args["grouphost"]), args["group"]
    flag, member = _member(args["user"], args["host"])

    def change(tx: Tx) -> bool:
        _require(tx, host, group)
        if flag is not None:
            # flag is a column name from FLAGS
            tx.execute(
                f"UPDATE srg_groups SET {flag} = ? WHERE host = ? AND group_id = ?",
                (1 if add else 0, host, group),
            )
        elif add:
            tx.execute(
                "INSERT INTO srg_members (host, group_id, member) VALUES (?, ?, ?)"
                " ON CONFLICT DO NOTHING",
                (host, group, member),
            )
        else:
            tx.execute(
                "DELETE FROM srg_members WHERE host = ? AND group_id = ? AND member = ?",
                (host, group, member),
            )
        return True

    return await ctx.store.write(change)


async def _srg_user_add(ctx: Context, args: Mapping[str, Any]) -> bool:
    return await _srg_user_change(ctx, args, add=True)


async def _srg_user_del(ctx: Context, args: Mapping[str, Any]) -> bool:
    return await _srg_user_change(ctx, args, add=False)


HANDLERS: dict[str, Handler] = {
    "srg_create": _srg_create,
    "srg_add": _srg_add,
    "srg_delete": _srg_delete,
    "srg_list": _srg_list,
    "srg_get_info": _srg_get_info,
    "srg_set_info": _srg_set_info,
    "srg_get_displayed": _srg_get_displayed,
    "srg_add_displayed": _srg_add_displayed,
    "srg_del_displayed": _srg_del_displayed,
    "srg_get_members": _srg_get_members,
    "srg_user_add": _srg_user_add,
    "srg_user_del": _srg_user_del,
}
