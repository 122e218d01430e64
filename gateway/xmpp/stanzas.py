"""Stanza plumbing for the component link: safe parsing, ``from`` policy, origin-id, wire text.

Stanzas travel through the gateway as :mod:`lxml` elements and are stored in
the outbound queue as text.  The text form is the stanza written in the
component stream's own namespace (``jabber:component:accept``, declared on the
root), so it can be written to the stream as it is, and parsed again on its
own.  Elements of ``jabber:client`` / ``jabber:server`` (or of no namespace)
are moved into that namespace along the chain from the root; anything inside
an extension element keeps its namespace, so a forwarded ``jabber:client``
message stays one.
"""

from __future__ import annotations

import copy
import uuid
from typing import Any

from lxml import etree
from twisted.words.protocols.jabber.jid import JID
from twisted.words.xish import domish

from gateway import safexml
from gateway.engine.errors import BadRequest
from gateway.engine.identifiers import (
    InvalidIdentifier,
    JIDParts,
    prepare_jid,
    prepare_jid_parts,
)

__all__ = [
    "COMPONENT_NS",
    "FROM_POLICIES",
    "NS_CLIENT",
    "NS_ORIGIN_ID",
    "STANZA_KINDS",
    "FromRefused",
    "InvalidStanza",
    "apply_from_policy",
    "default_ns",
    "ensure_origin_id",
    "in_domain",
    "jid_from_parts",
    "parse_jid",
    "parse_xml",
    "prepare_outbound",
    "restamp",
    "stream_text",
    "to_element",
]

COMPONENT_NS = "jabber:component:accept"
NS_CLIENT = "jabber:client"
NS_ORIGIN_ID = "urn:xmpp:sid:0"
STANZA_KINDS = frozenset({"message", "iq", "presence"})
FROM_POLICIES = frozenset({"pass", "rewrite", "reject"})
#: namespaces that mean "the stream's own" for a stanza and its direct payload
_STREAM_NAMESPACES = frozenset({None, NS_CLIENT, "jabber:server", COMPONENT_NS})

#: defaults that match gateway.limits
DEFAULT_MAX_BYTES = 1048576
DEFAULT_MAX_DEPTH = 64


class InvalidStanza(BadRequest):
    """Text or an element that cannot be sent as a stanza."""


class FromRefused(BadRequest):
    """The ``from`` policy is ``reject`` and the stanza's sender is outside the component."""


def parse_xml(
    text: str | bytes, *, max_bytes: int = DEFAULT_MAX_BYTES, max_depth: int = DEFAULT_MAX_DEPTH
) -> etree._Element:
    """Parse one XML element with :func:`gateway.safexml.parse`.

    Raises:
        InvalidStanza: too large, not well-formed (or empty), carrying a DOCTYPE, or too deep.
    """
    try:
        return safexml.parse(text, max_bytes=max_bytes, max_depth=max_depth)
    except safexml.XmlRejected as e:
        raise InvalidStanza(_rejection(e, text, max_bytes, max_depth)) from None


def _rejection(e: safexml.XmlRejected, text: str | bytes, max_bytes: int, max_depth: int) -> str:
    """The stanza-worded message for a refusal of the safe parser."""
    if e.reason == "size":
        return f"the stanza is larger than {max_bytes} bytes"
    if e.reason == "doctype":
        return "a DOCTYPE is not accepted in a stanza"
    if e.reason == "depth":
        return f"the stanza is nested deeper than {max_depth} elements"
    if not text.strip():
        return "the stanza is empty"
    detail = str(e).removeprefix("not well-formed XML: ")
    return f"the stanza is not well-formed XML: {detail}"


def to_element(
    stanza: etree._Element | domish.Element | str | bytes,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_depth: int = DEFAULT_MAX_DEPTH,
) -> etree._Element:
    """A private lxml copy of ``stanza``, checked to be a message, iq or presence.

    Raises:
        InvalidStanza: not parseable, or not a stanza.
    """
    if isinstance(stanza, etree._Element):
        root = copy.deepcopy(stanza)
        root.tail = None
    elif isinstance(stanza, domish.Element):
        root = parse_xml(stanza.toXml(), max_bytes=max_bytes, max_depth=max_depth)
    else:
        root = parse_xml(stanza, max_bytes=max_bytes, max_depth=max_depth)
    if not isinstance(root.tag, str):
        raise InvalidStanza("the stanza is not an element")
    name = etree.QName(root)
    if name.localname not in STANZA_KINDS:
        raise InvalidStanza(f"<{name.localname}/> is not a stanza (message, iq or presence)")
    if name.namespace not in _STREAM_NAMESPACES:
        raise InvalidStanza(f"<{name.localname}/> is in the foreign namespace {name.namespace!r}")
    return root


def parse_jid(text: str) -> JID:
    """``text`` as a JID, prepared by :func:`gateway.engine.identifiers.prepare_jid`.

    Raises:
        ValueError: not a valid JID, too long included (the message says why).
    """
    if not text:
        raise ValueError("empty JID")
    try:
        return _jid(prepare_jid(text))
    except InvalidIdentifier as e:
        raise ValueError(str(e)) from None


def jid_from_parts(user: str | None, host: str, resource: str | None = None) -> JID:
    """A JID of separate parts (``None`` or ``""`` for an absent user or resource), prepared.

    Raises:
        ValueError: a part is not valid, too long included.
    """
    try:
        return _jid(prepare_jid_parts(user, host, resource))
    except InvalidIdentifier as e:
        raise ValueError(str(e)) from None


def _jid(parts: JIDParts) -> JID:
    # the parts are prepared already: Twisted's constructor would stringprep
    # them a second time, several milliseconds per kilobyte on the reactor
    jid = JID.__new__(JID)
    jid.user, jid.host, jid.resource = parts
    return jid


def in_domain(sender: str, component: str) -> bool:
    """Whether JID ``sender`` belongs to the component's domain (any user or resource)."""
    try:
        return parse_jid(sender).host == parse_jid(component).host
    except ValueError:
        return False


def apply_from_policy(root: etree._Element, component: str, policy: str) -> None:
    """Set ``root``'s ``from`` as the link's policy says (in place).

    A stanza with no ``from`` gets the component JID.  Otherwise a sender
    inside the component's domain is always kept; one outside it is kept
    (``pass``), replaced by the component JID (``rewrite``) or refused
    (``reject``).

    Raises:
        FromRefused: ``reject`` and the sender is outside the component's domain.
        InvalidStanza: ``from`` is not a JID.
    """
    sender = root.get("from")
    if not sender:
        root.set("from", component)
        return
    try:
        parse_jid(sender)
    except ValueError as e:
        raise InvalidStanza(f"'from' is not a valid JID: {e}") from None
    if in_domain(sender, component) or policy == "pass":
        return
    if policy == "rewrite":
        root.set("from", component)
        return
    raise FromRefused(
        f"the sender {sender} is outside the component domain {component}, "
        "and the link's from policy is 'reject'"
    )


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


def default_ns(namespace: str) -> Any:
    """An lxml ``nsmap`` declaring ``namespace`` as the default (typed loosely for lxml-stubs)."""
    return {None: namespace}


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
        if in_stream and name.namespace in _STREAM_NAMESPACES:
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


def stream_text(root: etree._Element) -> str:
    """``root`` written for the component stream (its namespace declared on the root)."""
    text: str = etree.tostring(restamp(root, COMPONENT_NS), encoding="unicode")
    return text


def prepare_outbound(
    stanza: etree._Element | domish.Element | str | bytes,
    component: str,
    policy: str,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_depth: int = DEFAULT_MAX_DEPTH,
) -> str:
    """Everything the link does to a stanza before queueing it; the text to queue.

    Checks it is a stanza, applies the ``from`` policy, adds an origin-id to
    a message, and writes it in the component namespace.  The caller's
    element is not changed.

    Raises:
        InvalidStanza: not a stanza.
        FromRefused: refused by the ``reject`` policy.
    """
    root = to_element(stanza, max_bytes=max_bytes, max_depth=max_depth)
    apply_from_policy(root, component, policy)
    ensure_origin_id(root)
    return stream_text(root)
