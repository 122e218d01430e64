"""Several executors behind one: the first that supports a command runs it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from twisted.internet.defer import Deferred

from gateway.backends.interfaces import Executor
from gateway.engine.model import Caller

__all__ = ["ExecutorChain"]


class ExecutorChain:
    """Ask each executor in turn; used for the commands the gateway runs itself."""

    def __init__(self, name: str, executors: Sequence[Executor]) -> None:
        self.name = name
        self._executors = tuple(executors)

    def _pick(self, command: str) -> Executor | None:
        return next((e for e in self._executors if e.supports(command)), None)

    def supports(self, command: str) -> bool:
        return self._pick(command) is not None

    def execute(self, command: str, args: Mapping[str, Any], caller: Caller) -> Deferred[Any]:
        executor = self._pick(command)
        if executor is None:
            raise KeyError(command)
        return executor.execute(command, args, caller)
