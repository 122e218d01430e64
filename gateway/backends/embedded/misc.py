"""Last activity (``get_last``, ``set_last``) and private XML storage (``private_get/set``).

The store knows no sessions, so ``get_last`` never answers ``ONLINE``: it
gives the recorded time and status; for an account that never logged in,
its registration time (whole seconds) and ``Registered but didn't login``,
which is what ejabberd's mod_last records when an account is created; for
no account at all, the current time and ``NOT FOUND``.  Writing needs an existing account
(``not_found`` / ``unknown_user``); reading a missing account's data gives
the empty answer.  ``private_set`` of text that is not one well-formed
element answers the failed rescode (``1``), as ejabberd does: nothing is
stored, and the parser's reason goes to the log.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lxml import etree
from twisted.logger import Logger

from gateway.backends.embedded.context import (
    Context,
    Handler,
    account_exists,
    iso_timestamp,
    prep_user,
    unknown_user,
)
from gateway.backends.embedded.store import Tx
from gateway.backends.embedded.xmltext import (
    XmlError,
    ejabberd_escape,
    ejabberd_text,
    parse_element,
    to_text,
)
from gateway.engine.errors import CommandFailed

__all__ = ["HANDLERS"]

log = Logger()

PRIVATE_NS = "jabber:iq:private"
#: get_last's status for an account without any recorded activity (mod_last's text)
REGISTERED_NEVER_LOGGED_IN = "Registered but didn't login"
#: get_last's status when there is no such account
NOT_FOUND = "NOT FOUND"


async def _get_last(ctx: Context, args: Mapping[str, Any]) -> tuple[str, str]:
    host = ctx.host(args["host"])
    user = prep_user(args["user"])
    if user is None:
        return iso_timestamp(ctx.now()), NOT_FOUND

    def read(tx: Tx) -> tuple[str, str]:
        row = tx.one(
            "SELECT seen_at, status FROM last_activity WHERE host = ? AND username = ?",
            (host, user),
        )
        if row is not None:
            return iso_timestamp(float(row[0])), row[1]
        created = tx.scalar(
            "SELECT created_at FROM accounts WHERE host = ? AND username = ?", (host, user)
        )
        if created is None:
            return iso_timestamp(ctx.now()), NOT_FOUND
        # ejabberd records the registration in whole seconds
        return iso_timestamp(float(int(float(created)))), REGISTERED_NEVER_LOGGED_IN

    return await ctx.store.read(read)


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
    if stored is not None:
        stored = ejabberd_text(stored)  # quoted and escaped as ejabberd prints it
    else:
        # nothing stored: the empty element that was asked for, as ejabberd answers
        try:
            etree.QName(name)
        except ValueError:
            raise CommandFailed(f"Invalid element name '{name}'") from None
        stored = f"<{name} xmlns='{ejabberd_escape(namespace)}'/>" if namespace else f"<{name}/>"
    return f"<query xmlns='{ejabberd_escape(PRIVATE_NS)}'>{stored}</query>"


async def _private_set(ctx: Context, args: Mapping[str, Any]) -> bool:
    host = ctx.host(args["host"])
    user = prep_user(args["user"])
    if user is None:
        raise unknown_user()
    try:
        element = parse_element(args["element"])
    except XmlError as e:
        # ejabberd's answer (23.01 and 24.12): the failed rescode, the reason only in its log
        log.info("private_set: the element cannot be stored: {reason}", reason=str(e))
        return False
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
