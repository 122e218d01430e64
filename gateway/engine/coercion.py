"""Turn a call's neutral argument values into the typed values a command takes.

Frontends decode their wire format into neutral values (``int``, ``str``,
``bool``, ``float``, ``None``, ``list``, ``dict``) and a list of
``(name, value)`` pairs.  This module matches the pairs to the declared
arguments (honouring ``args_rename``) and checks every value against its
type, raising an :class:`~gateway.engine.errors.ArgumentError` that names the
argument.  Checks run per declared argument, in order, as ejabberd does.

Typed values: integer ``int``; string/binary/atom ``str``; list ``list``;
tuple ``tuple`` in field order.  Integers are range-checked too (see
:mod:`gateway.engine.ranges`): one that does not fit is an
:class:`~gateway.engine.errors.ArgumentOutOfRange` naming the bounds.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from gateway.engine.errors import (
    ArgumentOutOfRange,
    BadArgumentType,
    DuplicateArgument,
    MissingArgument,
    UnknownArguments,
)
from gateway.engine.model import DEFAULT_OPTIONS, CoercionOptions, CommandDefinition
from gateway.engine.ranges import INT64, Bounds, bounds_for
from gateway.engine.types import Type

# the options are defined with the call that carries them
__all__ = ["DEFAULT_OPTIONS", "CoercionOptions", "coerce_args", "coerce_value"]


class _Mismatch(Exception):
    """Raised inside :func:`coerce_value`; turned into BadArgumentType by the caller."""


class _OutOfRange(Exception):
    """Raised inside :func:`coerce_value`; turned into ArgumentOutOfRange by the caller."""

    def __init__(self, bounds: Bounds) -> None:
        super().__init__(bounds)
        self.bounds = bounds


def coerce_args(
    definition: CommandDefinition,
    given: Sequence[tuple[str, Any]],
    options: CoercionOptions = DEFAULT_OPTIONS,
) -> dict[str, Any]:
    """Match ``given`` to ``definition.args`` and type every value.

    Returns the typed arguments keyed by declared name, in declared order.
    """
    declared = set(definition.arg_names)
    # An old name that is still a declared argument (muc_register_nick v3 keeps
    # host→service but also takes a real ``host``) is not renamed.
    renames = (
        {old: new for old, new in definition.args_rename if old not in declared}
        if options.rename_arguments
        else {}
    )
    pending = [(renames.get(name, name), value, name) for name, value in given]
    typed: dict[str, Any] = {}
    for param in definition.args:
        matches = [i for i, (name, _, _) in enumerate(pending) if name == param.name]
        if len(matches) > 1:
            raise DuplicateArgument(definition.name, param.name, _original(pending))
        if not matches:
            if param.type.kind == "list" and options.missing_list_is_empty:
                typed[param.name] = []
                continue
            raise MissingArgument(definition.name, param.name, _original(pending))
        _, value, _ = pending.pop(matches[0])
        try:
            typed[param.name] = coerce_value(param.type, value, options)
            if param.type.kind == "integer":
                bounds = bounds_for(definition.name, param.name)
                if value not in bounds:
                    raise _OutOfRange(bounds)
        except _Mismatch:
            raise BadArgumentType(
                definition.name, param.name, value, param.type, _original(pending)
            ) from None
        except _OutOfRange as e:
            # a top-level integer is described by its own bounds, even when
            # it was too wide for any column
            bounds = (
                bounds_for(definition.name, param.name)
                if param.type.kind == "integer"
                else e.bounds
            )
            raise ArgumentOutOfRange(
                definition.name,
                param.name,
                bounds.low,
                bounds.high,
                bounds.meaning,
                _original(pending),
            ) from None
    if pending:
        raise UnknownArguments(definition.name, _original(pending))
    return typed


def _original(pending: list[tuple[str, Any, str]]) -> list[tuple[str, Any]]:
    return [(original, value) for _, value, original in pending]


def coerce_value(type_: Type, value: Any, options: CoercionOptions = DEFAULT_OPTIONS) -> Any:
    """Check ``value`` against ``type_`` and return its typed form."""
    kind = type_.kind
    if kind == "integer":
        if isinstance(value, int) and not isinstance(value, bool):
            if value not in INT64:  # wider than any column: the store would fail on it
                raise _OutOfRange(INT64)
            return value
        raise _Mismatch
    if kind in ("string", "binary", "atom"):
        if isinstance(value, str):
            return value
        raise _Mismatch
    if kind == "any":
        return value
    if kind == "list":
        element = type_.element.type
        if isinstance(value, Mapping) and options.object_as_pairs and _is_pair_list(element):
            value = [
                {element.fields[0].name: k, element.fields[1].name: v} for k, v in value.items()
            ]
        if not isinstance(value, list):
            raise _Mismatch
        return [coerce_value(element, item, options) for item in value]
    if kind == "tuple":
        if not isinstance(value, Mapping):
            raise _Mismatch
        fields = type_.fields
        if set(value) != {f.name for f in fields}:
            raise _Mismatch
        return tuple(coerce_value(f.type, value[f.name], options) for f in fields)
    # rescode / restuple are result-only types
    raise _Mismatch


def _is_pair_list(element: Type) -> bool:
    return (
        element.kind == "tuple"
        and len(element.fields) == 2
        and element.fields[0].type.kind in ("string", "binary", "atom")
    )
