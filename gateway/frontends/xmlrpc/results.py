"""Shape a command's result the way each ejabberd release's XML-RPC does.

The response is always one struct with one member named after the result,
except for ``restuple``.

============  ==================================  =========================================
type          24.12                               23.01
============  ==================================  =========================================
scalar        ``{name: value}``                   same
rescode       ``{name: 0|1}``                     same
restuple      ``{text: T}``                       ``{name: 0|1, text: T}``
list          ``{name: [v, ...]}``                ``{name: [{elem: v}, ...]}``
tuple         ``{name: {f1: v, f2: v}}``          ``{name: [{f1: v}, {f2: v}]}``
============  ==================================  =========================================

Nesting applies the same rule at every level (a 23.01 list of tuples is an
array of ``{elem: [{f1: v}, ...]}``).  When a command answers
``{error, Reason}``, 24.12 still encodes rescode (``1``) and restuple
(``{text: Reason}``); everything else, and everything in 23.01, is a fault.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gateway.engine.erlprint import TermText
from gateway.engine.errors import CommandFailed
from gateway.engine.model import CommandDefinition, ResTuple, Result
from gateway.engine.types import Param, Type
from gateway.frontends.xmlrpc.values import Struct

__all__ = ["failure_value", "result_value"]


def result_value(result: Result, *, legacy: bool) -> Struct:
    """The response value for ``result``.

    Raises:
        CommandFailed: a 23.01 restuple whose status is ``error``.
    """
    param = result.definition.result
    value = result.value
    if param.type.kind == "restuple":
        text, status = _restuple(value)
        if not legacy:
            return Struct.of(("text", text))
        if status == "error":
            raise CommandFailed(text)
        return Struct.of((param.name, _status(value)), ("text", text))
    if legacy:
        return _legacy(param, value)
    return Struct.of((param.name, _modern(param.type, value)))


def failure_value(definition: CommandDefinition, error: CommandFailed, *, legacy: bool) -> Any:
    """What 24.12 answers when a rescode/restuple command fails; ``None`` means a fault."""
    if legacy:
        return None
    result = definition.result
    if result.type.kind == "rescode":
        return Struct.of((result.name, 1))
    if result.type.kind == "restuple":
        return Struct.of(("text", error.message))
    return None


def _restuple(value: Any) -> tuple[str, str]:
    if isinstance(value, ResTuple):
        return value.text, value.status
    return _text(value), "ok"


def _status(value: Any) -> int:
    """ejabberd's status number: 0 for ok/true, 1 for anything else."""
    if isinstance(value, ResTuple):
        return 0 if value.ok else 1
    return 0 if value is True or value in ("ok", "true") else 1


def _text(value: Any) -> str:
    if isinstance(value, TermText):
        return value.printed  # the Erlang term behind it, as ejabberd_xmlrpc prints it
    if isinstance(value, str):
        return value
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)


def _fields(type_: Type, value: Any) -> list[Any]:
    if isinstance(value, Mapping):
        return [value.get(f.name) for f in type_.fields]
    return list(value)


def _scalar(type_: Type, value: Any) -> Any:
    kind = type_.kind
    if kind == "integer":
        return int(value) if isinstance(value, bool) else value
    if kind == "rescode":
        return _status(value)
    if kind == "restuple":
        return _restuple(value)[0]
    if kind == "any":
        return value
    return _text(value)


def _modern(type_: Type, value: Any) -> Any:
    if type_.kind == "list":
        return [_modern(type_.element.type, item) for item in value]
    if type_.kind == "tuple":
        return Struct(
            tuple(
                (f.name, _modern(f.type, v))
                for f, v in zip(type_.fields, _fields(type_, value), strict=True)
            )
        )
    return _scalar(type_, value)


def _legacy(param: Param, value: Any) -> Struct:
    """``{name: encoded}`` with 23.01's one-member structs at every level."""
    type_ = param.type
    if type_.kind == "list":
        inner: Any = [_legacy(type_.element, item) for item in value]
    elif type_.kind == "tuple":
        inner = [_legacy(f, v) for f, v in zip(type_.fields, _fields(type_, value), strict=True)]
    else:
        inner = _scalar(type_, value)
    return Struct.of((param.name, inner))
