"""Adopted TCP ports accept one connection per wake-up, so workers share a burst."""

from __future__ import annotations

from gateway.workers.sockets import _one_accept_at_a_time


class FakePort:
    """Records the accept budget Twisted's doRead would use."""

    def __init__(self) -> None:
        self.numberAccepts = 100  # Twisted's starting budget
        self.budgets: list[int] = []

    def doRead(self) -> None:  # noqa: N802 - Twisted's name
        self.budgets.append(self.numberAccepts)
        # Twisted grows the budget after a full burst
        self.numberAccepts += 20


def test_each_wake_up_accepts_one_connection() -> None:
    """Whatever Twisted left the budget at, each read of the port accepts at most one."""
    port = FakePort()
    _one_accept_at_a_time(port)
    port.doRead()
    port.doRead()
    assert port.budgets == [1, 1]
