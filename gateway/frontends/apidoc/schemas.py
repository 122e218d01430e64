"""JSON Schemas of mod_http_api's request bodies and answers, from the catalogue's types.

They describe exactly what the JSON dialect accepts and writes (see
:mod:`gateway.engine.coercion` and :mod:`gateway.frontends.jsonapi.response`):

- arguments: an integer is a JSON integer (no numeric strings), text is a string, a list an
  array (a list of pairs whose first field is text may also come as one object), a tuple an
  object with exactly its fields; a list argument left out means ``[]``.
- results: a rescode is ``0`` or ``1``, an ok restuple its text, a list of pairs keyed by an
  atom (or of ``name``/``value`` strings) one object, other lists arrays, tuples objects; a
  scalar is wrapped as ``{"<result name>": value}`` for API version 0 and the 23.01 profile.
"""

from __future__ import annotations

from typing import Any

from gateway.engine.errors import ERROR_TABLE
from gateway.engine.model import CommandDefinition
from gateway.engine.ranges import INT64, bounds_for
from gateway.engine.types import Param, Type, is_pair_object

__all__ = [
    "ERROR_STATUSES",
    "argument_schema",
    "error_schema",
    "request_schema",
    "result_schema",
    "wraps_scalar",
]

Schema = dict[str, Any]

_TEXT = ("string", "binary", "atom")


def argument_schema(type_: Type, command: str = "", name: str = "") -> Schema:
    """What mod_http_api accepts for an argument of ``type_``.

    ``command`` and ``name`` pick a top-level integer's own bounds (nested ones are 64-bit).
    """
    kind = type_.kind
    if kind == "integer":
        bounds = bounds_for(command, name) if command else INT64
        return {"type": "integer", "minimum": bounds.low, "maximum": bounds.high}
    if kind in _TEXT:
        return {"type": "string"}
    if kind == "list":
        element = type_.element.type
        array = {"type": "array", "items": argument_schema(element)}
        if element.kind == "tuple" and len(element.fields) == 2:
            first, second = element.fields
            if first.type.kind in _TEXT:
                # the coercion also takes {"<first>": <second>, ...} for a list of pairs
                pairs = {"type": "object", "additionalProperties": argument_schema(second.type)}
                return {"oneOf": [array, pairs]}
        return array
    if kind == "tuple":
        return {
            "type": "object",
            "properties": {f.name: argument_schema(f.type) for f in type_.fields},
            "required": [f.name for f in type_.fields],
            "additionalProperties": False,
        }
    return {}  # "any"


def request_schema(definition: CommandDefinition, *, legacy: bool) -> Schema:
    """The JSON object a POST to ``definition`` takes.

    Old argument names from ``args_rename`` are accepted in place of the new ones, so they
    are listed (deprecated) and an argument with one is required under either name.
    """
    declared = set(definition.arg_names)
    old_names: dict[str, list[str]] = {}
    for old, new in definition.args_rename:
        if old not in declared:
            old_names.setdefault(new, []).append(old)
    properties: Schema = {}
    required: list[str] = []
    either: list[Schema] = []
    for param in definition.args:
        schema = argument_schema(param.type, definition.name, param.name)
        properties[param.name] = {**schema, "description": f"ejabberd type: {param.render()}"}
        for old in old_names.get(param.name, ()):
            properties[old] = {
                **schema,
                "deprecated": True,
                "description": f"old name of {param.name}",
            }
        if param.type.kind == "list":
            continue  # a missing list is an empty one
        if param.name in old_names:
            either.append(
                {"anyOf": [{"required": [n]} for n in (param.name, *old_names[param.name])]}
            )
        else:
            required.append(param.name)
    body: Schema = {"type": "object", "properties": properties, "additionalProperties": False}
    if required:
        body["required"] = required
    if either:
        body["allOf"] = either
    if legacy and not required and not either:
        # 23.01 reads a body that is not an object as no arguments at all
        return {"oneOf": [body, {"not": {"type": "object"}}]}
    return body


def wraps_scalar(*, legacy: bool, requested_version: int | None) -> bool:
    """Whether scalar results come wrapped in ``{"<result name>": …}``."""
    return legacy or requested_version == 0


def result_schema(result: Param, *, legacy: bool, wrap: bool) -> Schema:
    """The JSON a successful call (status 200) answers with."""
    kind = result.type.kind
    if kind == "rescode":
        return {"type": "integer", "enum": [0, 1], "description": "0: done; 1: failed"}
    if kind == "restuple":
        return {"type": "string", "description": "what was done"}
    schema = _value_schema(result.type)
    if kind in ("list", "tuple") or not wrap:
        return schema
    return {
        "type": "object",
        "properties": {result.name: schema},
        "required": [result.name],
        "additionalProperties": False,
    }


def _value_schema(type_: Type) -> Schema:
    kind = type_.kind
    if kind == "integer":
        return {"type": "integer"}
    if kind in _TEXT:
        return {"type": "string"}
    if kind == "rescode":
        return {"type": "boolean"}
    if kind == "restuple":
        return {
            "type": "object",
            "properties": {"res": {"type": "boolean"}, "text": {"type": "string"}},
            "required": ["res", "text"],
            "additionalProperties": False,
        }
    if kind == "list":
        element = type_.element.type
        if is_pair_object(element):
            return {"type": "object", "additionalProperties": _value_schema(element.fields[1].type)}
        return {"type": "array", "items": _value_schema(element)}
    if kind == "tuple":
        return {
            "type": "object",
            "properties": {f.name: _value_schema(f.type) for f in type_.fields},
            "required": [f.name for f in type_.fields],
            "additionalProperties": False,
        }
    return {}  # "any"


def error_schema() -> Schema:
    """mod_http_api's error object; some errors are a bare JSON string instead."""
    return {
        "oneOf": [
            {
                "type": "object",
                "properties": {
                    "status": {"const": "error"},
                    "code": {"type": "integer"},
                    "message": {"type": "string"},
                },
                "required": ["status", "code", "message"],
                "additionalProperties": False,
            },
            {"type": "string"},
        ]
    }


def _statuses() -> dict[int, list[str]]:
    found: dict[int, list[str]] = {}
    for name, mapping in ERROR_TABLE.items():
        found.setdefault(mapping.http_status, []).append(name)
    return dict(sorted(found.items()))


#: HTTP status -> the engine's error codes answered with it
ERROR_STATUSES: dict[int, list[str]] = _statuses()
