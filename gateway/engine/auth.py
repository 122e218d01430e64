"""Turn credentials into a :class:`~gateway.engine.model.Caller`.

Passwords and tokens are checked by the backend: the engine never stores them.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from twisted.words.protocols.jabber.xmpp_stringprep import nameprep, nodeprep

from gateway.backends.interfaces import Backend
from gateway.engine.errors import InvalidToken, Unauthorized
from gateway.engine.model import Caller, IPAddress

__all__ = ["Authenticator", "normalise_account"]


def normalise_account(user: str, host: str) -> tuple[str, str]:
    """Stringprep a user and host like ejabberd (``Alice``/``LocalHost`` → ``alice``/``localhost``).

    Raises:
        ValueError: when either part is not valid for a JID.
    """
    try:
        return nodeprep.prepare(user), nameprep.prepare(host)
    except UnicodeError as e:
        raise ValueError(str(e)) from None


class Authenticator:
    """Checks passwords and tokens against the backend."""

    def __init__(self, backend: Backend, clock: Callable[[], float] = time.time) -> None:
        self._backend = backend
        self._clock = clock

    async def password(
        self,
        user: str,
        host: str,
        password: str,
        frontend: str,
        ip: IPAddress | None = None,
        tag: str | None = None,
    ) -> Caller:
        """A caller logged in with a password; :class:`Unauthorized` when it is wrong."""
        try:
            user, host = normalise_account(user, host)
        except ValueError:
            raise Unauthorized() from None
        if not user or not host or not await self._backend.check_password(user, host, password):
            raise Unauthorized()
        return Caller(frontend=frontend, ip=ip, user=user, host=host, tag=tag)

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
        """A caller holding an OAuth token; when ``user``/``host`` are given they must own it."""
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
