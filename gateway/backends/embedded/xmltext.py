"""Parse and print the XML fragments callers store (private storage, vCards), safely.

The parser resolves no entities, reads no DTD and fetches nothing from the
network; a document type declaration is refused outright.
"""

from __future__ import annotations

from lxml import etree

from gateway import safexml

__all__ = ["XmlError", "parse_element", "to_text"]


class XmlError(ValueError):
    """The text is not one well-formed XML element."""


def parse_element(text: str) -> etree._Element:
    """The single element ``text`` holds.

    Raises:
        XmlError: for malformed XML, a DOCTYPE, or anything but one element.
    """
    try:
        element = safexml.parse(text)
    except safexml.XmlRejected as e:
        if e.reason == "doctype":
            raise XmlError("a document type declaration is not allowed") from None
        raise XmlError(str(e)) from None
    return element


def to_text(element: etree._Element) -> str:
    """``element`` as XML text, without an XML declaration or trailing text."""
    text: str = etree.tostring(element, encoding="unicode", with_tail=False)
    return text
