"""IQ requests to the served host: a bounded number in flight, each with a timeout.

Every request of the backend goes through :class:`IqRequests`, which writes the
IQ as text to the :class:`~gateway.backends.interfaces.IqChannel`, parses the
answer with the safe parser and turns the ways it can fail into engine errors:
a link that is down is :class:`~gateway.engine.errors.Unavailable`, no answer
in time is :class:`~gateway.engine.errors.GatewayTimeout`, and an IQ error is a
:class:`StanzaError` the command mapping words for its caller.
"""

from __future__ import annotations

import itertools

from lxml import etree
from twisted.internet.defer import CancelledError, DeferredSemaphore, TimeoutError
from twisted.internet.interfaces import IReactorTime

from gateway.backends.interfaces import IqChannel
from gateway.engine.errors import GatewayTimeout, InternalError, Unavailable
from gateway.stanza import NS_CLIENT, InvalidStanza, default_ns, parse_xml

__all__ = ["NS_STANZAS", "IqRequests", "StanzaError", "stanza_error"]

NS_STANZAS = "urn:ietf:params:xml:ns:xmpp-stanzas"


class StanzaError(Exception):
    """The server answered an IQ with an error: its condition, type and text."""

    def __init__(self, condition: str, kind: str = "cancel", text: str = "") -> None:
        super().__init__(f"{condition}: {text}" if text else condition)
        self.condition = condition
        self.kind = kind
        self.text = text

    def describe(self) -> str:
        """The condition, with the server's text when it gave one."""
        return f"{self.condition} ({self.text})" if self.text else self.condition


def stanza_error(iq: etree._Element) -> StanzaError:
    """The :class:`StanzaError` an ``<iq type='error'/>`` carries."""
    condition, kind, text = "undefined-condition", "cancel", ""
    for error in iq.iterchildren("{*}error"):
        kind = error.get("type", kind)
        for child in error:
            if not isinstance(child.tag, str) or etree.QName(child).namespace != NS_STANZAS:
                continue
            name = etree.QName(child).localname
            if name == "text":
                text = child.text or ""
            else:
                condition = name
    return StanzaError(condition, kind, text)


class IqRequests:
    """Sends IQs to the served host and the users on it.

    Args:
        channel: the component link (or a process forwarding to it).
        host: the served host, named in error messages.
        clock: times the wait for a free slot.
        timeout: seconds one IQ may wait for its answer (and, before that, for a slot).
        max_in_flight: IQs awaiting their answer at once; more wait for a slot.
    """

    def __init__(
        self,
        channel: IqChannel,
        host: str,
        clock: IReactorTime,
        *,
        timeout: float,
        max_in_flight: int,
    ) -> None:
        if max_in_flight < 1:
            raise ValueError("max_in_flight must be at least 1")
        self.host = host
        self.timeout = timeout
        self._channel = channel
        self._clock = clock
        self._slots = DeferredSemaphore(max_in_flight)
        self._ids = itertools.count(1)

    async def send(self, kind: str, to: str, payload: etree._Element) -> etree._Element:
        """Send ``<iq type=kind to=to>payload</iq>``; the ``result`` IQ that answers it.

        Raises:
            StanzaError: the server answered with an error.
            Unavailable: the link is down, or went down before the answer.
            GatewayTimeout: no free slot, or no answer, within the timeout.
        """
        iq = etree.Element(f"{{{NS_CLIENT}}}iq", nsmap=default_ns(NS_CLIENT))
        iq.set("type", kind)
        iq.set("to", to)
        iq.set("id", f"xb-{next(self._ids)}")
        iq.append(payload)
        text = etree.tostring(iq, encoding="unicode")
        waiting = self._slots.acquire().addTimeout(self.timeout, self._clock)
        try:
            await waiting
        except (TimeoutError, CancelledError):
            raise GatewayTimeout(
                f"the xmpp backend had no free request slot for {self.timeout:g} s"
                f" ({self._slots.limit} requests to {self.host} in flight)"
            ) from None
        try:
            answer_text = await self._channel.iq(text, self.timeout)
        except TimeoutError:
            raise GatewayTimeout(
                f"the XMPP server {self.host} did not answer within {self.timeout:g} s"
            ) from None
        finally:
            self._slots.release()
        try:
            answer = parse_xml(answer_text, max_bytes=None)
        except InvalidStanza:
            raise InternalError() from None
        if answer.get("type") == "error":
            raise stanza_error(answer)
        if answer.get("type") != "result":
            raise Unavailable(f"the XMPP server {self.host} sent an unexpected answer")
        return answer
