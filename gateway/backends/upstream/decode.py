"""Between typed command values and the JSON of ejabberd's ``/api``.

Arguments go out as mod_http_api reads them: a tuple as an object keyed by
field name, a list as an array.  Answers come back as the engine's backends
return them (see :class:`~gateway.engine.model.Result`): integer ``int``,
text ``str``, rescode ``bool``, restuple :class:`ResTuple`, list ``list``,
tuple ``tuple`` in field order; a list of key/value tuples, which
mod_http_api writes as one object, becomes a list of ``(key, value)`` tuples.

A scalar answer may come wrapped as ``{"<result name>": value}`` (every
23.01 answer, and 24.12's at API version 0); it is unwrapped.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gateway.engine.model import ResTuple
from gateway.engine.types import Param, Type, is_pair_object

__all__ = ["ShapeError", "decode_result", "encode_args", "encode_value"]


class ShapeError(ValueError):
    """The upstream's answer does not have the shape its definition declares."""


def encode_args(params: tuple[Param, ...], args: Mapping[str, Any]) -> dict[str, Any]:
    """The JSON object for typed ``args`` of the declared ``params`` (others are dropped)."""
    return {p.name: encode_value(p.type, args[p.name]) for p in params if p.name in args}


def encode_value(type_: Type, value: Any) -> Any:
    """One typed value as mod_http_api reads it."""
    kind = type_.kind
    if kind == "list" and isinstance(value, list | tuple):
        return [encode_value(type_.element.type, item) for item in value]
    if kind == "tuple" and isinstance(value, list | tuple):
        return {f.name: encode_value(f.type, v) for f, v in zip(type_.fields, value, strict=True)}
    return value


def decode_result(result: Param, value: Any) -> Any:
    """The 200 answer ``value`` of a command whose result is ``result``."""
    kind = result.type.kind
    if kind == "rescode":
        # the top-level rescode is 0 (ok) or 1 (anything else)
        if value == 0 and not isinstance(value, bool):
            return True
        if value == 1 and not isinstance(value, bool):
            return False
        return _decode(result.type, _unwrap(result, value), result.name)
    if kind == "restuple":
        # an ok restuple is its bare text; any other status is an error body
        if isinstance(value, str):
            return ResTuple(value)
        return _decode(result.type, _unwrap(result, value), result.name)
    if kind in ("list", "tuple", "any"):
        return _decode(result.type, value, result.name)
    return _decode(result.type, _unwrap(result, value), result.name)


def _unwrap(result: Param, value: Any) -> Any:
    if isinstance(value, dict) and len(value) == 1 and result.name in value:
        return value[result.name]
    return value


def _decode(type_: Type, value: Any, where: str) -> Any:
    kind = type_.kind
    if kind == "integer":
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    elif kind in ("string", "binary", "atom"):
        if isinstance(value, str):
            return value
    elif kind == "rescode":
        if isinstance(value, bool):
            return value
        if isinstance(value, int):
            return value == 0
    elif kind == "restuple":
        if isinstance(value, Mapping) and isinstance(value.get("text"), str):
            return ResTuple(value["text"], "ok" if value.get("res") in (True, 0) else "error")
        if isinstance(value, str):
            return ResTuple(value)
    elif kind == "any":
        return value
    elif kind == "list":
        return _decode_list(type_, value, where)
    elif kind == "tuple":
        if isinstance(value, Mapping):
            missing = [f.name for f in type_.fields if f.name not in value]
            if not missing:
                return tuple(
                    _decode(f.type, value[f.name], f"{where}.{f.name}") for f in type_.fields
                )
    raise ShapeError(f"{where}: expected {type_.render()}, got {_brief(value)}")


def _decode_list(type_: Type, value: Any, where: str) -> list[Any]:
    element = type_.element
    if isinstance(value, Mapping) and is_pair_object(element.type):
        key_type, value_type = (f.type for f in element.type.fields)
        return [
            (_decode(key_type, key, where), _decode(value_type, item, f"{where}.{key}"))
            for key, item in value.items()
        ]
    if isinstance(value, list):
        return [_decode(element.type, item, f"{where}[]") for item in value]
    raise ShapeError(f"{where}: expected {type_.render()}, got {_brief(value)}")


def _brief(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."
