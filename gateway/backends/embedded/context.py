"""What every command handler of the embedded backend gets, and the checks they share."""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable, Collection, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from twisted.internet.interfaces import IReactorTime

from gateway.backends.embedded.store import Store, Tx
from gateway.engine.builtin import node_name
from gateway.engine.errors import CommandFailed
from gateway.engine.files import FilesDir
from gateway.engine.identifiers import (
    DEFAULT_MAX_PASSWORD_BYTES,
    InvalidIdentifier,
    nameprep,
    nodeprep,
)

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

T = TypeVar("T")

#: ejabberd's text for a host it does not serve
UNKNOWN_HOST = "Unknown virtual host"


def unknown_user() -> CommandFailed:
    """ejabberd's ``{not_found, "unknown_user"}``, which mod_admin_extra throws."""
    return CommandFailed("unknown_user", atom="not_found", thrown=True)


def prep_user(user: str) -> str | None:
    """``user`` after nodeprep (lower case, …), or ``None`` when it cannot be a JID's user part.

    Too long (over 1023 bytes) is refused before any preparation; see
    :mod:`gateway.engine.identifiers`.
    """
    try:
        return nodeprep(user)
    except InvalidIdentifier:
        return None


def prep_host(host: str) -> str | None:
    """``host`` after nameprep, or ``None`` when it cannot be a domain (empty labels included)."""
    try:
        return nameprep(host)
    except InvalidIdentifier:
        return None


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


#: the first and last POSIX seconds that have a four-digit year (0001-01-01, 9999-12-31T23:59:59)
_FIRST_DATE, _LAST_DATE = -62135596800, 253402300799
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def iso_timestamp(seconds: float) -> str:
    """UTC ISO 8601 with ``Z``, with microseconds only when there are any (like ejabberd).

    Never fails: a stored time no date can show (written before arguments
    were range-checked, or by hand) is shown as the nearest date that exists,
    so reading a record can never break on what it holds.
    """
    if math.isnan(seconds):
        seconds = 0.0
    seconds = min(max(seconds, _FIRST_DATE), _LAST_DATE)
    whole = int(seconds // 1)
    micro = int(round((seconds - whole) * 1_000_000))
    if micro == 1_000_000:
        whole, micro = whole + 1, 0
    if whole > _LAST_DATE:
        whole, micro = _LAST_DATE, 0
    when = _EPOCH + timedelta(seconds=whole)
    # the fields by hand: strftime does not pad years before 1000 on every platform
    text = (
        f"{when.year:04d}-{when.month:02d}-{when.day:02d}"
        f"T{when.hour:02d}:{when.minute:02d}:{when.second:02d}"
    )
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
    #: the only directory file arguments may name; without it no file command is claimed
    files: FilesDir | None = None
    #: longest password accepted, in UTF-8 bytes (``gateway.limits.max_password_bytes``)
    max_password_bytes: int = DEFAULT_MAX_PASSWORD_BYTES
    #: the node name ejabberd's texts quote (``register``'s failures), as ``status`` shows it
    node: str = field(default_factory=node_name)
    #: whether an account exists where the accounts live, when that is not this store
    #: (``gateway.auth: upstream`` or ``xmpp``): OAuth tokens are issued for those accounts
    accounts_elsewhere: Callable[[str, str], Awaitable[bool]] | None = None

    def now(self) -> float:
        """The injected clock's POSIX time."""
        return float(self.clock.seconds())

    def host(self, raw: str) -> str:
        """A served host, prepared; :class:`CommandFailed` ``Unknown virtual host`` otherwise."""
        prepared = prep_host(raw)
        if prepared is None or prepared not in self.hosts:
            raise CommandFailed(UNKNOWN_HOST)
        return prepared

    async def read_file(
        self, given: str, what: str, max_bytes: int, parse: Callable[[bytes], T]
    ) -> T:
        """``parse`` of the file argument ``file`` (inside the files directory), off the reactor.

        Raises:
            PathRefused: ``given`` is not a regular file inside the files directory.
            CommandFailed: it cannot be read, is larger than ``max_bytes``, or
                ``parse`` refuses it.
        """
        files = self.files
        if files is None:  # the backend claims no file command without a directory
            raise CommandFailed(f"No files directory is configured to read the {what} from")

        def read() -> T:
            return parse(files.read(given, "file", what, max_bytes))

        return await self.store.compute(read)

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
        exists = await self.store.read_short(
            lambda tx: account_exists(tx, prepared_user, prepared_host)
        )
        if not exists:
            raise unknown_user()
        return prepared_user, prepared_host


#: a command handler: typed arguments in, the command's result value out
Handler = Callable[[Context, Mapping[str, Any]], Awaitable[Any]]
