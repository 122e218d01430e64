"""What a stanza is, checked once: kinds, namespaces, addresses and the component's ``from`` policy.

Every way a stanza enters the gateway ends here: a body posted to mod_rest,
the ``stanza`` argument of ``send_stanza``, text given to the component link.
:func:`read_stanza` parses text safely (:mod:`gateway.safexml`) and
:func:`check_stanza` checks an element; both give a :class:`Stanza`, which
carries the element together with what was learnt checking it.  Whoever holds
a :class:`Stanza` does not check it again: the link only stamps its ``from``
(:func:`from_policy`) and writes it in the stream's namespace
(:mod:`gateway.xmpp.wire`).

JIDs are prepared by :func:`gateway.engine.identifiers.prepare_jid`, the one
place the gateway prepares identifiers.

Refusals are :class:`InvalidStanza` (a ``BadRequest``) worded for a stanza;
two subclasses keep the facts a dialect needs to word them its own way
(mod_rest does).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lxml import etree
from twisted.words.protocols.jabber.jid import JID

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
    "DEFAULT_MAX_BYTES",
    "DEFAULT_MAX_DEPTH",
    "FROM_POLICIES",
    "NS_CLIENT",
    "STANZA_KINDS",
    "STREAM_NAMESPACES",
    "ForeignNamespace",
    "FromRefused",
    "InvalidStanza",
    "Stanza",
    "UnreadableStanza",
    "check_stanza",
    "default_ns",
    "from_policy",
    "in_domain",
    "jid_from_parts",
    "parse_jid",
    "parse_xml",
    "read_stanza",
    "stanza_kind",
]

COMPONENT_NS = "jabber:component:accept"
NS_CLIENT = "jabber:client"
NS_SERVER = "jabber:server"
#: namespaces that mean "the stream's own" for a stanza and its direct payload
STREAM_NAMESPACES: frozenset[str | None] = frozenset({None, NS_CLIENT, NS_SERVER, COMPONENT_NS})
STANZA_KINDS: frozenset[str] = frozenset({"message", "iq", "presence"})
#: the ``type`` values each kind may carry (RFC 6120 and 6121)
STANZA_TYPES: dict[str, frozenset[str]] = {
    "message": frozenset({"normal", "chat", "groupchat", "headline", "error"}),
    "presence": frozenset(
        {"unavailable", "subscribe", "subscribed", "unsubscribe", "unsubscribed", "probe", "error"}
    ),
    "iq": frozenset({"get", "set", "result", "error"}),
}
#: what the component link does with a ``from`` outside its domain (``gateway.component.from``)
FROM_POLICIES: tuple[str, ...] = ("pass", "rewrite", "reject")

#: defaults that match gateway.limits
DEFAULT_MAX_BYTES = 1048576
DEFAULT_MAX_DEPTH = 64


class InvalidStanza(BadRequest):
    """Text or an element that cannot be sent as a stanza."""


class UnreadableStanza(InvalidStanza):
    """Text refused before it is looked at as a stanza.

    ``reason`` is :class:`gateway.safexml.XmlRejected`'s word (``size``,
    ``malformed``, ``doctype``, ``depth``) or ``empty`` for blank text;
    ``detail`` is the parser's own sentence.
    """

    def __init__(self, message: str, reason: str, detail: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.detail = detail


class ForeignNamespace(InvalidStanza):
    """A message, iq or presence element in a namespace that is not a stream's."""

    def __init__(self, kind: str, namespace: str) -> None:
        super().__init__(f"<{kind}/> is in the foreign namespace {namespace!r}")
        self.kind = kind
        self.namespace = namespace


class FromRefused(BadRequest):
    """The ``from`` policy is ``reject`` and the stanza's sender is outside the component."""


@dataclass(frozen=True, slots=True)
class Stanza:
    """A stanza that passed the checks, and what they found.

    Made by :func:`read_stanza` and :func:`check_stanza`, or by code that
    built the element itself from prepared JIDs (the stanza commands).  The
    element is not changed by anyone it is handed to.
    """

    element: etree._Element
    #: ``message``, ``iq`` or ``presence``
    kind: str
    #: the ``type`` attribute, ``None`` when absent
    type: str | None
    #: the ``to`` JID, prepared, ``None`` when absent
    to: str | None
    #: the ``from`` JID, prepared, ``None`` when absent
    sender: str | None


# -- parsing and checking ------------------------------------------------------------------------


def parse_xml(
    data: str | bytes,
    *,
    max_bytes: int | None = DEFAULT_MAX_BYTES,
    max_depth: int = DEFAULT_MAX_DEPTH,
) -> etree._Element:
    """Parse one XML element with :func:`gateway.safexml.parse` (``max_bytes=None``: no limit).

    Raises:
        UnreadableStanza: too large, not well-formed (or empty), carrying a DOCTYPE, or too deep.
    """
    try:
        return safexml.parse(data, max_bytes=max_bytes, max_depth=max_depth)
    except safexml.XmlRejected as e:
        reason = "empty" if e.reason == "malformed" and not data.strip() else e.reason
        raise UnreadableStanza(
            _unreadable(reason, e, max_bytes, max_depth), reason, str(e)
        ) from None


def _unreadable(reason: str, e: safexml.XmlRejected, max_bytes: int | None, max_depth: int) -> str:
    """The stanza-worded message for a refusal of the safe parser."""
    if reason == "size":
        return f"the stanza is larger than {max_bytes} bytes"
    if reason == "doctype":
        return "a DOCTYPE is not accepted in a stanza"
    if reason == "depth":
        return f"the stanza is nested deeper than {max_depth} elements"
    if reason == "empty":
        return "the stanza is empty"
    return f"the stanza is {e}"  # "not well-formed XML: ..."


def stanza_kind(root: etree._Element) -> str:
    """What stanza ``root`` is (``message``, ``iq`` or ``presence``), in a stream namespace.

    Raises:
        InvalidStanza: another element (:class:`ForeignNamespace`: in another namespace).
    """
    if not isinstance(root.tag, str):
        raise InvalidStanza("the stanza is not an element")
    name = etree.QName(root)
    if name.localname not in STANZA_KINDS:
        raise InvalidStanza(f"<{name.localname}/> is not a stanza (message, iq or presence)")
    if name.namespace not in STREAM_NAMESPACES:
        raise ForeignNamespace(name.localname, name.namespace or "")
    return name.localname


def check_stanza(root: etree._Element, *, strict: bool = False) -> Stanza:
    """Check ``root`` as a stanza: its kind and namespace, then ``to`` and ``from``.

    ``strict`` also refuses what ejabberd's stanza codec refuses: a ``type``
    the kind does not have, an ``<iq/>`` without ``type`` or ``id``.

    Raises:
        InvalidStanza: the first check that failed.
    """
    kind = stanza_kind(root)
    type_ = root.get("type")
    if strict:
        if type_ is not None and type_ not in STANZA_TYPES[kind]:
            allowed = ", ".join(sorted(STANZA_TYPES[kind]))
            raise InvalidStanza(
                f"type {type_!r} is not valid for <{kind}/>; expected one of {allowed}"
            )
        if kind == "iq":
            if type_ is None:
                raise InvalidStanza("an <iq/> needs a 'type' attribute")
            if root.get("id") is None:
                raise InvalidStanza("an <iq/> needs an 'id' attribute")
    return Stanza(
        element=root,
        kind=kind,
        type=type_,
        to=_jid_attribute(root, "to"),
        sender=_jid_attribute(root, "from"),
    )


def read_stanza(
    data: str | bytes,
    *,
    max_bytes: int | None = DEFAULT_MAX_BYTES,
    max_depth: int = DEFAULT_MAX_DEPTH,
    strict: bool = False,
) -> Stanza:
    """Parse ``data`` (:func:`parse_xml`) and check it (:func:`check_stanza`).

    Raises:
        InvalidStanza: :class:`UnreadableStanza` for text that is not safe,
            well-formed XML, else the first check that failed.
    """
    return check_stanza(parse_xml(data, max_bytes=max_bytes, max_depth=max_depth), strict=strict)


def _jid_attribute(root: etree._Element, attribute: str) -> str | None:
    text = root.get(attribute)
    if text is None:
        return None
    try:
        return parse_jid(text).full()
    except ValueError as e:
        raise InvalidStanza(f"'{attribute}' is not a valid JID: {e}") from None


def default_ns(namespace: str) -> Any:
    """An lxml ``nsmap`` declaring ``namespace`` as the default (typed loosely for lxml-stubs)."""
    return {None: namespace}


# -- JIDs ----------------------------------------------------------------------------------------


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


# -- the component's from policy -----------------------------------------------------------------


def from_policy(stanza: Stanza, component: str, policy: str) -> str:
    """The ``from`` the component link writes on ``stanza``, as its policy says.

    A stanza with no ``from`` gets the component JID.  Otherwise a sender
    inside the component's domain is always kept (as written); one outside
    it is kept (``pass``), replaced by the component JID (``rewrite``) or
    refused (``reject``).  ``component`` is the prepared component JID.

    Raises:
        FromRefused: ``reject`` and the sender is outside the component's domain.
    """
    written = stanza.element.get("from")
    if stanza.sender is None or written is None:
        return component
    if policy == "pass" or _host(stanza.sender) == _host(component):
        return written
    if policy == "rewrite":
        return component
    raise FromRefused(
        f"the sender {written} is outside the component domain {component}, "
        "and the link's from policy is 'reject'"
    )


def _host(prepared_jid: str) -> str:
    """The domain of a prepared JID (no preparation again)."""
    bare = prepared_jid.partition("/")[0]
    return bare.rpartition("@")[2]
