"""What the engine and the component link need from a backend, and nothing more.

A backend executes commands by their canonical (newest 24.12) name with
arguments keyed by the canonical definition's argument names, and answers
whether credentials are good (:class:`Backend`, which the engine's
authenticator asks).  The embedded SQL store (:mod:`gateway.backends.embedded`)
is the one backend there is: a forwarder to a real ejabberd's ``/api`` is
accepted in the configuration (``gateway.backend: ejabberd``) but not built,
so the daemon refuses to start with it.  The commands the gateway runs
itself (``status``, ``reload_config``, ``unban_ip``, ``send_message`` ...)
are :class:`Executor` s too, chained in front of the backend.

A backend that keeps OAuth tokens and clients is also a :class:`TokenIssuer`,
which the ``/oauth`` endpoints issue tokens through.

A store may also keep the component link's :class:`OutboundQueue`; the
contract lives here, beside the others, so the link and the store meet at
this seam without either importing the other.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from twisted.internet.defer import Deferred

from gateway.engine.model import Caller, CommandDefinition

__all__ = [
    "Accounts",
    "Backend",
    "CredentialGenerations",
    "Executor",
    "IqChannel",
    "NativeExecutor",
    "OAuthClient",
    "OutboundQueue",
    "QueueFull",
    "TokenGrant",
    "TokenIssuer",
]


@dataclass(frozen=True, slots=True)
class TokenGrant:
    """What an OAuth token stands for."""

    user: str
    host: str
    scopes: frozenset[str]
    #: POSIX time after which the token is no longer valid
    expires: float


@runtime_checkable
class Executor(Protocol):
    """Runs commands."""

    #: short name used in messages, e.g. ``"embedded"``
    name: str

    def supports(self, command: str) -> bool:
        """Whether this executor can honestly run ``command``."""

    def execute(self, command: str, args: Mapping[str, Any], caller: Caller) -> Deferred[Any]:
        """Run ``command``; fire with a value shaped like its canonical result.

        Fails with a :class:`~gateway.engine.errors.CommandError` for the
        command's own error answers.
        """


@runtime_checkable
class NativeExecutor(Executor, Protocol):
    """An executor that also runs some commands in an older API profile as they are.

    A forwarder to a real ejabberd speaks that server's profile.  When a
    caller speaks it too, the engine hands over the caller's own definition
    and typed arguments instead of translating them to the canonical command
    and the answer back, so nothing is lost on the way.
    """

    def native_profile(self, command: str) -> str | None:
        """The API profile ``command`` runs in unchanged here, if any (known now)."""

    def execute_definition(
        self, definition: CommandDefinition, args: Mapping[str, Any], caller: Caller
    ) -> Deferred[Any]:
        """Run ``definition`` (of :meth:`native_profile`'s profile) with its own typed ``args``.

        Fires with a value shaped like ``definition``'s result.
        """


class Accounts(Protocol):
    """The accounts and tokens callers log in with (what the engine's authenticator asks)."""

    def check_password(self, user: str, host: str, password: str) -> Deferred[bool]:
        """Whether ``password`` is right for ``user@host``.

        Answers in the same time whether or not the account exists (an unknown
        account is checked against dummy credentials), so a caller cannot
        learn which accounts exist by timing it.
        """

    def verify_password(self, user: str, host: str, password: str) -> Deferred[bytes | None]:
        """:meth:`check_password` that also tells which credentials matched.

        Fires with the account's credential stamp (as :meth:`credential_stamp`
        reads it, taken in the same read as the check) when ``password`` is
        right, ``None`` when it is not; the same work as :meth:`check_password`.
        """

    def credential_stamp(self, user: str, host: str) -> Deferred[bytes | None]:
        """A value that changes whenever ``user@host``'s password may no longer be right.

        ``None`` when the account is missing, banned or cannot log in; it must
        change (or become ``None``) in the same transaction as every password
        change, removal or ban, in whatever process makes it.  One cheap read:
        the engine's credential cache asks it on every hit.
        """

    def check_token(self, token: str) -> Deferred[TokenGrant | None]:
        """The grant behind ``token``, or ``None`` when it is unknown."""


@runtime_checkable
class Backend(Executor, Accounts, Protocol):
    """An executor that also holds the accounts and tokens callers log in with."""


class CredentialGenerations(Protocol):
    """Per-account counters that say "forget what you verified about this password".

    For accounts whose passwords live elsewhere (an upstream ejabberd), where
    no stored credential can serve as the stamp: the gateway bumps an
    account's generation whenever it forwards a change to its password or
    existence, and every worker or gateway sharing the store sees the new
    value on its next read.
    """

    def generation(self, user: str, host: str) -> Deferred[int]:
        """``user@host``'s generation now: one cheap read, increasing with every bump.

        Every :meth:`bump` of the account and every :meth:`bump_all` makes it grow.
        """
        ...

    def bump(self, user: str, host: str) -> Deferred[None]:
        """Raise ``user@host``'s generation; fires once that is durable."""
        ...

    def bump_all(self) -> Deferred[None]:
        """Raise every account's generation at once; fires once that is durable."""
        ...


@dataclass(frozen=True, slots=True)
class OAuthClient:
    """An OAuth client registered with ``oauth_add_client_password`` or ``_implicit``."""

    client_id: str
    name: str
    #: ``"password"`` (it has a secret) or ``"implicit"`` (it has a redirect URI)
    grant_type: str
    #: where an implicit client's tokens are sent; empty for a password client
    redirect_uri: str = ""


class TokenIssuer(Protocol):
    """Issues OAuth tokens and knows the registered OAuth clients."""

    def issue_token(
        self, user: str, host: str, scopes: list[str], ttl: int | None = None
    ) -> Deferred[tuple[str, list[str], int]]:
        """A new token for the existing ``user@host``: ``(token, scopes, lifetime in seconds)``.

        ``ttl`` defaults to the configured ``oauth_expire``.  Fails with a
        :class:`~gateway.engine.errors.CommandFailed` for an unknown account
        or host, a scope it does not know, or a non-positive ``ttl``.
        """
        ...

    def check_client_secret(self, client_id: str, secret: str) -> Deferred[bool]:
        """Whether ``secret`` belongs to the password client ``client_id``.

        Takes as long for an unknown client as for a wrong secret.
        """
        ...

    def oauth_client(self, client_id: str) -> Deferred[OAuthClient | None]:
        """The registered client ``client_id``, or ``None``."""
        ...


@runtime_checkable
class IqChannel(Protocol):
    """What the XMPP-native backend needs from the component link, and nothing more.

    Stanzas travel as text, so the channel may live in another process.
    """

    def iq(self, stanza: str, timeout: float) -> Deferred[str]:
        """Send an ``<iq type='get'|'set'/>`` now; fire with the answering IQ (result or error).

        Fails with :class:`~gateway.engine.errors.Unavailable` while the link
        is down, with :class:`twisted.internet.defer.TimeoutError` after
        ``timeout`` seconds.
        """
        ...

    def submit(self, stanza: str) -> Deferred[None]:
        """Queue a stanza durably (the outbound queue); fires once it is stored."""
        ...

    def on_up(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` each time the link is up (first connection and every reconnect)."""
        ...

    def on_message(self, callback: Callable[[str], None]) -> None:
        """Hand ``callback`` each non-error ``<message/>`` the server sends the component."""
        ...


class QueueFull(Exception):
    """The outbound queue holds ``limit`` stanzas already."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"the outbound queue is full ({limit} stanzas)")
        self.limit = limit


class OutboundQueue(Protocol):
    """Where accepted stanzas wait until the XMPP server has taken them.

    Stanzas are appended with increasing ids and leave the queue only when the
    link knows the server has processed them (:meth:`confirm`), or when the
    server has shown it will never take one (:meth:`discard`).  Ids are never
    handed out twice, even after the queue runs empty, because the link reads
    "everything after the last id I sent".
    """

    def append(self, stanza_xml: str, limit: int | None = None) -> Deferred[int]:
        """Store ``stanza_xml``; fires with its id once it is durable.

        Appends commit in the order they are made, even when a caller makes the
        next before the last has fired: a reader never sees an id before a
        smaller one that is still to come.  Fails with :class:`QueueFull` when
        ``limit`` stanzas are queued already.
        """
        ...

    def peek(self, after_id: int, limit: int) -> Deferred[list[tuple[int, str]]]:
        """Up to ``limit`` queued ``(id, stanza)`` pairs with ids above ``after_id``, in order."""
        ...

    def confirm(self, upto_id: int) -> Deferred[int]:
        """Drop every stanza with an id up to ``upto_id``; fires with how many went."""
        ...

    def discard(self, item_id: int) -> Deferred[bool]:
        """Drop the one stanza ``item_id``; fires with whether it was queued.

        Ids around it are untouched, and ids are still never handed out again.
        """
        ...

    def count(self) -> Deferred[int]:
        """How many stanzas are queued."""
        ...
