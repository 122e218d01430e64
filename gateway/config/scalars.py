"""The checks every configuration value goes through: type, range and choice.

Each raises :class:`~gateway.config.errors.ConfigError` naming the key's path.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar

from twisted.words.protocols.jabber.xmpp_stringprep import nameprep

from gateway.config.errors import ConfigError
from gateway.config.errors import describe_value as _show
from gateway.config.paths import key_path

T = TypeVar("T")


def integer(value: Any, path: str, low: int | None = None, high: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(f"expected an integer, got {_show(value)}", path)
    if low is not None and value < low:
        raise ConfigError(f"must be at least {low}, got {value}", path)
    if high is not None and value > high:
        raise ConfigError(f"must be at most {high}, got {value}", path)
    return value


def number(value: Any, path: str, positive: bool = True) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigError(f"expected a number, got {_show(value)}", path)
    if positive and value <= 0:
        raise ConfigError(f"must be greater than 0, got {value}", path)
    return float(value)


def boolean(value: Any, path: str) -> bool:
    if not isinstance(value, bool):
        raise ConfigError(f"expected true or false, got {_show(value)}", path)
    return value


def text(value: Any, path: str, what: str = "a string") -> str:
    if not isinstance(value, str):
        raise ConfigError(f"expected {what}, got {_show(value)}", path)
    if not value:
        raise ConfigError(f"expected {what}, got an empty string", path)
    return value


def choice(value: Any, path: str, choices: Iterable[str]) -> str:
    options = tuple(choices)
    # unquoted 24.12 is a float in YAML; the profile names read back unchanged
    text = str(value) if isinstance(value, float) else value
    if not isinstance(text, str) or text not in options:
        raise ConfigError(
            f"expected one of {', '.join(options)}, got {_show(value)}",
            path,
        )
    return text


def mapping(value: Any, path: str, allow_none: bool = True) -> Mapping[Any, Any]:
    if value is None and allow_none:
        return {}
    if not isinstance(value, Mapping):
        raise ConfigError(f"expected a mapping, got {_show(value)}", path)
    return value


def known_keys(section: Mapping[Any, Any], path: str, allowed: Iterable[str]) -> None:
    names = tuple(allowed)
    for key in section:
        if key not in names:
            raise ConfigError(
                f"unknown option {key!r}; expected one of {', '.join(names)}",
                key_path(path, str(key)),
            )


def optional(section: Mapping[Any, Any], key: str, path: str, parse: Callable[..., T]) -> T | None:
    if section.get(key) is None:
        return None
    return parse(section[key], key_path(path, key))


def domain(value: Any, path: str) -> str:
    name = text(value, path, "a domain name")
    try:
        prepared: str = nameprep.prepare(name)
    except UnicodeError as e:
        raise ConfigError(f"invalid domain name {name!r}: {e}", path) from None
    if not prepared or any(c in prepared for c in "@/ :"):
        raise ConfigError(f"invalid domain name {name!r}", path)
    return prepared
