"""What the served host offers the component: its ad-hoc command nodes (XEP-0030 items)."""

from __future__ import annotations

from lxml import etree

from gateway.backends.xmpp.adhoc import NS_COMMANDS
from gateway.backends.xmpp.requests import IqRequests
from gateway.stanza import default_ns

__all__ = ["NS_DISCO_ITEMS", "command_nodes"]

NS_DISCO_ITEMS = "http://jabber.org/protocol/disco#items"


async def command_nodes(requests: IqRequests, host: str) -> frozenset[str]:
    """The nodes ``host`` lists under ``http://jabber.org/protocol/commands`` for us.

    Only items on ``host`` itself count (a command elsewhere would run elsewhere).

    Raises:
        StanzaError: the server refused the query.
    """
    query = etree.Element(f"{{{NS_DISCO_ITEMS}}}query", nsmap=default_ns(NS_DISCO_ITEMS))
    query.set("node", NS_COMMANDS)
    answer = await requests.send("get", host, query)
    found = answer.find(f"{{{NS_DISCO_ITEMS}}}query")
    if found is None:
        return frozenset()
    return frozenset(
        item.get("node", "")
        for item in found.iterchildren(f"{{{NS_DISCO_ITEMS}}}item")
        if item.get("node") and item.get("jid", host).lower() == host
    )
