"""SIGHUP: the handler schedules a reload on the reactor, which logs how it went."""

from __future__ import annotations

import signal

from twisted.logger import LogLevel, capturedLogs
from twisted.trial.unittest import SynchronousTestCase

from gateway.config.errors import ConfigError
from gateway.hangup import HangupReload
from tests.signal_fakes import FakeReactor, FakeSignals


class HangupTests(SynchronousTestCase):
    """The SIGHUP handler's life and what it runs."""

    def setUp(self) -> None:
        self.signals = FakeSignals()
        self.reactor = FakeReactor()
        self.reloads = 0
        self.error: Exception | None = None
        self.service = HangupReload(self.reload, self.reactor, install=self.signals)  # type: ignore[arg-type]

    def reload(self) -> tuple[str, ...]:
        self.reloads += 1
        if self.error is not None:
            raise self.error
        return ()

    def hang_up(self) -> None:
        self.signals.handlers[signal.SIGHUP](signal.SIGHUP, None)

    def test_reload_runs_on_the_reactor(self) -> None:
        """The signal only schedules the reload; it runs when the reactor gets to it."""
        self.service.startService()
        self.hang_up()
        self.assertEqual(self.reloads, 0)
        self.reactor.run()
        self.assertEqual(self.reloads, 1)

    def test_bad_file_logged(self) -> None:
        """A file that does not load is logged as an error; nothing is raised."""
        self.error = ConfigError("expected a mapping", "loglevel")
        self.service.startService()
        with capturedLogs() as events:
            self.hang_up()
            self.reactor.run()
        errors = [e for e in events if e["log_level"] == LogLevel.error]
        self.assertEqual(len(errors), 1)
        self.assertIn("expected a mapping", errors[0]["error"])

    def test_unexpected_failure_logged(self) -> None:
        """Any other failure is logged with its traceback, and the daemon goes on."""
        self.error = RuntimeError("boom")
        self.service.startService()
        self.hang_up()
        self.reactor.run()
        self.assertEqual(len(self.flushLoggedErrors(RuntimeError)), 1)

    def test_stop_restores_the_previous_handler(self) -> None:
        """After stopService SIGHUP has the handler it had before."""
        self.service.startService()
        self.assertNotEqual(self.signals.handlers[signal.SIGHUP], signal.SIG_DFL)
        self.service.stopService()
        self.assertEqual(self.signals.handlers[signal.SIGHUP], signal.SIG_DFL)
