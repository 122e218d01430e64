"""Last activity (``get_last``, ``set_last``) and private XML storage (``private_get/set``).

The store knows no sessions, so ``get_last`` never answers ``ONLINE``: it
gives the recorded time and status, or the current time and ``NOT FOUND``
like ejabberd when nothing was recorded.  Writing needs an existing account
(``not_found`` / ``unknown_user``); reading a missing account's data gives
the empty answer.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lxml import etree

from gateway.backends.embedded.context import (
    Context,
    Handler,
    account_exists,
    iso_timestamp,
    prep_user,
    unknown_user,
)
from gateway.backends.embedded.store import Tx
from gateway.backends.embedded.xmltext import XmlError, parse_element, to_text
from gateway.engine.errors import CommandFailed

__all__ = ["HANDLERS"]

PRIVATE_NS = "jabber:iq:private"


async def _get_last(ctx: Context, args: Mapping[str, Any]) -> tuple[str, str]:
    host = ctx.host(args["host"])
    user = prep_user(args["user"])
    row = None
    if user is not None:
        row = await ctx.store.read(
            lambda tx: tx.one(
                "SELECT seen_at, status FROM last_activity WHERE host = ? AND username = ?",
                (host, user),
            )
        )
    if row is None:
        return iso_timestamp(ctx.now()), "NOT FOUND"
    return iso_timestamp(float(row[0])), row[1]


async def _set_last(ctx: Context, args: Mapping[str, Any]) -> bool:
    host = ctx.host(args["host"])
    user = prep_user(args["user"])
    if user is None:
        raise unknown_user()
    seen, status = int(args["timestamp"]), args["status"]

    def record(tx: Tx) -> bool:
        if not account_exists(tx, user, host):
            raise unknown_user()
        tx.execute(
            "INSERT INTO last_activity (host, username, seen_at, status) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (host, username) DO UPDATE"
            " SET seen_at = excluded.seen_at, status = excluded.status",
            (host, user, seen, status),
        )
        return True

    return await ctx.store.write(record)


def _quote(value: str) -> str:
    return (
        value.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace("'", "&apos;")
        .replace('"', "&quot;")
    )


async def _private_get(ctx: Context, args: Mapping[str, Any]) -> str:
    host = ctx.host(args["host"])
    user = prep_user(args["user"])
    name, namespace = args["element"], args["ns"]
    stored = None
    if user is not None:
        stored = await ctx.store.read(
            lambda tx: tx.scalar(
                "SELECT element FROM private_storage"
                " WHERE host = ? AND username = ? AND namespace = ?",
                (host, user, namespace),
            )
        )
    if stored is None:
        # nothing stored: the empty element that was asked for, as ejabberd answers
        try:
            etree.QName(name)
        except ValueError:
            raise CommandFailed(f"Invalid element name '{name}'") from None
        stored = f"<{name} xmlns='{_quote(namespace)}'/>" if namespace else f"<{name}/>"
    return f"<query xmlns='{_quote(PRIVATE_NS)}'>{stored}</query>"


async def _private_set(ctx: Context, args: Mapping[str, Any]) -> bool:
    host = ctx.host(args["host"])
    user = prep_user(args["user"])
    if user is None:
        raise unknown_user()
    try:
        element = parse_element(args["element"])
    except XmlError as e:
        raise CommandFailed(f"The element cannot be stored: {e}") from None
    namespace = etree.QName(element).namespace
    if not namespace or namespace == PRIVATE_NS:
        raise CommandFailed("The element needs its own xmlns namespace (XEP-0049)")
    text = to_text(element)

    def store(tx: Tx) -> bool:
        if not account_exists(tx, user, host):
            raise unknown_user()
        tx.execute(
            "INSERT INTO private_storage (host, username, namespace, element) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (host, username, namespace) DO UPDATE SET element = excluded.element",
            (host, user, namespace, text),
        )
        return True

    return await ctx.store.write(store)


HANDLERS: dict[str, Handler] = {
    "get_last": _get_last,
    "set_last": _set_last,
    "private_get": _private_get,
    "private_set": _private_set,
}
