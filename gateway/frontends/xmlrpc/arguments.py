"""Turn an XML-RPC argument struct into a command's typed arguments.

The steps follow ejabberd_xmlrpc, so errors come out in the same order and
name the same things:

1. ``args_rename``: the first member with an old name is renamed and moved
   to the front (a second one keeps its old name and ends up unused).
2. Each member whose name is a declared argument is read as that argument's
   type, in the release's own shapes (see below).  A value that cannot be read
   becomes a :class:`Rejected` marker carrying its fault, so the fault is
   reported only when the engine's matching reaches that argument.
3. The engine's coercion matches members to declared arguments in order
   (missing -116, duplicate -114, type -122, leftovers -120) with
   :data:`OPTIONS`: lists are never optional here, and ``args_rename`` is
   not applied again.  :meth:`ArgumentStruct.fault` turns the engine's
   argument error back into the fault, quoting the values as sent.

Shapes per release:

- integer: ``<int>``/``<i4>`` only; text types: ``<string>`` or an untyped
  value only.
- list, 24.12: an ``<array>`` of plain values (of structs for tuple
  elements).  23.01: an ``<array>`` of one-member structs named after the
  element, e.g. ``[{group: "a"}, {group: "b"}]``.  ejabberd 23.01 drops the
  connection on anything else; the gateway answers fault -122.
- tuple, 24.12: a ``<struct>`` of the fields in any order, or an ``<array>``
  holding one struct of all fields (the 23.10 form).  23.01: only the
  ``<array>`` form.  An ``<array>`` of one-member structs, the shape results
  come in, is accepted as well in both releases.  Tuple fields are matched
  like arguments (-114/-116/-120 name the field).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from gateway.engine.errors import (
    ArgumentError,
    ArgumentOutOfRange,
    BadArgumentType,
    DuplicateArgument,
    MissingArgument,
    UnknownArguments,
    mapping_for,
)
from gateway.engine.model import CoercionOptions, CommandDefinition
from gateway.engine.types import Param, Type
from gateway.frontends.xmlrpc import faults
from gateway.frontends.xmlrpc.faults import Fault
from gateway.frontends.xmlrpc.values import Base64, DateTime, Struct, Value

__all__ = ["OPTIONS", "ArgumentStruct", "Rejected", "rename_like_ejabberd"]

#: XML-RPC requires list arguments, has no JSON-object shortcut for pairs, and
#: renames arguments itself (:func:`rename_like_ejabberd`)
OPTIONS = CoercionOptions(
    missing_list_is_empty=False, object_as_pairs=False, rename_arguments=False
)


@dataclass(frozen=True, slots=True, eq=False)
class Rejected:
    """Stands in for a value that cannot be read; no declared type accepts it."""

    fault: Fault


class _Reject(Exception):
    def __init__(self, fault: Fault) -> None:
        super().__init__(fault)
        self.fault = fault


def rename_like_ejabberd(
    members: Sequence[tuple[str, Value]], renames: Sequence[tuple[str, str]]
) -> list[tuple[str, Value]]:
    """Apply ``args_rename`` the way ejabberd_xmlrpc does (first match, moved to the front)."""
    result = list(members)
    for old, new in renames:
        for index, (name, value) in enumerate(result):
            if name == old:
                del result[index]
                result.insert(0, (new, value))
                break
    return result


class ArgumentStruct:
    """One call's argument struct: read for the engine, and its errors made faults.

    Args:
        struct: the caller's argument struct.
        legacy: read list and tuple arguments in 23.01 shapes.
    """

    def __init__(self, struct: Struct, *, legacy: bool) -> None:
        self.struct = struct
        self.legacy = legacy
        # (name, what the caller sent, what the engine sees), once read
        self._given: list[tuple[str, Value, Any]] = []

    def pairs(self, definition: CommandDefinition) -> list[tuple[str, Any]]:
        """The members renamed and read as ``definition``'s types, for the engine's coercion.

        ``definition`` is the resolved one (policy arguments included).  A
        value that cannot be read is a :class:`Rejected` marker.
        """
        renamed = rename_like_ejabberd(self.struct.members, definition.args_rename)
        declared = {p.name: p.type for p in definition.args}
        self._given = [
            (name, value, _read(declared[name], value, self.legacy) if name in declared else value)
            for name, value in renamed
        ]
        return [(name, seen) for name, _, seen in self._given]

    async def read(self, definition: CommandDefinition) -> list[tuple[str, Any]]:
        """:meth:`pairs`, as the engine's late-argument reader."""
        return self.pairs(definition)

    def fault(self, error: ArgumentError) -> Fault:
        """The fault for an argument error the engine's coercion raised, quoting what was sent."""
        given = self._given
        if isinstance(error, BadArgumentType):
            if isinstance(error.value, Rejected):
                return error.value.fault
            if not isinstance(error.expected, Type):
                return Fault(mapping_for(error).xmlrpc_fault, error.message)
            return faults.bad_type(
                _sent(given, [(error.argument, error.value)])[0][1], error.expected
            )
        if isinstance(error, ArgumentOutOfRange):
            return faults.out_of_range(error.message)
        if isinstance(error, DuplicateArgument):
            return faults.duplicated(error.argument, _sent(given, error.remaining))
        if isinstance(error, MissingArgument):
            return faults.missing(error.argument, _sent(given, error.remaining))
        if isinstance(error, UnknownArguments):
            return faults.unused(_sent(given, error.remaining))
        return Fault(mapping_for(error).xmlrpc_fault, error.message)


def _sent(
    given: Sequence[tuple[str, Value, Any]], seen: Sequence[tuple[str, Any]]
) -> list[tuple[str, Value]]:
    """Map pairs the engine reports back to the values the caller sent.

    The engine reports members in their original order and with the very
    value objects it was handed, so one forward walk finds each of them.
    """
    result: list[tuple[str, Value]] = []
    start = 0
    for name, value in seen:
        for index in range(start, len(given)):
            if given[index][0] == name and given[index][2] is value:
                result.append((name, given[index][1]))
                start = index + 1
                break
        else:
            result.append((name, value))
    return result


def _read(type_: Type, value: Value, legacy: bool) -> Any:
    try:
        return _convert(type_, value, legacy)
    except _Reject as e:
        return Rejected(e.fault)


def _convert(type_: Type, value: Value, legacy: bool) -> Any:
    kind = type_.kind
    if kind == "integer":
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    elif kind in ("string", "binary", "atom"):
        if isinstance(value, str):
            return value
    elif kind == "any":
        return _plain(value)
    elif kind == "list":
        return _list(type_, value, legacy)
    elif kind == "tuple":
        return _tuple(type_, value, legacy)
    raise _Reject(faults.bad_type(value, type_))


def _list(type_: Type, value: Value, legacy: bool) -> list[Any]:
    if not isinstance(value, list):
        raise _Reject(faults.bad_type(value, type_))
    element = type_.element
    if not legacy:
        return [_convert(element.type, item, legacy) for item in value]
    items = []
    for item in value:
        if not (isinstance(item, Struct) and item.names() == (element.name,)):
            raise _Reject(faults.bad_type(value, type_))
        items.append(_convert(element.type, item.members[0][1], legacy))
    return items


def _tuple(type_: Type, value: Value, legacy: bool) -> dict[str, Any]:
    members: list[tuple[str, Value]] | None = None
    if isinstance(value, Struct) and not legacy:
        members = list(value.members)
    elif isinstance(value, list) and value and all(isinstance(i, Struct) for i in value):
        structs: list[Struct] = value  # type: ignore[assignment]
        if len(structs) == 1:
            members = list(structs[0].members)
        elif all(len(s) == 1 for s in structs):
            members = [s.members[0] for s in structs]
    if members is None:
        raise _Reject(faults.bad_type(value, type_))
    return _fields(type_.fields, members, legacy)


def _fields(
    fields: Sequence[Param], members: list[tuple[str, Value]], legacy: bool
) -> dict[str, Any]:
    """Match tuple fields like ejabberd matches arguments, field by field."""
    typed: dict[str, Any] = {}
    for field in fields:
        found = [i for i, (name, _) in enumerate(members) if name == field.name]
        if len(found) > 1:
            raise _Reject(faults.duplicated(field.name, members))
        if not found:
            raise _Reject(faults.missing(field.name, members))
        _, value = members.pop(found[0])
        typed[field.name] = _convert(field.type, value, legacy)
    if members:
        raise _Reject(faults.unused(members))
    return typed


def _plain(value: Value) -> Any:
    """A neutral value for ``any`` arguments (used only by internal commands)."""
    if isinstance(value, Struct):
        return {name: _plain(v) for name, v in value.members}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, Base64):
        return value.text
    if isinstance(value, DateTime):
        return value.text
    return value
