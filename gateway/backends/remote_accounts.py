"""Accounts that live on another server, passwords checked there, cached safely.

:class:`RemoteAccounts` is the accounts part of a backend
(:class:`~gateway.backends.interfaces.Accounts`) when the accounts are not in
the gateway's store: with ``gateway.auth: upstream`` a password is right when
the upstream ejabberd's ``check_password`` answers ``0`` (ejabberd's JSON for
a rescode ``true``); with ``gateway.auth: xmpp`` the one call is a real SASL
login (:mod:`gateway.backends.xmpp.login_accounts`).  Either server answers an
unknown account exactly like a wrong password, so both take the same path.

Why a cache hit stays correct: the engine's credential cache keeps a verified
password only with the account's *stamp*, and on a hit compares it with
:meth:`RemoteAccounts.credential_stamp` read afresh.  Neither server shows
anything that changes with a password, so the stamp is a generation the
gateway keeps in its own store
(:class:`~gateway.backends.interfaces.CredentialGenerations`), shared by every
worker and every gateway on that store.  :class:`InvalidatingExecutor` bumps
it once the server has run any command that changes an account's password
or existence, before the caller hears the answer (also when that command
failed or timed out, as it may have run anyway); ``clear_cache`` bumps every
account's (:meth:`RemoteAccounts.clear`).  The generation is read *before*
the server is asked, so a change racing with a check leaves a stale stamp
behind, never a stale success.

What it cannot see: a password changed on the server without the gateway
(in-band by the user, by ``ejabberdctl`` or ``prosodyctl``, a web admin) is
noticed only when the cached entry expires
(``gateway.limits.credential_cache_ttl``).

Refusals are remembered for :data:`DEFAULT_FAILURE_TTL` seconds, under a keyed
digest of ``(user, host, password)`` (never the password) and with the stamp
of the time, so a burst of wrong passwords costs the server one check, and a
bump ends them too (a password that became right is not refused from memory).
Concurrent checks of the same triple share one request.  A server that
cannot answer (down, slow, refusing the gateway's own account) gives the
caller :class:`~gateway.engine.errors.Unavailable` or
:class:`~gateway.engine.errors.GatewayTimeout`, never "wrong password", and
leaves nothing in memory.

Tokens: ejabberd's ``/api`` has no command that tells who owns a bearer
token and with which scopes short of listing every token
(``oauth_list_tokens``, an admin command whose cost grows with the token
table), and an XMPP server has none at all, so tokens are not verified
remotely.  Bearer tokens are the gateway's own, issued by its ``/oauth``
endpoint into its store; pass that store's checker as ``tokens`` and every
other token is unknown (``None``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Literal, Protocol

from twisted.internet.defer import CancelledError, Deferred, ensureDeferred, succeed
from twisted.logger import Logger
from twisted.python.failure import Failure

from gateway.backends.flight import Flight
from gateway.backends.interfaces import CredentialGenerations, Executor, TokenGrant
from gateway.engine.credential_cache import DEFAULT_MAX_ENTRIES, CredentialCache
from gateway.engine.errors import (
    CommandError,
    CommandFailed,
    NotSupported,
    TypedCommandError,
    Unavailable,
)
from gateway.engine.identifiers import InvalidIdentifier, prepare_account
from gateway.engine.model import Caller, CommandDefinition

__all__ = [
    "CHECK_COMMAND",
    "DEFAULT_FAILURE_TTL",
    "INVALIDATES",
    "InvalidatingExecutor",
    "PasswordCall",
    "RemoteAccounts",
    "TokenChecker",
]

log = Logger()

#: the command that checks a password (23.01 and 24.12 alike, a rescode)
CHECK_COMMAND = "check_password"

#: seconds a refused ``(user, host, password)`` is refused from memory
DEFAULT_FAILURE_TTL = 2.0

#: marks a stamp as a generation of this module (never equal to an embedded stamp)
STAMP_PREFIX = b"remote-generation:"

#: forwarded commands (canonical names) after which verified passwords may be
#: wrong: ``"account"`` for the one named by ``user``/``host``, ``"all"`` for
#: any account.  ``register`` is here so that a refusal remembered for an
#: account that did not exist yet ends when it is created.
INVALIDATES: Mapping[str, Literal["account", "all"]] = {
    "change_password": "account",
    "unregister": "account",
    "ban_account": "account",
    "unban_account": "account",
    "register": "account",
    "delete_old_users": "all",
    "delete_old_users_vhost": "all",
    "import_dir": "all",
    "import_file": "all",
    "import_piefxis": "all",
    "import_prosody": "all",
    "restore": "all",
    "load": "all",
    "install_fallback": "all",
    "delete_mnesia": "all",
    "mnesia_table_clear": "all",
    "mnesia_table_destroy": "all",
    "clear_cache": "all",
}


class PasswordCall(Protocol):
    """What this module needs of the server: one ``/api``-like call (``check_password``)."""

    def call(
        self, name: str, args: Mapping[str, Any], *, version: int | None = None
    ) -> Deferred[Any]:
        """Fire with the decoded JSON of a 200 answer; fail with a CommandError otherwise."""
        ...


class TokenChecker(Protocol):
    """Where the gateway's own OAuth tokens are kept (the embedded store's backend)."""

    def check_token(self, token: str) -> Deferred[TokenGrant | None]:
        """The grant behind ``token``, or ``None`` when it is unknown."""
        ...


def _stamp(generation: int) -> bytes:
    return STAMP_PREFIX + str(generation).encode("ascii")


def _accepted(answer: Any, command: str = CHECK_COMMAND) -> bool:
    """Whether ``check_password``'s (or another rescode command's) answer means yes.

    mod_http_api writes a rescode as a bare ``0`` (ok) or ``1``; a wrapped
    ``{"res": 0}`` and an already decoded boolean are read too.

    Raises:
        Unavailable: for anything else (the server is not what we think).
    """
    if isinstance(answer, Mapping) and set(answer) == {"res"}:
        answer = answer["res"]
    if isinstance(answer, bool):
        return answer
    if isinstance(answer, int) and answer in (0, 1):
        return answer == 0
    raise Unavailable(f"the server answered {command} with {answer!r}, not a rescode")


class RemoteAccounts:
    """Passwords checked by another server, with stamps from the gateway's store.

    Args:
        remote: the one call to the server (the upstream's ``/api`` client, or a login).
        generations: the credential generations in the store shared by every worker.
        clock: the current time (the reactor's ``seconds``), for the refusal memory.
        tokens: where the gateway's own OAuth tokens are checked; ``None``
            knows no token.
        failure_ttl: seconds a refusal is remembered; 0 remembers none.
        max_failures: the most refusals remembered at once (the oldest go first).
        server: how errors name the server.
    """

    def __init__(
        self,
        remote: PasswordCall,
        generations: CredentialGenerations,
        clock: Callable[[], float],
        *,
        tokens: TokenChecker | None = None,
        failure_ttl: float = DEFAULT_FAILURE_TTL,
        max_failures: int = DEFAULT_MAX_ENTRIES,
        server: str = "the upstream ejabberd",
    ) -> None:
        self._remote = remote
        self._server = server
        self._generations = generations
        self._tokens = tokens
        # same mechanism as the engine's success cache (keyed MAC, stamp, expiry),
        # holding refusals; its own per-process key
        self._failures = CredentialCache(failure_ttl, clock, max_failures)
        # (digest, stamp) -> the callers waiting for that one check
        self._in_flight: dict[tuple[bytes, bytes], Flight[bool]] = {}

    # -- Accounts ---------------------------------------------------------------------------

    def check_password(self, user: str, host: str, password: str) -> Deferred[bool]:
        """Whether the server takes ``password`` for ``user@host`` (see the module notes)."""
        return ensureDeferred(self._verify(user, host, password)).addCallback(
            lambda stamp: stamp is not None
        )

    def verify_password(self, user: str, host: str, password: str) -> Deferred[bytes | None]:
        """The account's stamp, read before asking, when the password is right; else ``None``."""
        return ensureDeferred(self._verify(user, host, password))

    def credential_stamp(self, user: str, host: str) -> Deferred[bytes | None]:
        """The account's generation as a stamp (one read of the shared store)."""
        return ensureDeferred(self._stamp(user, host))

    def check_token(self, token: str) -> Deferred[TokenGrant | None]:
        """The gateway's own token ``token``; ``None`` for any other (see the module notes)."""
        if self._tokens is None:
            return succeed(None)
        return self._tokens.check_token(token)

    def account_exists(self, user: str, host: str) -> Deferred[bool]:
        """Whether the server has ``user@host`` (its ``check_account``), for OAuth tokens."""
        answer = self._remote.call("check_account", {"user": user, "host": host})
        return answer.addCallback(_accepted, "check_account")

    # -- clear_cache ------------------------------------------------------------------------

    def clear(self) -> Deferred[None]:
        """Forget the refusals here and bump every account's generation (``clear_cache``).

        The bump reaches the other workers and gateways on the store: their
        cached successes stop matching.  Register it with the cache registry.
        """
        self._failures.clear()
        return self._generations.bump_all()

    # -- the check --------------------------------------------------------------------------

    async def _verify(self, user: str, host: str, password: str) -> bytes | None:
        key = self._failures.key(user, host, password)
        # read first: a bump after this read makes the answer's stamp stale, never wrong
        stamp = await self._stamp(user, host)
        if self._failures.lookup(key) == stamp:
            return None
        if await self._ask(key, stamp, user, host, password):
            return stamp
        self._failures.remember(key, stamp)
        return None

    async def _stamp(self, user: str, host: str) -> bytes:
        try:
            generation = await self._generations.generation(user, host)
        except CancelledError:
            raise
        except Exception:
            log.failure(
                "reading the credential generation of {user}@{host} failed", user=user, host=host
            )
            raise Unavailable(
                "The gateway's store is unavailable, so passwords cannot be checked"
            ) from None
        return _stamp(generation)

    def _ask(self, key: bytes, stamp: bytes, user: str, host: str, password: str) -> Deferred[bool]:
        """Join the check of this triple under way, or start one."""
        name = (key, stamp)
        flight = self._in_flight.get(name)
        if flight is None:
            flight = self._in_flight[name] = Flight()
            # the waiter joins before the call starts, which may answer at once
            waiter = flight.join()
            ensureDeferred(self._check_remotely(user, host, password)).addBoth(
                self._land, name, flight
            )
            return waiter
        return flight.join()

    def _land(
        self, outcome: bool | Failure, name: tuple[bytes, bytes], flight: Flight[bool]
    ) -> None:
        if self._in_flight.get(name) is flight:
            del self._in_flight[name]
        flight.land(outcome)

    async def _check_remotely(self, user: str, host: str, password: str) -> bool:
        args = {"user": user, "host": host, "password": password}
        try:
            answer = await self._remote.call(CHECK_COMMAND, args)
        except Unavailable:
            raise  # down, slow, full, or refusing the gateway's own account
        except (CommandFailed, TypedCommandError):
            return False  # the server's own {error, _} for these credentials
        except CommandError as e:
            log.error(
                "{server} cannot check passwords: {error}", server=self._server, error=e.message
            )
            raise Unavailable(f"{self._server} cannot check passwords ({e.message})") from None
        return _accepted(answer)


class InvalidatingExecutor:
    """Runs commands through ``inner``, bumping credential generations after changes.

    Put it around the executor that runs commands on the other server: after
    a command of :data:`INVALIDATES` finishes there, succeeded or not (a
    timeout may hide a change that was made), the account's generation (or
    every account's) is bumped before the answer goes back, so the old
    password stops authenticating in every worker at once.  When the bump
    itself fails after a success, the caller gets
    :class:`~gateway.engine.errors.Unavailable` saying so: the change was made
    on the server, but cached logins may still take the old password for up to
    the cache's TTL.
    """

    def __init__(self, inner: Executor, generations: CredentialGenerations) -> None:
        self.name = inner.name
        self._inner = inner
        self._generations = generations

    def supports(self, command: str) -> bool:
        return self._inner.supports(command)

    def execute(self, command: str, args: Mapping[str, Any], caller: Caller) -> Deferred[Any]:
        scope = INVALIDATES.get(command)
        if scope is None:
            return self._inner.execute(command, args, caller)
        return ensureDeferred(
            self._execute(command, scope, args, lambda: self._inner.execute(command, args, caller))
        )

    def not_supported(self, command: str) -> CommandError:
        """The inner executor's own reason, when it gives one."""
        explain = getattr(self._inner, "not_supported", None)
        if explain is None:
            return NotSupported(command, self.name)
        error: CommandError = explain(command)
        return error

    def native_profile(self, command: str) -> str | None:
        """The inner executor's own profile for ``command`` (see ``NativeExecutor``)."""
        native = getattr(self._inner, "native_profile", None)
        return None if native is None else native(command)

    def execute_definition(
        self, definition: CommandDefinition, args: Mapping[str, Any], caller: Caller
    ) -> Deferred[Any]:
        """A call in the inner executor's own profile, bumping generations like :meth:`execute`.

        The old definitions name the account ``user`` and ``host`` as the new ones do.
        """
        inner: Any = self._inner
        scope = INVALIDATES.get(definition.name)
        if scope is None:
            result: Deferred[Any] = inner.execute_definition(definition, args, caller)
            return result
        return ensureDeferred(
            self._execute(
                definition.name,
                scope,
                args,
                lambda: inner.execute_definition(definition, args, caller),
            )
        )

    async def _execute(
        self,
        command: str,
        scope: Literal["account", "all"],
        args: Mapping[str, Any],
        run: Callable[[], Deferred[Any]],
    ) -> Any:
        try:
            result = await run()
        except Exception:  # CancelledError included
            # it may have run anyway (a timeout, a cancelled call): bump regardless
            try:
                await self._bump(scope, args)
            except Exception:
                log.failure("{command}: could not bump the credential generation", command=command)
            raise
        try:
            await self._bump(scope, args)
        except Exception:
            log.failure("{command}: could not bump the credential generation", command=command)
            raise Unavailable(
                f"{command} was done on the server, but the gateway could not invalidate its"
                " credential cache (its store is unavailable); the old password may still"
                " be accepted briefly"
            ) from None
        return result

    def _bump(self, scope: Literal["account", "all"], args: Mapping[str, Any]) -> Deferred[None]:
        account = _account(args) if scope == "account" else None
        if account is None:
            return self._generations.bump_all()
        return self._generations.bump(*account)


def _account(args: Mapping[str, Any]) -> tuple[str, str] | None:
    """``(user, host)`` named by ``args``, prepared as logins are; ``None`` when unreadable."""
    user, host = args.get("user"), args.get("host")
    if not isinstance(user, str) or not isinstance(host, str):
        return None
    try:
        return prepare_account(user, host)
    except InvalidIdentifier:
        return None
