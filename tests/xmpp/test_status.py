"""What the link reports: status lines, the health check, counts in words."""

from __future__ import annotations

import calendar

from twisted.trial.unittest import SynchronousTestCase

from gateway.xmpp.status import NOT_CONFIGURED, LinkState, health_check, plural, status_lines

SINCE = calendar.timegm((2025, 3, 1, 12, 0, 0))


class Reporter:
    """Reports a fixed state, as the link does."""

    def __init__(self, state: LinkState) -> None:
        self._state = state

    def state(self) -> LinkState:
        return self._state


class StatusTests(SynchronousTestCase):
    """status_lines() and health_check() from a LinkState."""

    def test_not_started(self) -> None:
        """A link never started says so."""
        state = LinkState(connected=False, since=None, queued=0, configured=True)
        self.assertEqual(
            status_lines("c.example", "h:1", state)[0], "XMPP component c.example: not started"
        )

    def test_connected_and_counts(self) -> None:
        """A connected link names its server and since when, then its counts."""
        state = LinkState(True, SINCE, queued=1, configured=True, bounced=2, dead_lettered=0)
        self.assertEqual(
            status_lines("c.example", "h:5347", state),
            [
                "XMPP component c.example: connected to h:5347 since 2025-03-01T12:00:00Z",
                "XMPP component c.example: 1 stanza queued, 2 stanza errors bounced, "
                "0 stanzas dead-lettered",
            ],
        )

    def test_down(self) -> None:
        """A link that is down says since when."""
        state = LinkState(False, SINCE, queued=0, configured=True)
        self.assertIn("not connected to h:1 since 2025-03-01", status_lines("c", "h:1", state)[0])

    def test_health(self) -> None:
        """Healthy when connected or unconfigured; the details are the state's values."""
        down = LinkState(False, SINCE, queued=3, configured=True)
        self.assertEqual(health_check(Reporter(down))(), (False, down.as_dict()))
        up = LinkState(True, SINCE, queued=0, configured=True)
        self.assertTrue(health_check(Reporter(up))()[0])
        self.assertEqual(health_check(None)(), (True, NOT_CONFIGURED.as_dict()))

    def test_plural(self) -> None:
        """One is singular, everything else plural."""
        self.assertEqual(
            [plural(n, "stanza") for n in (0, 1, 2)], ["0 stanzas", "1 stanza", "2 stanzas"]
        )
