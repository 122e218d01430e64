"""A bounded number of requests in flight, and a bounded first-come queue behind them."""

from __future__ import annotations

from collections import deque

from twisted.internet.defer import Deferred, succeed

__all__ = ["QueueFull", "Slots"]


class QueueFull(Exception):
    """Every slot is taken and the queue is full."""


class Slots:
    """``limit`` requests at once; up to ``max_queued`` more wait their turn in order."""

    def __init__(self, limit: int, max_queued: int) -> None:
        if limit < 1 or max_queued < 0:
            raise ValueError("limit must be at least 1 and max_queued not negative")
        self.limit = limit
        self.max_queued = max_queued
        self.in_flight = 0
        self._waiting: deque[Deferred[None]] = deque()

    @property
    def queued(self) -> int:
        return len(self._waiting)

    def acquire(self) -> Deferred[None]:
        """Fires when the caller holds a slot; cancelling it leaves the queue.

        Raises:
            QueueFull: at once, when nothing is free and the queue is full.
        """
        if self.in_flight < self.limit:
            self.in_flight += 1
            return succeed(None)
        if len(self._waiting) >= self.max_queued:
            raise QueueFull(f"{self.limit} requests in flight and {self.max_queued} queued")
        waiter: Deferred[None] = Deferred(self._leave)
        self._waiting.append(waiter)
        return waiter

    def _leave(self, waiter: Deferred[None]) -> None:
        # a cancelled waiter never got a slot: just drop it from the queue
        try:
            self._waiting.remove(waiter)
        except ValueError:
            pass

    def release(self) -> None:
        """Give a slot back: the longest waiter gets it, else it is free."""
        if self._waiting:
            self._waiting.popleft().callback(None)
        else:
            self.in_flight -= 1
