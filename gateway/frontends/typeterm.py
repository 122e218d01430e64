"""``~w`` text of argument types and of decoded JSON values, as ejabberd prints them.

mod_http_api reports a mistyped argument as ``Arg <value> is not in format
<type>``, with both parts written by Erlang's ``~w``: the value as the JSON
decoder produced it (binaries as byte lists, ``null``/``true`` as atoms,
objects as maps or ``{[...]}`` proplists) and the type as its command-table
term (``binary``, ``{list,{group,binary}}``, ``{tuple,[{a,binary}]}``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from gateway.engine.erlpretty import erlang_float
from gateway.engine.types import Type
from gateway.frontends.erlterm import Atom, format_w

__all__ = ["erlang_float", "json_term", "type_as_term", "type_term"]


def type_as_term(type_: Type) -> Any:
    """A declared type as the Erlang term ejabberd prints: ``{list,{group,binary}}`` …"""
    if type_.kind == "list":
        element = type_.element
        return (Atom("list"), (Atom(element.name), type_as_term(element.type)))
    if type_.kind == "tuple":
        return (Atom("tuple"), [(Atom(f.name), type_as_term(f.type)) for f in type_.fields])
    return Atom(type_.kind)


def type_term(type_: Type) -> str:
    """The ``~w`` text of a type: ``integer``, ``{list,{group,binary}}``, ``{tuple,[…]}``."""
    return format_w(type_as_term(type_))


def json_term(value: Any, *, maps: bool = True) -> str:
    """The ``~w`` text of a decoded JSON value.

    Args:
        value: ``None``, ``bool``, ``int``, ``float``, ``str``, a list, a
            mapping, or a sequence of ``(key, value)`` pairs for an object
            whose duplicate keys were kept.
        maps: objects as Erlang maps (24.12, keys sorted) rather than the
            ``{[{Key,Value}, …]}`` proplists of 23.01 (written order).
    """
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return erlang_float(value)
    if isinstance(value, str):
        return format_w(value)
    if isinstance(value, Mapping):
        return _object(list(value.items()), maps)
    if isinstance(value, list):
        return "[" + ",".join(json_term(item, maps=maps) for item in value) + "]"
    if isinstance(value, Sequence):
        return _object(list(value), maps)
    raise TypeError(f"not a decoded JSON value: {value!r}")


def _object(pairs: list[tuple[str, Any]], maps: bool) -> str:
    if maps:
        # map keys are binaries; Erlang orders binaries bytewise
        ordered = sorted(pairs, key=lambda kv: kv[0].encode("utf-8", "surrogatepass"))
        return "#{" + ",".join(f"{format_w(k)}=>{json_term(v)}" for k, v in ordered) + "}"
    inner = ",".join("{" + format_w(k) + "," + json_term(v, maps=False) + "}" for k, v in pairs)
    return "{[" + inner + "]}"
