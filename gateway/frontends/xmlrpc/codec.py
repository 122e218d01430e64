"""Read ``<methodCall>`` bodies safely and write ``<methodResponse>`` bodies.

Reading uses lxml with entity expansion, DTD loading and network access
turned off; any document that carries a DOCTYPE (and so could declare
entities) is refused outright, and the element depth is bounded before any
value is decoded.  Two failures exist, matching ejabberd's two 400 pages:
:class:`MalformedXml` (not well-formed, or refused for safety) and
:class:`MalformedRequest` (well-formed XML that is not a method call we can
read).

Writing is done by hand so the output is byte-for-byte what ejabberd's
library produces: no whitespace, empty elements self-closed, and all of
``& < > " '`` escaped as entities.  Two departures keep every reply
readable by XML parsers: a carriage return is written ``&#13;`` (a literal
one would arrive as a newline), and characters XML cannot carry at all
become U+FFFD.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from xml.sax.saxutils import escape

from lxml import etree

from gateway import safexml
from gateway.frontends.xmlrpc.values import Base64, DateTime, Struct, Value

__all__ = [
    "DecodeError",
    "MalformedRequest",
    "MalformedXml",
    "MethodCall",
    "decode_call",
    "encode_fault",
    "encode_response",
    "encode_value",
]

XML_DECLARATION = b'<?xml version="1.0"?>'


class DecodeError(Exception):
    """The body cannot be read as a method call."""


class MalformedXml(DecodeError):
    """Not well-formed XML, or XML we refuse to read (DTDs, entities)."""


class MalformedRequest(DecodeError):
    """Well-formed XML that is not a readable ``<methodCall>``."""


@dataclass(frozen=True, slots=True)
class MethodCall:
    """A decoded ``<methodCall>``."""

    name: str
    params: tuple[Value, ...] = ()


def decode_call(body: bytes, *, max_depth: int = 64) -> MethodCall:
    """Decode a ``<methodCall>`` document.

    Raises:
        MalformedXml: the body is not well-formed XML or declares a DTD.
        MalformedRequest: the XML is not a method call, is nested deeper than
            ``max_depth`` elements, or holds a value that cannot be read.
    """
    try:
        root = safexml.parse(body, max_depth=max_depth)
    except safexml.XmlRejected as e:
        # too deep is well-formed XML that we will not read as a method call
        if e.reason == "depth":
            raise MalformedRequest(str(e)) from None
        raise MalformedXml(str(e)) from None
    if root.tag != "methodCall":
        raise MalformedRequest(f"expected <methodCall>, got <{root.tag}>")
    return _method_call(root)


def _children(element: etree._Element) -> list[etree._Element]:
    count = len(element)
    if count == 0:
        return []
    if count == 1:
        child = element[0]
        # an element's tag is a string; an entity reference's or a comment's is not
        if isinstance(child.tag, str):
            return [child]
    # like ejabberd's codec, elements it does not know are skipped; lxml filters
    # out what is not an element (comments, entity references) in C
    return list(element.iterchildren(etree.Element))


def _only(element: etree._Element, tag: str) -> etree._Element:
    # the usual case, one child and the right one, without building an iterator
    if len(element) == 1:
        child = element[0]
        if child.tag == tag:
            return child
    # exactly ``tag`` in no namespace, as ``child.tag == tag`` would match
    found = list(element.iterchildren(tag))
    if len(found) != 1:
        raise MalformedRequest(f"<{element.tag}> needs exactly one <{tag}>")
    return found[0]


def _text(element: etree._Element) -> str:
    if len(element) == 0:
        # no child node at all (not even an unexpanded entity): the text is all there is
        return element.text or ""
    # a parsed document's text is str (lxml's "smart" subclass; the stubs also allow
    # bytes), which join takes as it is
    pieces: Iterator[str] = element.itertext()  # type: ignore[assignment]
    return "".join(pieces)


def _method_call(root: etree._Element) -> MethodCall:
    name = _text(_only(root, "methodName")).strip()
    if not name:
        raise MalformedRequest("empty <methodName>")
    params: list[Value] = []
    containers = [c for c in _children(root) if c.tag == "params"]
    if len(containers) > 1:
        raise MalformedRequest("more than one <params>")
    for container in containers:
        for param in _children(container):
            if param.tag == "param":
                params.append(_value(_only(param, "value")))
    return MethodCall(name, tuple(params))


# bounded so products (multhis) stay printable
_INTEGER = re.compile(r"[+-]?[0-9]{1,1000}")
_DOUBLE = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_BOOLEANS = {"1": True, "true": True, "0": False, "false": False}


def _value(element: etree._Element) -> Value:
    typed = _children(element)
    if not typed:
        return _text(element)  # an untyped value is a string
    if len(typed) > 1:
        raise MalformedRequest("<value> holds more than one element")
    node = typed[0]
    tag = node.tag
    if tag == "string":
        return _text(node)
    if tag in ("int", "i4"):
        text = _text(node).strip()
        if not _INTEGER.fullmatch(text):
            raise MalformedRequest(f"not an integer of at most 1000 digits: {text[:40]!r}")
        return int(text)
    if tag == "boolean":
        text = _text(node).strip()
        if text not in _BOOLEANS:
            raise MalformedRequest(f"not a boolean: {text!r}")
        return _BOOLEANS[text]
    if tag == "double":
        text = _text(node).strip()
        if not _DOUBLE.fullmatch(text):
            raise MalformedRequest(f"not a double: {text!r}")
        return float(text)
    if tag == "base64":
        return Base64(_text(node).strip())
    if tag == "dateTime.iso8601":
        text = _text(node).strip()
        if not text:
            raise MalformedRequest("empty <dateTime.iso8601>")
        return DateTime(text)
    if tag == "nil":
        return None
    if tag == "array":
        data = _only(node, "data")
        return [_value(v) for v in _children(data) if v.tag == "value"]
    if tag == "struct":
        return Struct(tuple(_member(m) for m in _children(node) if m.tag == "member"))
    raise MalformedRequest(f"unknown value type <{tag}>")


def _member(element: etree._Element) -> tuple[str, Value]:
    name = _text(_only(element, "name"))
    if not name:
        raise MalformedRequest("empty member <name>")
    return name, _value(_only(element, "value"))


# ---------------------------------------------------------------- encoding

# characters XML 1.0 cannot carry at all; replaced so every reply parses
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
# a literal CR would reach the client as LF (XML end-of-line handling)
_ENTITIES = {'"': "&quot;", "'": "&apos;", "\r": "&#13;"}


def _escape(text: str) -> str:
    return escape(_NOT_XML.sub("\ufffd", text), _ENTITIES)


def _element(tag: str, content: str) -> str:
    return f"<{tag}>{content}</{tag}>" if content else f"<{tag}/>"


def encode_value(value: object) -> str:
    """One ``<value>`` element (as text)."""
    return f"<value>{_typed(value)}</value>"


def _typed(value: object) -> str:
    if isinstance(value, bool):
        return f"<boolean>{int(value)}</boolean>"
    if isinstance(value, int):
        return f"<int>{value}</int>"
    if isinstance(value, float):
        return f"<double>{value!r}</double>"
    if isinstance(value, str):
        return _element("string", _escape(value))
    if value is None:
        return "<nil/>"
    if isinstance(value, Struct):
        return _struct(value.members)
    if isinstance(value, dict):
        return _struct(value.items())
    if isinstance(value, list | tuple):
        return "<array>" + _element("data", "".join(encode_value(v) for v in value)) + "</array>"
    if isinstance(value, Base64):
        return _element("base64", _escape(value.text))
    if isinstance(value, bytes):
        return _element("base64", Base64.wrap(value).text)
    if isinstance(value, DateTime):
        return _element("dateTime.iso8601", _escape(value.text))
    raise TypeError(f"cannot encode {type(value).__name__} as XML-RPC")


def _struct(members: Iterable[tuple[object, object]]) -> str:
    inner = "".join(
        f"<member><name>{_escape(str(name))}</name>{encode_value(v)}</member>"
        for name, v in members
    )
    return _element("struct", inner)


def encode_response(value: object) -> bytes:
    """A ``<methodResponse>`` with one param, after the XML declaration."""
    body = f"<methodResponse><params><param>{encode_value(value)}</param></params></methodResponse>"
    return XML_DECLARATION + body.encode("utf-8")


def encode_fault(code: int, message: str) -> bytes:
    """A ``<methodResponse>`` carrying a ``<fault>``."""
    fault = Struct.of(("faultCode", code), ("faultString", message))
    body = f"<methodResponse><fault>{encode_value(fault)}</fault></methodResponse>"
    return XML_DECLARATION + body.encode("utf-8")
