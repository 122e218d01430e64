"""Failed authentications counted per client address, like ejabberd's mod_fail2ban.

:class:`FailureLimiter` is pure bookkeeping over an injected clock; the
:class:`~gateway.engine.auth.Authenticator` feeds it and the frontends ask it
(through the authenticator) whether to serve an address at all.

The rules:

- A failure is any credential the gateway refuses: a wrong password, an
  unknown account, an unknown or expired token, credentials too malformed to
  check.  Failures are counted per client address, and per account name as
  given (for the operator's eyes only: account counts never block anyone, so
  a stranger guessing the admin's password cannot lock the admin out).
- ``max_failures`` failures from one address within ``window`` seconds ban it
  for ``ban_time`` seconds.  While banned, *every* request from it on the HTTP
  dialects is refused before anything else is done (no password is hashed,
  anonymous requests included), which is what mod_fail2ban does to clients.
- A success resets nothing: otherwise an attacker holding one valid account
  could log in with it between guesses and never reach the limit.
- Callers without an address (the gatewayctl socket) are never counted or
  banned; addresses in ``exempt`` are never banned (loopback is not exempt
  unless listed).  IPv4 seen as IPv4-mapped IPv6 is the same address.
- ``status`` lists the bans, but only the number of accounts guessed at:
  account names are logged instead (status may be open to anonymous callers).
- Memory is bounded: at most ``max_addresses`` counting and as many banned
  addresses, ``max_accounts`` accounts, ``max_failures`` times per address;
  entries expire, and when a table is full its oldest entry goes first.
- Attempts already being checked when a ban starts still finish (they are
  counted, but do not lengthen the ban): the limit bounds guessing, not
  concurrency.
"""

from __future__ import annotations

import ipaddress
import math
from collections import OrderedDict, deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from twisted.logger import Logger

from gateway.engine.errors import TooManyFailures
from gateway.engine.model import IPAddress

__all__ = ["AccountFailures", "Ban", "FailureLimiter", "IPNetwork", "plain_address"]

log = Logger()

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

#: account names are shown, not trusted: longer ones are cut to this many characters
MAX_ACCOUNT_CHARS = 100
#: at most this many bans are listed by :meth:`FailureLimiter.status_lines`
STATUS_LIST_LIMIT = 20


def plain_address(ip: IPAddress) -> IPAddress:
    """``ip``, with an IPv4-mapped IPv6 address given as IPv4."""
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


@dataclass(frozen=True, slots=True)
class Ban:
    """A banned address, as listed to the operator."""

    address: IPAddress
    failures: int
    #: whole seconds until the ban ends
    remaining: int


@dataclass(frozen=True, slots=True)
class AccountFailures:
    """Recent failed logins naming one account."""

    account: str
    failures: int
    #: whole seconds since the latest one
    last_ago: int


@dataclass(slots=True)
class _Banned:
    until: float
    failures: int


@dataclass(slots=True)
class _Account:
    failures: int
    last: float


class FailureLimiter:
    """Counts failed authentications and bans the addresses that fail too often.

    Args:
        clock: the current time in seconds (e.g. ``reactor.seconds``).
        max_failures: failures within ``window`` that ban an address.
        window: seconds over which failures are counted.
        ban_time: seconds a ban lasts.
        exempt: networks whose addresses are never banned.
        max_addresses: most addresses counted (and, separately, banned) at once.
        max_accounts: most accounts counted at once.
    """

    def __init__(
        self,
        clock: Callable[[], float],
        *,
        max_failures: int = 20,
        window: float = 60.0,
        ban_time: float = 300.0,
        exempt: Sequence[IPNetwork] = (),
        max_addresses: int = 10_000,
        max_accounts: int = 10_000,
    ) -> None:
        if max_failures < 1 or window <= 0 or ban_time <= 0:
            raise ValueError("max_failures, window and ban_time must be positive")
        if max_addresses < 1 or max_accounts < 1:
            raise ValueError("max_addresses and max_accounts must be positive")
        self._clock = clock
        self.max_failures = max_failures
        self.window = window
        self.ban_time = ban_time
        self._exempt = tuple(exempt)
        self._max_addresses = max_addresses
        self._max_accounts = max_accounts
        # each ordered oldest first (by latest failure, by ban start), so expiry
        # and eviction both take from the front
        self._counting: OrderedDict[IPAddress, deque[float]] = OrderedDict()
        self._banned: OrderedDict[IPAddress, _Banned] = OrderedDict()
        self._accounts: OrderedDict[str, _Account] = OrderedDict()
        #: failed authentications counted since start (for metrics)
        self.failures_total = 0
        #: bans imposed since start
        self.bans_total = 0
        #: requests refused because their address was banned
        self.refused_total = 0

    # -- the authenticator's side ----------------------------------------------------

    def check(self, ip: IPAddress | None) -> None:
        """Refuse a banned address.

        Raises:
            TooManyFailures: ``ip`` is banned; ``retry_after`` is the rest of the ban.
        """
        if ip is None:
            return
        ip = plain_address(ip)
        ban = self._banned.get(ip)
        if ban is None:
            return
        remaining = self._remaining(ban, self._clock())
        if remaining <= 0:
            del self._banned[ip]
            return
        self.refused_total += 1
        raise TooManyFailures(max(1, math.ceil(remaining)))

    def failure(self, ip: IPAddress | None, account: str | None = None) -> Awaitable[None] | None:
        """Count one failed authentication from ``ip`` naming ``account`` (either may be None).

        A limiter shared with other processes returns what to wait for until they
        have counted it too; this one counts at once and returns ``None``.
        """
        self.failures_total += 1
        now = self._clock()
        self._expire(now)
        if account:
            self._count_account(_shown_account(account), now)
        if ip is None:
            return None
        ip = plain_address(ip)
        if self.exempt(ip):
            return None
        ban = self._banned.get(ip)
        if ban is not None and self._remaining(ban, now) > 0:
            ban.failures += 1  # an attempt that was already running when the ban began
            return None
        self._banned.pop(ip, None)
        times = self._counting.pop(ip, None)
        if times is None:
            times = deque(maxlen=self.max_failures)
        times.append(now)
        if len(times) == self.max_failures and times[0] > now - self.window:
            self._ban(ip, len(times), now)
            return None
        self._counting[ip] = times
        if len(self._counting) > self._max_addresses:
            self._counting.popitem(last=False)
        return None

    def exempt(self, ip: IPAddress) -> bool:
        """Whether ``ip`` is never banned."""
        ip = plain_address(ip)
        return any(ip in network for network in self._exempt)

    # -- the operator's side --------------------------------------------------------

    def lift(self, network: IPNetwork) -> tuple[int, Awaitable[None] | None]:
        """:meth:`unban`, and what to wait for until every process sharing the limiter did.

        This one shares with nobody: the bans are lifted when it returns.
        """
        return self.unban(network), None

    def unban(self, network: IPNetwork) -> int:
        """Lift the bans of the addresses in ``network`` and forget their failures.

        Returns:
            how many bans were lifted.
        """
        self._expire(self._clock())
        lifted = [ip for ip in self._banned if ip in network]
        for ip in lifted:
            del self._banned[ip]
        for ip in [ip for ip in self._counting if ip in network]:
            del self._counting[ip]
        if lifted:
            log.info(
                "brute-force: lifted {count} ban(s) in {network}",
                count=len(lifted),
                network=network,
            )
        return len(lifted)

    def bans(self) -> list[Ban]:
        """The current bans, the soonest to end first."""
        now = self._clock()
        self._expire(now)
        return [
            Ban(ip, ban.failures, max(1, math.ceil(self._remaining(ban, now))))
            for ip, ban in self._banned.items()
        ]

    def failures(self, ip: IPAddress) -> int:
        """Failures counted against ``ip`` right now (within the window, or during its ban)."""
        now = self._clock()
        self._expire(now)
        ip = plain_address(ip)
        ban = self._banned.get(ip)
        if ban is not None:
            return ban.failures
        return sum(1 for t in self._counting.get(ip, ()) if t > now - self.window)

    def accounts(self) -> list[AccountFailures]:
        """Accounts named by recent failures, the most failed first."""
        now = self._clock()
        self._expire(now)
        found = [
            AccountFailures(name, entry.failures, max(0, int(now - entry.last)))
            for name, entry in self._accounts.items()
        ]
        return sorted(found, key=lambda a: (-a.failures, a.account))

    def status_lines(self) -> list[str]:
        """Lines for ``status``: nothing while nobody is failing."""
        bans, accounts = self.bans(), self.accounts()
        counting = len(self._counting)
        if not bans and not accounts and not counting:
            return []
        lines = [
            f"Failed logins: {_plural(len(bans), 'address')} banned, "
            f"{_plural(counting, 'other address')} and {_plural(len(accounts), 'account')} "
            f"with recent failures ({self.max_failures} within {self.window:g} s ban an "
            f"address for {self.ban_time:g} s)"
        ]
        for ban in bans[:STATUS_LIST_LIMIT]:
            lines.append(
                f"  banned {ban.address} for {ban.remaining} s more "
                f"after {_plural(ban.failures, 'failed login')}"
            )
        lines.extend(_more(len(bans), "bans"))
        # account names stay out: status may be open to anonymous callers (it is in the
        # shipped config); the log names an account once it is guessed at often
        return lines

    # -- bookkeeping ------------------------------------------------------------------

    def _ban(self, ip: IPAddress, failures: int, now: float) -> None:
        self._banned[ip] = _Banned(now + self.ban_time, failures)
        self.bans_total += 1
        if len(self._banned) > self._max_addresses:
            self._banned.popitem(last=False)  # the ban closest to its end
        log.warn(
            "brute-force: {ip} banned for {ban_time:g} s after {failures} failed "
            "authentications within {window:g} s",
            ip=str(ip),
            ban_time=self.ban_time,
            failures=failures,
            window=self.window,
        )

    def _remaining(self, ban: _Banned, now: float) -> float:
        # a wall clock set back must not stretch a ban beyond ban_time
        return min(ban.until - now, self.ban_time)

    def _count_account(self, account: str, now: float) -> None:
        entry = self._accounts.pop(account, None)
        if entry is None:
            entry = _Account(0, now)
        entry.failures += 1
        entry.last = now
        self._accounts[account] = entry
        if entry.failures % self.max_failures == 0:
            log.warn(
                "brute-force: {failures} failed logins naming account {account} "
                "within {window:g} s",
                failures=entry.failures,
                account=account,
                window=self.window,
            )
        if len(self._accounts) > self._max_accounts:
            self._accounts.popitem(last=False)

    def _expire(self, now: float) -> None:
        """Drop counts older than the window and bans that ended."""
        stale = now - self.window
        while self._counting:
            ip, times = next(iter(self._counting.items()))
            if times[-1] > stale:
                break
            del self._counting[ip]
        while self._accounts:
            name, entry = next(iter(self._accounts.items()))
            if entry.last > stale:
                break
            del self._accounts[name]
        while self._banned:
            ip, ban = next(iter(self._banned.items()))
            if self._remaining(ban, now) > 0:
                break
            del self._banned[ip]


def _shown_account(account: str) -> str:
    """An account name fit for a status line: lower-cased, printable, not too long."""
    text = "".join(c if c.isprintable() else "?" for c in account[:MAX_ACCOUNT_CHARS].lower())
    return text + "…" if len(account) > MAX_ACCOUNT_CHARS else text


def _plural(count: int, noun: str) -> str:
    if count == 1:
        return f"1 {noun}"
    return f"{count} {noun}es" if noun.endswith("ss") else f"{count} {noun}s"


def _more(total: int, what: str) -> list[str]:
    hidden = total - STATUS_LIST_LIMIT
    return [f"  … and {hidden} more {what}"] if hidden > 0 else []
