"""What the component answers on its own stream.

The component JID answers service discovery (disco#info), XEP-0199 ping and
XEP-0092 software version.  Every other IQ get/set (to the component or to a
JID in its domain) gets ``service-unavailable``.  IQ results and errors are
offered to the link, which matches them to the IQs it sent; stanza errors
nobody claims are bounces: logged and counted.  Other inbound messages and
presences are ignored (answering them could start an error loop).
"""

from __future__ import annotations

from collections.abc import Callable

from twisted.logger import Logger
from twisted.words.protocols.jabber import error, xmlstream
from twisted.words.xish import domish

from gateway.stanza import parse_jid

__all__ = [
    "FEATURES",
    "NS_DISCO_INFO",
    "NS_PING",
    "NS_VERSION",
    "InboundHandlers",
    "error_condition",
]

NS_DISCO_INFO = "http://jabber.org/protocol/disco#info"
NS_PING = "urn:xmpp:ping"
NS_VERSION = "jabber:iq:version"
FEATURES: tuple[str, ...] = (NS_DISCO_INFO, NS_PING, NS_VERSION)

log = Logger()


class InboundHandlers:
    """Observers for one authenticated component stream.

    Args:
        component: the component JID.
        software: name and version reported by XEP-0092 and disco#info.
        answer: offered every IQ result/error; returns True when it was the
            answer to an IQ the link sent.
        bounced: called with every stanza error nobody claimed.
    """

    def __init__(
        self,
        component: str,
        software: tuple[str, str],
        answer: Callable[[domish.Element], bool],
        bounced: Callable[[domish.Element], None],
    ) -> None:
        self._component = parse_jid(component)
        self._software = software
        self._answer = answer
        self._bounced = bounced

    def install(self, xs: xmlstream.XmlStream) -> None:
        """Start observing ``xs``."""
        xs.addObserver("/iq", self._on_iq, xs=xs)
        xs.addObserver("/message[@type='error']", self._on_error)
        xs.addObserver("/presence[@type='error']", self._on_error)

    def _on_iq(self, iq: domish.Element, xs: xmlstream.XmlStream) -> None:
        kind = iq.getAttribute("type")
        if kind in ("result", "error"):
            if not self._answer(iq) and kind == "error":
                self._on_error(iq)
            return
        if kind not in ("get", "set"):
            return
        xs.send(self._response(iq, kind))

    def _response(self, iq: domish.Element, kind: str) -> domish.Element:
        if not self._addressed_to_component(iq):
            return error.StanzaError("service-unavailable").toResponse(iq)
        payload = _first_child(iq)
        if kind == "get" and payload is not None:
            if payload.uri == NS_PING and payload.name == "ping":
                return xmlstream.toResponse(iq, "result")
            if payload.uri == NS_DISCO_INFO and payload.name == "query":
                if payload.getAttribute("node"):
                    return error.StanzaError("item-not-found").toResponse(iq)
                return self._disco_info(iq)
            if payload.uri == NS_VERSION and payload.name == "query":
                return self._version(iq)
        return error.StanzaError("service-unavailable").toResponse(iq)

    def _addressed_to_component(self, iq: domish.Element) -> bool:
        target = iq.getAttribute("to")
        if not target:
            return False
        try:
            jid = parse_jid(target)
        except ValueError:
            return False
        return jid.user is None and jid.host == self._component.host

    def _disco_info(self, iq: domish.Element) -> domish.Element:
        response = xmlstream.toResponse(iq, "result")
        query = response.addElement((NS_DISCO_INFO, "query"))
        identity = query.addElement("identity")
        identity["category"] = "component"
        identity["type"] = "generic"
        identity["name"] = self._software[0]
        for feature in FEATURES:
            query.addElement("feature")["var"] = feature
        return response

    def _version(self, iq: domish.Element) -> domish.Element:
        response = xmlstream.toResponse(iq, "result")
        query = response.addElement((NS_VERSION, "query"))
        query.addElement("name", content=self._software[0])
        query.addElement("version", content=self._software[1])
        return response

    def _on_error(self, stanza: domish.Element) -> None:
        self._bounced(stanza)


def error_condition(stanza: domish.Element) -> str:
    """The defined condition of an error stanza, ``"undefined-condition"`` when missing."""
    for child in stanza.elements():
        if child.name == "error":
            for condition in child.elements():
                if condition.uri == error.NS_XMPP_STANZAS and condition.name != "text":
                    return str(condition.name)
    return "undefined-condition"


def _first_child(element: domish.Element) -> domish.Element | None:
    for child in element.elements():
        return child
    return None
