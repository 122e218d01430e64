"""Issuing OAuth tokens to callers who prove who they are, as ejabberd_oauth does.

Three grants of RFC 6749 lead to a token:

- **password**: an account's JID and password;
- **client_credentials**: the id and secret of a client registered with
  ``oauth_add_client_password``; its tokens act for the account whose JID is
  the client id (registering the client is the "prior arrangement" RFC 6749
  asks for, and only an admin may register one);
- **implicit**: a client registered with ``oauth_add_client_implicit``, whose
  user logs in on the authorisation page.

Logins go through the engine's authenticator, so failures count towards the
brute-force limits and a banned address gets nothing; a wrong client secret
counts the same way.  Each scope asked for must be one ejabberd knows
(``ejabberd:admin``, ``ejabberd:user``, ``sasl_auth`` or a command name) and
must be usable: some ``api_permissions`` rule must let a token holding only
that scope run at least one command, as the account, from the address the
token is asked from, through a dialect that takes tokens (/api or XML-RPC)
on one of the listeners.  So a token never carries a scope its owner could
not use; what it may run is still decided by ``api_permissions`` at each call.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass, replace

from gateway.backends.interfaces import OAuthClient, TokenIssuer
from gateway.engine.credentials import Basic
from gateway.engine.dispatch import Engine
from gateway.engine.errors import CommandFailed, Unauthorized
from gateway.engine.identifiers import (
    DEFAULT_MAX_PASSWORD_BYTES,
    MAX_PART_BYTES,
    InvalidIdentifier,
    prepare_jid,
)
from gateway.engine.model import Caller, CommandDefinition, IPAddress
from gateway.engine.names import EJABBERD_OAUTH, EJABBERD_XMLRPC, MOD_HTTP_API
from gateway.engine.permissions import Permissions
from gateway.engine.scopes import BASE_SCOPES, ScopeError, parse_scope

__all__ = ["MAX_TTL", "TOKEN_FRONTENDS", "IssuedToken", "OAuthError", "TokenGrants"]

#: the longest lifetime a caller may ask for: ten years, ejabberd's longest choice
MAX_TTL = 10 * 365 * 86400
#: the dialects a token can be presented to
TOKEN_FRONTENDS = (MOD_HTTP_API, EJABBERD_XMLRPC)


class OAuthError(Exception):
    """A refusal in RFC 6749's terms: ``error`` is its code, e.g. ``invalid_grant``."""

    def __init__(self, error: str, description: str) -> None:
        super().__init__(f"{error}: {description}")
        self.error = error
        self.description = description


@dataclass(frozen=True, slots=True)
class IssuedToken:
    """A token just issued, as the token endpoint reports it."""

    access_token: str
    scopes: tuple[str, ...]
    #: lifetime in seconds
    expires_in: int

    @property
    def scope(self) -> str:
        """The scopes as RFC 6749 writes them: separated by spaces."""
        return " ".join(self.scopes)


class TokenGrants:
    """Checks who asks for a token and what for, then has the backend issue it.

    Args:
        engine: logs callers in (bans and failure counting included) and holds
            the ``api_permissions`` scopes are judged by.
        issuer: the backend's tokens and OAuth clients.
        tags: the ``tag`` of every HTTP listener (``None`` for untagged ones):
            a scope may be usable on any of them.
        max_secret_bytes: longer client secrets are refused unread.
    """

    def __init__(
        self,
        engine: Engine,
        issuer: TokenIssuer,
        *,
        tags: Iterable[str | None] = (None,),
        max_secret_bytes: int = DEFAULT_MAX_PASSWORD_BYTES,
    ) -> None:
        self._engine = engine
        self._issuer = issuer
        self._tags = tuple(dict.fromkeys(tags)) or (None,)
        self._max_secret_bytes = max_secret_bytes
        # permissions look at a command's name and tags only: one definition of each will do
        found: dict[tuple[str, tuple[str, ...]], CommandDefinition] = {}
        for catalogue in (engine.catalogue, engine.canonical):
            for definition in catalogue:
                if not definition.internal:
                    found.setdefault((definition.name, definition.tags), definition)
        self._definitions = tuple(found.values())
        self._known = BASE_SCOPES | {name for name, _ in found}

    # -- the grants -----------------------------------------------------------------------------

    async def password(
        self,
        username: str,
        password: str,
        scope: str,
        ttl: int | None = None,
        *,
        ip: IPAddress | None = None,
        tag: str | None = None,
    ) -> IssuedToken:
        """A token for the account ``username`` (a JID; a resource is ignored).

        Raises:
            OAuthError: ``invalid_scope``, ``invalid_grant`` (wrong JID or
                password) or ``invalid_request`` (a bad ``ttl``).
            TooManyFailures: ``ip`` is banned.
        """
        scopes = self.requested_scopes(scope)
        _check_ttl(ttl)
        caller = await self.login(username, password, ip=ip, tag=tag)
        return await self._issue(caller, scopes, ttl)

    async def client_credentials(
        self,
        client_id: str,
        secret: str,
        scope: str,
        ttl: int | None = None,
        *,
        ip: IPAddress | None = None,
        tag: str | None = None,
    ) -> IssuedToken:
        """A token for the account whose JID is the password client ``client_id``.

        Raises:
            OAuthError: ``invalid_client`` (unknown client or wrong secret),
                ``unauthorized_client`` (the client id is no account's JID),
                ``invalid_scope`` or ``invalid_request``.
            TooManyFailures: ``ip`` is banned.
        """
        scopes = self.requested_scopes(scope)
        _check_ttl(ttl)
        await self.authenticate_client(client_id, secret, ip=ip)
        refusal = OAuthError(
            "unauthorized_client",
            f"client {client_id} acts for no account: register it under the JID of the "
            "account its tokens are for",
        )
        try:
            user, host, _ = prepare_jid(client_id)
        except InvalidIdentifier:
            raise refusal from None
        if user is None:
            raise refusal
        caller = Caller(frontend=EJABBERD_OAUTH, ip=ip, user=user, host=host, tag=tag)
        if not await self._account_exists(caller):
            raise refusal
        try:
            return await self._issue(caller, scopes, ttl)
        except CommandFailed:
            raise refusal from None  # the account went in the meantime

    async def implicit(
        self,
        client: OAuthClient,
        username: str,
        password: str,
        scope: str,
        ttl: int | None = None,
        *,
        ip: IPAddress | None = None,
        tag: str | None = None,
    ) -> IssuedToken:
        """A token for the account that logged in on ``client``'s authorisation page.

        ``client`` comes from :meth:`implicit_client`.  Raises as :meth:`password`.
        """
        if client.grant_type != "implicit":
            raise OAuthError("unauthorized_client", f"client {client.client_id} is not implicit")
        return await self.password(username, password, scope, ttl, ip=ip, tag=tag)

    # -- the steps, also for the endpoints ------------------------------------------------------

    def admit(self, ip: IPAddress | None) -> None:
        """Refuse an address banned for failing to log in too often.

        Raises:
            TooManyFailures: ``ip`` is banned.
        """
        self._engine.admit(ip)

    def requested_scopes(self, scope: str) -> list[str]:
        """The scopes of a ``scope`` parameter, each one ejabberd knows.

        Raises:
            OAuthError: ``invalid_scope``.
        """
        try:
            scopes = parse_scope(scope)
        except ScopeError as e:
            raise OAuthError("invalid_scope", str(e)) from None
        if not scopes:
            raise OAuthError("invalid_scope", "no scope asked for, e.g. scope=ejabberd:admin")
        unknown = [s for s in scopes if s not in self._known]
        if unknown:
            raise OAuthError(
                "invalid_scope",
                f"unknown scope {unknown[0]}: expected ejabberd:admin, ejabberd:user, "
                "sasl_auth or a command name",
            )
        return scopes

    async def login(
        self, username: str, password: str, *, ip: IPAddress | None = None, tag: str | None = None
    ) -> Caller:
        """The account ``username`` (a JID) logged in with ``password``.

        Raises:
            OAuthError: ``invalid_grant`` for a wrong JID or password (counted).
            TooManyFailures: ``ip`` is banned.
        """
        bare = username.partition("/")[0]
        try:
            return await self._engine.authenticate(
                Basic(bare, password), frontend=EJABBERD_OAUTH, ip=ip, tag=tag
            )
        except Unauthorized:
            raise OAuthError("invalid_grant", "wrong JID or password") from None

    async def authenticate_client(
        self, client_id: str, secret: str, *, ip: IPAddress | None = None
    ) -> None:
        """Check a password client's secret; a wrong one counts as a failed login.

        Raises:
            OAuthError: ``invalid_client``.
            TooManyFailures: ``ip`` is banned.
        """
        self._engine.admit(ip)
        readable = (
            client_id
            and secret
            and len(client_id.encode("utf-8", "replace")) <= MAX_PART_BYTES * 3
            and len(secret.encode("utf-8", "replace")) <= self._max_secret_bytes
        )
        if readable and await self._issuer.check_client_secret(client_id, secret):
            return
        authenticator = self._engine.authenticator
        if authenticator is not None:
            await authenticator.failed(ip, f"OAuth client {client_id[:MAX_PART_BYTES]}")
        raise OAuthError("invalid_client", "unknown client or wrong secret")

    async def implicit_client(self, client_id: str, redirect_uri: str | None) -> OAuthClient:
        """The implicit client ``client_id``, whose registered URI ``redirect_uri`` must be.

        ``None`` (not given) means the registered one.  The caller must not
        redirect to anything when this fails.

        Raises:
            OAuthError: ``invalid_client`` (unknown), ``unauthorized_client``
                (not an implicit client) or ``invalid_request`` (another URI).
        """
        client = await self._issuer.oauth_client(client_id) if client_id else None
        if client is None:
            raise OAuthError("invalid_client", f"unknown client {client_id!r}")
        if client.grant_type != "implicit":
            raise OAuthError(
                "unauthorized_client",
                f"client {client_id!r} was not registered for the implicit grant "
                "(oauth_add_client_implicit)",
            )
        if redirect_uri is not None and redirect_uri != client.redirect_uri:
            raise OAuthError(
                "invalid_request", "redirect_uri is not the one registered for this client"
            )
        return client

    async def _account_exists(self, caller: Caller) -> bool:
        account = {"user": caller.user, "host": caller.host}
        try:
            return bool(await self._engine.backend.execute("check_account", account, caller))
        except CommandFailed:
            return False  # a host the backend does not serve

    # -- scopes ---------------------------------------------------------------------------------

    async def _issue(self, caller: Caller, scopes: list[str], ttl: int | None) -> IssuedToken:
        unusable = [s for s in scopes if not self.usable(caller, s)]
        if unusable:
            raise OAuthError(
                "invalid_scope",
                f"{caller.jid} may not use scope {unusable[0]}: no api_permissions rule lets "
                "a token of that scope run a command for this account from this address",
            )
        assert caller.user is not None and caller.host is not None
        token, granted, lifetime = await self._issuer.issue_token(
            caller.user, caller.host, scopes, ttl
        )
        return IssuedToken(token, tuple(granted), lifetime)

    def usable(
        self, caller: Caller, scope: str, frontends: Collection[str] = TOKEN_FRONTENDS
    ) -> bool:
        """Whether a token of ``scope`` alone lets ``caller`` run some command somewhere."""
        permissions = self._engine.permissions
        for frontend in frontends:
            for tag in self._tags:
                holder = replace(
                    caller, frontend=frontend, tag=tag, oauth_scopes=frozenset({scope})
                )
                if isinstance(permissions, Permissions):
                    # one pass over the rules, not one per command: this runs on the reactor
                    if permissions.allows_any(holder, self._definitions):
                        return True
                elif any(permissions.allows(holder, d) for d in self._definitions):
                    return True
        return False


def _check_ttl(ttl: int | None) -> None:
    if ttl is not None and not 0 < ttl <= MAX_TTL:
        raise OAuthError("invalid_request", f"ttl must be between 1 and {MAX_TTL} seconds")
