"""ejabberd's argument and result type grammar.

A type is one of the scalar kinds, a list ``[elem::type]`` or a tuple
``{f1::t1, f2::t2}``.  The catalogue stores types in the JSON form of the
reference tables: a scalar name, ``{"list": [name, type]}`` or
``{"tuple": [[field, type], ...]}``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

__all__ = ["Param", "Type", "is_pair_object", "parse_param", "parse_type"]

Kind = Literal["integer", "string", "binary", "atom", "rescode", "restuple", "any", "list", "tuple"]
SCALARS: frozenset[str] = frozenset(
    {"integer", "string", "binary", "atom", "rescode", "restuple", "any"}
)


@dataclass(frozen=True, slots=True)
class Type:
    """One node of the type grammar."""

    kind: Kind
    #: for ``list``: the element's name and type (exactly one entry)
    #: for ``tuple``: the fields, in declared order
    children: tuple[Param, ...] = ()

    @property
    def element(self) -> Param:
        """The element of a list type."""
        assert self.kind == "list"
        return self.children[0]

    @property
    def fields(self) -> tuple[Param, ...]:
        """The fields of a tuple type."""
        assert self.kind == "tuple"
        return self.children

    @property
    def is_text(self) -> bool:
        return self.kind in ("string", "binary")

    def render(self) -> str:
        """The compact ``name::type`` notation used by ``ejabberdctl help``."""
        if self.kind == "list":
            return f"[{self.element.render()}]"
        if self.kind == "tuple":
            return "{" + ",".join(f.render() for f in self.fields) + "}"
        return self.kind

    def to_json(self) -> Any:
        """Back to the reference tables' JSON form."""
        if self.kind == "list":
            return {"list": [self.element.name, self.element.type.to_json()]}
        if self.kind == "tuple":
            return {"tuple": [[f.name, f.type.to_json()] for f in self.fields]}
        return self.kind


@dataclass(frozen=True, slots=True)
class Param:
    """A named, typed slot: an argument, a result, a list element or a tuple field."""

    name: str
    type: Type

    def render(self) -> str:
        return f"{self.name}::{self.type.render()}"


def parse_type(raw: Any) -> Type:
    """Build a :class:`Type` from the reference tables' JSON form."""
    if isinstance(raw, str):
        if raw not in SCALARS:
            raise ValueError(f"unknown scalar type {raw!r}")
        return Type(raw)  # type: ignore[arg-type]
    if isinstance(raw, dict) and len(raw) == 1:
        if "list" in raw:
            return Type("list", (parse_param(raw["list"]),))
        if "tuple" in raw:
            return Type("tuple", tuple(parse_param(f) for f in raw["tuple"]))
    raise ValueError(f"malformed type {raw!r}")


def parse_param(raw: Any) -> Param:
    """Build a :class:`Param` from a ``[name, type]`` pair."""
    name, type_ = raw
    return Param(str(name), parse_type(type_))


def is_pair_object(element: Type) -> bool:
    """JSON writes a list of these as one object: ``{tuple,[{_,atom},_]}`` or name/value."""
    if element.kind != "tuple" or len(element.fields) != 2:
        return False
    first, second = element.fields
    if first.type.kind == "atom":
        return True
    return first.name == "name" and first.type.kind == "string" and second.name == "value"
