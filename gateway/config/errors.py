"""Configuration errors that name the offending key path."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["ConfigError", "describe_value"]


class ConfigError(Exception):
    """A configuration value is missing, unknown or malformed.

    ``path`` is the key path, e.g. ``listen[1].request_handlers``; ``str()``
    gives ``"<path>: <message>"``.
    """

    def __init__(self, message: str, path: str = "") -> None:
        super().__init__(message, path)
        self.message = message
        self.path = path

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message

    def within(self, prefix: str) -> ConfigError:
        """The same error, located under ``prefix``."""
        if not prefix:
            return self
        joined = (
            prefix
            if not self.path
            else (f"{prefix}{self.path}" if self.path.startswith("[") else f"{prefix}.{self.path}")
        )
        return ConfigError(self.message, joined)


def describe_value(value: Any) -> str:
    """How a configuration value is named in an error message."""
    if value is None:
        return "nothing"
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return repr(value)
