"""The xmpp executor: send_message, send_stanza, send_stanza_c2s, send_direct_invitation."""

from __future__ import annotations

import json
from typing import Any

from lxml import etree
from twisted.internet.defer import Deferred, fail, succeed
from twisted.trial.unittest import SynchronousTestCase

from gateway.backends.interfaces import Executor
from gateway.engine.errors import CommandFailed, Unavailable
from gateway.engine.model import Caller
from gateway.stanza import Stanza
from gateway.xmpp.commands import NS_CONFERENCE, StanzaCommands
from tests.paths import REPO

CALLER = Caller(frontend="mod_http_api")
CATALOGUE = REPO / "gateway" / "catalogue" / "ejabberd-24.12.json"
COMMANDS = ("send_message", "send_stanza", "send_stanza_c2s", "send_direct_invitation")


class RecordingLink:
    """Keeps what is submitted; fails once ``capacity`` stanzas are held."""

    def __init__(self, capacity: int = 100) -> None:
        self.submitted: list[etree._Element] = []
        self.stanzas: list[Stanza] = []
        self.capacity = capacity

    def submit(self, stanza: Stanza) -> Deferred[None]:
        if len(self.submitted) >= self.capacity:
            return fail(Unavailable("the XMPP outbound queue is full (1 stanzas)"))
        self.submitted.append(stanza.element)
        self.stanzas.append(stanza)
        return succeed(None)


class StanzaCommandsTests(SynchronousTestCase):
    """Each command builds the stanzas ejabberd would and reports success once queued."""

    def setUp(self) -> None:
        self.link = RecordingLink()
        self.commands = StanzaCommands(self.link)

    def run_command(self, command: str, **args: Any) -> Any:
        return self.successResultOf(self.commands.execute(command, args, CALLER))

    def fails(self, command: str, **args: Any) -> str:
        failure = self.failureResultOf(self.commands.execute(command, args, CALLER), CommandFailed)
        return str(failure.value.message)

    def test_is_an_executor(self) -> None:
        """The executor is named xmpp and satisfies the Executor protocol."""
        self.assertIsInstance(self.commands, Executor)
        self.assertEqual(self.commands.name, "xmpp")
        self.assertTrue(all(self.commands.supports(c) for c in COMMANDS))
        self.assertFalse(self.commands.supports("register"))

    def test_unsupported_without_link(self) -> None:
        """With no component configured nothing is supported."""
        commands = StanzaCommands(None)
        self.assertFalse(any(commands.supports(c) for c in COMMANDS))

    def test_argument_names_match_catalogue(self) -> None:
        """The argument names used here are those of the newest 24.12 definitions."""
        definitions = json.loads(CATALOGUE.read_text())
        newest: dict[str, list[str]] = {}
        for entry in definitions:
            if entry["name"] in COMMANDS:
                newest[entry["name"]] = [a[0] for a in entry["args"]]
        self.assertEqual(newest["send_message"], ["type", "from", "to", "subject", "body"])
        self.assertEqual(newest["send_stanza"], ["from", "to", "stanza"])
        self.assertEqual(newest["send_stanza_c2s"], ["user", "host", "resource", "stanza"])
        self.assertEqual(
            newest["send_direct_invitation"], ["room", "service", "password", "reason", "users"]
        )

    def test_send_message(self) -> None:
        """send_message builds a jabber:client message with a random id, subject and body."""
        self.assertIs(
            self.run_command(
                "send_message",
                type="headline",
                **{"from": "admin@localhost"},
                to="user1@localhost",
                subject="Restart",
                body="In 5 minutes",
            ),
            True,
        )
        [message] = self.link.submitted
        self.assertEqual(message.tag, "{jabber:client}message")
        self.assertEqual(
            (message.get("type"), message.get("from"), message.get("to")),
            ("headline", "admin@localhost", "user1@localhost"),
        )
        self.assertTrue(message.get("id"))
        self.assertEqual(message.findtext("{jabber:client}subject"), "Restart")
        self.assertEqual(message.findtext("{jabber:client}body"), "In 5 minutes")

    def test_send_message_drops_empty_parts_and_new_ids(self) -> None:
        """An empty subject or body is left out; each message gets its own id."""
        common = {"type": "chat", "from": "a@localhost", "to": "b@localhost"}
        self.run_command("send_message", **common, subject="", body="hi")
        self.run_command("send_message", **common, subject="s", body="")
        first, second = self.link.submitted
        self.assertEqual([c.tag for c in first], ["{jabber:client}body"])
        self.assertEqual([c.tag for c in second], ["{jabber:client}subject"])
        self.assertNotEqual(first.get("id"), second.get("id"))

    def test_send_message_bad_type_and_jid(self) -> None:
        """An unknown type or a malformed JID is a command error; nothing is queued.  A
        malformed from or to gets the text ejabberd's message decoder gives, from first."""
        common = {"from": "a@localhost", "to": "b@localhost", "subject": "", "body": "x"}
        self.assertIn(
            "invalid message type 'shout'", self.fails("send_message", type="shout", **common)
        )
        bad = "Bad value of attribute '{}' in tag <message/> qualified by namespace 'jabber:client'"
        self.assertEqual(
            self.fails("send_message", type="chat", **{**common, "to": "a@@b"}), bad.format("to")
        )
        self.assertEqual(
            self.fails("send_message", type="chat", **{**common, "to": "not a jid"}),
            bad.format("to"),
        )
        self.assertEqual(
            self.fails("send_message", type="chat", **{**common, "from": "@@", "to": "@@"}),
            bad.format("from"),
        )
        self.assertEqual(self.link.submitted, [])

    def test_send_stanza_bad_jid(self) -> None:
        """A malformed from or to of send_stanza is ejabberd's "JID malformed"."""
        for sender, to in (("@@", "b@localhost"), ("a@localhost", "not a jid")):
            self.assertEqual(
                self.fails("send_stanza", **{"from": sender}, to=to, stanza="<message/>"),
                "JID malformed",
            )
        self.assertEqual(self.link.submitted, [])

    def test_send_stanza_overrides_from_and_to(self) -> None:
        """send_stanza keeps the payload and sets from and to from the arguments."""
        self.run_command(
            "send_stanza",
            **{"from": "admin@localhost"},
            to="user1@localhost",
            stanza="<message to='ignored@x' from='ignored@y'><ext attr='value'/></message>",
        )
        [stanza] = self.link.submitted
        self.assertEqual(
            (stanza.get("from"), stanza.get("to")), ("admin@localhost", "user1@localhost")
        )
        self.assertEqual(stanza[0].get("attr"), "value")

    def test_send_stanza_refuses_bad_xml(self) -> None:
        """Malformed XML, entities, non-stanzas and oversized text are command errors."""
        args = {"from": "a@localhost", "to": "b@localhost"}
        self.assertIn("not well-formed", self.fails("send_stanza", **args, stanza="<message>"))
        self.assertIn("not a stanza", self.fails("send_stanza", **args, stanza="<foo/>"))
        self.assertIn(
            "DOCTYPE",
            self.fails(
                "send_stanza",
                **args,
                stanza='<!DOCTYPE m [<!ENTITY e "x">]><message>&e;</message>',
            ),
        )
        small = StanzaCommands(self.link, max_bytes=20)
        failure = self.failureResultOf(
            small.execute(
                "send_stanza", {**args, "stanza": "<message>" + "x" * 30 + "</message>"}, CALLER
            ),
            CommandFailed,
        )
        self.assertIn("larger than 20 bytes", failure.value.message)
        self.assertEqual(self.link.submitted, [])

    def test_send_stanza_c2s_from_full_jid(self) -> None:
        """send_stanza_c2s sends the stanza from user@host/resource, keeping its to."""
        self.run_command(
            "send_stanza_c2s",
            user="admin",
            host="myserver.com",
            resource="bot",
            stanza="<message to='user1@localhost'><ext attr='value'/></message>",
        )
        [stanza] = self.link.submitted
        self.assertEqual(stanza.get("from"), "admin@myserver.com/bot")
        self.assertEqual(stanza.get("to"), "user1@localhost")

    def test_send_stanza_c2s_needs_resource_and_to(self) -> None:
        """A missing resource or a stanza without to is a command error."""
        stanza = "<message to='u@localhost'/>"
        self.assertIn(
            "JID malformed",
            self.fails("send_stanza_c2s", user="a", host="h", resource="", stanza=stanza),
        )
        self.assertIn(
            "no 'to'",
            self.fails("send_stanza_c2s", user="a", host="h", resource="r", stanza="<message/>"),
        )

    def test_stanzas_handed_over_checked(self) -> None:
        """The link gets each stanza with its kind and prepared addresses, nothing left to check."""
        to = {"to": "User1@LocalHost/Phone"}
        self.run_command("send_stanza", **{"from": "Admin@LocalHost"}, **to, stanza="<presence/>")
        [stanza] = self.link.stanzas
        self.assertEqual(
            (stanza.kind, stanza.type, stanza.to, stanza.sender),
            ("presence", None, "user1@localhost/Phone", "admin@localhost"),
        )
        self.assertEqual(stanza.element.get("from"), "admin@localhost")

    def test_send_direct_invitation(self) -> None:
        """One XEP-0249 invitation per user, from the room, carrying password and reason."""
        self.run_command(
            "send_direct_invitation",
            room="room1",
            service="conference.example.com",
            password="pw",
            reason="Check this out!",
            users=["user2@localhost", "user3@example.com", "example.org"],
        )
        self.assertEqual(
            [m.get("to") for m in self.link.submitted], ["user2@localhost", "user3@example.com"]
        )
        for message in self.link.submitted:
            self.assertEqual(message.get("from"), "room1@conference.example.com")
            [invite] = message
            self.assertEqual(invite.tag, f"{{{NS_CONFERENCE}}}x")
            self.assertEqual(
                dict(invite.attrib),
                {
                    "jid": "room1@conference.example.com",
                    "password": "pw",
                    "reason": "Check this out!",
                },
            )

    def test_send_direct_invitation_none_values(self) -> None:
        """Password and reason given as none (or empty) are left out."""
        self.run_command(
            "send_direct_invitation",
            room="r",
            service="conference.localhost",
            password="none",
            reason="",
            users=["a@localhost"],
        )
        [message] = self.link.submitted
        self.assertEqual(dict(message[0].attrib), {"jid": "r@conference.localhost"})

    def test_send_direct_invitation_errors(self) -> None:
        """A bad room or user JID is a command error."""
        common = {"password": "", "reason": "", "users": ["a@localhost"]}
        self.assertEqual(
            self.fails("send_direct_invitation", room="", service="c.localhost", **common),
            "Invalid 'roomname' or 'service'",
        )
        self.assertIn(
            "JID malformed",
            self.fails(
                "send_direct_invitation",
                room="r",
                service="c.localhost",
                password="",
                reason="",
                users=["a@@b"],
            ),
        )

    def test_queue_full_passes_through(self) -> None:
        """When the link refuses (queue full) the command fails with Unavailable."""
        self.link.capacity = 0
        self.failureResultOf(
            self.commands.execute(
                "send_message",
                {"type": "chat", "from": "a@h", "to": "b@h", "subject": "", "body": "x"},
                CALLER,
            ),
            Unavailable,
        )
