"""Server commands the gateway answers itself, whatever the backend.

- ``stats``: ``uptimeseconds`` is the time since this executor was built
  (when the daemon started), by the injected clock; ``processes`` is the
  number of Python threads in the daemon (the reactor thread plus the store's
  and other pools): the nearest thing the gateway has to ejabberd's count of
  Erlang processes.  ``registeredusers`` and the online figures are the
  backend's to answer: the call is passed on to it unchanged.  An unknown
  name, where ejabberd crashes, is a ``CommandFailed`` listing the names.
- ``gc``: a full ``gc.collect()``; always ok, like ejabberd.
- ``clear_cache``: empties every cache registered in ``caches`` (see
  :mod:`gateway.engine.caches`) and logs their names; with none registered it
  logs that there was nothing to clear.  Stored data is never cached (every
  command reads the store), so this only matters for the caches listed.
  A cache that fails to clear makes the command fail, naming it.
- ``reload_config``: runs the injected ``reload`` callable (the service
  passes one that re-reads the daemon's file and applies what it can, see
  :mod:`gateway.reload`).  A file that does not load fails with the
  :class:`CommandFailed` the callable raises, naming the problem, and changes
  nothing.  ejabberd's result is a bare rescode, so settings that wait for a
  restart are logged and listed by ``status``.
- ``dump_config``: writes the text of the injected ``dump`` callable to
  ``out``, a new file inside the files directory (``gateway.files_dir``, see
  :mod:`gateway.engine.files`; a relative path is relative to it), created
  with mode 0600 as it holds secrets.  Unlike ejabberd, an existing file is
  never overwritten and no path outside that directory is written.

``reload_config`` is only claimed when its callable is given, ``dump_config``
when both its callable and the files directory are; otherwise the backend's
"not supported" answer applies.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from twisted.internet.defer import Deferred, ensureDeferred
from twisted.internet.interfaces import IReactorTime
from twisted.logger import Logger

from gateway.backends.interfaces import Executor
from gateway.engine.caches import CacheRegistry
from gateway.engine.errors import CommandFailed, NotSupported
from gateway.engine.files import FilesDir
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
            that wait for a restart; raises a :class:`CommandFailed` naming
            the problem when the file does not load (having changed nothing).
        dump: the configuration in effect, as YAML text.
        files: the directory ``dump_config`` writes in.
        caches: the caches ``clear_cache`` empties.
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
        files: FilesDir | None = None,
        caches: CacheRegistry | None = None,
        threads: Callable[[], int] = threading.active_count,
        collect: Callable[[], int] = gc.collect,
    ) -> None:
        self._backend = backend
        self._clock = clock
        self._started = clock.seconds()
        self._reload = reload
        self._dump = dump
        self._files = files
        self._caches = caches if caches is not None else CacheRegistry()
        self._threads = threads
        self._collect = collect
        self._commands = {"stats", "gc", "clear_cache"}
        if reload is not None:
            self._commands.add("reload_config")
        if dump is not None and files is not None:
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
            return await self._clear_cache()
        if command == "reload_config" and self._reload is not None:
            self._reload()
            return True
        if command == "dump_config" and self._dump is not None and self._files is not None:
            return self._dump_config(args["out"], self._dump, self._files)
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

    async def _clear_cache(self) -> bool:
        cleared, failed = await self._caches.clear_all_waiting()
        for name, error in failed:
            log.error("clear_cache: could not clear {name}: {error}", name=name, error=error)
        if cleared:
            log.info("clear_cache: cleared {names}", names=", ".join(cleared))
        elif not failed:
            log.info("clear_cache: nothing to clear (no cache is registered)")
        if failed:
            names = ", ".join(name for name, _ in failed)
            raise CommandFailed(f"Could not clear these caches: {names} (see the log)")
        return True

    @staticmethod
    def _dump_config(out: str, dump: Callable[[], str], files: FilesDir) -> bool:
        path = files.create(out, "out", dump().encode("utf-8"))
        log.info("dump_config: configuration written to {path}", path=path)
        return True
