"""API versions: choosing one, and adapting old definitions to the newest.

Backends only know the newest 24.12 definition of each command.  A call made
against an older version (or the 23.01 profile) runs through an
:class:`Adapter` that rewrites its arguments into the newest shape and the
result back into the shape the caller asked for.  The engine is handed an
:class:`AdapterRegistry` holding them (the daemon's is built by
:func:`gateway.engine.adapters.standard_adapters`).
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from gateway.engine.errors import CommandFailed
from gateway.engine.model import CommandDefinition

__all__ = [
    "IDENTITY",
    "Adapter",
    "AdapterRegistry",
    "Execute",
    "rename_keys",
    "version_from_release",
]

ArgsMap = Callable[[dict[str, Any]], dict[str, Any]]
ResultMap = Callable[[Any], Any]
#: runs one canonical (newest 24.12) command: ``await execute(name, args)``
Execute = Callable[[str, dict[str, Any]], Awaitable[Any]]
#: an adapter's own sequence of canonical commands, given the translated arguments
RunMap = Callable[[dict[str, Any], Execute], Awaitable[Any]]
#: rewrites a failure of the newest definition into the old one's (e.g. its wording)
FailureMap = Callable[[CommandFailed], CommandFailed]


@dataclass(frozen=True, slots=True)
class Adapter:
    """Translate one old definition's arguments and result to and from the newest.

    ``args`` rewrites the caller's typed arguments into the newest
    definition's; ``result`` rewrites the newest-shaped value into the old
    result.  Most adapters run the one canonical command of the same name in
    between.  When an old result cannot be derived from the new one, ``run``
    replaces that single call with a sequence of canonical commands of its
    own choosing (through the ``execute`` callable it is given).  ``failure``
    rewrites a :class:`CommandFailed` of the newest definition into the old
    one's, where an older release worded the same failure differently.
    """

    args: ArgsMap
    result: ResultMap
    run: RunMap | None = None
    failure: FailureMap | None = None

    async def apply(self, name: str, args: dict[str, Any], execute: Execute) -> Any:
        """Run command ``name`` with old-shaped ``args``; return an old-shaped result."""
        canonical = self.args(args)
        try:
            if self.run is not None:
                value = await self.run(canonical, execute)
            else:
                value = await execute(name, canonical)
        except CommandFailed as e:
            if self.failure is None:
                raise
            old = self.failure(e)
            if old is e:
                raise
            raise old from None
        return self.result(value)


def _same(value: Any) -> Any:
    return value


IDENTITY = Adapter(_same, _same)


class AdapterRegistry:
    """The adapters from old definitions to the newest, by ``(profile, name, version)``."""

    def __init__(self) -> None:
        self._adapters: dict[tuple[str, str, int], Adapter] = {}
        self._failures: dict[tuple[str, str, int], FailureMap] = {}

    def register(
        self,
        profile: str,
        name: str,
        version: int,
        *,
        args: ArgsMap = _same,
        result: ResultMap = _same,
        run: RunMap | None = None,
    ) -> None:
        """Declare how ``name`` at ``version`` of ``profile`` maps onto the newest definition."""
        self._adapters[(profile, name, version)] = Adapter(args, result, run)

    def register_failures(
        self, profile: str, name: str, version: int, texts: Mapping[str, str]
    ) -> None:
        """Declare how ``name`` at ``version`` of ``profile`` words failures differently.

        ``texts`` maps a failure text of the newest definition to the old
        one's; a failure whose text is not listed passes unchanged.  This is
        kept apart from :meth:`register`, so an adapter of the arguments or
        the result and the wording of failures can be declared independently.
        """
        known = dict(texts)

        def reword(error: CommandFailed) -> CommandFailed:
            old = known.get(error.message)
            return error if old is None else error.reworded(old)

        self._failures[(profile, name, version)] = reword

    def failure_keys(self) -> frozenset[tuple[str, str, int]]:
        """Every ``(profile, name, version)`` whose failures are reworded."""
        return frozenset(self._failures)

    def has(self, profile: str, name: str, version: int) -> bool:
        """Whether an adapter was registered for exactly this definition."""
        return (profile, name, version) in self._adapters

    def keys(self) -> frozenset[tuple[str, str, int]]:
        """Every ``(profile, name, version)`` that has a registered adapter."""
        return frozenset(self._adapters)

    def adapter_for(
        self, profile: str, definition: CommandDefinition, newest: CommandDefinition
    ) -> Adapter | None:
        """The adapter from ``definition`` to ``newest``; ``None`` when none is known.

        A registered adapter wins; an unregistered definition shaped exactly
        like the newest gets :data:`IDENTITY`.  Either carries the failure
        wording registered for that definition, if any.
        """
        key = (profile, definition.name, definition.version)
        found = self._adapters.get(key)
        if found is None and definition.same_signature(newest):
            found = IDENTITY
        failure = self._failures.get(key)
        if found is None or failure is None:
            return found
        return replace(found, failure=failure)


# "24.06", "24.12.1" (a patch level is ignored) or a bare "24"
_RELEASE = re.compile(r"(?P<major>[0-9]+)(?:\.(?P<minor>[0-9]+)(?:\.[0-9]+)?)?")


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
    found = _RELEASE.fullmatch(str(value).strip())
    if found is None:
        raise ValueError(f"not an API version or release: {value!r}")
    release = (int(found["major"]), int(found["minor"] or 0))
    if release <= (23, 10):
        return 0
    if release < (24, 6):
        return 1
    return 2


def rename_keys(args: Mapping[str, Any], renames: Mapping[str, str]) -> dict[str, Any]:
    """Copy ``args`` with some keys renamed (a helper for adapters)."""
    return {renames.get(k, k): v for k, v in args.items()}
