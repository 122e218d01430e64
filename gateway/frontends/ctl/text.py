"""The text ejabberdctl prints: command results, errors and help.

Everything here is pure: values in, ``(text, exit status)`` or help text out.
Texts carry no trailing newline; whoever prints them adds one.

Three output styles exist, because ejabberd changed how nested lists print:

``"24.12"``
    nested lists joined with ``,``
``"24.12-v0"``
    the same with ``--version 0``: nested lists joined with ``;``
``"23.01"``
    nested lists print one element per line
"""

from __future__ import annotations

import json
import textwrap
from collections.abc import Iterable, Mapping
from typing import Any

from gateway.engine.catalogue import Catalogue
from gateway.engine.erlprint import TermText
from gateway.engine.errors import (
    ArgumentError,
    BadArgumentType,
    CommandError,
    CommandFailed,
    Forbidden,
    InternalError,
    TypedCommandError,
    UnknownCommand,
    mapping_for,
)
from gateway.engine.model import CommandDefinition, ResTuple, Result
from gateway.engine.names import CURRENT_PROFILE, LEGACY_PROFILE
from gateway.engine.types import Param, Type
from gateway.frontends.erlterm import format_p, thrown_term

__all__ = [
    "STYLES",
    "erlang_string",
    "format_command_list",
    "format_error",
    "format_help",
    "format_result",
    "format_tagged",
    "format_tags",
    "output_style",
    "usage_text",
]

#: 24.12 called with ``--version 0``
V0_STYLE = f"{CURRENT_PROFILE}-v0"
STYLES: tuple[str, ...] = (CURRENT_PROFILE, V0_STYLE, LEGACY_PROFILE)

_NESTED_SEPARATOR = {CURRENT_PROFILE: ",", V0_STYLE: ";", LEGACY_PROFILE: "\n"}

#: width of ``"  Arguments: "``: where every argument line of the help starts
_ARGS_COLUMN = 13
#: width of ``"  Returns: "``
_RETURNS_COLUMN = 11


def output_style(profile: str, version: int | None = None) -> str:
    """The output style of a call in API ``profile`` that asked for ``version``."""
    if profile == LEGACY_PROFILE:
        return LEGACY_PROFILE
    return V0_STYLE if version == 0 else CURRENT_PROFILE


# -- results ------------------------------------------------------------------


def format_result(result: Result, style: str) -> tuple[str, int]:
    """The text and exit status ejabberdctl gives for a command's result."""
    if style not in _NESTED_SEPARATOR:
        raise ValueError(f"unknown ctl output style {style!r}")
    type_ = result.definition.result.type
    value = result.value
    if type_.kind == "rescode":
        if value is True or value in ("ok", "true"):
            return "", 0
        return f"Error: {_rescode_term(value)}", 1
    if type_.kind == "restuple":
        if isinstance(value, ResTuple):
            return value.text, 0 if value.ok else 1
        return _scalar(value), 0
    return _format_value(value, type_, style, top=True), 0


def _rescode_term(value: Any) -> str:
    if value is False or value is None:
        return "false"
    return _scalar(value)


def _format_value(value: Any, type_: Type, style: str, top: bool = False) -> str:
    if type_.kind == "list":
        # Only the outermost list prints one element per line; lists inside
        # it use the style's separator.
        separator = "\n" if top else _NESTED_SEPARATOR[style]
        element = type_.element.type
        return separator.join(_format_value(item, element, style) for item in value or ())
    if type_.kind == "tuple":
        fields = type_.fields
        if isinstance(value, Mapping):
            items: Iterable[Any] = (value.get(f.name) for f in fields)
        else:
            items = value
        return "\t".join(
            _format_value(item, f.type, style) for item, f in zip(items, fields, strict=False)
        )
    return _scalar(value)


def _scalar(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, TermText):
        return value.printed  # the Erlang term behind it, as ejabberdctl prints it
    if isinstance(value, str | int):
        return str(value)
    if isinstance(value, ResTuple):
        return value.text
    # ``any`` results: show structured values as JSON rather than Python reprs
    return json.dumps(value, ensure_ascii=False, default=str)


# -- errors -------------------------------------------------------------------


def erlang_string(text: str) -> str:
    """``text`` quoted the way Erlang's ``~p`` prints a string."""
    out = ['"']
    for char in text:
        code = ord(char)
        if char in _ESCAPES:
            out.append(_ESCAPES[char])
        elif code < 0x20:
            out.append(f"\\{code:03o}")
        else:
            out.append(char)
    out.append('"')
    return "".join(out)


_ESCAPES = {
    '"': '\\"',
    "\\": "\\\\",
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
    "\x1b": "\\e",
    "\f": "\\f",
    "\b": "\\b",
    "\v": "\\v",
    "\x7f": "\\d",
}


def format_error(error: CommandError) -> tuple[str, int]:
    """The text and exit status ejabberdctl gives for a failed call."""
    status = mapping_for(error).ctl_exit
    return _error_text(error), status


def _error_text(error: CommandError) -> str:
    if isinstance(error, CommandFailed) and error.thrown:
        # ejabberdctl prints a thrown term alone, as ~p
        return format_p(thrown_term(error.thrown_term()))
    if isinstance(error, CommandFailed):
        # ejabberd prints the bare ``error`` atom first, then the reason.
        reason = error.atom if error.atom is not None else erlang_string(error.message)
        return f"Error: error\nError: {reason}"
    if isinstance(error, TypedCommandError):
        return f"Error: {error.kind}: {error.message}"
    if isinstance(error, Forbidden):
        return "{error,access_rules_unauthorized}"
    if isinstance(error, UnknownCommand):
        text = f"Error: unknown command '{error.name}'."
        if error.suggestion:
            text += f" Did you mean '{error.suggestion}'?"
        return text
    if isinstance(error, BadArgumentType):
        shown = erlang_string(error.value) if isinstance(error.value, str) else repr(error.value)
        expected = error.expected.render() if isinstance(error.expected, Type) else error.expected
        return f"Error: argument '{error.argument}' expects {expected}, got {shown}"
    if isinstance(error, ArgumentError):
        return f"Error: {error.message}"
    if isinstance(error, InternalError):
        return "Error: internal error"
    return f"Error: {error.message}"


# -- help ---------------------------------------------------------------------


def _render_param(param: Param, column: int) -> str:
    """``name::type`` with nested tuples laid out one field per line.

    ``column`` is where the parameter starts on its line; continuation lines
    of a tuple are indented so the fields line up under the first one.
    """
    head = f"{param.name}::"
    return head + _render_type(param.type, column + len(head))


def _render_type(type_: Type, column: int) -> str:
    if type_.kind == "list":
        return "[ " + _render_param(type_.element, column + 2) + " ]"
    if type_.kind == "tuple":
        inner = column + 2
        separator = ",\n" + " " * inner
        return "{ " + separator.join(_render_param(f, inner) for f in type_.fields) + " }"
    return type_.kind


def format_help(definition: CommandDefinition) -> str:
    """The ``ejabberdctl help COMMAND`` text of one definition (23.01 layout).

    The arguments shown are the command's own; for ``policy: user`` commands
    a note says that the account's user and host come first.
    """
    margin = " " * _ARGS_COLUMN
    if definition.args:
        rendered = [_render_param(p, _ARGS_COLUMN) for p in definition.args]
        arguments = "  Arguments: " + f"\n{margin}".join(rendered) + f"\n{margin}"
    else:
        arguments = "  Arguments: \n"
    lines = [
        f"  Command Name: {definition.name}",
        "",
        arguments,
        "  Returns: " + _render_param(definition.result, _RETURNS_COLUMN),
        "",
        "  Tags: " + " ".join(definition.tags),
        "",
        f"  Module: {definition.definer}",
        "",
        f"  Description: {definition.description}",
    ]
    if definition.note:
        lines += ["", f"  Note: {definition.note}"]
    if definition.policy == "user":
        lines += [
            "",
            "  Note: this command acts on one account; give its user and host"
            " before the arguments above.",
        ]
    return "\n".join(lines)


def usage_text(program: str = "gatewayctl") -> str:
    """How to call the ctl dialect."""
    return "\n".join(
        [
            f"Usage: {program} [--version API_VERSION] [--auth USER HOST PASSWORD]"
            " COMMAND [ARGUMENT ...]",
            "",
            f"  {program} help                 list the available commands",
            f"  {program} help COMMAND         arguments and result of one command",
            f"  {program} help TAG             commands carrying that tag",
            f"  {program} help tags            every tag with its commands",
            "",
            "Arguments are positional.  Lists are written a,b,c and tuples a:b;",
            "a list of tuples is a:b,c:d.  Dashes in command names may replace underscores.",
        ]
    )


def format_command_list(catalogue: Catalogue, program: str = "gatewayctl") -> str:
    """Usage followed by every public command with its one-line description."""
    lines = [usage_text(program), "", "Available commands:"]
    lines += _command_lines(catalogue, catalogue.names())
    return "\n".join(lines)


def format_tagged(catalogue: Catalogue, tag: str, names: Iterable[str]) -> str:
    """The commands carrying ``tag``, one line each."""
    return "\n".join([f"Commands tagged {tag}:", *_command_lines(catalogue, names)])


def format_tags(catalogue: Catalogue) -> str:
    """``help tags``: every tag of the public commands, each followed by its commands."""
    tagged: dict[str, list[str]] = {}
    for name in catalogue.names():
        for tag in catalogue.newest(name).tags:
            tagged.setdefault(tag, []).append(name)
    lines = ["Available tags and commands:"]
    for tag in sorted(tagged):
        names = ", ".join(tagged[tag])
        lines += [
            "",
            f"  {tag}",
            *textwrap.wrap(
                names,
                width=78,
                initial_indent=" " * 5,
                subsequent_indent=" " * 5,
                break_on_hyphens=False,
            ),
        ]
    return "\n".join(lines)


def _command_lines(catalogue: Catalogue, names: Iterable[str]) -> list[str]:
    chosen = sorted(names)
    width = max((len(n) for n in chosen), default=0)
    return [
        f"  {name.ljust(width)}  {catalogue.newest(name).description}".rstrip() for name in chosen
    ]
