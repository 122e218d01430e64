"""Parse and print the XML fragments callers store (private storage, vCards), safely.

The parser resolves no entities, reads no DTD and fetches nothing from the
network; a document type declaration is refused outright.

:func:`ejabberd_text` prints stored XML the way ejabberd's XML library (fxml)
does when it answers with it: attribute values in single quotes, ``& < > " '``
escaped in attribute values and text alike, an element without children
closed as ``<name/>``, names, prefixes and namespace declarations as written
(declarations before other attributes), comments dropped, CDATA as text and an
empty default namespace declaration (``xmlns=''``) left out.
"""

from __future__ import annotations

from xml.parsers import expat

from lxml import etree

from gateway import safexml

__all__ = ["XmlError", "ejabberd_escape", "ejabberd_text", "parse_element", "to_text"]


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


_EJABBERD_ESCAPES = str.maketrans(
    {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&apos;"}
)


def ejabberd_escape(text: str) -> str:
    """``text`` escaped as fxml escapes attribute values and character data."""
    return text.translate(_EJABBERD_ESCAPES)


def _refuse_declarations(*_: object) -> None:
    raise XmlError("a document type declaration is not allowed")


def ejabberd_text(stored: str) -> str:
    """Stored XML text (what :func:`to_text` wrote) printed as ejabberd prints it.

    Raises:
        XmlError: when ``stored`` is not well-formed XML.
    """
    out: list[str] = []
    # whether the innermost element's start tag still waits for its ">"
    open_tag: list[bool] = []

    def close_start_tag() -> None:
        if open_tag and open_tag[-1]:
            out.append(">")
            open_tag[-1] = False

    def start(name: str, attributes: list[str]) -> None:
        close_start_tag()
        out.append("<" + name)
        pairs = list(zip(attributes[::2], attributes[1::2], strict=True))
        # namespace declarations first, each group in the order written
        pairs.sort(key=lambda pair: not (pair[0] == "xmlns" or pair[0].startswith("xmlns:")))
        for key, value in pairs:
            if key == "xmlns" and not value:
                continue
            out.append(f" {key}='{ejabberd_escape(value)}'")
        open_tag.append(True)

    def end(name: str) -> None:
        out.append("/>" if open_tag.pop() else f"</{name}>")

    def text(data: str) -> None:
        close_start_tag()
        out.append(ejabberd_escape(data))

    parser = expat.ParserCreate()
    parser.ordered_attributes = True
    parser.buffer_text = True
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = text
    parser.StartDoctypeDeclHandler = _refuse_declarations
    parser.EntityDeclHandler = _refuse_declarations
    try:
        parser.Parse(stored, True)
    except expat.ExpatError as e:
        raise XmlError(str(e)) from None
    return "".join(out)
