"""Flight: several callers wait for one outcome; one that leaves does not end it for the rest."""

from __future__ import annotations

from typing import Any

from twisted.internet.defer import CancelledError
from twisted.python.failure import Failure
from twisted.trial.unittest import SynchronousTestCase

from gateway.backends.flight import Flight


class FlightTests(SynchronousTestCase):
    def test_every_waiter_gets_the_outcome(self) -> None:
        """A value reaches every caller that joined; so does a failure."""
        flight: Flight[int] = Flight()
        first, second = flight.join(), flight.join()
        flight.land(7)
        self.assertEqual((self.successResultOf(first), self.successResultOf(second)), (7, 7))
        failing: Flight[int] = Flight()
        waiters = [failing.join(), failing.join()]
        failing.land(Failure(ValueError("down")))
        for waiter in waiters:
            self.failureResultOf(waiter, ValueError)

    def test_a_caller_who_leaves_lets_only_itself_go(self) -> None:
        """Cancelling one waiter fails it alone; the others still get the outcome."""
        flight: Flight[str] = Flight()
        leaving, staying = flight.join(), flight.join()
        leaving.cancel()
        self.failureResultOf(leaving, CancelledError)
        got: list[Any] = []
        staying.addCallback(got.append)
        flight.land("done")
        self.assertEqual(got, ["done"])
