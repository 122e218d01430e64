"""Account commands: register, passwords, bans and purges, with ejabberd's answers.

Choices where ejabberd is silent or unhelpful (also in the README's command notes):

- ``unregister`` of an account that does not exist succeeds (as in ejabberd)
  but says so: ``User bob@localhost was not registered``.
- ``change_password``, ``ban_account`` and ``unban_account`` on a missing
  account answer ``not_found`` / ``unknown_user`` (ejabberd's user_action);
  ``change_password`` answers the same on a host not served, as ejabberd
  does (no account exists there).
- ``register`` fails with ejabberd's texts, naming the node
  (``Can't register user u@h at node 'xmpp-gateway@box': Malformed username``);
  an empty password is ``The password contains unacceptable characters``,
  checked before the name, as ejabberd_auth does.
- ``ban_account`` keeps the password hash and records the ban; while banned,
  ``check_password`` is false and tokens stop working.  ``unban_account``
  lifts it and the old password works again.  Banning twice answers
  ``account_was_already_banned``; unbanning an unbanned account
  ``account_was_not_banned`` (both rescode errors, like ejabberd 24.06+).
- ``check_password_hash`` compares the client's unsalted hex digest with
  the one stored for that method, which exists only when the method is
  listed in ``gateway.password_digests`` and the password was set since
  (see :mod:`~gateway.backends.embedded.passwords` for why that is opt-in).
  Hex case does not matter.  A method nobody knows answers ejabberd's bare
  atom ``unkown_hash_method`` (sic: 23.01 and 24.12 throw it so, and clients
  compare it) and is named in the log.  A method not listed in
  ``gateway.password_digests`` fails saying so, for every account, since
  SCRAM keys cannot be compared with a plain digest.  For a listed method, a
  missing account, a banned one and one whose password was set before the
  method was listed all answer false, like a wrong digest: the answer never
  tells whether an account exists.
- Passwords are SASLprepped (:func:`~gateway.engine.identifiers.prepare_password`)
  before they are stored or checked, as XMPP servers do for SASL PLAIN.  A
  password SASLprep refuses (a NUL, another control character, too long …) is an
  argument error on ``register`` and ``change_password``, and simply a wrong
  password on every check.  ``check_password`` costs one PBKDF2 whether or
  not the account exists (see :mod:`~gateway.backends.embedded.passwords`).
- ``unregister`` (and the purges) also remove the account's MUC
  affiliations, room subscriptions, registered nicknames and shared roster
  group memberships, in the same transaction as the account itself.
- ``delete_old_users*`` judge an account by its last activity, or by its
  registration time when it was never seen, and only on served hosts.  Last
  activity is written by ``set_last`` and by every successful extauth login
  (:func:`record_login`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from typing import Any

from twisted.logger import Logger

from gateway.backends.embedded.context import (
    UNKNOWN_HOST,
    Context,
    Handler,
    account_exists,
    iso_timestamp,
    lock_account,
    prep_host,
    prep_user,
    unknown_user,
)
from gateway.backends.embedded.passwords import (
    DIGEST_METHODS,
    DUMMY_CREDENTIALS,
    STORABLE_DIGESTS,
    ScramCredentials,
    digest_matches,
    hash_password,
    plain_digests,
    verify_password,
)
from gateway.backends.embedded.store import Tx
from gateway.engine.builtin import node_term
from gateway.engine.errors import ArgumentError, CommandFailed, TypedCommandError
from gateway.engine.identifiers import InvalidIdentifier, prepare_password
from gateway.engine.model import ResTuple

__all__ = [
    "HANDLERS",
    "check_password",
    "check_password_stamp",
    "credential_stamp",
    "record_login",
    "remove_account",
    "set_password",
    "try_register",
    "user_exists",
]

DAY = 24 * 60 * 60

log = Logger()


#: mod_register's words for the reasons ``register`` fails (23.01 and 24.12 alike)
MALFORMED_USERNAME = "Malformed username"
UNACCEPTABLE_PASSWORD = "The password contains unacceptable characters"
#: what ``check_password_hash`` throws for a method it does not know, misspelt as ejabberd does
UNKNOWN_HASH_METHOD = "unkown_hash_method"


def _cannot_register(ctx: Context, user: str, host: str, why: str) -> TypedCommandError:
    """ejabberd_admin's failure text, quoting the node as ``~p`` prints it."""
    text = f"Can't register user {user}@{host} at node {node_term(ctx.node)}: {why}"
    return TypedCommandError("cannot_register", 10001, text)


def _credentials(row: tuple[Any, ...]) -> ScramCredentials:
    scheme, salt, iterations, stored_key, server_key = row
    return ScramCredentials(salt, int(iterations), stored_key, server_key, scheme)


_CREDENTIALS = (
    "SELECT a.scheme, a.salt, a.iterations, a.stored_key, a.server_key, b.reason "
    "FROM accounts a LEFT JOIN bans b ON b.host = a.host AND b.username = a.username "
    "WHERE a.host = ? AND a.username = ?"
)


Secrets = tuple[ScramCredentials, dict[str, str]]


def _new_password(ctx: Context, password: str, command: str, argument: str) -> str:
    """``password`` SASLprepped for storing; an argument error saying why it cannot be."""
    try:
        return prepare_password(password, ctx.max_password_bytes)
    except InvalidIdentifier as e:
        raise ArgumentError(f"Argument '{argument}' is refused: {e}", command) from None


def _given_password(ctx: Context, password: str) -> str | None:
    """``password`` SASLprepped for a check; ``None`` when no account can have it."""
    try:
        return prepare_password(password, ctx.max_password_bytes)
    except InvalidIdentifier:
        return None


def _verified(password: str | None, row: tuple[Any, ...] | None) -> bool:
    """Whether ``password`` matches the credentials of ``row`` (``_CREDENTIALS``'s first five).

    One PBKDF2 in every case: without a row (or a usable password) the dummy
    credentials are hashed instead, so the time does not tell which it was.
    """
    credentials = DUMMY_CREDENTIALS if row is None else _credentials(row[:5])
    matches = verify_password(password or "", credentials)
    return matches and row is not None and password is not None


def _secrets(password: str, methods: frozenset[str]) -> Secrets:
    """SCRAM credentials and the configured plain digests (CPU-bound: run off the reactor)."""
    return hash_password(password), plain_digests(password, sorted(methods))


def _write_digests(tx: Tx, host: str, user: str, digests: Mapping[str, str]) -> None:
    """Replace the account's stored digests: methods no longer configured go."""
    tx.execute("DELETE FROM password_digests WHERE host = ? AND username = ?", (host, user))
    tx.executemany(
        "INSERT INTO password_digests (host, username, method, digest) VALUES (?, ?, ?, ?)",
        [(host, user, method, digest) for method, digest in sorted(digests.items())],
    )


def _forget(tx: Tx, accounts: Sequence[tuple[str, str]]) -> int:
    """Delete existing ``(user, host)`` accounts with everything that names them.

    Rows keyed by the account cascade; MUC and shared-group records name the
    bare JID instead, so they are deleted here, in the caller's transaction.
    Callers pass accounts they found in that transaction: the records of a
    JID that never had an account are not touched.  The number of accounts
    deleted.
    """
    jids = [(f"{user}@{host}",) for user, host in accounts]
    tx.executemany("DELETE FROM muc_affiliations WHERE jid = ?", jids)
    tx.executemany("DELETE FROM muc_subscribers WHERE jid = ?", jids)
    tx.executemany("DELETE FROM muc_nicks WHERE jid = ?", jids)
    tx.executemany("DELETE FROM srg_members WHERE member = ?", jids)
    # tokens name their owner without a foreign key (they may belong to accounts elsewhere)
    tx.executemany("DELETE FROM oauth_tokens WHERE username = ? AND host = ?", accounts)
    return sum(
        tx.execute("DELETE FROM accounts WHERE username = ? AND host = ?", account)
        for account in accounts
    )


# -- operations shared with extauth ------------------------------------------------------------


async def user_exists(ctx: Context, user: str, host: str) -> bool:
    """Whether ``user@host`` is registered on a served host."""
    prepared_user, prepared_host = prep_user(user), prep_host(host)
    if prepared_user is None or prepared_host not in ctx.hosts:
        return False
    return await ctx.store.read_short(lambda tx: account_exists(tx, prepared_user, prepared_host))


async def check_password(ctx: Context, user: str, host: str, password: str) -> bool:
    """Whether ``password`` is right for ``user@host`` and the account is not banned.

    The same work and the same ``False`` for a wrong password, a banned, a
    missing or a malformed account: see :func:`_verified`.
    """
    return await check_password_stamp(ctx, user, host, password) is not None


def _stamp(row: tuple[Any, ...] | None) -> bytes | None:
    """The credential stamp of a ``_CREDENTIALS`` row: ``None`` when missing or banned.

    A digest of the stored SCRAM credentials: every password set draws a new
    random salt, so it changes with every change, in whatever process makes it
    (see :mod:`gateway.engine.credential_cache`).
    """
    if row is None or row[5] is not None:
        return None
    text = "\x00".join(str(part) for part in row[:5])
    return hashlib.blake2b(text.encode("utf-8"), digest_size=16).digest()


async def check_password_stamp(ctx: Context, user: str, host: str, password: str) -> bytes | None:
    """:func:`check_password`, answering the account's credential stamp instead of ``True``.

    The stamp is read in the transaction that checks the password, so it is
    never newer than what was checked.
    """
    prepared_user, prepared_host = prep_user(user), prep_host(host)
    known = prepared_user is not None and prepared_host in ctx.hosts
    given = _given_password(ctx, password)

    def check(tx: Tx) -> bytes | None:
        row = tx.one(_CREDENTIALS, (prepared_host, prepared_user)) if known else None
        # hashing here keeps the ~ms of PBKDF2 on a pool thread, off the reactor
        return _stamp(row) if _verified(given, row) else None

    return await ctx.store.read(check)


async def credential_stamp(ctx: Context, user: str, host: str) -> bytes | None:
    """``user@host``'s credential stamp now (one primary-key read, no hashing)."""
    prepared_user, prepared_host = prep_user(user), prep_host(host)
    if prepared_user is None or prepared_host not in ctx.hosts:
        return None
    return await ctx.store.read_short(
        lambda tx: _stamp(tx.one(_CREDENTIALS, (prepared_host, prepared_user)))
    )


async def try_register(ctx: Context, user: str, host: str, password: str) -> ResTuple:
    """Create ``user@host``; ejabberd's typed errors on failure.

    Raises:
        TypedCommandError: ``conflict`` 10090 when taken, ``cannot_register`` 10001 otherwise.
        ArgumentError: the password is one SASLprep refuses, or too long.
    """
    prepared_host = prep_host(host)
    if prepared_host is None or prepared_host not in ctx.hosts:
        raise TypedCommandError("cannot_register", 10001, UNKNOWN_HOST)
    # ejabberd_auth refuses an empty password before it looks at the name
    if password == "":
        raise _cannot_register(ctx, user, host, UNACCEPTABLE_PASSWORD)
    prepared_user = prep_user(user)
    if prepared_user is None:
        raise _cannot_register(ctx, user, host, MALFORMED_USERNAME)
    password = _new_password(ctx, password, "register", "password")
    if password == "":  # only characters SASLprep maps to nothing
        raise _cannot_register(ctx, user, host, UNACCEPTABLE_PASSWORD)
    creds, digests = await ctx.store.compute(_secrets, password, ctx.password_digests)
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
        if changed != 1:
            return False
        _write_digests(tx, prepared_host, prepared_user, digests)
        return True

    if not await ctx.store.write(insert):
        raise TypedCommandError("conflict", 10090, f"User {user}@{host} already registered")
    return ResTuple(f"User {user}@{host} successfully registered")


async def set_password(ctx: Context, user: str, host: str, password: str) -> bool:
    """Replace the password of an existing account.

    Raises:
        CommandFailed: ``unknown_user`` (on a host not served too, as ejabberd
            answers: no such account exists), or an empty password.
        ArgumentError: the password is one SASLprep refuses, or too long.
    """
    prepared_host = prep_host(host)
    prepared_user = prep_user(user)
    if prepared_user is None or prepared_host is None or prepared_host not in ctx.hosts:
        raise unknown_user()
    password = _new_password(ctx, password, "change_password", "newpass")
    if password == "":
        raise CommandFailed("Empty password")
    creds, digests = await ctx.store.compute(_secrets, password, ctx.password_digests)

    def update(tx: Tx) -> int:
        changed = tx.execute(
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
        if changed == 1:
            _write_digests(tx, prepared_host, prepared_user, digests)
        return changed

    if await ctx.store.write(update) != 1:
        raise unknown_user()
    return True


async def remove_account(ctx: Context, user: str, host: str, password: str | None = None) -> bool:
    """Delete ``user@host`` and everything it owns; ``False`` when nothing was removed.

    With ``password``, only when it is right (extauth's ``removeuser3``).
    """
    prepared_host = ctx.host(host)
    prepared_user = prep_user(user)
    given = None if password is None else _given_password(ctx, password)
    if prepared_user is None:
        return False

    def delete(tx: Tx) -> bool:
        if password is not None:
            row = tx.one(_CREDENTIALS, (prepared_host, prepared_user))
            if not _verified(given, row):
                return False
        elif not lock_account(tx, prepared_user, prepared_host):
            return False
        return _forget(tx, [(prepared_user, prepared_host)]) == 1

    return await ctx.store.write(delete)


async def record_login(ctx: Context, user: str, host: str) -> bool:
    """Record now as ``user@host``'s last activity, with an empty status.

    Called after a successful login (extauth ``auth``), so ``get_last`` and
    ``delete_old_users`` see real activity.  ``False`` when there is no such
    account on a served host.
    """
    prepared_user, prepared_host = prep_user(user), prep_host(host)
    if prepared_user is None or prepared_host not in ctx.hosts:
        return False
    seen = int(ctx.now())

    def record(tx: Tx) -> bool:
        # INSERT … SELECT: nothing is written for an account removed meanwhile
        changed = tx.execute(
            "INSERT INTO last_activity (host, username, seen_at, status)"
            " SELECT host, username, ?, '' FROM accounts WHERE host = ? AND username = ?"
            " ON CONFLICT (host, username) DO UPDATE"
            " SET seen_at = excluded.seen_at, status = excluded.status",
            (seen, prepared_host, prepared_user),
        )
        return changed == 1

    return await ctx.store.write(record)


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
    known = (*DIGEST_METHODS, *STORABLE_DIGESTS)
    return method in known or method in hashlib.algorithms_available


async def _check_password_hash(ctx: Context, args: Mapping[str, Any]) -> bool:
    method = args["hashmethod"].lower()
    if not _known_hash_method(method):
        # ejabberd throws this bare atom, misspelt, and names the method only in its log
        log.info("check_password_hash: unknown hash method {method!r}", method=args["hashmethod"])
        raise CommandFailed(UNKNOWN_HASH_METHOD, atom=UNKNOWN_HASH_METHOD, thrown=True)
    # the error depends on the method only, never on the account
    if method not in ctx.password_digests:
        raise CommandFailed(_not_kept(method))
    user, host = prep_user(args["user"]), prep_host(args["host"])

    def lookup(tx: Tx) -> tuple[bool, str | None] | None:
        row = tx.one(
            "SELECT b.reason, d.digest FROM accounts a"
            " LEFT JOIN bans b ON b.host = a.host AND b.username = a.username"
            " LEFT JOIN password_digests d"
            " ON d.host = a.host AND d.username = a.username AND d.method = ?"
            " WHERE a.host = ? AND a.username = ?",
            (method, host, user),
        )
        return None if row is None else (row[0] is not None, row[1])

    known = user is not None and host in ctx.hosts
    found = await ctx.store.read(lookup) if known else None
    banned, digest = found if found is not None else (False, None)
    if found is not None and digest is None:
        log.info(
            "check_password_hash: no {method} digest is stored for {user}@{host} yet (it is"
            " written when its password is next set); answered false",
            method=method,
            user=user,
            host=host,
        )
    # a missing account, or one without a digest, is compared with a dummy: the same work
    supplied = args["passwordhash"]
    matches = digest_matches(digest or _dummy_digest(method), supplied)
    return matches and digest is not None and not banned


def _dummy_digest(method: str) -> str:
    """A digest of ``method``'s length that no client text is compared true with above."""
    return "00" * hashlib.new(STORABLE_DIGESTS[method]).digest_size


def _not_kept(method: str) -> str:
    return (
        f"Cannot check a {method} password hash: the embedded store keeps only salted"
        " SCRAM-SHA-256 keys, which no digest of the plaintext can be compared with, and"
        f" {method} is not listed in gateway.password_digests; use check_password instead"
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
        accounts = [(r[0], r[1]) for r in rows]
        _forget(tx, accounts)
        return accounts

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
