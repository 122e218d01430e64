"""XEP-0356 Privileged Entity: rosters of the served host's users, messages sent as them.

The server announces what it grants in a ``<message/>`` carrying
``<privilege/>`` right after the component connects: ejabberd 23.01 in
``urn:xmpp:privilege:1``, prosody-modules' ``mod_privilege`` in
``urn:xmpp:privilege:2``; both are read, and the namespace the server used is
the one we write in.

- ``get_roster``, ``add_rosteritem`` and ``delete_rosteritem`` are roster
  IQs from the component to the user's bare JID (``roster`` permission
  ``get``/``set``/``both``).  ejabberd 23.01 grants ``set`` but fails every
  roster set from a component (its mod_roster looks up its options for the
  component's domain; fixed in later releases): such a failure marks roster
  changes as unavailable until the next stream.
- :class:`PrivilegedSender` wraps a message whose sender is an account of the
  served host in ``<privilege><forwarded/></privilege>`` to the server
  (``message`` permission ``outgoing``), so the server sends it as that user.
  Both servers accept only a bare JID as that sender.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from lxml import etree
from twisted.internet.defer import Deferred

from gateway.backends.xmpp.requests import IqRequests, StanzaError
from gateway.backends.xmpp.texts import NotOffered, local_jid, not_served, unknown_user
from gateway.engine.errors import CommandError, CommandFailed
from gateway.stanza import COMPONENT_NS, NS_CLIENT, Stanza, default_ns, parse_jid, parse_xml
from gateway.xmpp.commands import StanzaSubmitter
from gateway.xmpp.wire import restamp

__all__ = [
    "NS_FORWARD",
    "NS_PRIVILEGE_1",
    "NS_PRIVILEGE_2",
    "NS_ROSTER",
    "PrivilegedSender",
    "Privileges",
    "RosterCommands",
    "read_privileges",
]

NS_PRIVILEGE_1 = "urn:xmpp:privilege:1"
NS_PRIVILEGE_2 = "urn:xmpp:privilege:2"
NS_FORWARD = "urn:xmpp:forward:0"
NS_ROSTER = "jabber:iq:roster"
SUBSCRIPTIONS = ("none", "from", "to", "both")

#: one ``get_roster`` contact: jid, nick, subscription, pending, groups
RosterEntry = tuple[str, str, str, str, list[str]]


@dataclass(frozen=True, slots=True)
class Privileges:
    """What the server granted: ``roster`` (none/get/set/both), ``message`` (none/outgoing)."""

    namespace: str = NS_PRIVILEGE_2
    roster: str = "none"
    message: str = "none"
    presence: str = "none"

    @property
    def roster_get(self) -> bool:
        return self.roster in ("get", "both")

    @property
    def roster_set(self) -> bool:
        return self.roster in ("set", "both")

    @property
    def message_outgoing(self) -> bool:
        return self.message == "outgoing"

    def describe(self) -> str:
        return f"roster {self.roster}, message {self.message}, presence {self.presence}"


NONE = Privileges()


def read_privileges(message_xml: str, host: str) -> Privileges | None:
    """The privileges a server's ``<message/>`` announces, ``None`` when it announces none.

    Only the served host itself may grant them.
    """
    try:
        message = parse_xml(message_xml)
        sender = parse_jid(message.get("from", ""))
    except (CommandError, ValueError):
        return None
    if sender.full() != host:
        return None
    for namespace in (NS_PRIVILEGE_2, NS_PRIVILEGE_1):
        privilege = message.find(f"{{{namespace}}}privilege")
        if privilege is None:
            continue
        granted = {
            perm.get("access", ""): perm.get("type", "none")
            for perm in privilege.iterchildren(f"{{{namespace}}}perm")
        }
        return Privileges(
            namespace,
            roster=granted.get("roster", "none"),
            message=granted.get("message", "none"),
            presence=granted.get("presence", "none"),
        )
    return None


class RosterCommands:
    """``get_roster``, ``add_rosteritem``, ``delete_rosteritem`` through roster IQs."""

    def __init__(self, requests: IqRequests, host: str) -> None:
        self._requests = requests
        self._host = host
        #: why roster sets fail on this server, once one has failed so (``None``: they work)
        self.set_broken: str | None = None

    async def get_roster(self, args: Mapping[str, Any]) -> list[RosterEntry]:
        if local_jid("x", args["host"], self._host) is None:
            raise not_served()
        jid = local_jid(args["user"], args["host"], self._host)
        if jid is None:  # like the store: no such account, no contacts
            return []
        owner = jid.userhost()
        query = etree.Element(f"{{{NS_ROSTER}}}query", nsmap=default_ns(NS_ROSTER))
        answer = await self._ask("get", owner, query)
        items = []
        found = answer.find(f"{{{NS_ROSTER}}}query")
        for item in found.iterchildren(f"{{{NS_ROSTER}}}item") if found is not None else ():
            groups = sorted(g.text or "" for g in item.iterchildren(f"{{{NS_ROSTER}}}group"))
            # the embedded store's pending: "subscribe" while our request waits
            pending = "subscribe" if item.get("ask") == "subscribe" else "undefined"
            items.append(
                (
                    item.get("jid", ""),
                    item.get("name", ""),
                    item.get("subscription", "none"),
                    pending,
                    groups,
                )
            )
        return sorted(items, key=lambda i: i[0])

    async def add_rosteritem(self, args: Mapping[str, Any]) -> bool:
        owner = self._owner(args["localuser"], args["localhost"])
        contact = _contact(args["user"], args["host"])
        subs = args["subs"]
        if subs not in SUBSCRIPTIONS:
            raise CommandFailed(f"Invalid subscription '{subs}': use none, from, to or both")
        query = etree.Element(f"{{{NS_ROSTER}}}query", nsmap=default_ns(NS_ROSTER))
        item = etree.SubElement(query, f"{{{NS_ROSTER}}}item")
        item.set("jid", contact)
        if args["nick"]:
            item.set("name", args["nick"])
        item.set("subscription", subs)
        for group in dict.fromkeys(g for g in args["groups"] if g):
            etree.SubElement(item, f"{{{NS_ROSTER}}}group").text = group
        await self._ask("set", owner, query)
        return True

    async def delete_rosteritem(self, args: Mapping[str, Any]) -> bool:
        owner = self._owner(args["localuser"], args["localhost"])
        contact = _contact(args["user"], args["host"])
        query = etree.Element(f"{{{NS_ROSTER}}}query", nsmap=default_ns(NS_ROSTER))
        item = etree.SubElement(query, f"{{{NS_ROSTER}}}item")
        item.set("jid", contact)
        item.set("subscription", "remove")
        await self._ask("set", owner, query)
        return True

    def _owner(self, user: str, host: str) -> str:
        if local_jid("x", host, self._host) is None:
            raise not_served()
        jid = local_jid(user, host, self._host)
        if jid is None:
            raise unknown_user()
        return jid.userhost()

    async def _ask(self, kind: str, owner: str, query: etree._Element) -> etree._Element:
        try:
            return await self._requests.send(kind, owner, query)
        except StanzaError as e:
            if e.condition == "item-not-found":
                # Prosody: removing a contact that is not there; ejabberd succeeds then
                if kind == "set" and _is_removal(query):
                    return query
                raise unknown_user() from None
            if kind == "set" and e.condition == "internal-server-error":
                self.set_broken = (
                    "the server fails XEP-0356 roster changes"
                    f" ({e.describe()}; ejabberd 23.01 does so for every component)"
                )
                raise NotOffered(_command_of(query), self._host, self.set_broken) from None
            if e.condition in ("forbidden", "not-authorized"):
                raise CommandFailed(
                    f"The XMPP server {self._host} does not let the gateway"
                    f" {'read' if kind == 'get' else 'change'} {owner}'s roster:"
                    f" {e.describe()}"
                ) from None
            raise CommandFailed(
                f"The XMPP server {self._host} refused the roster {kind} for {owner}:"
                f" {e.describe()}"
            ) from None


def _command_of(query: etree._Element) -> str:
    return "delete_rosteritem" if _is_removal(query) else "add_rosteritem"


def _is_removal(query: etree._Element) -> bool:
    return any(i.get("subscription") == "remove" for i in query)


def _contact(user: str, host: str) -> str:
    """The contact's bare JID; ejabberd's ``Invalid 'user'/'server'`` when malformed."""
    try:
        jid = parse_jid(f"{user}@{host}" if user else host)
    except ValueError:
        raise CommandFailed("Invalid 'user'/'server'") from None
    if jid.resource:
        raise CommandFailed("Invalid 'user'/'server'")
    return jid.userhost()


class PrivilegedSender:
    """A stanza submitter that sends messages as the served host's users when it may.

    A ``<message/>`` from a bare JID of the served host, while the server
    grants ``message: outgoing``, goes out wrapped for the server to send as
    that user; anything else goes out as it is (the link's ``from`` policy
    applies).  Wrapped or not, it takes the durable queue.

    Args:
        link: the component link.
        host: the served host.
        component: the component JID (the wrapper's sender).
        privileges: the privileges granted now (the backend's, read per stanza).
    """

    def __init__(
        self,
        link: StanzaSubmitter,
        host: str,
        component: str,
        privileges: Any,
    ) -> None:
        self._link = link
        self._host = host
        self._component = component
        self._privileges = privileges

    def submit(self, stanza: Stanza) -> Deferred[None]:
        granted: Privileges = self._privileges()
        if not (granted.message_outgoing and self._as_user(stanza)):
            return self._link.submit(stanza)
        return self._link.submit(wrap(stanza, self._host, self._component, granted.namespace))

    def _as_user(self, stanza: Stanza) -> bool:
        if stanza.kind != "message" or stanza.sender is None:
            return False
        try:
            sender = parse_jid(stanza.sender)
        except ValueError:
            return False
        return bool(sender.user) and not sender.resource and sender.host == self._host


def wrap(stanza: Stanza, host: str, component: str, namespace: str) -> Stanza:
    """``stanza`` (a message) inside ``<privilege><forwarded/></privilege>`` to ``host``."""
    outer = etree.Element(f"{{{COMPONENT_NS}}}message", nsmap=default_ns(COMPONENT_NS))
    outer.set("from", component)
    outer.set("to", host)
    privilege = etree.SubElement(outer, f"{{{namespace}}}privilege", nsmap=default_ns(namespace))
    forwarded = etree.SubElement(
        privilege, f"{{{NS_FORWARD}}}forwarded", nsmap=default_ns(NS_FORWARD)
    )
    # the forwarded stanza is a client's: its stanza chain in jabber:client
    forwarded.append(restamp(stanza.element, NS_CLIENT))
    return Stanza(outer, "message", None, to=host, sender=component)
