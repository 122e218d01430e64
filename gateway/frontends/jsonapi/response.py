"""Writing a mod_http_api answer: results, error bodies and the JSON text.

Results follow ejabberd's shapes: a rescode is ``0``/``1``, an ok restuple its
text, a list an array (or one object when it is a list of key/value pairs), a
tuple an object, and a scalar is bare unless the caller asked for API version
0 (or speaks 23.01), when it is wrapped as ``{"<result name>": value}``.

Objects that ejabberd 24.12 builds from Erlang maps come out with their keys
in reverse order (the order jiffy writes small maps in); 23.01 wrote every
object in field order.  Status numbers and error codes come from
:data:`~gateway.engine.errors.ERROR_TABLE`; the message texts are mod_http_api's.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from gateway.engine.coercion import coerce_value
from gateway.engine.errors import (
    BadArgumentType,
    BadRequest,
    CommandError,
    DuplicateArgument,
    Forbidden,
    InternalCommand,
    InternalError,
    InvalidToken,
    MissingArgument,
    TypedCommandError,
    Unauthorized,
    UnknownArguments,
    UnknownCommand,
    mapping_for,
)
from gateway.engine.model import ResTuple, Result
from gateway.engine.types import Type, is_pair_object
from gateway.frontends.erlterm import Atom, format_w
from gateway.frontends.typeterm import json_term, type_term

__all__ = [
    "BAD_REQUEST",
    "MISSING_COMMAND",
    "dump_json",
    "encode_error",
    "encode_result",
    "error_object",
    "error_message",
]

#: what a body that cannot be decoded, or a result that cannot be encoded, gets
BAD_REQUEST = "400 Bad Request"
MISSING_COMMAND = "Missing command name."
#: the ``code`` member of the "Missing command name." body
MISSING_COMMAND_CODE = 40

JsonAnswer = tuple[int, Any]


# built once: json.dumps with options builds a new encoder for every answer
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def dump_json(value: Any) -> bytes:
    """Compact JSON, UTF-8 written raw, ``/`` not escaped.

    Raises:
        UnicodeEncodeError: a string holds a lone surrogate (no UTF-8 exists).
    """
    return _ENCODER.encode(value).encode("utf-8")


def error_object(code: int, message: str, *, legacy: bool) -> dict[str, Any]:
    """``{"status":"error", …}`` with its keys in the profile's order."""
    if legacy:
        return {"status": "error", "code": code, "message": message}
    return {"status": "error", "message": message, "code": code}


# -- results -------------------------------------------------------------------


def encode_result(result: Result, *, legacy: bool, wrap: bool) -> JsonAnswer:
    """The status and JSON value for a command's result.

    Args:
        legacy: the 23.01 profile.
        wrap: put a scalar inside ``{"<result name>": …}`` (API version 0).
    """
    param = result.definition.result
    kind = param.type.kind
    value = result.value
    if kind == "rescode":
        return 200, 0 if _is_ok(value) else 1
    if kind == "restuple":
        if not isinstance(value, ResTuple):
            raise TypeError(f"{result.definition.name}: expected a ResTuple, got {value!r}")
        if value.ok:
            return 200, value.text
        if value.status == "error":
            # ejabberd treats a returned {error, Text} like a command error
            return 400, value.text
        return 500, error_object(0, value.text, legacy=legacy)
    formatted = _format(value, param.type, legacy)
    if kind in ("list", "tuple") or not wrap:
        return 200, formatted
    return 200, {param.name: formatted}


def _is_ok(value: Any) -> bool:
    return value is True or value in ("ok", "true")


def _format(value: Any, type_: Type, legacy: bool) -> Any:
    kind = type_.kind
    if kind == "integer":
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(f"expected an integer result, got {value!r}")
        return value
    if kind in ("string", "binary", "atom"):
        if not isinstance(value, str):
            raise TypeError(f"expected a text result, got {value!r}")
        return value
    if kind == "rescode":
        return _is_ok(value)
    if kind == "restuple":
        if not isinstance(value, ResTuple):
            raise TypeError(f"expected a ResTuple, got {value!r}")
        return {"res": value.ok, "text": value.text}
    if kind == "list":
        element = type_.element.type
        if not isinstance(value, list | tuple):
            raise TypeError(f"expected a list result, got {value!r}")
        if is_pair_object(element):
            value_type = element.fields[1].type
            return {str(key): _format(item, value_type, legacy) for key, item in value}
        return [_format(item, element, legacy) for item in value]
    if kind == "tuple":
        fields = type_.fields
        if not isinstance(value, list | tuple) or len(value) != len(fields):
            raise TypeError(f"expected a {len(fields)}-tuple result, got {value!r}")
        pairs = [(f.name, _format(v, f.type, legacy)) for f, v in zip(fields, value, strict=True)]
        if not legacy:
            pairs.sort(key=lambda pair: pair[0], reverse=True)
        return dict(pairs)
    # "any": only internal commands use it; pass the value through
    return value


# -- errors --------------------------------------------------------------------


def encode_error(error: CommandError, *, legacy: bool) -> JsonAnswer:
    """The status and JSON body for a command error."""
    mapping = mapping_for(error)
    message = error_message(error, legacy=legacy)
    if isinstance(error, TypedCommandError):
        return mapping.http_status, error_object(error.status, message, legacy=legacy)
    if mapping.json_code is None:
        return mapping.http_status, message
    return mapping.http_status, error_object(mapping.json_code, message, legacy=legacy)


def error_message(error: CommandError, *, legacy: bool) -> str:
    """mod_http_api's text for ``error``."""
    if isinstance(error, UnknownCommand):
        return "Endpoint not found."
    if isinstance(error, BadRequest):
        return BAD_REQUEST
    if isinstance(error, MissingArgument):
        return "Request have missing argument: " + format_w(Atom(error.argument))
    if isinstance(error, DuplicateArgument):
        return "Request have duplicate argument: " + format_w(Atom(error.argument))
    if isinstance(error, UnknownArguments):
        return "Request have unknown arguments: " + format_w([Atom(n) for n in error.names])
    if isinstance(error, BadArgumentType):
        return bad_type_message(error, legacy=legacy)
    if isinstance(error, InvalidToken):
        return "Oauth Token is invalid or expired."
    if isinstance(error, Unauthorized):
        return "You are not authorized to call this command."
    if isinstance(error, Forbidden):
        return "AccessRules: Account does not have the right to perform the operation."
    if isinstance(error, InternalCommand):
        return "frontend_cannot_call_an_internal_command"
    if isinstance(error, InternalError):
        return "internal_error"
    return error.message


def bad_type_message(error: BadArgumentType, *, legacy: bool) -> str:
    """``Arg <value> is not in format <type>``, naming the innermost value that does not fit.

    A list whose third element is wrong is reported by that element and the
    element type, as ejabberd checks element by element.  An error that names
    no declared type (an adapter's own check) answers its message.
    """
    if not isinstance(error.expected, Type):
        return error.message
    value, type_ = _innermost_mismatch(error.value, error.expected)
    return f"Arg {json_term(value, maps=not legacy)} is not in format {type_term(type_)}"


def _fits(value: Any, type_: Type) -> bool:
    try:
        coerce_value(type_, value)
    except Exception:
        return False
    return True


def _innermost_mismatch(value: Any, type_: Type) -> tuple[Any, Type]:
    """Walk down the parts the coercion accepted to the first one it did not."""
    if type_.kind == "list":
        element = type_.element.type
        if isinstance(value, Mapping) and _is_text_pair(element):
            for key, item in value.items():
                for field, part in zip(element.fields, (key, item), strict=True):
                    if not _fits(part, field.type):
                        return _innermost_mismatch(part, field.type)
        elif isinstance(value, list):
            for item in value:
                if not _fits(item, element):
                    return _innermost_mismatch(item, element)
    elif type_.kind == "tuple" and isinstance(value, Mapping):
        names = [f.name for f in type_.fields]
        if set(value) == set(names):
            for field in type_.fields:
                if not _fits(value[field.name], field.type):
                    return _innermost_mismatch(value[field.name], field.type)
    return value, type_


def _is_text_pair(element: Type) -> bool:
    # the coercion's rule for a list of pairs given as a JSON object
    return (
        element.kind == "tuple"
        and len(element.fields) == 2
        and element.fields[0].type.kind in ("string", "binary", "atom")
    )
