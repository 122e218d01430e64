"""``gateway.stanzas: upstream``: stanzas leave through the upstream's ``send_stanza``.

Instead of the component link's durable queue, each stanza posted to
``/rest`` or built by a ``send_*`` command is handed to the upstream ejabberd
at once; it is accepted when ejabberd has routed it, and refused with
ejabberd's own error (or the gateway's unavailable / timeout error) when it
has not, so nothing is reported sent that was not.  An IQ that waits for its
answer (``?wait=iq``) needs the component link: ``send_stanza`` does not
return the answer, so such a request is refused clearly.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from lxml import etree
from twisted.internet.defer import Deferred, fail

from gateway.engine.errors import CommandFailed
from gateway.stanza import Stanza, check_stanza

__all__ = ["UpstreamStanzas"]


class _Caller(Protocol):
    def call(
        self, name: str, args: Mapping[str, Any], *, version: int | None = None
    ) -> Deferred[Any]: ...


class UpstreamStanzas:
    """A stanza sink and submitter that forwards each stanza with ``send_stanza``.

    Args:
        client: the upstream ejabberd's API client.
        server: the JID a stanza without ``from`` is sent from (the first served host).
    """

    def __init__(self, client: _Caller, server: str) -> None:
        self._client = client
        self._server = server

    def submit(self, stanza: Stanza | Any, *, size: int | None = None) -> Deferred[None]:
        """Forward ``stanza``; fires once the upstream has accepted it."""
        if not isinstance(stanza, Stanza):
            stanza = check_stanza(stanza)
        sender = stanza.element.get("from") or self._server
        recipient = stanza.element.get("to") or self._server
        text = etree.tostring(stanza.element, encoding="unicode")
        sent = self._client.call("send_stanza", {"from": sender, "to": recipient, "stanza": text})
        return sent.addCallback(lambda _: None)

    def iq(self, stanza: Stanza, timeout: float, *, size: int | None = None) -> Deferred[str]:
        """Refused: the upstream's ``send_stanza`` does not hand back an IQ's answer."""
        return fail(
            CommandFailed(
                "waiting for an IQ's answer needs the component link; with "
                "gateway.stanzas: upstream the upstream's send_stanza does not return it"
            )
        )
