"""The embedded backend: ejabberd's commands answered from the gateway's own SQL store.

Only the commands whose handlers exist are claimed by :meth:`supports`; the
engine answers every other command with ``NotSupported`` naming this backend.

Passwords are kept as salted SCRAM-SHA-256 keys.  ``password_digests`` (the
``gateway.password_digests`` option) additionally keeps unsalted hex digests
of each password for ``check_password_hash``; that is weaker storage, meant
only for legacy clients, see :mod:`gateway.backends.embedded.passwords`.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from dataclasses import replace
from typing import Any

from twisted.internet.defer import Deferred, ensureDeferred
from twisted.internet.interfaces import IReactorTime
from twisted.logger import Logger

from gateway.backends.embedded import accounts, misc, muc, oauth, roster, srg, stats, vcard
from gateway.backends.embedded.context import Context, Handler, prep_host
from gateway.backends.embedded.passwords import STORABLE_DIGESTS
from gateway.backends.embedded.store import Store
from gateway.backends.interfaces import OAuthClient, TokenGrant
from gateway.engine.catalogue import Catalogue
from gateway.engine.errors import CommandError, NotSupported, Unavailable
from gateway.engine.files import FilesDir
from gateway.engine.identifiers import DEFAULT_MAX_PASSWORD_BYTES
from gateway.engine.model import Caller, ResTuple
from gateway.engine.names import CURRENT_PROFILE

__all__ = ["FILE_COMMANDS", "HANDLERS", "EmbeddedBackend"]

log = Logger()

#: command name -> handler, one family module at a time
HANDLERS: dict[str, Handler] = {
    **accounts.HANDLERS,
    **oauth.HANDLERS,
    **roster.HANDLERS,
    **misc.HANDLERS,
    **vcard.HANDLERS,
    **srg.HANDLERS,
    **muc.HANDLERS,
    **stats.HANDLERS,
}


#: commands that read a file named by their ``file`` argument; claimed only with a files directory
FILE_COMMANDS = frozenset(
    {"create_rooms_file", "destroy_rooms_file", "push_roster", "push_roster_all"}
)


def _default_scopes() -> frozenset[str]:
    return oauth.BASE_SCOPES | frozenset(Catalogue.load(CURRENT_PROFILE).names())


def _store_down(error: BaseException) -> bool:
    """Errors that mean the database cannot be reached, rather than a bug."""
    if isinstance(error, sqlite3.OperationalError):
        text = str(error)
        return any(sign in text for sign in _SQLITE_DOWN)
    # psycopg2 is optional: recognise its connection errors by name
    return any(
        cls.__module__.startswith("psycopg2") and cls.__name__ in _PSYCOPG_DOWN
        for cls in type(error).__mro__
    )


_SQLITE_DOWN = ("locked", "unable to open", "disk", "readonly")
_PSYCOPG_DOWN = frozenset({"OperationalError", "InterfaceError"})


class EmbeddedBackend:
    """Runs commands against a :class:`~gateway.backends.embedded.store.Store`.

    Args:
        store: an open store.
        hosts: the virtual hosts served; every other host is unknown.
        clock: the source of every timestamp written.
        oauth_expire: lifetime in seconds of tokens issued without an explicit ttl.
        scopes: scopes a token may carry; by default ``ejabberd:user``,
            ``ejabberd:admin``, ``sasl_auth`` and every command name.
        muc_service: the MUC service of each host, ``@HOST@`` standing for the host.
        password_digests: ejabberd hash method names (``md5``, ``sha``, ``sha256`` …)
            whose unsalted digest of each password is stored for
            ``check_password_hash``; empty (the default) stores none.
        files: the only directory file arguments may name; without it the
            commands that read files are not claimed.
        max_password_bytes: longer passwords are refused before SASLprep
            (``gateway.limits.max_password_bytes``).

    Raises:
        ValueError: for a ``muc_service`` or a digest method that cannot be used.
    """

    name = "embedded"

    def __init__(
        self,
        store: Store,
        hosts: Sequence[str],
        clock: IReactorTime,
        oauth_expire: int = 4294967,
        *,
        scopes: Collection[str] | None = None,
        muc_service: str = "conference.@HOST@",
        password_digests: Collection[str] = (),
        files: FilesDir | None = None,
        max_password_bytes: int = DEFAULT_MAX_PASSWORD_BYTES,
    ) -> None:
        unknown = sorted(set(password_digests) - set(STORABLE_DIGESTS))
        if unknown:
            raise ValueError(
                f"password digests {', '.join(unknown)} are not supported; "
                f"expected some of {', '.join(STORABLE_DIGESTS)}"
            )
        served = sorted({h for h in (prep_host(h) for h in hosts) if h})
        services = {}
        for host in served:
            service = prep_host(muc_service.replace("@HOST@", host))
            if service is None:
                raise ValueError(f"muc_service {muc_service!r} gives no valid host for {host}")
            services[service] = host
        self.ctx = Context(
            store=store,
            hosts=frozenset(served),
            clock=clock,
            oauth_expire=oauth_expire,
            scopes=frozenset(scopes) if scopes is not None else _default_scopes(),
            muc_services=services,
            password_digests=frozenset(password_digests),
            files=files,
            max_password_bytes=max_password_bytes,
        )
        self._handlers = {
            name: handler
            for name, handler in HANDLERS.items()
            if files is not None or name not in FILE_COMMANDS
        }

    def supports(self, command: str) -> bool:
        return command in self._handlers

    def execute(self, command: str, args: Mapping[str, Any], caller: Caller) -> Deferred[Any]:
        return ensureDeferred(self._execute(command, args))

    async def _execute(self, command: str, args: Mapping[str, Any]) -> Any:
        handler = self._handlers.get(command)
        if handler is None:
            raise NotSupported(command, self.name)
        try:
            return await handler(self.ctx, args)
        except CommandError:
            raise
        except Exception as e:
            if _store_down(e):
                log.failure("store failed while running {command}", command=command)
                raise Unavailable("The embedded store is unavailable") from None
            raise

    # -- credentials, for the engine's authenticator and extauth -----------------------------

    def check_password(self, user: str, host: str, password: str) -> Deferred[bool]:
        return ensureDeferred(accounts.check_password(self.ctx, user, host, password))

    def verify_password(self, user: str, host: str, password: str) -> Deferred[bytes | None]:
        return ensureDeferred(accounts.check_password_stamp(self.ctx, user, host, password))

    def credential_stamp(self, user: str, host: str) -> Deferred[bytes | None]:
        return ensureDeferred(accounts.credential_stamp(self.ctx, user, host))

    def check_token(self, token: str) -> Deferred[TokenGrant | None]:
        return ensureDeferred(oauth.check_token(self.ctx, token))

    def record_login(self, user: str, host: str) -> Deferred[bool]:
        """Record a successful login as ``user@host``'s last activity (extauth ``auth``).

        Fires ``False`` when there is no such account on a served host.
        """
        return ensureDeferred(accounts.record_login(self.ctx, user, host))

    def user_exists(self, user: str, host: str) -> Deferred[bool]:
        """Whether ``user@host`` is registered here (extauth ``isuser``)."""
        return ensureDeferred(accounts.user_exists(self.ctx, user, host))

    def set_password(self, user: str, host: str, password: str) -> Deferred[bool]:
        """Change a password (extauth ``setpass``); fails with CommandFailed."""
        return ensureDeferred(accounts.set_password(self.ctx, user, host, password))

    def try_register(self, user: str, host: str, password: str) -> Deferred[ResTuple]:
        """Create an account (extauth ``tryregister``); fails with TypedCommandError."""
        return ensureDeferred(accounts.try_register(self.ctx, user, host, password))

    def remove_user(self, user: str, host: str, password: str | None = None) -> Deferred[bool]:
        """Delete an account, checking ``password`` when given (extauth ``removeuser(3)``)."""
        return ensureDeferred(accounts.remove_account(self.ctx, user, host, password))

    def use_accounts_elsewhere(self, exists: Callable[[str, str], Awaitable[bool]]) -> None:
        """Issue OAuth tokens for accounts that ``exists`` finds instead of the store's.

        For ``gateway.auth: upstream`` and ``xmpp``, where callers log in with
        accounts of the upstream ejabberd or the XMPP server.
        """
        self.ctx = replace(self.ctx, accounts_elsewhere=exists)

    def issue_token(
        self, user: str, host: str, scopes: list[str], ttl: int | None = None
    ) -> Deferred[tuple[str, list[str], int]]:
        """A new OAuth token ``(token, scopes, lifetime)``; ``ttl`` defaults to ``oauth_expire``."""
        return ensureDeferred(oauth.issue_token(self.ctx, user, host, scopes, ttl))

    def check_client_secret(self, client_id: str, secret: str) -> Deferred[bool]:
        """Whether ``secret`` is right for the OAuth password client ``client_id``."""
        return ensureDeferred(oauth.check_client_secret(self.ctx, client_id, secret))

    def oauth_client(self, client_id: str) -> Deferred[OAuthClient | None]:
        """The OAuth client registered as ``client_id``, or ``None``."""
        return ensureDeferred(oauth.find_client(self.ctx, client_id))
