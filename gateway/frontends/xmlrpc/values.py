"""The XML-RPC value model, and how each value prints as an Erlang term.

A decoded value is one of ``str`` (``<string>`` or an untyped value),
``int``, ``bool``, ``float``, ``None`` (``<nil/>``), :class:`Base64`,
:class:`DateTime`, ``list`` (``<array>``) or :class:`Struct`.  A struct keeps
its members in document order, duplicates included, because ejabberd's
argument errors depend on both.

ejabberd quotes the caller's own values back in its fault strings, printed as
the terms its XML-RPC library builds (``{struct,[{name,Value}]}``,
``{array,[...]}``, ``{base64,<<"...">>}``); :func:`to_term` rebuilds those terms
for :func:`~gateway.frontends.erlterm.format_p`.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, TypeAlias

from gateway.frontends.erlterm import Atom

__all__ = ["MISSING", "Base64", "DateTime", "Struct", "Value", "pairs_term", "to_term"]


@dataclass(frozen=True, slots=True)
class Base64:
    """A ``<base64>`` value, kept as the text the caller sent."""

    text: str

    @classmethod
    def wrap(cls, data: bytes) -> Base64:
        return cls(base64.b64encode(data).decode("ascii"))

    @property
    def data(self) -> bytes:
        """The decoded bytes; :class:`ValueError` when the text is not base64."""
        try:
            return base64.b64decode(self.text, validate=False)
        except binascii.Error as e:
            raise ValueError(str(e)) from None


@dataclass(frozen=True, slots=True)
class DateTime:
    """A ``<dateTime.iso8601>`` value, kept as the text the caller sent."""

    text: str


@dataclass(frozen=True, slots=True)
class Struct:
    """A ``<struct>``: ordered ``(name, value)`` members, duplicates allowed."""

    members: tuple[tuple[str, Value], ...] = ()

    @classmethod
    def of(cls, *members: tuple[str, Value]) -> Struct:
        return cls(tuple(members))

    def __iter__(self) -> Iterator[tuple[str, Value]]:
        return iter(self.members)

    def __len__(self) -> int:
        return len(self.members)

    def names(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.members)

    def first(self, name: str) -> Value | _Missing:
        """The value of the first member called ``name``, else :data:`MISSING`."""
        for member, value in self.members:
            if member == name:
                return value
        return MISSING


class _Missing:
    """Marker for an absent struct member (``None`` is a real ``<nil/>``)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "MISSING"


MISSING = _Missing()

Value: TypeAlias = "str | int | float | bool | None | Base64 | DateTime | list[Value] | Struct"


def to_term(value: Value) -> Any:
    """The Erlang term ejabberd holds for a decoded value (for ``~p`` messages)."""
    if isinstance(value, Struct):
        return (Atom("struct"), [(Atom(name), to_term(v)) for name, v in value.members])
    if isinstance(value, list):
        return (Atom("array"), [to_term(v) for v in value])
    if value is None:
        return Atom("nil")
    if isinstance(value, Base64):
        return (Atom("base64"), value.text)
    if isinstance(value, DateTime):
        return (Atom("date"), value.text)
    return value


def pairs_term(pairs: Any) -> list[tuple[Atom, Any]]:
    """``[(name, value), ...]`` as ejabberd's property list ``[{name,Value}]``."""
    return [(Atom(name), to_term(value)) for name, value in pairs]
