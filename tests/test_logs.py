"""The configurable log level filters events of every namespace."""

from __future__ import annotations

from twisted.logger import LogLevel, PredicateResult

from gateway.logs import LogLevelControl


def event(level: LogLevel, namespace: str = "gateway.service") -> dict[str, object]:
    return {"log_level": level, "log_namespace": namespace, "log_format": "x"}


def test_level_filters_namespaced_events() -> None:
    """At ``warning``, info events of any namespace are dropped and warnings kept."""
    levels = LogLevelControl("warning")
    assert levels(event(LogLevel.info)) is PredicateResult.no
    assert levels(event(LogLevel.info, "twisted.web")) is PredicateResult.no
    assert levels(event(LogLevel.warn)) is not PredicateResult.no


def test_changing_the_level_takes_effect() -> None:
    """``set`` (reload_config, set_loglevel) changes what passes, both ways."""
    levels = LogLevelControl("info")
    assert levels(event(LogLevel.info)) is not PredicateResult.no
    levels.set("error")
    assert levels(event(LogLevel.warn)) is PredicateResult.no
    levels.set("debug")
    assert levels(event(LogLevel.debug)) is not PredicateResult.no
