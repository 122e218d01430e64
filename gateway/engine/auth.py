"""Turn credentials (:mod:`gateway.engine.credentials`) into a caller.

Passwords and tokens are checked by the backend: the engine never stores them.
With a :class:`~gateway.engine.bruteforce.FailureLimiter`, a banned address is
refused before its credentials are looked at, and every refused credential
counts against its address (see that module for the rules).  With a
:class:`~gateway.engine.credential_cache.CredentialCache`, a password that
checked out moments ago is confirmed by a cheap read instead of PBKDF2 (see
that module for why that stays correct); failures are never cached.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from gateway.backends.interfaces import Accounts
from gateway.engine.bruteforce import FailureLimiter
from gateway.engine.credential_cache import CredentialCache
from gateway.engine.credentials import (
    Basic,
    Credentials,
    NoCredentials,
    Password,
    Token,
)
from gateway.engine.errors import InvalidToken, Unauthorized
from gateway.engine.identifiers import (
    DEFAULT_MAX_PASSWORD_BYTES,
    InvalidIdentifier,
    prepare_account,
    prepare_password,
)
from gateway.engine.model import Caller, IPAddress

__all__ = ["Authenticator", "normalise_account"]


def normalise_account(user: str, host: str) -> tuple[str, str]:
    """Stringprep a user and host like ejabberd (``Alice``/``LocalHost`` → ``alice``/``localhost``).

    Raises:
        InvalidIdentifier: (a ValueError) when either part is not valid for a JID,
            too long included.
    """
    return prepare_account(user, host)


class Authenticator:
    """Checks passwords and tokens against the backend.

    Args:
        backend: holds the accounts and tokens (a backend, or the accounts part of one).
        clock: the current time, for token expiry.
        limiter: counts failures and bans addresses; ``None`` for no limit.
        max_password_bytes: longer passwords are refused unread
            (``gateway.limits.max_password_bytes``).
        cache: remembers verified passwords briefly; ``None`` checks each one fully.
    """

    def __init__(
        self,
        backend: Accounts,
        clock: Callable[[], float] = time.time,
        limiter: FailureLimiter | None = None,
        max_password_bytes: int = DEFAULT_MAX_PASSWORD_BYTES,
        cache: CredentialCache | None = None,
    ) -> None:
        self._backend = backend
        self._clock = clock
        self._limiter = limiter
        self._max_password_bytes = max_password_bytes
        self._cache = cache if cache is not None and cache.enabled else None

    async def login(
        self,
        credentials: Credentials,
        frontend: str,
        ip: IPAddress | None = None,
        tag: str | None = None,
    ) -> Caller:
        """The caller ``credentials`` stand for; anonymous for :class:`NoCredentials`.

        A banned address is refused first, even without credentials.

        Raises:
            Unauthorized: a wrong password, an unknown account, a bare user
                name, or unreadable credentials.
            InvalidToken: an unknown, expired or foreign token, or an
                unreadable one.
            TooManyFailures: ``ip`` is banned (nothing is checked).
        """
        if isinstance(credentials, Password):
            user, host = credentials.user, credentials.host
            return await self.password(user, host, credentials.password, frontend, ip, tag)
        if isinstance(credentials, Basic):
            return await self.basic(credentials.jid, credentials.password, frontend, ip, tag)
        if isinstance(credentials, Token):
            owner = credentials.user, credentials.host
            return await self.token(credentials.token, frontend, ip, tag, *owner)
        self.admit(ip)
        if isinstance(credentials, NoCredentials):
            return Caller(frontend=frontend, ip=ip, tag=tag)
        # Unreadable: sent, but not even readable, which is a failed attempt too
        await self.failed(ip)
        raise InvalidToken() if credentials.token else Unauthorized()

    def admit(self, ip: IPAddress | None) -> None:
        """Refuse a banned address; HTTP frontends ask first (through ``Engine.admit``).

        Raises:
            TooManyFailures: ``ip`` failed to authenticate too often lately.
        """
        if self._limiter is not None:
            self._limiter.check(ip)

    async def failed(self, ip: IPAddress | None, account: str | None = None) -> None:
        """Count a refused credential, e.g. a header a frontend could not even read.

        Returns once the count has reached every process that shares the limiter,
        so the refusal is answered only when no worker can still admit the next try.
        """
        if self._limiter is not None:
            counted = self._limiter.failure(ip, account)
            if counted is not None:
                await counted

    async def password(
        self,
        user: str,
        host: str,
        password: str,
        frontend: str,
        ip: IPAddress | None = None,
        tag: str | None = None,
    ) -> Caller:
        """A caller logged in with a password; :class:`Unauthorized` when it is wrong.

        Raises:
            TooManyFailures: ``ip`` is banned (nothing is checked).
        """
        self.admit(ip)
        try:
            return await self._password(user, host, password, frontend, ip, tag)
        except Unauthorized:
            await self.failed(ip, f"{user}@{host}")
            raise

    async def _password(
        self,
        user: str,
        host: str,
        password: str,
        frontend: str,
        ip: IPAddress | None = None,
        tag: str | None = None,
    ) -> Caller:
        # lengths are checked before any stringprep, so no input can hold the reactor;
        # the backend hashes (or, for an unknown account, hashes a dummy) off the reactor
        try:
            user, host = normalise_account(user, host)
            password = prepare_password(password, self._max_password_bytes)
        except InvalidIdentifier:
            raise Unauthorized() from None
        if self._cache is None:
            if not await self._backend.check_password(user, host, password):
                raise Unauthorized()
        elif not await self._cached_check(self._cache, user, host, password):
            raise Unauthorized()
        return Caller(frontend=frontend, ip=ip, user=user, host=host, tag=tag)

    async def _cached_check(
        self, cache: CredentialCache, user: str, host: str, password: str
    ) -> bool:
        """Whether ``password`` is right, trusting a recent success the store still stands by."""
        key = cache.key(user, host, password)
        stamp = cache.lookup(key)
        if stamp is not None:
            if await self._backend.credential_stamp(user, host) == stamp:
                return True
            cache.forget(key)  # changed, banned or removed since: check in full
        verified = await self._backend.verify_password(user, host, password)
        if verified is None:
            return False
        cache.remember(key, verified)
        return True

    async def basic(
        self,
        jid: str,
        password: str,
        frontend: str,
        ip: IPAddress | None = None,
        tag: str | None = None,
    ) -> Caller:
        """HTTP Basic: the user name must be a full ``user@host``."""
        user, sep, host = jid.partition("@")
        if not sep:
            self.admit(ip)
            await self.failed(ip, jid)
            raise Unauthorized()
        return await self.password(user, host, password, frontend, ip, tag)

    async def token(
        self,
        token: str,
        frontend: str,
        ip: IPAddress | None = None,
        tag: str | None = None,
        user: str | None = None,
        host: str | None = None,
    ) -> Caller:
        """A caller holding an OAuth token; when ``user``/``host`` are given they must own it.

        Raises:
            TooManyFailures: ``ip`` is banned (nothing is checked).
        """
        self.admit(ip)
        try:
            return await self._token(token, frontend, ip, tag, user, host)
        except InvalidToken:
            named = f"{user or ''}@{host or ''}" if user is not None or host is not None else None
            await self.failed(ip, named)
            raise

    async def _token(
        self,
        token: str,
        frontend: str,
        ip: IPAddress | None,
        tag: str | None,
        user: str | None,
        host: str | None,
    ) -> Caller:
        grant = await self._backend.check_token(token.strip())
        if grant is None or grant.expires <= self._clock():
            raise InvalidToken()
        if user is not None or host is not None:
            try:
                owner = normalise_account(user or "", host or "")
            except ValueError:
                raise InvalidToken() from None
            if owner != (grant.user, grant.host):
                raise InvalidToken()
        return Caller(
            frontend=frontend,
            ip=ip,
            user=grant.user,
            host=grant.host,
            oauth_scopes=grant.scopes,
            tag=tag,
        )
