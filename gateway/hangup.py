"""SIGHUP re-reads the configuration file, as the ``reload_config`` command does.

The handler itself only schedules the reload on the reactor: a signal
arrives between two bytecodes of whatever the event loop was running, which
is no place to change the access policy.  The outcome is logged (the
reloader logs what it applied; a file that does not load is logged as an
error and changes nothing).
"""

from __future__ import annotations

import signal
from collections.abc import Callable
from types import FrameType
from typing import Any

from twisted.application.service import Service
from twisted.internet.defer import Deferred
from twisted.internet.interfaces import IReactorFromThreads
from twisted.logger import Logger

from gateway.config.errors import ConfigError

__all__ = ["HangupReload"]

log = Logger()

Handler = Callable[[int, FrameType | None], Any] | int | None


class HangupReload(Service):
    """Installs a SIGHUP handler while running that runs ``reload`` on the reactor.

    Args:
        reload: re-reads and applies the configuration (``ConfigReloader.reload``);
            raises :class:`ConfigError` when the file does not load.
        reactor: where the reload runs.
        install: ``signal.signal``, or a fake in tests.
    """

    def __init__(
        self,
        reload: Callable[[], object],
        reactor: IReactorFromThreads,
        *,
        install: Callable[[int, Handler], Handler] = signal.signal,
    ) -> None:
        self._reload = reload
        self._reactor = reactor
        self._install = install
        self._previous: Handler = None
        self._installed = False

    def startService(self) -> None:
        super().startService()
        hangup = getattr(signal, "SIGHUP", None)
        if hangup is None:
            return  # no such signal on this platform
        self._previous = self._install(hangup, self._received)
        self._installed = True

    def stopService(self) -> Deferred[None] | None:
        if self._installed:
            self._install(signal.SIGHUP, self._previous)
            self._installed = False
        super().stopService()
        return None

    def _received(self, signum: int, frame: FrameType | None) -> None:
        self._reactor.callFromThread(self.reload_now)

    def reload_now(self) -> None:
        """Reload the configuration and log the outcome (what SIGHUP runs)."""
        log.info("SIGHUP received: reloading the configuration")
        try:
            self._reload()
        except ConfigError as e:
            log.error("SIGHUP: the configuration was not reloaded: {error}", error=str(e))
        except Exception:
            log.failure("SIGHUP: reloading the configuration failed")
