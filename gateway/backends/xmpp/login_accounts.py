"""The accounts part of the ``xmpp`` backend: callers' passwords checked by SASL logins.

With ``gateway.auth: xmpp`` the accounts live on the XMPP server, which shows
nothing that changes with a password.  That is the upstream backend's
situation too, so the same machinery serves both:
:class:`~gateway.backends.remote_accounts.RemoteAccounts` asks "is this
password right?" through one call, and here that call is a real login
(:class:`~gateway.backends.xmpp.login.XmppLoginVerifier`).  It brings along:

- the credential stamp: a generation kept in the gateway's store
  (:class:`~gateway.backends.interfaces.CredentialGenerations`), read before
  the login, so the engine's credential cache forgets a verified password
  once the generation moves.  The same generations must be bumped by the
  commands that change a password or an account's existence: give them to
  :class:`~gateway.backends.xmpp.backend.XmppBackend` as ``credentials``, or
  wrap the executor in
  :class:`~gateway.backends.remote_accounts.InvalidatingExecutor` (whose
  list also has ``register``, which ends a refusal remembered for an account
  that did not exist yet).  A password changed on the server
  without the gateway (the user's own client, ``prosodyctl``) is noticed
  only when the cached entry expires (``gateway.limits.credential_cache_ttl``);
- a short memory of refusals and one login shared by identical concurrent
  checks, which also spares the XMPP server's own brute-force protection
  (ejabberd's ``mod_fail2ban``, Prosody's ``mod_limit_auth``) from banning
  the gateway's address for a script retrying a stale password;
- "cannot decide" (server down, silent, TLS trouble) as
  :class:`~gateway.engine.errors.Unavailable` / ``GatewayTimeout``, never as
  a wrong password.

Tokens are the gateway's own (issued by its ``/oauth`` into its store), as
with the upstream backend: pass that store's checker as ``tokens``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Protocol

from twisted.internet.defer import Deferred, fail

from gateway.backends.interfaces import CredentialGenerations
from gateway.backends.remote_accounts import (
    CHECK_COMMAND,
    DEFAULT_FAILURE_TTL,
    RemoteAccounts,
    TokenChecker,
)
from gateway.engine.errors import InternalError

__all__ = ["LoginCheck", "PasswordLogin", "xmpp_accounts"]


class PasswordLogin(Protocol):
    """What logs in (:class:`~gateway.backends.xmpp.login.XmppLoginVerifier`)."""

    def check(self, user: str, host: str, password: str) -> Deferred[bool]:
        """True accepted, False refused; fails with Unavailable when undecided."""
        ...


class LoginCheck:
    """Answers the one call :class:`RemoteAccounts` makes, ``check_password``, by logging in."""

    def __init__(self, verifier: PasswordLogin) -> None:
        self._verifier = verifier

    def call(
        self, name: str, args: Mapping[str, Any], *, version: int | None = None
    ) -> Deferred[Any]:
        """``check_password`` → whether the XMPP server accepts the login (a bool)."""
        if name != CHECK_COMMAND:
            return fail(InternalError(f"an XMPP login cannot answer {name}"))
        return self._verifier.check(args["user"], args["host"], args["password"])


def xmpp_accounts(
    verifier: PasswordLogin,
    generations: CredentialGenerations,
    clock: Callable[[], float],
    *,
    tokens: TokenChecker | None = None,
    failure_ttl: float = DEFAULT_FAILURE_TTL,
) -> RemoteAccounts:
    """The :class:`~gateway.backends.interfaces.Accounts` for ``gateway.auth: xmpp``.

    Args:
        verifier: logs in to the XMPP server's c2s port.
        generations: the credential generations in the gateway's store.
        clock: the current time (the reactor's ``seconds``).
        tokens: where the gateway's own OAuth tokens are checked.
        failure_ttl: seconds a refused password is refused from memory.
    """
    return RemoteAccounts(
        LoginCheck(verifier),
        generations,
        clock,
        tokens=tokens,
        failure_ttl=failure_ttl,
        server="the XMPP server",
    )
