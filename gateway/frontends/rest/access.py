"""Who may use mod_rest: ``allowed_ips``, and which callers ``access_commands`` lets run what.

``allowed_ips`` decides which addresses may POST to the endpoint at all.

An ``access_commands`` entry ``{access, commands, argument_restrictions}``
lets a caller run a command when the caller passes the access rule, the
command is listed (or the entry lists all), and every restricted argument
the command takes has exactly the configured value.  Any one entry
suffices; with entries configured and none matching, the call is refused.
Without entries there is no restriction (``api_permissions`` still applies
in the engine).  :func:`access_commands_checks` hands the entries to the
engine, which asks them about every ``mod_rest`` call before
``api_permissions``.

ejabberd's contrib mod_rest passed the option along but nothing checked it
any more; the gateway does, as the option's documentation promises.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from gateway.config.model import AccessCommand, RestOptions
from gateway.engine.acl import ip_matches
from gateway.engine.dispatch import FrontendCheck
from gateway.engine.model import Caller, CommandDefinition, IPAddress
from gateway.engine.names import MOD_REST

__all__ = [
    "ACCESS_COMMANDS",
    "AccessCommands",
    "RuleCheck",
    "access_commands_allow",
    "access_commands_checks",
    "ip_allowed",
]

#: the rule name a refusal by ``access_commands`` carries
ACCESS_COMMANDS = "access_commands"

#: ``(access rule name, caller) -> allowed``, e.g. ``Permissions.access_allows``
RuleCheck = Callable[[str, Caller], bool]


def ip_allowed(options: RestOptions, ip: IPAddress) -> bool:
    """True when ``options.allowed_ips`` lets ``ip`` use the endpoint (unset: everyone)."""
    if options.allowed_ips is None:
        return True
    return any(ip_matches(ip, network) for network in options.allowed_ips)


class AccessCommands:
    """``access_commands`` as the engine's extra check for ``mod_rest`` calls.

    Called with the caller, the definition and the command line's argument
    words; answers :data:`ACCESS_COMMANDS` when no entry allows the call.
    """

    def __init__(self, entries: Sequence[AccessCommand], rule_allows: RuleCheck) -> None:
        self.entries = tuple(entries)
        self.rule_allows = rule_allows

    def __call__(
        self, caller: Caller, definition: CommandDefinition, words: Sequence[Any]
    ) -> str | None:
        if access_commands_allow(self.entries, self.rule_allows, caller, definition, words):
            return None
        return ACCESS_COMMANDS


def access_commands_checks(
    options: RestOptions, rule_allows: RuleCheck
) -> dict[str, list[FrontendCheck]]:
    """The engine's extra checks for ``mod_rest``: none without ``access_commands`` entries."""
    if not options.access_commands:
        return {}
    return {MOD_REST: [AccessCommands(options.access_commands, rule_allows)]}


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
