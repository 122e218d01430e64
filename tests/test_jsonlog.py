"""JSON-lines logging: each event one line of JSON, and the daemon's observer choosing it."""

from __future__ import annotations

import io
import json
import math
from pathlib import Path

from twisted.internet.testing import MemoryReactorClock
from twisted.logger import Logger, LogLevel, LogPublisher
from twisted.python.failure import Failure

from gateway.jsonlog import event_as_json_line, json_lines_observer
from gateway.logs import LogLevelControl
from gateway.service import GatewayService

WHEN = 1_700_000_000.5  # 2023-11-14T22:13:20.500Z


def logged(emit: object, **kwargs: object) -> list[dict[str, object]]:
    """What ``emit(logger)`` writes through a JSON-lines observer, parsed line by line."""
    stream = io.StringIO()
    publisher = LogPublisher(json_lines_observer(stream))
    emit(Logger(namespace="gateway.test", observer=publisher))  # type: ignore[operator]
    text = stream.getvalue()
    assert text.endswith("\n")
    return [json.loads(line) for line in text.splitlines()]


def test_one_object_per_line_with_the_formatted_message() -> None:
    """An event becomes one line: time, level, namespace, the message as the text log
    shows it, and its plain values under ``fields``."""
    [record] = logged(lambda log: log.warn("listening: {name} on {port}", name="api", port=5280))
    assert record["level"] == "warn"
    assert record["namespace"] == "gateway.test"
    assert record["message"] == "listening: api on 5280"
    assert record["fields"] == {"name": "api", "port": 5280}
    assert isinstance(record["time"], str) and record["time"].endswith("Z")


def test_time_is_utc_iso8601() -> None:
    """``time`` is the event's time in UTC, to the millisecond."""
    line = event_as_json_line(
        {"log_time": WHEN, "log_level": LogLevel.info, "log_format": "hi", "log_namespace": "n"}
    )
    assert json.loads(line)["time"] == "2023-11-14T22:13:20.500Z"


def test_failures_carry_their_traceback() -> None:
    """A logged failure is one line too, with the traceback in ``failure``."""

    def emit(log: Logger) -> None:
        try:
            raise ValueError("boom")
        except ValueError:
            log.failure("command {command} failed", command="stats")

    [record] = logged(emit)
    assert record["level"] == "critical"
    assert record["message"] == "command stats failed"
    assert "ValueError: boom" in str(record["failure"])


def test_values_json_cannot_hold() -> None:
    """Objects are left out of ``fields``; NaN and infinities are written as names, so every
    line stays valid JSON."""

    class Thing:
        pass

    [record] = logged(
        lambda log: log.info("{thing} {ratio}", thing=Thing(), ratio=math.nan, big=math.inf)
    )
    assert record["fields"] == {"ratio": "nan", "big": "inf"}
    assert "Thing object" in str(record["message"])


def test_multiline_message_stays_on_one_line() -> None:
    """Newlines inside a message are escaped: one event, one line."""
    stream = io.StringIO()
    observer = json_lines_observer(stream)
    observer(
        {
            "log_format": "line one\nline two",
            "log_level": LogLevel.info,
            "log_time": WHEN,
            "log_namespace": "n",
            "log_failure": Failure(RuntimeError("x\ny")),
        }
    )
    lines = stream.getvalue().splitlines()
    assert len(lines) == 1
    assert json.loads(lines[0])["message"] == "line one\nline two"


def test_daemon_observer_writes_json_when_configured(tmp_path: Path) -> None:
    """With ``log_format: json`` the daemon's log file gets JSON lines, filtered by the
    configured level like the text log."""
    logfile = tmp_path / "gateway.log"
    service = GatewayService(
        MemoryReactorClock(),
        LogLevelControl("warning"),
        {"logfile": str(logfile), "nodaemon": False},
        log_format="json",
    )
    observer = service._log_observer()
    for level, text in ((LogLevel.info, "quiet"), (LogLevel.error, "loud")):
        observer({"log_format": text, "log_level": level, "log_time": WHEN, "log_namespace": "n"})
    observer._observer._outFile.close()  # the LogFile the observer writes to
    records = [json.loads(line) for line in logfile.read_text().splitlines()]
    assert [r["message"] for r in records] == ["loud"]


def test_daemon_observer_is_text_by_default(tmp_path: Path) -> None:
    """Without ``log_format`` the log stays text."""
    logfile = tmp_path / "gateway.log"
    service = GatewayService(
        MemoryReactorClock(), LogLevelControl("info"), {"logfile": str(logfile)}
    )
    observer = service._log_observer()
    observer(
        {"log_format": "hello", "log_level": LogLevel.info, "log_time": WHEN, "log_namespace": "n"}
    )
    observer._observer._outFile.close()
    text = logfile.read_text()
    assert "hello" in text
    assert not text.startswith("{")
