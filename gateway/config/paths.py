"""Walking the YAML document while keeping the key path of every value.

Every :class:`~gateway.config.errors.ConfigError` names where the bad value
is (``api_permissions."admin access".who[1]``); these helpers build those
paths and read the shapes ejabberd accepts for a list of entries.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from gateway.config.errors import ConfigError
from gateway.config.errors import describe_value as _show

__all__ = ["BARE", "key_path", "name_value", "text_value", "walk_entries"]

_PLAIN_KEY = re.compile(r"^[A-Za-z0-9_\-]+$")


def key_path(prefix: str, key: str | int) -> str:
    """Append ``key`` to a config path, quoting names that are not plain words."""
    if isinstance(key, int):
        return f"{prefix}[{key}]"
    text = key if _PLAIN_KEY.match(key) else '"' + key.replace('"', '\\"') + '"'
    return f"{prefix}.{text}" if prefix else text


def text_value(value: Any, path: str, what: str = "a string") -> str:
    """A string, or an integer read as its digits."""
    # YAML turns unquoted 1234 into an int; names made of digits are still names
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise ConfigError(f"expected {what}, got {_show(value)}", path)
    return str(value)


def name_value(value: Any, path: str) -> str:
    """A non-empty name (of an ACL, an access rule ...)."""
    text = text_value(value, path, "a name")
    if not text:
        raise ConfigError("a name cannot be empty", path)
    return text


#: the value :func:`walk_entries` gives a bare name, which has none
BARE = object()


def walk_entries(value: Any, path: str) -> Iterator[tuple[Any, Any, str]]:
    """Walk a mapping, or a list of mappings and bare names, as (key, value, path) triples.

    A bare name yields ``(name, BARE, path)``.  Nested lists are flattened,
    as ejabberd does.
    """
    if isinstance(value, Mapping):
        for k, v in value.items():
            yield k, v, key_path(path, text_value(k, path, "a key"))
        return
    if isinstance(value, list):
        for i, item in enumerate(value):
            item_path = key_path(path, i)
            if isinstance(item, Mapping | list):
                yield from walk_entries(item, item_path)
            else:
                yield item, BARE, item_path
        return
    yield value, BARE, path
