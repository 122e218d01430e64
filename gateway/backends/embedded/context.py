"""What every command handler of the embedded backend gets, and the checks they share."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

from twisted.internet.interfaces import IReactorTime
from twisted.words.protocols.jabber.xmpp_stringprep import nameprep, nodeprep

from gateway.backends.embedded.store import Store, Tx
from gateway.engine.errors import CommandFailed

__all__ = [
    "UNKNOWN_HOST",
    "Context",
    "Handler",
    "account_exists",
    "iso_timestamp",
    "lock_account",
    "prep_host",
    "prep_user",
    "split_jid",
    "unknown_user",
]

#: ejabberd's text for a host it does not serve
UNKNOWN_HOST = "Unknown virtual host"


def unknown_user() -> CommandFailed:
    """ejabberd's ``{not_found, "unknown_user"}`` answer."""
    return CommandFailed("unknown_user", atom="not_found")


def prep_user(user: str) -> str | None:
    """``user`` after nodeprep (lower case, …), or ``None`` when it cannot be a JID's user part."""
    try:
        prepared: str = nodeprep.prepare(user)
    except UnicodeError:
        return None
    if not prepared or len(prepared.encode("utf-8")) > 1023:
        return None
    return prepared


def prep_host(host: str) -> str | None:
    """``host`` after nameprep, or ``None`` when it cannot be a domain."""
    # empty labels ("", "a..b", ".a") are refused first: Twisted's nameprep
    # turns "" into "." and fails on "a..b" with an IndexError
    if not host or any(not label for label in host.split(".")):
        return None
    try:
        prepared: str = nameprep.prepare(host)
    except UnicodeError:
        return None
    if len(prepared.encode("utf-8")) > 1023:
        return None
    return prepared


def split_jid(jid: str) -> tuple[str, str] | None:
    """``(user, host)`` of a bare or full JID, both prepared; ``None`` when malformed.

    The user part is ``""`` for a server JID.
    """
    bare = jid.split("/", 1)[0]
    user, sep, host = bare.rpartition("@")
    if not sep:
        user, host = "", bare
    prepared_host = prep_host(host)
    if prepared_host is None:
        return None
    if not user:
        return ("", prepared_host) if not sep else None
    prepared_user = prep_user(user)
    return (prepared_user, prepared_host) if prepared_user else None


def iso_timestamp(seconds: float) -> str:
    """UTC ISO 8601 with ``Z``, with microseconds only when there are any (like ejabberd)."""
    whole = int(seconds // 1)
    micro = int(round((seconds - whole) * 1_000_000))
    if micro == 1_000_000:
        whole, micro = whole + 1, 0
    text = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole))
    return f"{text}.{micro:06d}Z" if micro else f"{text}Z"


def account_exists(tx: Tx, user: str, host: str) -> bool:
    """Whether ``user@host`` is registered (inside a transaction)."""
    return (
        tx.one("SELECT 1 FROM accounts WHERE host = ? AND username = ?", (host, user)) is not None
    )


def lock_account(tx: Tx, user: str, host: str) -> bool:
    """Whether ``user@host`` exists, locking its row until commit.

    Read-modify-write handlers (vCards) take this first, so two gateways
    sharing PostgreSQL cannot both read the old value and lose an update.
    """
    row = tx.one(
        "SELECT 1 FROM accounts WHERE host = ? AND username = ?" + tx.dialect.for_update,
        (host, user),
    )
    return row is not None


@dataclass(frozen=True)
class Context:
    """The store, the served hosts and the clock, shared by every handler."""

    store: Store
    hosts: frozenset[str]
    clock: IReactorTime
    #: default token lifetime in seconds
    oauth_expire: int
    #: every scope an OAuth token may carry
    scopes: frozenset[str]
    #: MUC service host -> the served host it belongs to
    muc_services: Mapping[str, str] = field(default_factory=dict)
    #: unsalted digests kept beside the SCRAM keys (``gateway.password_digests``)
    password_digests: frozenset[str] = frozenset()

    def now(self) -> float:
        """The injected clock's POSIX time."""
        return float(self.clock.seconds())

    def host(self, raw: str) -> str:
        """A served host, prepared; :class:`CommandFailed` ``Unknown virtual host`` otherwise."""
        prepared = prep_host(raw)
        if prepared is None or prepared not in self.hosts:
            raise CommandFailed(UNKNOWN_HOST)
        return prepared

    def is_local(self, host: str) -> bool:
        return host in self.hosts

    def served(self, hosts: Collection[str]) -> list[str]:
        """The hosts of ``hosts`` this backend serves, sorted."""
        return sorted(h for h in hosts if h in self.hosts)

    async def require_account(self, user: str, host: str) -> tuple[str, str]:
        """``(user, host)`` prepared, for an existing account on a served host.

        Raises:
            CommandFailed: ``Unknown virtual host``, or ``not_found``/``unknown_user``.
        """
        prepared_host = self.host(host)
        prepared_user = prep_user(user)
        if prepared_user is None:
            raise unknown_user()
        exists = await self.store.read(lambda tx: account_exists(tx, prepared_user, prepared_host))
        if not exists:
            raise unknown_user()
        return prepared_user, prepared_host


#: a command handler: typed arguments in, the command's result value out
Handler = Callable[[Context, Mapping[str, Any]], Awaitable[Any]]
