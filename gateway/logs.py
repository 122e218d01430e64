"""The daemon's log level, in ejabberd's vocabulary, over Twisted's logging."""

from __future__ import annotations

from typing import Any

from twisted.logger import ILogFilterPredicate, LogLevel, LogLevelFilterPredicate, PredicateResult
from zope.interface import implementer

__all__ = ["LEVELS", "LogLevelControl", "parse_level"]

#: ejabberd level names, from quietest to noisiest, with their numeric aliases
LEVELS: tuple[str, ...] = (
    "none",
    "emergency",
    "alert",
    "critical",
    "error",
    "warning",
    "notice",
    "info",
    "debug",
)
_NUMERIC = {"0": "none", "1": "critical", "2": "error", "3": "warning", "4": "info", "5": "debug"}
_TWISTED: dict[str, LogLevel | None] = {
    "none": None,
    "emergency": LogLevel.critical,
    "alert": LogLevel.critical,
    "critical": LogLevel.critical,
    "error": LogLevel.error,
    "warning": LogLevel.warn,
    "notice": LogLevel.info,
    "info": LogLevel.info,
    "debug": LogLevel.debug,
}


def parse_level(value: str | int) -> str:
    """Normalise a level name or number to an ejabberd level name."""
    text = str(value).strip().lower()
    text = _NUMERIC.get(text, text)
    if text not in _TWISTED:
        raise ValueError(f"unknown log level {value!r}; expected one of {', '.join(LEVELS)}")
    return text


@implementer(ILogFilterPredicate)
class LogLevelControl:
    """Holds the current level; used as the log observer's filter predicate."""

    def __init__(self, level: str = "info", predicate: LogLevelFilterPredicate | None = None):
        self.predicate = predicate or LogLevelFilterPredicate()
        self._level = "info"
        self.set(level)

    def get(self) -> str:
        return self._level

    def set(self, level: str | int) -> str:
        name = parse_level(level)
        twisted_level = _TWISTED[name]
        # "none" silences everything: a level above critical does not exist,
        # so drop the default instead and let the predicate refuse all.
        self.predicate.defaultLogLevel = twisted_level or LogLevel.critical
        # the predicate copies its default into its table of namespaces when
        # cleared; without this, events with a namespace kept the old level
        self.predicate.clearLogLevels()
        self._silent = twisted_level is None
        self._level = name
        return name

    @property
    def silent(self) -> bool:
        return self._silent

    def __call__(self, event: dict[str, Any]) -> PredicateResult:
        if self._silent:
            return PredicateResult.no
        return self.predicate(event)
