"""The bounded in-flight slots and their first-come queue."""

from __future__ import annotations

import pytest

from gateway.backends.upstream.slots import QueueFull, Slots


def test_fifo_and_bounds() -> None:
    """limit run at once, max_queued wait in arrival order, one more is refused at once."""
    slots = Slots(2, 2)
    held = [slots.acquire(), slots.acquire()]
    assert all(d.called for d in held)
    order: list[str] = []
    slots.acquire().addCallback(lambda _: order.append("first"))
    slots.acquire().addCallback(lambda _: order.append("second"))
    assert (slots.in_flight, slots.queued) == (2, 2)
    with pytest.raises(QueueFull):
        slots.acquire()
    slots.release()
    assert order == ["first"]
    slots.release()
    assert order == ["first", "second"]
    assert (slots.in_flight, slots.queued) == (2, 0)
    slots.release()
    slots.release()
    assert slots.in_flight == 0


def test_cancelled_waiter_leaves_the_queue() -> None:
    """A waiter cancelled before its turn frees its queue place and never takes a slot."""
    slots = Slots(1, 1)
    slots.acquire()
    waiter = slots.acquire()
    waiter.cancel()
    waiter.addErrback(lambda _: None)
    assert slots.queued == 0
    slots.release()
    assert slots.in_flight == 0


def test_bad_limits() -> None:
    """A limit below one is a configuration error."""
    with pytest.raises(ValueError):
        Slots(0, 1)
