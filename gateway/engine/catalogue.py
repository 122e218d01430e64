"""The command catalogue: every command definition of one ejabberd API release.

Two profiles ship with the package: ``"24.12"`` (all versions of every
command) and ``"23.01"`` (the legacy API, every command at version 0).  The
facts (names, argument and result types, tags, policy, ``args_rename``) are
those of ejabberd's own command tables; descriptions are ours.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from functools import cache
from importlib import resources
from typing import Any

from gateway.engine.errors import UnknownCommand
from gateway.engine.model import CommandDefinition
from gateway.engine.names import CURRENT_PROFILE, PROFILES
from gateway.engine.types import parse_param

__all__ = [
    "NEWEST",
    "PROFILES",
    "SUGGEST_MAX_LENGTH",
    "Catalogue",
    "levenshtein",
]

#: ejabberd's "no version requested" marker: higher than any real version
NEWEST = 1_000_000


class Catalogue:
    """Command definitions indexed by name, each name's versions sorted."""

    def __init__(self, profile: str, definitions: Iterable[CommandDefinition]) -> None:
        self.profile = profile
        by_name: dict[str, list[CommandDefinition]] = {}
        for definition in definitions:
            by_name.setdefault(definition.name, []).append(definition)
        self._by_name: dict[str, tuple[CommandDefinition, ...]] = {
            name: tuple(sorted(defs, key=lambda d: d.version)) for name, defs in by_name.items()
        }
        self._public = tuple(
            sorted(n for n, defs in self._by_name.items() if not defs[-1].internal)
        )

    @classmethod
    def load(cls, profile: str = CURRENT_PROFILE) -> Catalogue:
        """The packaged catalogue of ``profile`` (loaded once per process)."""
        return _load(profile)

    @staticmethod
    def forget_loaded() -> None:
        """Drop the parsed catalogues, so the next :meth:`load` reads the packaged files again.

        Engines keep the catalogue they were built with; this is ``clear_cache``'s part.
        """
        _load.cache_clear()

    def __contains__(self, name: object) -> bool:
        return name in self._by_name

    def __iter__(self) -> Iterator[CommandDefinition]:
        for name in sorted(self._by_name):
            yield from self._by_name[name]

    def names(self, *, include_internal: bool = False) -> tuple[str, ...]:
        """Command names, sorted; internal ones only when asked for."""
        if include_internal:
            return tuple(sorted(self._by_name))
        return self._public

    def versions(self, name: str) -> tuple[int, ...]:
        return tuple(d.version for d in self._by_name.get(name, ()))

    def newest(self, name: str) -> CommandDefinition:
        """The newest definition of ``name``."""
        return self.lookup(name)

    def find(self, name: str, version: int | None = None) -> CommandDefinition | None:
        """The newest definition of ``name`` whose version is ≤ ``version``, if any."""
        defs = self._by_name.get(name)
        if not defs:
            return None
        wanted = NEWEST if version is None else version
        chosen = None
        for definition in defs:
            if definition.version <= wanted:
                chosen = definition
        return chosen

    def lookup(self, name: str, version: int | None = None) -> CommandDefinition:
        """Like :meth:`find`, but raise :class:`UnknownCommand` when there is none."""
        definition = self.find(name, version)
        if definition is None:
            raise UnknownCommand(name, self.suggest(name))
        return definition

    def suggest(self, name: str) -> str | None:
        """The public command closest to ``name`` (ties broken alphabetically).

        A name longer than :data:`SUGGEST_MAX_LENGTH` gets none: it is no typo
        of a command, and the distance costs its length times each name's.
        """
        if len(name) > SUGGEST_MAX_LENGTH:
            return None
        best: tuple[int, str] | None = None
        for candidate in self._public:
            score = (levenshtein(name, candidate), candidate)
            if best is None or score < best:
                best = score
        return None if best is None else best[1]


#: the longest name :meth:`Catalogue.suggest` looks for a command close to
SUGGEST_MAX_LENGTH = 128


def levenshtein(a: str, b: str) -> int:
    """Edit distance between two strings (insert, delete, substitute)."""
    if len(a) < len(b):
        a, b = b, a
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


def definition_from_row(row: dict[str, Any], description: str = "") -> CommandDefinition:
    """Build a definition from one row of a packaged table."""
    return CommandDefinition(
        name=row["name"],
        version=int(row["version"]),
        args=tuple(parse_param(a) for a in row["args"]),
        result=parse_param(row["result"]),
        tags=tuple(row["tags"]),
        policy=row["policy"],
        args_rename=tuple((old, new) for old, new in row["args_rename"]),
        internal=bool(row["internal"]),
        definer=row.get("definer") or "unknown",
        module=row.get("module"),
        note=row.get("note", ""),
        description=description,
    )


def _read_json(name: str) -> Any:
    return json.loads(resources.files("gateway.catalogue").joinpath(name).read_text("utf-8"))


@cache
def _load(profile: str) -> Catalogue:
    if profile not in PROFILES:
        raise ValueError(f"unknown API profile {profile!r} (expected one of {', '.join(PROFILES)})")
    try:
        descriptions: dict[str, str] = _read_json("descriptions.json")
    except FileNotFoundError:
        descriptions = {}
    rows = _read_json(f"ejabberd-{profile}.json")
    return Catalogue(
        profile, (definition_from_row(r, descriptions.get(r["name"], "")) for r in rows)
    )
