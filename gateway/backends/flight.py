"""Several callers waiting for one piece of work that is already under way.

A caller that gives up (cancels its Deferred) leaves the flight without
ending the work: the others still get its outcome.
"""

from __future__ import annotations

from typing import Generic, TypeVar

from twisted.internet.defer import Deferred
from twisted.python.failure import Failure

__all__ = ["Flight"]

T = TypeVar("T")


class Flight(Generic[T]):
    """The callers waiting for one outcome."""

    def __init__(self) -> None:
        self._waiters: list[Deferred[T]] = []

    def join(self) -> Deferred[T]:
        """A Deferred that fires with the outcome; cancelling it only lets this caller go."""
        waiter: Deferred[T] = Deferred(self._waiters.remove)
        self._waiters.append(waiter)
        return waiter

    def land(self, outcome: T | Failure) -> None:
        """Hand ``outcome`` (a value or a failure) to every caller still waiting."""
        waiters, self._waiters = self._waiters, []
        for waiter in waiters:
            if isinstance(outcome, Failure):
                waiter.errback(outcome)
            else:
                waiter.callback(outcome)
