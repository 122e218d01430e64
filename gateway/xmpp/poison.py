"""Poison stanzas: the queued stanza a server's stream error blames.

Some servers answer one stanza they refuse by closing the whole component
stream.  The link writes every unconfirmed stanza again after a reconnect, so
such a stanza would close every new stream too, and nothing queued behind it
would ever go out.  For the few stream errors that one stanza can cause, this
module names the stanza to blame, so that the link can take it out of the queue.

Only two conditions count, each with the test the server applies:

- ``invalid-from``: ejabberd (``check_from: true``, its default) and Prosody
  refuse a ``from`` whose domain is not the component's.  The blamed stanza
  is the first whose ``from`` is outside the component's domain.
- ``improper-addressing``: ejabberd refuses a stanza without a ``to`` from
  a component.  The blamed stanza is the first with no valid ``to``.

Other conditions (``invalid-namespace``, ``policy-violation``,
``not-well-formed`` ...) are about the stream, the connection or the
server's state, or cannot be pinned on one stanza we wrote; nothing is
blamed for them.  When no unconfirmed stanza fails the test either, nothing
is blamed: the error then came from elsewhere (such as an IQ that
``ComponentLink.iq`` wrote straight to the stream, which is never resent),
and dropping a stanza the server would have taken is worse than one more
reconnect.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from lxml import etree

from gateway.stanza import InvalidStanza, in_domain, parse_jid, parse_xml
from gateway.xmpp.wire import NS_ORIGIN_ID

__all__ = ["BLAMED_CONDITIONS", "Culprit", "advice", "find_culprit"]

# queued text was checked against the configured limits when it was accepted;
# these only keep a damaged row from costing more than that
_MAX_BYTES = 64 * 1024 * 1024
_MAX_DEPTH = 10000


def _foreign_from(root: etree._Element, component: str) -> bool:
    return not in_domain(root.get("from") or "", component)


def _unaddressed(root: etree._Element, component: str) -> bool:
    target = root.get("to")
    if not target:
        return True
    try:
        parse_jid(target)
    except ValueError:
        return True
    return False


_TESTS: dict[str, Callable[[etree._Element, str], bool]] = {
    "invalid-from": _foreign_from,
    "improper-addressing": _unaddressed,
}

_ADVICE = {
    "invalid-from": (
        "this server refuses senders outside the component's domain; "
        "set 'from: rewrite' (or 'reject') in the component section"
    ),
    "improper-addressing": "this server needs a valid 'to' on every stanza from a component",
}

#: the stream error conditions that one queued stanza can be blamed for
BLAMED_CONDITIONS = frozenset(_TESTS)


@dataclass(frozen=True, slots=True)
class Culprit:
    """The queued stanza blamed for a stream error, with what a log line needs."""

    #: its id in the outbound queue
    item_id: int
    #: message, iq or presence
    kind: str
    #: its ``id`` attribute
    stanza_id: str | None
    #: a message's XEP-0359 origin-id
    origin_id: str | None
    sender: str | None
    target: str | None


def advice(condition: str) -> str:
    """What an operator should change so that ``condition`` stops happening."""
    return _ADVICE.get(condition, "")


def find_culprit(
    condition: str, items: Iterable[tuple[int, str]], component: str
) -> Culprit | None:
    """The first of ``items`` (queue id, stanza text) that ``condition`` blames.

    ``items`` are the stanzas written to the stream that failed and not
    confirmed, in queue order.  ``None`` when ``condition`` blames no
    stanza, or when none of them fails the server's test.
    """
    test = _TESTS.get(condition)
    if test is None:
        return None
    for item_id, text in items:
        try:
            root = parse_xml(text, max_bytes=_MAX_BYTES, max_depth=_MAX_DEPTH)
        except InvalidStanza:
            # not something we wrote; it cannot be told apart from the others
            continue
        if test(root, component):
            return Culprit(
                item_id=item_id,
                kind=etree.QName(root).localname,
                stanza_id=root.get("id"),
                origin_id=_origin_id(root),
                sender=root.get("from"),
                target=root.get("to"),
            )
    return None


def _origin_id(root: etree._Element) -> str | None:
    marker = root.find(f"{{{NS_ORIGIN_ID}}}origin-id")
    return marker.get("id") if marker is not None else None
