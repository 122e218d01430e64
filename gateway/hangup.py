"""SIGHUP re-reads the configuration file, as the ``reload_config`` command does.

The reload runs on the reactor (see :mod:`gateway.signals`) and its outcome
is logged: the reloader logs what it applied; a file that does not load is
logged as an error and changes nothing.
"""

from __future__ import annotations

import signal
from collections.abc import Callable

from twisted.internet.interfaces import IReactorFromThreads
from twisted.logger import Logger

from gateway.config.errors import ConfigError
from gateway.signals import Handler, OnSignal

__all__ = ["HangupReload"]

log = Logger()


class HangupReload(OnSignal):
    """Installs a SIGHUP handler while running that runs ``reload`` on the reactor.

    Args:
        reload: re-reads and applies the configuration (``ConfigReloader.reload``);
            raises :class:`ConfigError` when the file does not load.
        reactor: where the reload runs.
        install: ``signal.signal``, or a fake in tests.
    """

    signal_name = "SIGHUP"

    def __init__(
        self,
        reload: Callable[[], object],
        reactor: IReactorFromThreads,
        *,
        install: Callable[[int, Handler], Handler] = signal.signal,
    ) -> None:
        super().__init__(reactor, install=install)
        self._reload = reload

    def run(self) -> None:
        self.reload_now()

    def reload_now(self) -> None:
        """Reload the configuration and log the outcome (what SIGHUP runs)."""
        log.info("SIGHUP received: reloading the configuration")
        try:
            self._reload()
        except ConfigError as e:
            log.error("SIGHUP: the configuration was not reloaded: {error}", error=str(e))
        except Exception:
            log.failure("SIGHUP: reloading the configuration failed")
