"""One safe way to parse untrusted XML, for every dialect and store that reads it.

No entity expansion, no DTD (a DOCTYPE is refused outright: it is the only
way to declare entities), no network access, no huge-tree mode, and bounded
size and element depth.  Callers turn :class:`XmlRejected` into their
dialect's own error.
"""

from __future__ import annotations

import threading
from typing import Literal

from lxml import etree

__all__ = ["XmlRejected", "parse", "parser"]

Reason = Literal["size", "malformed", "doctype", "depth"]


class XmlRejected(ValueError):
    """The XML was refused; ``reason`` says why in one word, ``str()`` in a sentence."""

    def __init__(self, reason: Reason, message: str) -> None:
        super().__init__(message)
        self.reason: Reason = reason


def parser() -> etree.XMLParser:
    """A parser that expands no entities, loads no DTD and touches no network."""
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
    )


def parse(
    data: str | bytes, *, max_depth: int | None = None, max_bytes: int | None = None
) -> etree._Element:
    """The root element of ``data``, checked against the limits.

    Raises:
        XmlRejected: too large, not well-formed (or empty), with a DOCTYPE, or too deep.
    """
    raw = data.encode("utf-8") if isinstance(data, str) else data
    if max_bytes is not None and len(raw) > max_bytes:
        raise XmlRejected("size", f"the XML is larger than {max_bytes} bytes")
    try:
        root = etree.fromstring(raw, _thread_parser())
    except (etree.XMLSyntaxError, ValueError) as e:
        message = " ".join((getattr(e, "msg", None) or str(e)).split())
        raise XmlRejected("malformed", f"not well-formed XML: {message}") from None
    if root is None:
        raise XmlRejected("malformed", "not well-formed XML: empty document")
    info = root.getroottree().docinfo
    # lxml-stubs lack DocInfo.doctype
    if getattr(info, "doctype", "") or info.internalDTD is not None:
        raise XmlRejected("doctype", "a DOCTYPE is not accepted")
    if max_depth is not None and _may_be_deeper(raw, max_depth) and _deeper_than(root, max_depth):
        raise XmlRejected("depth", f"elements are nested deeper than {max_depth}")
    return root


_local = threading.local()


def _thread_parser() -> etree.XMLParser:
    """This thread's parser: building one costs more than parsing a small document.

    An lxml parser may be reused, one document at a time; one per thread keeps
    the event loop and the decoding thread from ever sharing one.
    """
    found: etree.XMLParser | None = getattr(_local, "parser", None)
    if found is None:
        found = _local.parser = parser()
    return found


def _may_be_deeper(raw: bytes, limit: int) -> bool:
    """False when ``raw`` cannot hold ``limit`` nested elements, so the walk can be skipped.

    Every element has a start tag, which begins with ``<`` not followed by ``/``:
    that count bounds the number of elements, and so the depth.
    """
    return raw.count(b"<") - raw.count(b"</") > limit


def _deeper_than(root: etree._Element, limit: int) -> bool:
    stack: list[tuple[etree._Element, int]] = [(root, 1)]
    while stack:
        element, depth = stack.pop()
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in element if isinstance(child.tag, str))
    return False
