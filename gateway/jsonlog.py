"""The daemon's log as JSON lines (``gateway.log_format: json``), for log shippers.

One object per line, each a complete event::

    {"time": "2025-01-31T12:00:00.123Z", "level": "info", "namespace": "gateway.service",
     "message": "listening: gatewayctl socket (unix:…)", "fields": {"name": "gatewayctl socket"}}

``message`` is the event formatted as the text log shows it; ``fields``
holds the event's own values that are plain JSON (strings, numbers,
booleans, null), so shippers can filter on them without parsing the
message; ``failure`` holds the traceback of a logged failure.
"""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from typing import IO, Any

from twisted.logger import FileLogObserver, LogEvent, formatEvent

__all__ = ["event_as_json_line", "json_lines_observer"]

#: keys of events from twisted's legacy ``log.msg`` that are not the event's own values
_LEGACY_KEYS = frozenset({"message", "isError", "system", "time", "format", "why", "failure"})
_PLAIN = (str, int, float, bool, type(None))


def event_as_json_line(event: LogEvent) -> str:
    """``event`` as one line of JSON, newline included."""
    record: dict[str, Any] = {
        "time": _iso_time(event.get("log_time")),
        "level": getattr(event.get("log_level"), "name", "info"),
        "namespace": event.get("log_namespace", ""),
        "message": formatEvent(event),
    }
    system = event.get("log_system")
    if system and system != "-":
        record["system"] = str(system)
    fields = {
        key: _plain(value)
        for key, value in event.items()
        if isinstance(key, str)
        and not key.startswith("log_")
        and key not in _LEGACY_KEYS
        and isinstance(value, _PLAIN)
    }
    if fields:
        record["fields"] = fields
    failure = event.get("log_failure")
    if failure is not None:
        try:
            record["failure"] = failure.getTraceback()
        except Exception:
            record["failure"] = repr(failure)
    return json.dumps(record, ensure_ascii=False, default=str, allow_nan=False) + "\n"


def json_lines_observer(stream: IO[Any]) -> FileLogObserver:
    """A log observer writing each event to ``stream`` as a line of JSON."""
    return FileLogObserver(stream, event_as_json_line)


def _iso_time(when: Any) -> str | None:
    if not isinstance(when, int | float):
        return None
    moment = datetime.fromtimestamp(when, UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _plain(value: Any) -> Any:
    """``value`` as JSON can hold it: NaN and infinities become their names."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return value
