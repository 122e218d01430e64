"""Reading and checking a stanza posted to mod_rest.

The body is parsed with lxml with entities, DTD loading and network access
off; a document that carries a DOCTYPE is refused outright (it is the only
way to declare entities), as are comments and processing instructions inside
the stanza, which XMPP streams may not carry (they are dropped while
parsing).  The element depth is bounded; the size is bounded before this
module sees the body.

Two kinds of refusal exist, after mod_rest:

- :class:`Rejected` (406 ``Error: REST request is rejected by service.``):
  the body is not well-formed XML or is refused for safety, or the stanza
  fails ``allowed_destinations`` / ``allowed_stanza_types``;
- :class:`NotAStanza` (500 ``Error: xmpp_codec``): well-formed XML that is
  not a stanza ejabberd's codec would read: another element, an unknown
  namespace, a missing or unknown ``type`` on an ``<iq/>``, a bad JID.

Both carry a one-line reason, our addition.  A stanza without ``from`` is
accepted (the component link gives it the component's JID); ejabberd
crashed on it with ``Error: badrecord``.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from lxml import etree

from gateway import safexml
from gateway.engine.identifiers import InvalidIdentifier, prepare_jid

__all__ = [
    "CODEC_ERROR",
    "REJECTED",
    "STANZA_KINDS",
    "NotAStanza",
    "Refused",
    "Rejected",
    "Stanza",
    "check_policy",
    "normalise_jid",
    "parse_stanza",
]

REJECTED = "Error: REST request is rejected by service."
CODEC_ERROR = "Error: xmpp_codec"

STANZA_KINDS: frozenset[str] = frozenset({"message", "iq", "presence"})
#: a posted stanza may name no namespace or any of the stanza namespaces
_NAMESPACES = frozenset({None, "jabber:client", "jabber:server", "jabber:component:accept"})
_TYPES: dict[str, frozenset[str]] = {
    "message": frozenset({"normal", "chat", "groupchat", "headline", "error"}),
    "presence": frozenset(
        {"unavailable", "subscribe", "subscribed", "unsubscribe", "unsubscribed", "probe", "error"}
    ),
    "iq": frozenset({"get", "set", "result", "error"}),
}


class Refused(Exception):
    """A posted stanza that is not forwarded; ``reason`` says why in one line."""

    status: int = 406
    first_line: str = REJECTED

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Rejected(Refused):
    """Refused by a safety rule or a mod_rest option: 406."""


class NotAStanza(Refused):
    """Well-formed XML that is not a readable stanza: 500 ``Error: xmpp_codec``."""

    status = 500
    first_line = CODEC_ERROR


@dataclass(frozen=True, slots=True)
class Stanza:
    """A parsed stanza that passed the codec checks."""

    element: etree._Element
    #: ``message``, ``iq`` or ``presence``
    kind: str
    #: the ``type`` attribute, ``None`` when absent
    type: str | None
    #: the ``to`` JID, normalised (stringprep), ``None`` when absent
    to: str | None
    #: the ``from`` JID, normalised, ``None`` when absent
    sender: str | None


_REJECTED = {
    "malformed": "the body is {detail}",
    "doctype": "a DOCTYPE is not accepted in a stanza",
    "depth": "the stanza is nested deeper than {depth} elements",
    "size": "the stanza is too large",
}


def parse_stanza(body: bytes, *, max_depth: int) -> Stanza:
    """Parse and check a posted stanza.

    Raises:
        Rejected: not well-formed, a DOCTYPE, or nested deeper than ``max_depth``.
        NotAStanza: not a message, iq or presence ejabberd's codec would accept.
    """
    try:
        root = safexml.parse(body, max_depth=max_depth)
    except safexml.XmlRejected as e:
        raise Rejected(_REJECTED[e.reason].format(detail=e, depth=max_depth)) from None
    name = etree.QName(root)
    if name.localname not in STANZA_KINDS:
        raise NotAStanza(f"<{name.localname}/> is not a stanza (message, iq or presence)")
    if name.namespace not in _NAMESPACES:
        raise NotAStanza(f"<{name.localname}/> is in the unknown namespace {name.namespace!r}")
    kind = name.localname
    type_ = root.get("type")
    if type_ is not None and type_ not in _TYPES[kind]:
        allowed = ", ".join(sorted(_TYPES[kind]))
        raise NotAStanza(f"type {type_!r} is not valid for <{kind}/>; expected one of {allowed}")
    if kind == "iq":
        if type_ is None:
            raise NotAStanza("an <iq/> needs a 'type' attribute")
        if root.get("id") is None:
            raise NotAStanza("an <iq/> needs an 'id' attribute")
    return Stanza(
        element=root,
        kind=kind,
        type=type_,
        to=_jid_attribute(root, "to"),
        sender=_jid_attribute(root, "from"),
    )


def check_policy(
    stanza: Stanza,
    allowed_destinations: Collection[str] | None,
    allowed_stanza_types: Collection[str] | None,
) -> None:
    """Apply ``allowed_stanza_types`` and ``allowed_destinations`` (``None`` allows all).

    Destinations match the normalised ``to`` exactly: a bare JID in the list
    does not admit its full JIDs.

    Raises:
        Rejected: the stanza's kind or destination is not allowed.
    """
    if allowed_stanza_types is not None and stanza.kind not in allowed_stanza_types:
        raise Rejected(f"<{stanza.kind}/> stanzas are not in allowed_stanza_types")
    if allowed_destinations is not None:
        if stanza.to is None:
            raise Rejected("the stanza has no 'to', and allowed_destinations is set")
        if stanza.to not in allowed_destinations:
            raise Rejected(f"{stanza.to} is not in allowed_destinations")


def _jid_attribute(root: etree._Element, attribute: str) -> str | None:
    text = root.get(attribute)
    if text is None:
        return None
    try:
        return normalise_jid(text)
    except ValueError as e:
        raise NotAStanza(f"'{attribute}' is not a valid JID: {e}") from None


def normalise_jid(text: str) -> str:
    """``text`` as a normalised JID string (:func:`gateway.engine.identifiers.prepare_jid`).

    Raises:
        ValueError: ``text`` is not a valid JID, too long included.
    """
    if not text:
        raise ValueError("empty")
    try:
        user, host, resource = prepare_jid(text)
    except InvalidIdentifier as e:
        raise ValueError(str(e)) from None
    bare = f"{user}@{host}" if user else host
    return f"{bare}/{resource}" if resource else bare
