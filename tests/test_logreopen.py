"""SIGUSR1 reopens the log file after logrotate moved it (gateway.logreopen, GatewayService)."""

from __future__ import annotations

import signal
from pathlib import Path
from typing import Any

from twisted.internet.testing import MemoryReactorClock
from twisted.logger import LogLevel, capturedLogs

from gateway.logreopen import LogReopen
from gateway.logs import LogLevelControl
from gateway.service import GatewayService
from tests.signal_fakes import FakeReactor, FakeSignals

WHEN = 1_734_566_400.0


def log(observer: Any, text: str) -> None:
    observer(
        {"log_format": text, "log_level": LogLevel.info, "log_time": WHEN, "log_namespace": "n"}
    )


def test_handler_installed_while_running() -> None:
    """SIGUSR1 is handled while the service runs (it must not end the daemon), then given back."""
    signals = FakeSignals()
    service = LogReopen(lambda: None, FakeReactor(), install=signals)  # type: ignore[arg-type]
    service.startService()
    assert signals.handlers[signal.SIGUSR1] not in (signal.SIG_DFL, None)
    service.stopService()
    assert signals.handlers[signal.SIGUSR1] == signal.SIG_DFL


def test_signal_schedules_the_reopen_on_the_reactor() -> None:
    """The handler only schedules; the reopen runs on the reactor and is logged."""
    signals, reactor = FakeSignals(), FakeReactor()
    calls: list[bool] = []

    def reopen() -> str:
        calls.append(True)
        return "/var/log/xmpp-gateway/gateway.log"

    service = LogReopen(reopen, reactor, install=signals)  # type: ignore[arg-type]
    service.startService()
    signals.handlers[signal.SIGUSR1](signal.SIGUSR1, None)
    assert calls == []
    with capturedLogs() as events:
        reactor.run()
    assert calls == [True]
    assert [e["log_format"] for e in events] == ["SIGUSR1: log file {path} reopened"]
    service.stopService()


def test_reopen_failure_is_logged() -> None:
    """A file that cannot be reopened is an error in the log, not a crash."""

    def reopen() -> str:
        raise PermissionError(13, "Permission denied")

    with capturedLogs() as events:
        LogReopen(reopen, FakeReactor()).reopen_now()  # type: ignore[arg-type]
    assert [e["log_level"] for e in events] == [LogLevel.error]
    assert events[0]["error"] == "Permission denied"


def test_daemon_log_file_is_reopened_after_a_move(tmp_path: Path) -> None:
    """After the file is moved away, reopen_log writes to a new file at the same path."""
    logfile = tmp_path / "gateway.log"
    service = GatewayService(
        MemoryReactorClock(), LogLevelControl("info"), {"logfile": str(logfile)}
    )
    observer = service._log_observer()
    log(observer, "before")
    logfile.rename(tmp_path / "gateway.log.1")
    assert service.reopen_log() == str(logfile)
    log(observer, "after")
    assert "before" in (tmp_path / "gateway.log.1").read_text()
    assert "after" in logfile.read_text() and "before" not in logfile.read_text()


def test_daemon_log_file_is_not_rotated_by_size(tmp_path: Path) -> None:
    """The file grows past twistd's 1 MB rotation size unrotated: that is logrotate's job."""
    logfile = tmp_path / "gateway.log"
    service = GatewayService(
        MemoryReactorClock(), LogLevelControl("info"), {"logfile": str(logfile)}
    )
    observer = service._log_observer()
    for _ in range(12):
        log(observer, "x" * 100_000)
    assert logfile.stat().st_size > 1_100_000
    assert sorted(p.name for p in tmp_path.iterdir()) == ["gateway.log"]


def test_stdout_has_nothing_to_reopen() -> None:
    """Logging to standard output (``twistd -n`` without --logfile), there is no file to reopen."""
    service = GatewayService(MemoryReactorClock(), LogLevelControl("info"), {"nodaemon": True})
    service._log_observer()
    assert service.reopen_log() is None
