"""The stanza commands an external component can honestly perform.

``send_message``, ``send_stanza``, ``send_stanza_c2s`` and
``send_direct_invitation`` build stanzas and hand them to the component
link; each answers success (rescode ``True``) once its stanzas are durably
queued, like mod_rest's ``Ok``: delivery itself is not awaited.

Where a component differs from ejabberd:

- the server runs ``component_send_packet`` instead of ``user_send_packet``,
  so sender-side hooks (MAM, carbons) do not fire;
- whether ``from`` survives depends on the link's ``from`` policy and on the
  server allowing it (ejabberd's ``check_from: false``);
- ``send_stanza_c2s`` cannot check that the session exists: the stanza is
  sent from that full JID whether or not it is online;
- ``send_direct_invitation`` cannot see who is in the room, so it invites
  every listed user (ejabberd skips current occupants).
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Protocol

from lxml import etree
from twisted.internet.defer import Deferred, ensureDeferred
from twisted.words.protocols.jabber.jid import JID

from gateway.engine.errors import CommandFailed
from gateway.engine.model import Caller
from gateway.stanza import (
    DEFAULT_MAX_DEPTH,
    NS_CLIENT,
    InvalidStanza,
    Stanza,
    default_ns,
    jid_from_parts,
    parse_jid,
    parse_xml,
    stanza_kind,
)

__all__ = ["MESSAGE_TYPES", "NS_CONFERENCE", "StanzaCommands", "StanzaSubmitter"]

MESSAGE_TYPES = frozenset({"normal", "chat", "headline", "groupchat"})
NS_CONFERENCE = "jabber:x:conference"
#: ejabberd's default c2s max_stanza_size; a stanza argument is never larger
DEFAULT_MAX_STANZA_BYTES = 262144


class StanzaSubmitter(Protocol):
    """The part of the component link the commands use."""

    def submit(self, stanza: Stanza) -> Deferred[None]: ...


class StanzaCommands:
    """Executor ``xmpp`` for the stanza commands.

    Args:
        link: the component link, or ``None`` when no component is
            configured (then nothing is supported, and the engine answers
            "not supported").
        max_bytes, max_depth: limits for the ``stanza`` argument.
    """

    name = "xmpp"

    def __init__(
        self,
        link: StanzaSubmitter | None,
        *,
        max_bytes: int = DEFAULT_MAX_STANZA_BYTES,
        max_depth: int = DEFAULT_MAX_DEPTH,
    ) -> None:
        self._link = link
        self._max_bytes = max_bytes
        self._max_depth = max_depth
        self._commands: dict[str, Callable[[Mapping[str, Any]], list[Stanza]]] = {
            "send_message": self._send_message,
            "send_stanza": self._send_stanza,
            "send_stanza_c2s": self._send_stanza_c2s,
            "send_direct_invitation": self._send_direct_invitation,
        }

    def supports(self, command: str) -> bool:
        return self._link is not None and command in self._commands

    def execute(self, command: str, args: Mapping[str, Any], caller: Caller) -> Deferred[Any]:
        return ensureDeferred(self._run(command, args))

    async def _run(self, command: str, args: Mapping[str, Any]) -> bool:
        link = self._link
        if link is None or command not in self._commands:
            raise CommandFailed(f"the xmpp executor cannot run {command}")
        stanzas = self._commands[command](args)
        for stanza in stanzas:
            submitted: Awaitable[None] = link.submit(stanza)
            await submitted
        return True

    # -- the commands ----------------------------------------------------------

    def _send_message(self, args: Mapping[str, Any]) -> list[Stanza]:
        kind = str(args["type"])
        if kind and kind not in MESSAGE_TYPES:
            raise CommandFailed(
                f"invalid message type '{kind}': expected normal, chat, headline or groupchat"
            )
        message = _client_element("message")
        # ejabberd decodes the message it builds: 'from' is checked before 'to'
        sender = _jid_argument(args["from"], _bad_message_attribute("from"))
        to = _jid_argument(args["to"], _bad_message_attribute("to"))
        message.set("to", to.full())
        message.set("from", sender.full())
        if kind:
            message.set("type", kind)
        message.set("id", _random_id())
        # like ejabberd: an empty subject or body is left out
        for child in ("subject", "body"):
            text = str(args[child])
            if text:
                etree.SubElement(message, f"{{{NS_CLIENT}}}{child}").text = text
        return [_addressed(message, "message", sender, to)]

    def _send_stanza(self, args: Mapping[str, Any]) -> list[Stanza]:
        stanza, kind = self._parse_stanza(args["stanza"])
        sender = _jid_argument(args["from"], JID_MALFORMED)
        to = _jid_argument(args["to"], JID_MALFORMED)
        stanza.set("from", sender.full())
        stanza.set("to", to.full())
        return [_addressed(stanza, kind, sender, to)]

    def _send_stanza_c2s(self, args: Mapping[str, Any]) -> list[Stanza]:
        try:
            sender = jid_from_parts(str(args["user"]), str(args["host"]), str(args["resource"]))
        except ValueError:
            raise CommandFailed("JID malformed") from None
        if sender.user is None or sender.resource is None:
            raise CommandFailed("JID malformed: user and resource are required")
        stanza, kind = self._parse_stanza(args["stanza"])
        if not stanza.get("to"):
            raise CommandFailed("the stanza has no 'to' attribute")
        to = _jid_argument(stanza.get("to", ""))
        stanza.set("from", sender.full())
        return [_addressed(stanza, kind, sender, to)]

    def _send_direct_invitation(self, args: Mapping[str, Any]) -> list[Stanza]:
        try:
            room: JID | None = jid_from_parts(str(args["room"]), str(args["service"]))
        except ValueError:
            room = None
        if room is None or not room.user:
            raise CommandFailed("Invalid 'roomname' or 'service'")
        password = _optional_text(args["password"])
        reason = _optional_text(args["reason"])
        users = args["users"]
        if isinstance(users, str):  # the version 0 shape: JIDs joined by ':'
            users = [u for u in users.split(":") if u]
        invitations = []
        for user in users:
            target = _jid_argument(user)
            if not target.user:  # ejabberd skips server JIDs
                continue
            message = _client_element("message")
            message.set("from", room.userhost())
            message.set("to", target.full())
            message.set("id", _random_id())
            invite = etree.SubElement(
                message, f"{{{NS_CONFERENCE}}}x", nsmap=default_ns(NS_CONFERENCE)
            )
            invite.set("jid", room.userhost())
            if password:
                invite.set("password", password)
            if reason:
                invite.set("reason", reason)
            invitations.append(_addressed(message, "message", room, target))
        return invitations

    def _parse_stanza(self, text: Any) -> tuple[etree._Element, str]:
        """The ``stanza`` argument parsed, and its kind; its addresses are set by the command."""
        try:
            root = parse_xml(str(text), max_bytes=self._max_bytes, max_depth=self._max_depth)
            return root, stanza_kind(root)
        except InvalidStanza as e:
            raise CommandFailed(f"invalid stanza: {e.message}") from None


def _client_element(name: str) -> etree._Element:
    return etree.Element(f"{{{NS_CLIENT}}}{name}", nsmap=default_ns(NS_CLIENT))


def _addressed(element: etree._Element, kind: str, sender: JID, to: JID) -> Stanza:
    """``element``, whose ``from`` and ``to`` were set from ``sender`` and ``to``, as a Stanza.

    The JIDs are prepared already, so nothing is left to check.
    """
    return Stanza(element, kind, element.get("type"), to=to.full(), sender=sender.full())


#: ejabberd's send_stanza text for a from or to that is no JID
JID_MALFORMED = "JID malformed"


def _bad_message_attribute(name: str) -> str:
    """ejabberd's send_message text for a ``from`` or ``to`` that is no JID (its decoder's)."""
    return f"Bad value of attribute '{name}' in tag <message/> qualified by namespace '{NS_CLIENT}'"


def _jid_argument(value: Any, malformed: str | None = None) -> JID:
    """``value`` parsed as a JID; ``malformed`` (by default one naming it) when it is none."""
    try:
        return parse_jid(str(value))
    except ValueError:
        raise CommandFailed(malformed or f"JID malformed: '{value}'") from None


def _optional_text(value: Any) -> str:
    """ejabberd's convention: ``none`` (or empty) means "leave it out"."""
    text = str(value)
    return "" if text == "none" else text


def _random_id() -> str:
    return secrets.token_hex(8)
