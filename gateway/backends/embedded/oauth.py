"""OAuth tokens and clients.

Tokens are random 32-character strings handed out once; the store keeps only
their SHA-256, so a copy of the database cannot be used to call the API.
``oauth_list_tokens`` therefore cannot print a token: it shows its
identifier ``sha256:<hex digest>``, which ``oauth_revoke_token`` accepts as
well as the token itself.  Expired tokens are not listed and never accepted.

A token stops working when it expires, is revoked, its account is removed
(cascade) or banned.  Client secrets are kept as salted PBKDF2 keys like
passwords.
"""

from __future__ import annotations

import hashlib
import secrets
import string
from collections.abc import Mapping
from typing import Any

from gateway.backends.embedded.context import (
    Context,
    Handler,
    account_exists,
    prep_user,
    split_jid,
    unknown_user,
)
from gateway.backends.embedded.passwords import (
    DUMMY_CREDENTIALS,
    ScramCredentials,
    hash_password,
    verify_password,
)
from gateway.backends.embedded.store import Tx
from gateway.backends.interfaces import OAuthClient, TokenGrant
from gateway.engine.errors import CommandFailed
from gateway.engine.model import ResTuple
from gateway.engine.scopes import BASE_SCOPES

__all__ = [
    "BASE_SCOPES",
    "HANDLERS",
    "check_client_secret",
    "check_token",
    "find_client",
    "issue_token",
    "token_id",
]

TOKEN_LENGTH = 32
_ALPHABET = string.ascii_letters + string.digits
_ID_PREFIX = "sha256:"


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def token_id(token: str) -> str:
    """The identifier ``oauth_list_tokens`` shows for ``token``."""
    return _ID_PREFIX + _digest(token)


def _hash_of(token_or_id: str) -> str:
    if token_or_id.startswith(_ID_PREFIX) and len(token_or_id) == len(_ID_PREFIX) + 64:
        return token_or_id[len(_ID_PREFIX) :]
    return _digest(token_or_id)


async def issue_token(
    ctx: Context, user: str, host: str, scopes: list[str], ttl: int | None = None
) -> tuple[str, list[str], int]:
    """A new token for an existing ``user@host``: ``(token, scopes, lifetime)``.

    The account must exist in the store, or where ``ctx.accounts_elsewhere`` looks.

    ``ttl`` defaults to the configured ``oauth_expire``.

    Raises:
        CommandFailed: unknown host or account, bad scope, or a non-positive ``ttl``.
    """
    prepared_host = ctx.host(host)
    prepared_user = prep_user(user)
    if prepared_user is None:
        raise unknown_user()
    lifetime = ctx.oauth_expire if ttl is None else ttl
    if lifetime <= 0:
        raise CommandFailed("ttl must be a positive number of seconds")
    granted = list(dict.fromkeys(scopes))
    if not granted:
        raise CommandFailed("badscope: at least one scope is needed")
    for scope in granted:
        if scope not in ctx.scopes:
            raise CommandFailed(f"badscope: '{scope}' is not a known scope")
    elsewhere = ctx.accounts_elsewhere
    if elsewhere is not None and not await elsewhere(prepared_user, prepared_host):
        raise unknown_user()
    token = "".join(secrets.choice(_ALPHABET) for _ in range(TOKEN_LENGTH))
    now = ctx.now()

    def insert(tx: Tx) -> None:
        if elsewhere is None and not account_exists(tx, prepared_user, prepared_host):
            raise unknown_user()
        tx.execute(
            "INSERT INTO oauth_tokens (token_hash, host, username, scopes, issued_at,"
            " expires_at) VALUES (?, ?, ?, ?, ?, ?)",
            (_digest(token), prepared_host, prepared_user, " ".join(granted), now, now + lifetime),
        )

    await ctx.store.write(insert)
    return token, granted, lifetime


async def check_token(ctx: Context, token: str) -> TokenGrant | None:
    """The grant behind a live token; ``None`` when unknown, expired or its account banned."""
    now = ctx.now()
    row = await ctx.store.read(
        lambda tx: tx.one(
            "SELECT t.username, t.host, t.scopes, t.expires_at FROM oauth_tokens t"
            " LEFT JOIN bans b ON b.host = t.host AND b.username = t.username"
            " WHERE t.token_hash = ? AND b.reason IS NULL",
            (_digest(token),),
        )
    )
    if row is None or float(row[3]) <= now or row[1] not in ctx.hosts:
        return None
    return TokenGrant(row[0], row[1], frozenset(row[2].split()), float(row[3]))


async def check_client_secret(ctx: Context, client_id: str, secret: str) -> bool:
    """Whether ``secret`` belongs to the password-grant client ``client_id``.

    An unknown client costs the same PBKDF2 as a wrong secret, so timing does
    not tell which client ids exist.
    """

    def check(tx: Tx) -> bool:
        row = tx.one(
            "SELECT secret_salt, secret_iterations, secret_key FROM oauth_clients"
            " WHERE client_id = ? AND grant_type = 'password'",
            (client_id,),
        )
        if row is None:
            verify_password(secret, DUMMY_CREDENTIALS)
            return False
        return verify_password(secret, ScramCredentials(row[0], int(row[1]), row[2], ""))

    return await ctx.store.read(check)


async def find_client(ctx: Context, client_id: str) -> OAuthClient | None:
    """The registered client ``client_id``, or ``None``."""
    row = await ctx.store.read(
        lambda tx: tx.one(
            "SELECT client_id, client_name, grant_type, redirect_uri FROM oauth_clients"
            " WHERE client_id = ?",
            (client_id,),
        )
    )
    if row is None:
        return None
    return OAuthClient(row[0], row[1], row[2], row[3])


# -- command handlers ---------------------------------------------------------------------------


async def _oauth_issue_token(ctx: Context, args: Mapping[str, Any]) -> tuple[str, list[str], str]:
    jid = args["jid"]
    parts = split_jid(jid)
    if parts is None or not parts[0]:
        raise CommandFailed(f"Invalid JID: {jid}")
    token, scopes, lifetime = await issue_token(
        ctx, parts[0], parts[1], args["scopes"], args["ttl"]
    )
    return token, scopes, f"{lifetime} seconds"


async def _oauth_list_tokens(
    ctx: Context, args: Mapping[str, Any]
) -> list[tuple[str, str, str, str]]:
    now = ctx.now()
    hosts = sorted(ctx.hosts)
    marks = ", ".join("?" for _ in hosts)
    rows = await ctx.store.read(
        lambda tx: tx.all(
            "SELECT token_hash, username, host, scopes, expires_at FROM oauth_tokens"
            f" WHERE expires_at > ? AND host IN ({marks})",
            (now, *hosts),
        )
    )
    rows.sort(key=lambda r: (float(r[4]), r[0]))
    return [
        (_ID_PREFIX + r[0], f"{r[1]}@{r[2]}", r[3], f"{int(float(r[4]) - now)} seconds")
        for r in rows
    ]


async def _oauth_revoke_token(ctx: Context, args: Mapping[str, Any]) -> ResTuple:
    digest = _hash_of(args["token"])
    removed = await ctx.store.write(
        lambda tx: tx.execute("DELETE FROM oauth_tokens WHERE token_hash = ?", (digest,))
    )
    return ResTuple("Token revoked" if removed else "No such token; nothing was revoked")


async def _add_client(
    ctx: Context, client_id: str, name: str, grant: str, secret: str, redirect: str
) -> ResTuple:
    if not client_id:
        raise CommandFailed("client_id must not be empty")
    creds = await ctx.store.compute(hash_password, secret) if secret else None
    now = ctx.now()

    def upsert(tx: Tx) -> None:
        tx.execute(
            "INSERT INTO oauth_clients (client_id, client_name, grant_type, secret_salt,"
            " secret_iterations, secret_key, redirect_uri, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (client_id) DO UPDATE SET client_name = excluded.client_name,"
            " grant_type = excluded.grant_type, secret_salt = excluded.secret_salt,"
            " secret_iterations = excluded.secret_iterations,"
            " secret_key = excluded.secret_key, redirect_uri = excluded.redirect_uri",
            (
                client_id,
                name,
                grant,
                creds.salt if creds else "",
                creds.iterations if creds else 0,
                creds.stored_key if creds else "",
                redirect,
                now,
            ),
        )

    await ctx.store.write(upsert)
    return ResTuple(f"Client {client_id} saved")


async def _oauth_add_client_password(ctx: Context, args: Mapping[str, Any]) -> ResTuple:
    if not args["secret"]:
        raise CommandFailed("secret must not be empty")
    return await _add_client(
        ctx, args["client_id"], args["client_name"], "password", args["secret"], ""
    )


async def _oauth_add_client_implicit(ctx: Context, args: Mapping[str, Any]) -> ResTuple:
    if not args["redirect_uri"]:
        raise CommandFailed("redirect_uri must not be empty")
    return await _add_client(
        ctx, args["client_id"], args["client_name"], "implicit", "", args["redirect_uri"]
    )


async def _oauth_remove_client(ctx: Context, args: Mapping[str, Any]) -> ResTuple:
    client_id = args["client_id"]
    removed = await ctx.store.write(
        lambda tx: tx.execute("DELETE FROM oauth_clients WHERE client_id = ?", (client_id,))
    )
    if removed:
        return ResTuple(f"Client {client_id} removed")
    return ResTuple(f"No client {client_id}; nothing was removed")


HANDLERS: dict[str, Handler] = {
    "oauth_issue_token": _oauth_issue_token,
    "oauth_list_tokens": _oauth_list_tokens,
    "oauth_revoke_token": _oauth_revoke_token,
    "oauth_add_client_password": _oauth_add_client_password,
    "oauth_add_client_implicit": _oauth_add_client_implicit,
    "oauth_remove_client": _oauth_remove_client,
}
