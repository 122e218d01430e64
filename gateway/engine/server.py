"""Server commands the gateway answers itself, whatever the backend.

- ``stats``: ``uptimeseconds`` is the time since this executor was built
  (when the daemon started), by the injected clock; ``processes`` is the
  number of Python threads in the daemon (the reactor thread plus the store's
  and other pools): the nearest thing the gateway has to ejabberd's count of
  Erlang processes.  ``registeredusers`` and the online figures are the
  backend's to answer: the call is passed on to it unchanged.  An unknown
  name, where ejabberd crashes, is a ``CommandFailed`` listing the names.
- ``gc``: a full ``gc.collect()``; always ok, like ejabberd.
- ``clear_cache``: the gateway keeps no cache of stored data (every command
  reads the store, whose own page cache stays coherent), so there is
  normally nothing to drop; any cache handed in as ``caches`` is cleared.
- ``reload_config``: runs the injected ``reload`` callable (the service
  passes one that re-reads the daemon's file and applies what it can, see
  :mod:`gateway.config.reload`).  A file that does not load fails with its
  error text and changes nothing.  ejabberd's result is a bare rescode, so
  settings that wait for a restart are logged and listed by ``status``.
- ``dump_config``: writes the text of the injected ``dump`` callable to
  ``out``, which must be an absolute path to a file that does not exist yet
  (the file is created with mode 0600, as it holds secrets).  Unlike
  ejabberd, an existing file is never overwritten: an API call should not be
  able to replace files the daemon can write.

``reload_config`` and ``dump_config`` are only claimed when their callable
is given; otherwise the backend's "not supported" answer applies.
"""

from __future__ import annotations

import gc
import os
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from twisted.internet.defer import Deferred, ensureDeferred
from twisted.internet.interfaces import IReactorTime
from twisted.logger import Logger

from gateway.backends.interfaces import Executor
from gateway.config.errors import ConfigError
from gateway.engine.errors import CommandFailed, NotSupported
from gateway.engine.model import Caller

__all__ = ["SERVER_STATS", "ServerCommands", "unknown_statistic"]

log = Logger()

#: the statistic names ``stats`` accepts, in ejabberd's order
SERVER_STATS = ("registeredusers", "onlineusers", "onlineusersnode", "uptimeseconds", "processes")


def unknown_statistic(name: str, allowed: Sequence[str]) -> CommandFailed:
    """The answer to a statistic name the command does not know."""
    return CommandFailed(f"Unknown statistic '{name}'; expected one of {', '.join(allowed)}")


class ServerCommands:
    """Executor for ``stats`` (partly), ``gc``, ``clear_cache``, ``reload_config``, ``dump_config``.

    Args:
        backend: answers the ``stats`` names that are about stored data or sessions.
        clock: measures ``uptimeseconds`` from the moment this object is built.
        reload: re-reads and applies the configuration; returns the settings
            that wait for a restart; raises :class:`ConfigError` when the file
            does not load (having changed nothing).
        dump: the configuration in effect, as YAML text.
        caches: callables that each empty one cache, run by ``clear_cache``.
        threads: counts the daemon's threads (``processes``).
        collect: runs a full garbage collection, returning what it found.
    """

    name = "gateway"

    def __init__(
        self,
        backend: Executor,
        clock: IReactorTime,
        *,
        reload: Callable[[], Sequence[str]] | None = None,
        dump: Callable[[], str] | None = None,
        caches: Sequence[Callable[[], object]] = (),
        threads: Callable[[], int] = threading.active_count,
        collect: Callable[[], int] = gc.collect,
    ) -> None:
        self._backend = backend
        self._clock = clock
        self._started = clock.seconds()
        self._reload = reload
        self._dump = dump
        self._caches = tuple(caches)
        self._threads = threads
        self._collect = collect
        self._commands = {"stats", "gc", "clear_cache"}
        if reload is not None:
            self._commands.add("reload_config")
        if dump is not None:
            self._commands.add("dump_config")

    def supports(self, command: str) -> bool:
        return command in self._commands

    def execute(self, command: str, args: Mapping[str, Any], caller: Caller) -> Deferred[Any]:
        return ensureDeferred(self._execute(command, args, caller))

    async def _execute(self, command: str, args: Mapping[str, Any], caller: Caller) -> Any:
        if command == "stats":
            return await self._stats(args, caller)
        if command == "gc":
            found = self._collect()
            log.info("gc: a full collection found {count} unreachable objects", count=found)
            return True
        if command == "clear_cache":
            for clear in self._caches:
                clear()
            return True
        if command == "reload_config" and self._reload is not None:
            return self._reload_config(self._reload)
        if command == "dump_config" and self._dump is not None:
            return self._dump_config(args["out"], self._dump)
        raise NotSupported(command, self.name)

    async def _stats(self, args: Mapping[str, Any], caller: Caller) -> int:
        name = args["name"]
        if name not in SERVER_STATS:
            raise unknown_statistic(name, SERVER_STATS)
        if name == "uptimeseconds":
            return max(0, int(self._clock.seconds() - self._started))
        if name == "processes":
            return self._threads()
        if not self._backend.supports("stats"):
            raise NotSupported(f"stats {name}", self._backend.name)
        value: int = await self._backend.execute("stats", args, caller)
        return value

    @staticmethod
    def _reload_config(reload: Callable[[], Sequence[str]]) -> bool:
        try:
            reload()
        except ConfigError as e:
            raise CommandFailed(f"The configuration was not reloaded: {e}") from None
        return True

    @staticmethod
    def _dump_config(out: str, dump: Callable[[], str]) -> bool:
        if not os.path.isabs(out):
            raise CommandFailed(f"dump_config needs an absolute path, got '{out}'")
        text = dump().encode("utf-8")
        try:
            # O_EXCL: never replace an existing file (nor follow a symlink planted there)
            fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            raise CommandFailed(f"{out} already exists; dump_config writes a new file") from None
        except OSError as e:
            raise CommandFailed(f"Cannot create {out}: {e.strerror or e}") from None
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(text)
        except OSError as e:
            os.unlink(out)  # no half-written dump left behind
            raise CommandFailed(f"Cannot write {out}: {e.strerror or e}") from None
        log.info("dump_config: configuration written to {path}", path=out)
        return True
