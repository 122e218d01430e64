"""SIGUSR1 reopens the daemon's log file, after logrotate (or anything else) moved it.

twistd's own log observer rotates its file on SIGUSR1; the gateway installs
its observer instead of twistd's (see :mod:`gateway.service`), so without
this handler SIGUSR1 would end the daemon.  The file is written with no
rotation of its own: moving it away is the job of logrotate
(``conf/xmpp-gateway.logrotate``), which then sends SIGUSR1.  Like SIGHUP's
handler, this one only schedules the work on the reactor.
"""

from __future__ import annotations

import signal
from collections.abc import Callable

from twisted.internet.interfaces import IReactorFromThreads
from twisted.logger import Logger

from gateway.signals import Handler, OnSignal

__all__ = ["LogReopen"]

log = Logger()


class LogReopen(OnSignal):
    """Installs a SIGUSR1 handler while running that runs ``reopen`` on the reactor.

    Args:
        reopen: reopens the log file; returns its path, or ``None`` when the
            log goes to a stream that cannot be reopened (stdout).
        reactor: where ``reopen`` runs.
        install: ``signal.signal``, or a fake in tests.
    """

    signal_name = "SIGUSR1"

    def __init__(
        self,
        reopen: Callable[[], str | None],
        reactor: IReactorFromThreads,
        *,
        install: Callable[[int, Handler], Handler] = signal.signal,
    ) -> None:
        super().__init__(reactor, install=install)
        self._reopen = reopen

    def run(self) -> None:
        self.reopen_now()

    def reopen_now(self) -> None:
        """Reopen the log file and say so in it (what SIGUSR1 runs)."""
        try:
            path = self._reopen()
        except OSError as e:
            # the old file stays open: nothing is lost, the next signal retries
            log.error("SIGUSR1: cannot reopen the log file: {error}", error=e.strerror or str(e))
            return
        if path is None:
            log.info("SIGUSR1: the log goes to standard output; nothing to reopen")
        else:
            log.info("SIGUSR1: log file {path} reopened", path=path)
