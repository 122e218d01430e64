"""API versions: choosing one, and adapting old definitions to the newest.

Backends only know the newest 24.12 definition of each command.  A call made
against an older version (or the 23.01 profile) runs through an
:class:`Adapter` that rewrites its arguments into the newest shape and the
result back into the shape the caller asked for.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from gateway.engine.model import CommandDefinition

__all__ = [
    "IDENTITY",
    "Adapter",
    "adapter_for",
    "register_adapter",
    "version_from_release",
]

ArgsMap = Callable[[dict[str, Any]], dict[str, Any]]
ResultMap = Callable[[Any], Any]


@dataclass(frozen=True, slots=True)
class Adapter:
    """Translate one old definition's arguments and result to and from the newest."""

    args: ArgsMap
    result: ResultMap


def _same(value: Any) -> Any:
    return value


IDENTITY = Adapter(_same, _same)

# (profile, name, version) -> adapter
_ADAPTERS: dict[tuple[str, str, int], Adapter] = {}


def register_adapter(
    profile: str, name: str, version: int, *, args: ArgsMap = _same, result: ResultMap = _same
) -> None:
    """Declare how ``name`` at ``version`` of ``profile`` maps onto the newest definition."""
    _ADAPTERS[(profile, name, version)] = Adapter(args, result)


def adapter_for(
    profile: str, definition: CommandDefinition, newest: CommandDefinition
) -> Adapter | None:
    """The adapter from ``definition`` to ``newest``; ``None`` when none is known."""
    found = _ADAPTERS.get((profile, definition.name, definition.version))
    if found is not None:
        return found
    if definition.same_signature(newest):
        return IDENTITY
    return None


def version_from_release(value: int | str) -> int:
    """Read mod_http_api's ``default_version``: an integer or a release string.

    Releases up to 23.10 mean 0, those after 23.10 and before 24.06 mean 1,
    24.06 and later mean 2.
    """
    if isinstance(value, bool):
        raise ValueError("expected an integer or a release string like '24.06'")
    if isinstance(value, int):
        if value < 0:
            raise ValueError("an API version cannot be negative")
        return value
    text = str(value).strip()
    try:
        major, _, minor = text.partition(".")
        release = (int(major), int(minor or 0))
    except ValueError:
        raise ValueError(f"not an API version or release: {value!r}") from None
    if release <= (23, 10):
        return 0
    if release < (24, 6):
        return 1
    return 2


def rename_keys(args: Mapping[str, Any], renames: Mapping[str, str]) -> dict[str, Any]:
    """Copy ``args`` with some keys renamed (a helper for adapters)."""
    return {renames.get(k, k): v for k, v in args.items()}
