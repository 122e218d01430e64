"""mod_rest's ``access_commands``: which authenticated callers may run which commands.

An entry ``{access, commands, argument_restrictions}`` lets a caller run a
command when the caller passes the access rule, the command is listed (or
the entry lists all), and every restricted argument the command takes has
exactly the configured value.  Any one entry suffices; with entries
configured and none matching, the call is refused.  Without entries there
is no restriction (``api_permissions`` still applies in the engine).

ejabberd's contrib mod_rest passed the option along but nothing checked it
any more; the gateway does, as the option's documentation promises.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from gateway.config.model import AccessCommand
from gateway.engine.model import Caller, CommandDefinition

__all__ = ["RuleCheck", "access_commands_allow"]

#: ``(access rule name, caller) -> allowed``, e.g. ``Permissions.access_allows``
RuleCheck = Callable[[str, Caller], bool]


def access_commands_allow(
    entries: Sequence[AccessCommand],
    rule_allows: RuleCheck,
    caller: Caller,
    definition: CommandDefinition,
    words: Sequence[str],
) -> bool:
    """True when one of ``entries`` lets ``caller`` run ``definition`` with ``words``.

    ``words`` are the command line's arguments in ``definition.args`` order.
    """
    if not entries:
        return True
    for entry in entries:
        if entry.commands is not None and definition.name not in entry.commands:
            continue
        if not rule_allows(entry.access, caller):
            continue
        if _arguments_match(entry.argument_restrictions, definition, words):
            return True
    return False


def _arguments_match(
    restrictions: Mapping[str, Any], definition: CommandDefinition, words: Sequence[str]
) -> bool:
    if not restrictions:
        return True
    if len(words) != len(definition.args):
        # The command line cannot run: the ctl layer answers with the wrong
        # count before anything executes, which tells the caller more than a refusal.
        return True
    given = dict(zip(definition.arg_names, words, strict=True))
    return all(
        given[name] == _as_word(value) for name, value in restrictions.items() if name in given
    )


def _as_word(value: Any) -> str:
    """A configured value as it would be written on a command line."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
