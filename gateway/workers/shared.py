"""Process-wide state that commands change, kept the same in every worker.

A worker that changes one of these (a command it ran, or a failed login) does
it locally and then relays the change through the supervisor, which applies
it in every other worker (:class:`~gateway.workers.channel.Broadcast`).  The
relay does not hold up the command's answer: the others follow within
milliseconds.

Shared this way: the log level (``set_loglevel``), the configuration
(``reload_config``), the caches ``clear_cache`` empties, and the brute-force
limiter (each failed login is counted in every worker, so a ban is imposed
everywhere at once; ``unban_ip`` lifts it everywhere).  SIGHUP needs no relay:
the supervisor passes the signal on to each worker.

A worker started later (after a crash) reads the configuration file afresh
and gets the current log level, but not the failures and bans counted before
it started.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from twisted.internet.defer import Deferred
from twisted.logger import Logger

from gateway.config.errors import ConfigError
from gateway.engine.bruteforce import MAX_ACCOUNT_CHARS, FailureLimiter, IPNetwork
from gateway.engine.caches import CacheRegistry
from gateway.engine.model import IPAddress
from gateway.logs import LogLevelControl
from gateway.reload import ConfigReloader

__all__ = ["Relay", "SharedCaches", "SharedLevels", "SharedLimiter", "SharedState"]

log = Logger()

#: sends ``(action, argument)`` to the other processes; ``argument`` must be JSON-ready
#: tells the other processes of a change; what it returns fires once they have applied it
Relay = Callable[[str, Any], "Deferred[None] | None"]


def _nowhere(action: str, argument: Any) -> Deferred[None] | None:
    """The relay before the channel is up: nothing to tell."""
    return None


class SharedLevels:
    """The log level control commands use: a change is relayed to the other processes."""

    def __init__(self, levels: LogLevelControl, relay: Callable[[], Relay]) -> None:
        self._levels = levels
        self._relay = relay

    def get(self) -> str:
        return self._levels.get()

    def set(self, level: str | int) -> str:
        name = self._levels.set(level)
        self._relay()("loglevel", name)
        return name


class SharedCaches(CacheRegistry):
    """The caches ``clear_cache`` empties here, and then in the other processes."""

    def __init__(self, relay: Callable[[], Relay]) -> None:
        super().__init__()
        self._relay = relay

    def clear_local(self) -> tuple[list[str], list[tuple[str, Exception]]]:
        """Empty this process's caches only, after another process's clear_cache (which
        cleared the shared ones already)."""
        return super().clear_all(made_elsewhere=True)

    def clear_all(
        self, *, made_elsewhere: bool = False
    ) -> tuple[list[str], list[tuple[str, Exception]]]:
        outcome = super().clear_all(made_elsewhere=made_elsewhere)
        if not made_elsewhere:
            self._relay()("clear_cache", None)
        return outcome

    async def clear_all_waiting(self) -> tuple[list[str], list[tuple[str, Exception]]]:
        outcome = await super().clear_all_waiting()
        self._relay()("clear_cache", None)
        return outcome


class SharedLimiter(FailureLimiter):
    """A brute-force limiter whose failures and unbans reach every process."""

    def __init__(self, relay: Callable[[], Relay], *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._relay = relay

    def failure(self, ip: IPAddress | None, account: str | None = None) -> Awaitable[None] | None:
        super().failure(ip, account)
        # the limiter keys an account by its first characters: a huge name is not sent whole
        shown = None if account is None else account[: MAX_ACCOUNT_CHARS + 1]
        # the caller answers the refusal once every worker has counted it
        return self._relay()("failure", [None if ip is None else str(ip), shown])

    def failure_local(self, ip: IPAddress | None, account: str | None) -> None:
        """A failure another process counted (and counts in its metrics, with any ban)."""
        totals = self.failures_total, self.bans_total
        super().failure(ip, account)
        # /metrics adds the workers' totals up: each failure and ban is counted once
        self.failures_total, self.bans_total = totals

    def unban(self, network: IPNetwork) -> int:
        return self.lift(network)[0]

    def lift(self, network: IPNetwork) -> tuple[int, Awaitable[None] | None]:
        lifted = super().unban(network)
        return lifted, self._relay()("unban", str(network))

    def unban_local(self, network: IPNetwork) -> int:
        """An unban another process did."""
        return super().unban(network)


class SharedState:
    """Builds the shared versions of the state's holders and applies relayed changes.

    ``build_service`` asks for :meth:`caches`, :meth:`limiter`, :meth:`levels`
    and :meth:`reload` while wiring a worker; the channel, once up, becomes
    the relay (:meth:`connect`) and hands relayed changes to :meth:`apply`.
    """

    def __init__(self) -> None:
        self._relay: Relay = _nowhere
        self._levels: LogLevelControl | None = None
        self._caches: SharedCaches | None = None
        self._limiter: SharedLimiter | None = None
        self._reloader: ConfigReloader | None = None

    def connect(self, relay: Relay) -> None:
        """Relay changes made here through ``relay`` from now on."""
        self._relay = relay

    def _current(self) -> Relay:
        return self._relay

    # -- what build_service asks for ----------------------------------------------------------

    def caches(self) -> SharedCaches:
        """The registry of caches for ``clear_cache``."""
        self._caches = SharedCaches(self._current)
        return self._caches

    def limiter(self, *args: Any, **kwargs: Any) -> SharedLimiter:
        """A brute-force limiter (the arguments of :class:`FailureLimiter`)."""
        self._limiter = SharedLimiter(self._current, *args, **kwargs)
        return self._limiter

    def levels(self, levels: LogLevelControl) -> SharedLevels:
        """The log level control for ``set_loglevel``."""
        self._levels = levels
        return SharedLevels(levels, self._current)

    def reload(self, reloader: ConfigReloader) -> Callable[[], Sequence[str]]:
        """``reload_config``: reload here, then in the other processes."""
        self._reloader = reloader

        def reload_everywhere() -> Sequence[str]:
            pending = reloader.reload_command()
            self._relay("reload", None)
            return pending

        return reload_everywhere

    # -- what other processes did -------------------------------------------------------------

    def apply(self, action: str, argument: Any) -> None:
        """Apply a change another process made (and relayed)."""
        if action == "loglevel" and self._levels is not None:
            self._levels.set(str(argument))
        elif action == "reload" and self._reloader is not None:
            try:
                self._reloader.reload()
            except ConfigError as e:
                log.error("reload_config: not reloaded in this worker: {error}", error=str(e))
        elif action == "clear_cache" and self._caches is not None:
            self._caches.clear_local()
        elif action == "failure" and self._limiter is not None:
            ip, account = argument
            address = None if ip is None else ipaddress.ip_address(ip)
            self._limiter.failure_local(address, account)
        elif action == "unban" and self._limiter is not None:
            self._limiter.unban_local(ipaddress.ip_network(argument, strict=False))
        else:
            log.debug("worker: ignoring relayed {action}", action=action)
