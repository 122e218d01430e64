"""Stanzas on the component stream: the text the link queues and writes, and IQ answers it reads.

Stanzas reach the link as checked :class:`~gateway.stanza.Stanza` objects and
are stored in the outbound queue as text.  The text form is the stanza written
in the component stream's own namespace (``jabber:component:accept``,
declared on the root), so it can be written to the stream as it is, and
parsed again on its own.  Elements of ``jabber:client`` / ``jabber:server``
(or of no namespace) are moved into that namespace along the chain from the
root; anything inside an extension element keeps its namespace, so a
forwarded ``jabber:client`` message stays one.  An answer to an awaited IQ
goes the other way, into ``jabber:client``.

The rewrite builds a new tree: the caller's element is never changed.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from lxml import etree
from twisted.words.xish import domish

from gateway.stanza import (
    COMPONENT_NS,
    DEFAULT_MAX_BYTES,
    DEFAULT_MAX_DEPTH,
    NS_CLIENT,
    STREAM_NAMESPACES,
    InvalidStanza,
    Stanza,
    check_stanza,
    default_ns,
    from_policy,
    parse_xml,
)

__all__ = [
    "NS_ORIGIN_ID",
    "OutgoingIq",
    "Postable",
    "answer_text",
    "as_stanza",
    "ensure_origin_id",
    "prepare_iq",
    "prepare_outbound",
    "restamp",
    "stanza_cost",
    "stream_text",
]

NS_ORIGIN_ID = "urn:xmpp:sid:0"

#: what the link accepts: a checked stanza, or an element or text it checks itself
Postable = Stanza | etree._Element | str | bytes


@dataclass(frozen=True, slots=True)
class OutgoingIq:
    """An awaited IQ ready to write: its own id, the caller's, its target and its text."""

    own_id: str
    caller_id: str | None
    #: the prepared ``to`` JID, ``None`` when absent (the server answers)
    target: str | None
    text: str


def as_stanza(
    stanza: Postable, *, max_bytes: int = DEFAULT_MAX_BYTES, max_depth: int = DEFAULT_MAX_DEPTH
) -> Stanza:
    """``stanza`` itself when already checked; an element or text checked now.

    Raises:
        InvalidStanza: not a stanza.
    """
    if isinstance(stanza, Stanza):
        return stanza
    if isinstance(stanza, etree._Element):
        return check_stanza(stanza)
    return check_stanza(parse_xml(stanza, max_bytes=max_bytes, max_depth=max_depth))


def stanza_cost(stanza: Postable, size: int | None) -> int:
    """How large a stanza is, in bytes, for deciding whether to prepare it off the loop.

    ``size`` when the caller measured it (a posted body); text is measured; an
    element built in-process is small.
    """
    if size is not None:
        return size
    if isinstance(stanza, str | bytes):
        return len(stanza)
    return 0


def prepare_outbound(
    stanza: Postable,
    component: str,
    policy: str,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_depth: int = DEFAULT_MAX_DEPTH,
) -> str:
    """Everything the link does to a stanza before queueing it; the text to queue.

    Applies the ``from`` policy, adds an origin-id to a message, and writes
    it in the component namespace.  ``max_bytes`` and ``max_depth`` bound
    text that still has to be checked (see :func:`as_stanza`).

    Raises:
        InvalidStanza: not a stanza, or not writable faithfully.
        FromRefused: refused by the ``reject`` policy.
    """
    root = _stamped(as_stanza(stanza, max_bytes=max_bytes, max_depth=max_depth), component, policy)
    ensure_origin_id(root)
    return _text(root)


def prepare_iq(
    stanza: Postable,
    component: str,
    policy: str,
    own_id: str,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_depth: int = DEFAULT_MAX_DEPTH,
) -> OutgoingIq:
    """An ``<iq type='get'|'set'/>`` to write under the id ``own_id``, ``from`` policy applied.

    Raises:
        InvalidStanza: not an iq get or set, or not writable faithfully.
        FromRefused: refused by the ``reject`` policy.
    """
    checked = as_stanza(stanza, max_bytes=max_bytes, max_depth=max_depth)
    if checked.kind != "iq" or checked.type not in ("get", "set"):
        raise InvalidStanza("only an <iq type='get'/> or <iq type='set'/> can be awaited")
    root = _stamped(checked, component, policy)
    root.set("id", own_id)
    return OutgoingIq(own_id, checked.element.get("id"), checked.to, _text(root))


def _stamped(stanza: Stanza, component: str, policy: str) -> etree._Element:
    """A copy of ``stanza`` in the component namespace, its ``from`` set by the policy."""
    sender = from_policy(stanza, component, policy)
    root = restamp(stanza.element, COMPONENT_NS)
    root.set("from", sender)
    return root


def ensure_origin_id(root: etree._Element) -> str | None:
    """Give a ``<message/>`` an XEP-0359 ``<origin-id/>`` unless it has one; its id.

    Other stanzas are left alone and ``None`` is returned.
    """
    if etree.QName(root).localname != "message":
        return None
    for child in root:
        if isinstance(child.tag, str) and child.tag == f"{{{NS_ORIGIN_ID}}}origin-id":
            existing = child.get("id")
            if existing:
                return existing
            child.set("id", uuid.uuid4().hex)
            return child.get("id")
    marker = etree.SubElement(root, f"{{{NS_ORIGIN_ID}}}origin-id", nsmap=default_ns(NS_ORIGIN_ID))
    marker.set("id", uuid.uuid4().hex)
    return marker.get("id")


def restamp(root: etree._Element, namespace: str) -> etree._Element:
    """A copy of ``root`` with the stanza chain moved into ``namespace``.

    The root, and every descendant reached through elements of a stream
    namespace (or none), move; an extension element and everything inside it
    keep their own namespaces.

    Raises:
        InvalidStanza: an element of no namespace sits inside an extension element
            (XMPP has no such elements and lxml could not write it faithfully).
    """
    tag = f"{{{namespace}}}{etree.QName(root).localname}"
    new_root = etree.Element(tag, nsmap=default_ns(namespace))
    _copy_content(root, new_root)
    _restamp_children(root, new_root, namespace, in_stream=True)
    return new_root


def stream_text(root: etree._Element) -> str:
    """``root`` written for the component stream (its namespace declared on the root)."""
    return _text(restamp(root, COMPONENT_NS))


def answer_text(iq: domish.Element, caller_id: str | None) -> str:
    """The answer to an awaited IQ as ``jabber:client`` text, carrying the caller's ``id``.

    The element the stream parsed is copied into lxml directly (no text
    round trip), moving the stanza chain as :func:`restamp` does.

    Raises:
        InvalidStanza: an element of no namespace inside an extension element.
    """
    root = etree.Element(f"{{{NS_CLIENT}}}{iq.name}", nsmap=default_ns(NS_CLIENT))
    # an explicit stack: a server's answer may nest deeper than Python recurses
    pending: list[tuple[domish.Element, etree._Element, bool]] = [(iq, root, True)]
    while pending:
        source, target, in_stream = pending.pop()
        for key, value in source.attributes.items():
            target.set(key if isinstance(key, str) else f"{{{key[0]}}}{key[1]}", value)
        last: etree._Element | None = None
        for child in source.children:
            if isinstance(child, str):
                if last is None:
                    target.text = (target.text or "") + child
                else:
                    last.tail = (last.tail or "") + child
                continue
            uri = child.uri or None
            if in_stream and uri in STREAM_NAMESPACES:
                last = etree.SubElement(target, f"{{{NS_CLIENT}}}{child.name}")
                pending.append((child, last, True))
            elif uri is None:
                raise InvalidStanza(f"<{child.name}/> has no namespace inside an extension element")
            else:
                nsmap = None if uri == etree.QName(target).namespace else default_ns(uri)
                last = etree.SubElement(target, f"{{{uri}}}{child.name}", nsmap=nsmap)
                pending.append((child, last, False))
    if caller_id is None:
        root.attrib.pop("id", "")
    else:
        root.set("id", caller_id)
    return _text(root)


def _text(root: etree._Element) -> str:
    text: str = etree.tostring(root, encoding="unicode")
    return text


def _copy_content(source: etree._Element, target: etree._Element) -> None:
    for key, value in source.attrib.items():
        target.set(key, value)
    target.text = source.text


def _restamp_children(
    source: etree._Element, target: etree._Element, namespace: str, *, in_stream: bool
) -> None:
    for child in source:
        if not isinstance(child.tag, str):  # comments and PIs are not stanza content
            continue
        name = etree.QName(child)
        if in_stream and name.namespace in STREAM_NAMESPACES:
            new = etree.SubElement(target, f"{{{namespace}}}{name.localname}")
            child_in_stream = True
        elif name.namespace is None:
            raise InvalidStanza(f"<{name.localname}/> has no namespace inside an extension element")
        else:
            parent_ns = etree.QName(target).namespace
            nsmap = None if name.namespace == parent_ns else default_ns(name.namespace)
            new = etree.SubElement(target, child.tag, nsmap=nsmap)
            child_in_stream = False
        _copy_content(child, new)
        new.tail = child.tail
        _restamp_children(child, new, namespace, in_stream=child_in_stream)
