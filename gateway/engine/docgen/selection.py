"""Which commands a document covers, and the facts it shows about each.

Documents describe what callers see: public commands only, each at its
newest definition with the versions before it, and ``policy: user``
commands with the ``user`` and ``host`` arguments callers give first.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from gateway.engine.catalogue import Catalogue
from gateway.engine.dispatch import with_policy_args
from gateway.engine.errors import CommandFailed
from gateway.engine.model import CommandDefinition
from gateway.engine.types import Param

__all__ = ["RUNTIME", "Documented", "by_tag", "documented", "select", "signature", "type_text"]

#: the ``regexp`` value that selects the commands this gateway can run now
RUNTIME = "runtime"


@dataclass(frozen=True, slots=True)
class Documented:
    """One command as the documents show it."""

    #: its newest definition, as callers see it
    newest: CommandDefinition
    #: every definition, oldest first, as callers see them
    versions: tuple[CommandDefinition, ...]

    @property
    def name(self) -> str:
        return self.newest.name

    @property
    def module(self) -> str:
        return self.newest.module or self.newest.definer

    @property
    def older(self) -> tuple[CommandDefinition, ...]:
        """The earlier versions whose arguments or result differ from the next one's."""
        changed = []
        for older, newer in zip(self.versions, self.versions[1:], strict=False):
            if not older.same_signature(newer):
                changed.append(older)
        return tuple(changed)


def documented(catalogue: Catalogue, names: Sequence[str]) -> list[Documented]:
    """The facts about each of ``names`` (public commands of ``catalogue``), sorted by name."""
    result = []
    for name in sorted(names):
        versions = tuple(
            with_policy_args(catalogue.lookup(name, v)) for v in catalogue.versions(name)
        )
        result.append(Documented(versions[-1], versions))
    return result


def select(catalogue: Catalogue, pattern: str, runs: Callable[[str], bool] | None) -> list[str]:
    """The public commands whose name or module ``pattern`` matches, as ejabberd's ``regexp``.

    The pattern is searched anywhere in the name, the executing module and
    the defining module; an empty one matches every command.  ``runtime``
    selects the commands the gateway can run with its backend (``runs``).

    Raises:
        CommandFailed: the pattern does not compile, or nothing matches.
    """
    names = catalogue.names()
    if pattern == RUNTIME and runs is not None:
        chosen = [n for n in names if runs(n)]
    else:
        try:
            compiled = re.compile(pattern)
        except re.error as e:
            raise CommandFailed(f"Invalid regexp {pattern!r}: {e}") from None
        chosen = [n for n in names if _matches(compiled, catalogue.newest(n))]
    if not chosen:
        raise CommandFailed(f"No command matches {pattern!r}; nothing was written")
    return chosen


def _matches(pattern: re.Pattern[str], definition: CommandDefinition) -> bool:
    fields = (definition.name, definition.module or "", definition.definer)
    return any(pattern.search(field) for field in fields)


def by_tag(commands: Sequence[Documented]) -> dict[str, list[Documented]]:
    """The commands under each of their tags, tags sorted; untagged ones under ``untagged``."""
    groups: dict[str, list[Documented]] = {}
    for command in commands:
        for tag in command.newest.tags or ("untagged",):
            groups.setdefault(tag, []).append(command)
    return {tag: groups[tag] for tag in sorted(groups)}


def type_text(param: Param) -> str:
    """``name :: type`` in the compact notation ``help`` uses."""
    return f"{param.name} :: {param.type.render()}"


def signature(definition: CommandDefinition) -> str:
    """``name(arg, …) -> result``: one line summing a definition up."""
    args = ", ".join(definition.arg_names)
    return f"{definition.name}({args}) -> {definition.result.render()}"
