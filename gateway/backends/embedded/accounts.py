"""Account commands: register, passwords, bans and purges, with ejabberd's answers.

Choices where ejabberd is silent or unhelpful (also in the README's command notes):

- ``unregister`` of an account that does not exist succeeds (as in ejabberd)
  but says so: ``User bob@localhost was not registered``.
- ``change_password``, ``ban_account`` and ``unban_account`` on a missing
  account answer ``not_found`` / ``unknown_user`` (ejabberd's user_action).
- ``ban_account`` keeps the password hash and records the ban; while banned,
  ``check_password`` is false and tokens stop working.  ``unban_account``
  lifts it and the old password works again.  Banning twice answers
  ``account_was_already_banned``; unbanning an unbanned account
  ``account_was_not_banned`` (both rescode errors, like ejabberd 24.06+).
- ``check_password_hash``: the store keeps SCRAM-SHA-256 keys only, so an
  md5/sha digest of the plaintext cannot be compared with anything; for an
  existing account the command fails saying exactly that.
- ``delete_old_users*`` judge an account by its last activity, or by its
  registration time when it was never seen, and only on served hosts.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from gateway.backends.embedded.context import (
    UNKNOWN_HOST,
    Context,
    Handler,
    account_exists,
    iso_timestamp,
    prep_host,
    prep_user,
    unknown_user,
)
from gateway.backends.embedded.passwords import (
    DIGEST_METHODS,
    ScramCredentials,
    hash_password,
    verify_password,
)
from gateway.backends.embedded.store import Tx
from gateway.engine.errors import CommandFailed, TypedCommandError
from gateway.engine.model import ResTuple

__all__ = [
    "HANDLERS",
    "check_password",
    "remove_account",
    "set_password",
    "try_register",
    "user_exists",
]

DAY = 24 * 60 * 60


def _cannot_register(user: str, host: str, why: str) -> TypedCommandError:
    return TypedCommandError("cannot_register", 10001, f"Can't register user {user}@{host}: {why}")


def _credentials(row: tuple[Any, ...]) -> ScramCredentials:
    scheme, salt, iterations, stored_key, server_key = row
    return ScramCredentials(salt, int(iterations), stored_key, server_key, scheme)


_CREDENTIALS = (
    "SELECT a.scheme, a.salt, a.iterations, a.stored_key, a.server_key, b.reason "
    "FROM accounts a LEFT JOIN bans b ON b.host = a.host AND b.username = a.username "
    "WHERE a.host = ? AND a.username = ?"
)


# -- operations shared with extauth ------------------------------------------------------------


async def user_exists(ctx: Context, user: str, host: str) -> bool:
    """Whether ``user@host`` is registered on a served host."""
    prepared_user, prepared_host = prep_user(user), prep_host(host)
    if prepared_user is None or prepared_host not in ctx.hosts:
        return False
    return await ctx.store.read(lambda tx: account_exists(tx, prepared_user, prepared_host))


async def check_password(ctx: Context, user: str, host: str, password: str) -> bool:
    """Whether ``password`` is right for ``user@host`` and the account is not banned."""
    prepared_user, prepared_host = prep_user(user), prep_host(host)
    if prepared_user is None or prepared_host not in ctx.hosts:
        return False

    def check(tx: Tx) -> bool:
        row = tx.one(_CREDENTIALS, (prepared_host, prepared_user))
        if row is None or row[5] is not None:
            return False
        # hashing here keeps the ~ms of PBKDF2 on a pool thread, off the reactor
        return verify_password(password, _credentials(row[:5]))

    return await ctx.store.read(check)


async def try_register(ctx: Context, user: str, host: str, password: str) -> ResTuple:
    """Create ``user@host``; ejabberd's typed errors on failure.

    Raises:
        TypedCommandError: ``conflict`` 10090 when taken, ``cannot_register`` 10001 otherwise.
    """
    prepared_host = prep_host(host)
    if prepared_host is None or prepared_host not in ctx.hosts:
        raise TypedCommandError("cannot_register", 10001, UNKNOWN_HOST)
    prepared_user = prep_user(user)
    if prepared_user is None:
        raise _cannot_register(user, host, "Malformed username")
    if password == "":
        raise _cannot_register(user, host, "Empty password")
    creds = await ctx.store.compute(hash_password, password)
    now = ctx.now()

    def insert(tx: Tx) -> bool:
        changed = tx.execute(
            "INSERT INTO accounts (host, username, scheme, salt, iterations, stored_key,"
            " server_key, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (host, username) DO NOTHING",
            (
                prepared_host,
                prepared_user,
                creds.scheme,
                creds.salt,
                creds.iterations,
                creds.stored_key,
                creds.server_key,
                now,
            ),
        )
        return changed == 1

    if not await ctx.store.write(insert):
        raise TypedCommandError("conflict", 10090, f"User {user}@{host} already registered")
    return ResTuple(f"User {user}@{host} successfully registered")


async def set_password(ctx: Context, user: str, host: str, password: str) -> bool:
    """Replace the password of an existing account.

    Raises:
        CommandFailed: unknown host, ``unknown_user``, or an empty password.
    """
    prepared_host = ctx.host(host)
    prepared_user = prep_user(user)
    if prepared_user is None:
        raise unknown_user()
    if password == "":
        raise CommandFailed("Empty password")
    creds = await ctx.store.compute(hash_password, password)

    def update(tx: Tx) -> int:
        return tx.execute(
            "UPDATE accounts SET scheme = ?, salt = ?, iterations = ?, stored_key = ?,"
            " server_key = ? WHERE host = ? AND username = ?",
            (
                creds.scheme,
                creds.salt,
                creds.iterations,
                creds.stored_key,
                creds.server_key,
                prepared_host,
                prepared_user,
            ),
        )

    if await ctx.store.write(update) != 1:
        raise unknown_user()
    return True


async def remove_account(ctx: Context, user: str, host: str, password: str | None = None) -> bool:
    """Delete ``user@host`` and everything it owns; ``False`` when nothing was removed.

    With ``password``, only when it is right (extauth's ``removeuser3``).
    """
    prepared_host = ctx.host(host)
    prepared_user = prep_user(user)
    if prepared_user is None:
        return False

    def delete(tx: Tx) -> bool:
        if password is not None:
            row = tx.one(_CREDENTIALS, (prepared_host, prepared_user))
            if row is None or not verify_password(password, _credentials(row[:5])):
                return False
        return (
            tx.execute(
                "DELETE FROM accounts WHERE host = ? AND username = ?",
                (prepared_host, prepared_user),
            )
            == 1
        )

    return await ctx.store.write(delete)


# -- command handlers ---------------------------------------------------------------------------


async def _register(ctx: Context, args: Mapping[str, Any]) -> ResTuple:
    return await try_register(ctx, args["user"], args["host"], args["password"])


async def _unregister(ctx: Context, args: Mapping[str, Any]) -> ResTuple:
    user, host = args["user"], args["host"]
    if await remove_account(ctx, user, host):
        return ResTuple(f"User {user}@{host} unregistered")
    return ResTuple(f"User {user}@{host} was not registered")


async def _registered_users(ctx: Context, args: Mapping[str, Any]) -> list[str]:
    host = ctx.host(args["host"])
    rows = await ctx.store.read(
        lambda tx: tx.all("SELECT username FROM accounts WHERE host = ?", (host,))
    )
    # sorted here: database collations differ between engines
    return sorted(r[0] for r in rows)


async def _check_account(ctx: Context, args: Mapping[str, Any]) -> bool:
    return await user_exists(ctx, args["user"], args["host"])


async def _check_password(ctx: Context, args: Mapping[str, Any]) -> bool:
    return await check_password(ctx, args["user"], args["host"], args["password"])


def _known_hash_method(method: str) -> bool:
    return method in DIGEST_METHODS or method in hashlib.algorithms_available


async def _check_password_hash(ctx: Context, args: Mapping[str, Any]) -> bool:
    method = args["hashmethod"].lower()
    if not _known_hash_method(method):
        raise CommandFailed(f"Unknown hash method '{args['hashmethod']}'")
    if not await user_exists(ctx, args["user"], args["host"]):
        return False
    raise CommandFailed(
        f"Cannot check a {method} password hash: the embedded store keeps only salted "
        "SCRAM-SHA-256 keys, which no digest of the plaintext can be compared with; "
        "use check_password instead"
    )


async def _change_password(ctx: Context, args: Mapping[str, Any]) -> bool:
    return await set_password(ctx, args["user"], args["host"], args["newpass"])


async def _ban_account(ctx: Context, args: Mapping[str, Any]) -> bool | str:
    host = ctx.host(args["host"])
    user = prep_user(args["user"])
    if user is None:
        raise unknown_user()
    reason, now = args["reason"], ctx.now()

    def ban(tx: Tx) -> bool | str:
        if not account_exists(tx, user, host):
            raise unknown_user()
        changed = tx.execute(
            "INSERT INTO bans (host, username, reason, banned_at) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (host, username) DO NOTHING",
            (host, user, reason, now),
        )
        return True if changed == 1 else "account_was_already_banned"

    return await ctx.store.write(ban)


async def _unban_account(ctx: Context, args: Mapping[str, Any]) -> bool | str:
    host = ctx.host(args["host"])
    user = prep_user(args["user"])
    if user is None:
        raise unknown_user()

    def unban(tx: Tx) -> bool | str:
        if not account_exists(tx, user, host):
            raise unknown_user()
        changed = tx.execute("DELETE FROM bans WHERE host = ? AND username = ?", (host, user))
        return True if changed == 1 else "account_was_not_banned"

    return await ctx.store.write(unban)


async def _get_ban_details(ctx: Context, args: Mapping[str, Any]) -> list[tuple[str, str]]:
    host = ctx.host(args["host"])
    user = prep_user(args["user"])
    if user is None:
        return []
    row = await ctx.store.read(
        lambda tx: tx.one(
            "SELECT b.reason, b.banned_at, l.seen_at, l.status FROM bans b"
            " LEFT JOIN last_activity l ON l.host = b.host AND l.username = b.username"
            " WHERE b.host = ? AND b.username = ?",
            (host, user),
        )
    )
    if row is None:
        return []
    reason, banned_at, seen_at, status = row
    return [
        ("reason", reason),
        ("bandate", iso_timestamp(float(banned_at))),
        ("lastdate", iso_timestamp(float(seen_at)) if seen_at is not None else ""),
        ("lastreason", status or ""),
    ]


async def _delete_old(ctx: Context, hosts: list[str], days: int) -> ResTuple:
    cutoff = ctx.now() - days * DAY
    marks = ", ".join("?" for _ in hosts)

    def purge(tx: Tx) -> list[tuple[str, str]]:
        # an account is judged by its last activity, or by its registration when never seen
        rows = tx.all(
            "SELECT a.username, a.host FROM accounts a LEFT JOIN last_activity l"
            " ON l.host = a.host AND l.username = a.username"
            f" WHERE a.host IN ({marks})"
            " AND COALESCE(l.seen_at, a.created_at) <= ?",
            (*hosts, cutoff),
        )
        tx.executemany("DELETE FROM accounts WHERE username = ? AND host = ?", rows)
        return [(r[0], r[1]) for r in rows]

    removed = sorted(await ctx.store.write(purge)) if hosts else []
    jids = ", ".join(f'"{user}@{host}"' for user, host in removed)
    return ResTuple(f"Deleted {len(removed)} users: [{jids}]")


def _days(args: Mapping[str, Any]) -> int:
    days = args["days"]
    if days < 0:
        raise CommandFailed("days must not be negative")
    return int(days)


async def _delete_old_users(ctx: Context, args: Mapping[str, Any]) -> ResTuple:
    return await _delete_old(ctx, sorted(ctx.hosts), _days(args))


async def _delete_old_users_vhost(ctx: Context, args: Mapping[str, Any]) -> ResTuple:
    host = ctx.host(args["host"])
    return await _delete_old(ctx, [host], _days(args))


HANDLERS: dict[str, Handler] = {
    "register": _register,
    "unregister": _unregister,
    "registered_users": _registered_users,
    "check_account": _check_account,
    "check_password": _check_password,
    "check_password_hash": _check_password_hash,
    "change_password": _change_password,
    "ban_account": _ban_account,
    "unban_account": _unban_account,
    "get_ban_details": _get_ban_details,
    "delete_old_users": _delete_old_users,
    "delete_old_users_vhost": _delete_old_users_vhost,
}
