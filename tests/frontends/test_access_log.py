"""The access log: one line per request, written in batches, optional per listener."""

from __future__ import annotations

from twisted.internet.task import Clock
from twisted.internet.testing import MemoryReactorClock
from twisted.logger import LogLevel, capturedLogs
from twisted.trial.unittest import SynchronousTestCase

from gateway.frontends.access_log import AccessLog
from gateway.frontends.http_guard import GuardedSite
from tests.frontends.test_http_guard import IDLE, RECEIVE, REQUEST, GuardTestCase, Held


class AccessLogTests(SynchronousTestCase):
    """Lines wait at most ``interval`` seconds or ``max_lines`` lines, then go out together."""

    def setUp(self) -> None:
        self.clock = Clock()
        self.batches: list[list[str]] = []
        self.log = AccessLog(self.clock, write=self.batches.append, interval=1.0, max_lines=3)

    def test_lines_wait_for_the_interval(self) -> None:
        """Nothing is written at once; after the interval, every waiting line in one batch."""
        self.log.add("a")
        self.log.add("b")
        self.assertEqual(self.batches, [])
        self.clock.advance(0.99)
        self.assertEqual(self.batches, [])
        self.clock.advance(0.01)
        self.assertEqual(self.batches, [["a", "b"]])
        self.clock.advance(5)
        self.assertEqual(self.batches, [["a", "b"]])  # nothing new, nothing written

    def test_a_full_buffer_is_written_at_once(self) -> None:
        """The ``max_lines``-th line writes the batch without waiting, and cancels the timer."""
        for line in "abc":
            self.log.add(line)
        self.assertEqual(self.batches, [["a", "b", "c"]])
        self.assertEqual(self.clock.getDelayedCalls(), [])
        self.log.add("d")
        self.clock.advance(1)
        self.assertEqual(self.batches, [["a", "b", "c"], ["d"]])

    def test_flush_writes_what_waits(self) -> None:
        """flush writes the waiting lines now; with nothing waiting it writes nothing."""
        self.log.flush()
        self.assertEqual(self.batches, [])
        self.log.add("a")
        self.log.flush()
        self.assertEqual(self.batches, [["a"]])
        self.assertEqual(self.clock.getDelayedCalls(), [])

    def test_bad_settings_are_refused(self) -> None:
        """A non-positive interval or an empty buffer cannot be built."""
        with self.assertRaises(ValueError):
            AccessLog(self.clock, interval=0)
        with self.assertRaises(ValueError):
            AccessLog(self.clock, max_lines=0)

    def test_default_writer_logs_one_info_event(self) -> None:
        """By default a batch is one ``info`` event holding the lines, one per line."""
        log = AccessLog(self.clock)
        with capturedLogs() as events:
            log.add('"127.0.0.1" - - [x] "POST /api/status HTTP/1.1" 200 2 "-" "-"')
            log.add('"127.0.0.1" - - [x] "POST /rest HTTP/1.1" 200 2 "-" "-"')
            log.flush()
        [event] = [e for e in events if e.get("log_namespace") == "gateway.access"]
        self.assertEqual(event["log_level"], LogLevel.info)
        self.assertEqual(len(event["lines"].splitlines()), 2)
        self.assertIn('"POST /rest HTTP/1.1" 200', event["lines"])


class SiteAccessLogTests(GuardTestCase):
    """The guarded site logs each answered request through its AccessLog, or not at all."""

    def answer_one(self) -> None:
        channel, transport = self.connect()
        channel.dataReceived(REQUEST)
        self.resource.finish()

    def test_each_request_is_one_line_written_later(self) -> None:
        """An answered request adds its Combined Log Format line; it is written a second later,
        or when the listener stops."""
        with capturedLogs() as events:
            self.site.startFactory()
            self.answer_one()
            self.answer_one()
            access = [e for e in events if e.get("log_namespace") == "gateway.access"]
            self.assertEqual(access, [])
            self.clock.advance(1)
            access = [e for e in events if e.get("log_namespace") == "gateway.access"]
            self.assertEqual(len(access), 1)
            lines = access[0]["lines"].splitlines()
            self.assertEqual(len(lines), 2)
            self.assertTrue(lines[0].startswith('"127.0.0.1" - - ['), lines[0])
            self.assertIn('"POST / HTTP/1.1" 200 2', lines[0])
            self.answer_one()
            self.site.stopFactory()
            access = [e for e in events if e.get("log_namespace") == "gateway.access"]
            self.assertEqual(len(access), 2)

    def test_off_means_no_line(self) -> None:
        """With ``access_log=False`` requests are answered and nothing is logged for them."""
        site = GuardedSite(
            Held(),
            name="quiet",
            reactor=MemoryReactorClock(),
            receive_timeout=RECEIVE,
            idle_timeout=IDLE,
            max_connections=5,
            access_log=False,
        )
        self.site, self.resource = site, site.resource
        with capturedLogs() as events:
            site.startFactory()
            self.answer_one()
            site.stopFactory()
        self.assertIsNone(site.access_log)
        self.assertFalse([e for e in events if e.get("log_namespace") == "gateway.access"])
        self.assertFalse([e for e in events if "POST / HTTP/1.1" in str(e.get("message", ""))])
