"""Fakes for services that act on signals (gateway.signals): no real signal is sent."""

from __future__ import annotations

import signal
from collections.abc import Callable
from typing import Any


class FakeSignals:
    """``signal.signal`` for tests: remembers the handlers installed."""

    def __init__(self) -> None:
        self.handlers: dict[int, Any] = {
            signal.SIGHUP: signal.SIG_DFL,
            signal.SIGUSR1: signal.SIG_DFL,
        }

    def __call__(self, number: int, handler: Any) -> Any:
        previous = self.handlers.get(number)
        self.handlers[number] = handler
        return previous


class FakeReactor:
    """Queues what callFromThread is given, as the reactor would run it later."""

    def __init__(self) -> None:
        self.scheduled: list[Callable[[], object]] = []

    def callFromThread(self, fn: Callable[..., object], *args: Any) -> None:  # noqa: N802
        self.scheduled.append(lambda: fn(*args))

    def run(self) -> None:
        for call in self.scheduled:
            call()
        self.scheduled.clear()
