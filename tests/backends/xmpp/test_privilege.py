"""XEP-0356: reading the granted privileges, and messages sent as the host's users."""

from __future__ import annotations

from lxml import etree
from twisted.internet.defer import Deferred, succeed
from twisted.trial.unittest import SynchronousTestCase

from gateway.backends.xmpp.privilege import (
    NS_FORWARD,
    NS_PRIVILEGE_1,
    NS_PRIVILEGE_2,
    PrivilegedSender,
    Privileges,
    read_privileges,
)
from gateway.engine.model import Caller
from gateway.stanza import COMPONENT_NS, NS_CLIENT, Stanza, read_stanza
from gateway.xmpp.commands import StanzaCommands
from gateway.xmpp.wire import prepare_outbound

HOST = "localhost"
COMPONENT = "admin.localhost"


def announcement(namespace: str, sender: str = HOST, **perms: str) -> str:
    inner = "".join(f"<perm access='{k}' type='{v}'/>" for k, v in perms.items())
    return (
        f"<message xmlns='jabber:component:accept' from='{sender}' to='{COMPONENT}'>"
        f"<privilege xmlns='{namespace}'>{inner}</privilege></message>"
    )


class ReadTests(SynchronousTestCase):
    """Privilege announcements in both namespaces."""

    def test_both_namespaces(self) -> None:
        """ejabberd's :1 and Prosody's :2 announcements read the same, namespace kept."""
        for namespace in (NS_PRIVILEGE_1, NS_PRIVILEGE_2):
            granted = read_privileges(
                announcement(namespace, roster="both", message="outgoing", presence="none"), HOST
            )
            self.assertEqual(granted, Privileges(namespace, "both", "outgoing", "none"))
            assert granted is not None
            self.assertTrue(granted.roster_get and granted.roster_set and granted.message_outgoing)

    def test_partial_grants(self) -> None:
        """An access not mentioned is none; roster get does not allow set."""
        granted = read_privileges(announcement(NS_PRIVILEGE_2, roster="get"), HOST)
        assert granted is not None
        self.assertTrue(granted.roster_get)
        self.assertFalse(granted.roster_set)
        self.assertFalse(granted.message_outgoing)

    def test_not_an_announcement(self) -> None:
        """Other messages, other senders and garbage are no announcement."""
        self.assertIsNone(
            read_privileges(announcement(NS_PRIVILEGE_2, "x.org", roster="both"), HOST)
        )
        self.assertIsNone(
            read_privileges("<message from='localhost'><body>hi</body></message>", HOST)
        )
        self.assertIsNone(read_privileges("<message", HOST))
        self.assertIsNone(
            read_privileges(announcement(NS_PRIVILEGE_2, "u@localhost", roster="both"), HOST)
        )


class Recorder:
    def __init__(self) -> None:
        self.stanzas: list[Stanza] = []

    def submit(self, stanza: Stanza) -> Deferred[None]:
        self.stanzas.append(stanza)
        return succeed(None)


class SenderTests(SynchronousTestCase):
    """Messages from the host's users go out wrapped when the server allows it."""

    def send(self, granted: Privileges, sender: str, kind: str = "chat") -> Stanza:
        recorder = Recorder()
        commands = StanzaCommands(PrivilegedSender(recorder, HOST, COMPONENT, lambda: granted))
        args = {"type": kind, "from": sender, "to": "bob@example.org", "subject": "", "body": "hi"}
        self.successResultOf(
            commands.execute("send_message", args, Caller(frontend="mod_http_api"))
        )
        [stanza] = recorder.stanzas
        return stanza

    def test_wrapped(self) -> None:
        """A user's message is forwarded inside <privilege> to the host, in its namespace."""
        for namespace in (NS_PRIVILEGE_1, NS_PRIVILEGE_2):
            stanza = self.send(Privileges(namespace, message="outgoing"), "alice@localhost")
            self.assertEqual((stanza.to, stanza.sender), (HOST, COMPONENT))
            text = prepare_outbound(stanza, COMPONENT, "reject")
            root = etree.fromstring(text)
            self.assertEqual(root.tag, f"{{{COMPONENT_NS}}}message")
            inner = root.find(
                f"{{{namespace}}}privilege/{{{NS_FORWARD}}}forwarded/{{{NS_CLIENT}}}message"
            )
            assert inner is not None
            self.assertEqual(inner.get("from"), "alice@localhost")
            self.assertEqual(inner.get("to"), "bob@example.org")
            self.assertEqual(inner.findtext(f"{{{NS_CLIENT}}}body"), "hi")

    def test_not_wrapped(self) -> None:
        """Without the grant, from a full JID, or from another host, the message goes as it is."""
        cases = [
            (Privileges(message="none"), "alice@localhost"),
            (Privileges(message="outgoing"), "alice@localhost/phone"),
            (Privileges(message="outgoing"), "alice@example.org"),
            (Privileges(message="outgoing"), "localhost"),
        ]
        for granted, sender in cases:
            stanza = self.send(granted, sender)
            self.assertEqual(stanza.element.tag, f"{{{NS_CLIENT}}}message", sender)
            self.assertEqual(stanza.sender, sender)

    def test_stanza_without_namespace(self) -> None:
        """A posted message in no namespace is forwarded in jabber:client."""
        recorder = Recorder()
        sender = PrivilegedSender(
            recorder, HOST, COMPONENT, lambda: Privileges(NS_PRIVILEGE_2, message="outgoing")
        )
        posted = read_stanza(
            "<message from='alice@localhost' to='bob@example.org'><body>x</body></message>"
        )
        self.successResultOf(sender.submit(posted))
        root = etree.fromstring(prepare_outbound(recorder.stanzas[0], COMPONENT, "reject"))
        inner = root.find(f".//{{{NS_CLIENT}}}message")
        assert inner is not None
        self.assertEqual(inner.findtext(f"{{{NS_CLIENT}}}body"), "x")
