"""A service that runs an action on the reactor when the process gets a signal.

The handler itself only schedules the action: a signal arrives between two
bytecodes of whatever the event loop was running, which is no place to change
the access policy or swap a log file.  The handler is installed while the
service runs and the previous one is put back when it stops.
"""

from __future__ import annotations

import signal
from collections.abc import Callable
from types import FrameType
from typing import Any, ClassVar

from twisted.application.service import Service
from twisted.internet.defer import Deferred
from twisted.internet.interfaces import IReactorFromThreads

__all__ = ["Handler", "OnSignal"]

Handler = Callable[[int, FrameType | None], Any] | int | None


class OnSignal(Service):
    """Runs :meth:`run` on the reactor each time the signal named ``signal_name`` arrives.

    Args:
        reactor: where :meth:`run` runs.
        install: ``signal.signal``, or a fake in tests.
    """

    #: e.g. ``"SIGHUP"``; a platform without it gets no handler
    signal_name: ClassVar[str]

    def __init__(
        self,
        reactor: IReactorFromThreads,
        *,
        install: Callable[[int, Handler], Handler] = signal.signal,
    ) -> None:
        self._reactor = reactor
        self._install = install
        self._previous: Handler = None
        self._number: int | None = None

    def startService(self) -> None:
        super().startService()
        number = getattr(signal, self.signal_name, None)
        if number is None:
            return  # no such signal on this platform
        self._previous = self._install(number, self._received)
        self._number = number

    def stopService(self) -> Deferred[None] | None:
        if self._number is not None:
            self._install(self._number, self._previous)
            self._number = None
        super().stopService()
        return None

    def _received(self, signum: int, frame: FrameType | None) -> None:
        self._reactor.callFromThread(self.run)

    def run(self) -> None:
        """What the signal does; runs on the reactor."""
        raise NotImplementedError
