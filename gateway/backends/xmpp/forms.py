"""XEP-0004 data forms: reading the forms a server sends, writing the ones we submit."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from lxml import etree

from gateway.stanza import default_ns

__all__ = ["NS_DATA", "Field", "Form", "read_form", "submit_form"]

NS_DATA = "jabber:x:data"


@dataclass(frozen=True, slots=True)
class Field:
    """One field of a form: its name, type, label and values (text, in order)."""

    var: str | None
    type: str = "text-single"
    label: str = ""
    values: tuple[str, ...] = ()
    required: bool = False
    options: tuple[str, ...] = ()

    @property
    def value(self) -> str:
        """The values joined by line feeds, as a text-multi field reads."""
        return "\n".join(self.values)


@dataclass(frozen=True, slots=True)
class Form:
    """A form (``form``, ``result``, ``submit``…) with its fields in order."""

    type: str
    fields: tuple[Field, ...] = field(default_factory=tuple)
    title: str = ""

    def get(self, var: str) -> Field | None:
        """The first field named ``var``."""
        return next((f for f in self.fields if f.var == var), None)

    def has(self, var: str) -> bool:
        return self.get(var) is not None

    @property
    def form_type(self) -> str | None:
        """The hidden ``FORM_TYPE`` value, when there is one."""
        found = self.get("FORM_TYPE")
        return found.values[0] if found is not None and found.values else None


def read_form(element: etree._Element) -> Form:
    """The form in ``element`` (an ``<x xmlns='jabber:x:data'/>``)."""
    fields = []
    for child in element.iterchildren(f"{{{NS_DATA}}}field"):
        fields.append(
            Field(
                var=child.get("var"),
                type=child.get("type", "text-single"),
                label=child.get("label", ""),
                values=tuple(v.text or "" for v in child.iterchildren(f"{{{NS_DATA}}}value")),
                required=child.find(f"{{{NS_DATA}}}required") is not None,
                options=tuple(
                    o.findtext(f"{{{NS_DATA}}}value") or ""
                    for o in child.iterchildren(f"{{{NS_DATA}}}option")
                ),
            )
        )
    return Form(
        element.get("type", "form"), tuple(fields), element.findtext(f"{{{NS_DATA}}}title") or ""
    )


def submit_form(
    values: Mapping[str, Sequence[str]], form_type: str | None = None
) -> etree._Element:
    """An ``<x type='submit'/>`` with ``values`` (each field's values in order)."""
    x = etree.Element(f"{{{NS_DATA}}}x", nsmap=default_ns(NS_DATA))
    x.set("type", "submit")
    pairs: Iterable[tuple[str, Sequence[str]]] = values.items()
    if form_type is not None and "FORM_TYPE" not in values:
        pairs = [("FORM_TYPE", [form_type]), *pairs]
    for var, field_values in pairs:
        node = etree.SubElement(x, f"{{{NS_DATA}}}field")
        node.set("var", var)
        if var == "FORM_TYPE":
            node.set("type", "hidden")
        for value in field_values:
            etree.SubElement(node, f"{{{NS_DATA}}}value").text = value
    return x
