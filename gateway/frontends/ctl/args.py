"""Reading ejabberdctl's positional string arguments as neutral values.

The values produced here go through the engine's coercion like any other
frontend's: integers become ``int``, text stays ``str``, lists ``list`` and
tuples a ``dict`` keyed by field name.

24.12 rules: an integer is read like Erlang's ``~d`` (optional sign and
digits, the rest ignored); text is taken verbatim; a list is split on ``,``
(items trimmed, empty ones dropped); a tuple is split on ``:``; so a list of
tuples reads ``a:b,c:d``.  The 23.01 style takes lists and tuples as JSON.
"""

from __future__ import annotations

import json
import re
from typing import Any

from gateway.engine.errors import BadArgumentType
from gateway.engine.model import CommandDefinition
from gateway.engine.names import LEGACY_PROFILE
from gateway.engine.types import Type

__all__ = ["ArgumentCountError", "command_name", "parse_ctl_args", "read_integer", "split_list"]

_INTEGER = re.compile(r"\s*([+-]?[0-9]+)")


class ArgumentCountError(Exception):
    """The command line holds too many or too few arguments for the command."""

    def __init__(self, definition: CommandDefinition, given: int) -> None:
        self.definition = definition
        self.given = given
        #: positive when arguments are missing, negative when there are extra ones
        self.missing = len(definition.args) - given
        super().__init__(self.message)

    @property
    def message(self) -> str:
        # ejabberd's wording, singular "argument" included
        if self.missing > 0:
            return f"the command '{self.definition.name}' requires {self.missing} more argument."
        return f"the command '{self.definition.name}' requires {-self.missing} less argument."


def command_name(word: str) -> str:
    """The command a word names: ejabberdctl (and so mod_rest) takes ``-`` for ``_``."""
    return word.replace("-", "_")


class _Unreadable(Exception):
    """A string that cannot be read as the wanted type."""


def read_integer(text: str) -> int:
    """Read ``text`` like Erlang's ``~d``: ``"12abc"`` is 12, ``"abc"`` is an error."""
    match = _INTEGER.match(text)
    if match is None:
        raise ValueError(f"no integer in {text!r}")
    return int(match.group(1))


def split_list(text: str) -> list[str]:
    """The items of a comma-separated list, trimmed, empty ones dropped."""
    return [item for item in (part.strip() for part in text.split(",")) if item]


def parse_ctl_args(
    definition: CommandDefinition, strings: list[str], style: str
) -> list[tuple[str, Any]]:
    """Pair ``strings`` with ``definition.args`` and read each as its type.

    Raises:
        ArgumentCountError: when the count differs from the declared one.
        BadArgumentType: when a string cannot be read as its argument's type.
    """
    if len(strings) != len(definition.args):
        raise ArgumentCountError(definition, len(strings))
    legacy = style == LEGACY_PROFILE
    pairs: list[tuple[str, Any]] = []
    for param, text in zip(definition.args, strings, strict=True):
        try:
            if legacy and _is_composite(param.type):
                value = _positional_tuples(param.type, _read_json(text))
            else:
                value = _read(param.type, text)
        except _Unreadable:
            raise BadArgumentType(definition.name, param.name, text, param.type) from None
        pairs.append((param.name, value))
    return pairs


def _is_composite(type_: Type) -> bool:
    return type_.kind in ("list", "tuple")


def _read_json(text: str) -> Any:
    try:
        value = json.loads(text)
    except ValueError:
        raise _Unreadable from None
    if not isinstance(value, list | dict):
        raise _Unreadable
    return value


def _positional_tuples(type_: Type, value: Any) -> Any:
    """Accept a JSON array of field values where a tuple's JSON object is expected."""
    if type_.kind == "tuple" and isinstance(value, list) and len(value) == len(type_.fields):
        return {
            f.name: _positional_tuples(f.type, v) for f, v in zip(type_.fields, value, strict=True)
        }
    if type_.kind == "list" and isinstance(value, list):
        return [_positional_tuples(type_.element.type, v) for v in value]
    return value


def _read(type_: Type, text: str) -> Any:
    kind = type_.kind
    if kind == "integer":
        try:
            return read_integer(text)
        except ValueError:
            raise _Unreadable from None
    if kind in ("string", "binary", "atom"):
        return text
    if kind == "list":
        element = type_.element.type
        return [_read(element, item) for item in split_list(text)]
    if kind == "tuple":
        fields = type_.fields
        # The last field keeps any further colons, so "jid:nick:with:colons"
        # still reads as two fields.
        parts = text.split(":", len(fields) - 1)
        if len(parts) != len(fields):
            raise _Unreadable
        return {f.name: _read(f.type, part) for f, part in zip(fields, parts, strict=True)}
    if kind == "any":
        try:
            return json.loads(text)
        except ValueError:
            return text
    raise _Unreadable
