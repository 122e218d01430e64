"""A stanza posted to mod_rest: read by :mod:`gateway.stanza`, refused in mod_rest's words.

:func:`gateway.stanza.read_stanza` parses the body safely (no entities, DTD
or network; a DOCTYPE is refused outright; comments and processing
instructions, which XMPP streams may not carry, are dropped; the element
depth is bounded; the size is bounded before this module sees the body) and
checks it as strictly as ejabberd's codec would.  This module words its
refusals as mod_rest does, and applies mod_rest's options.

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

from gateway.stanza import ForeignNamespace, InvalidStanza, Stanza, UnreadableStanza, read_stanza

__all__ = [
    "CODEC_ERROR",
    "REJECTED",
    "NotAStanza",
    "Refused",
    "Rejected",
    "check_policy",
    "parse_stanza",
]

REJECTED = "Error: REST request is rejected by service."
CODEC_ERROR = "Error: xmpp_codec"


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


#: mod_rest's words for a body the safe parser refuses, by its reason
_REJECTED = {
    "malformed": "the body is {detail}",
    "empty": "the body is {detail}",
    "doctype": "a DOCTYPE is not accepted in a stanza",
    "depth": "the stanza is nested deeper than {depth} elements",
    "size": "the stanza is too large",
}


def parse_stanza(body: bytes, *, max_depth: int) -> Stanza:
    """Parse and check a posted stanza (thread-safe, for offloading).

    Raises:
        Rejected: not well-formed, a DOCTYPE, or nested deeper than ``max_depth``.
        NotAStanza: not a message, iq or presence ejabberd's codec would accept.
    """
    try:
        return read_stanza(body, max_bytes=None, max_depth=max_depth, strict=True)
    except UnreadableStanza as e:
        raise Rejected(_REJECTED[e.reason].format(detail=e.detail, depth=max_depth)) from None
    except ForeignNamespace as e:
        raise NotAStanza(f"<{e.kind}/> is in the unknown namespace {e.namespace!r}") from None
    except InvalidStanza as e:
        raise NotAStanza(e.message) from None


def check_policy(
    stanza: Stanza,
    allowed_destinations: Collection[str] | None,
    allowed_stanza_types: Collection[str] | None,
) -> None:
    """Apply ``allowed_stanza_types`` and ``allowed_destinations`` (``None`` allows all).

    Destinations match the prepared ``to`` exactly: a bare JID in the list
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
