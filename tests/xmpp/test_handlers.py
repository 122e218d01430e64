"""What the component answers on its stream: disco#info, ping, version, and refusals."""

from __future__ import annotations

from twisted.internet.testing import MemoryReactorClock
from twisted.logger import formatEvent
from twisted.trial.unittest import SynchronousTestCase
from twisted.words.xish import domish

from gateway import __version__
from gateway.testing import MemoryQueue
from gateway.xmpp.handlers import error_condition
from gateway.xmpp.link import ComponentLink
from tests.xmpp.fakes import COMPONENT, Connection, FakeServer, capture_log, component_config

STANZAS_NS = "urn:ietf:params:xml:ns:xmpp-stanzas"


class InboundTests(SynchronousTestCase):
    """IQs to the component JID and stanza errors coming back."""

    def setUp(self) -> None:
        reactor = MemoryReactorClock()
        self.link = ComponentLink(component_config(), MemoryQueue(), reactor, jitter=lambda: 0)
        self.link.startService()
        self.addCleanup(self.link.stopService)
        self.connection: Connection
        self.connection, _ = FakeServer(reactor).connect()

    def ask(self, payload: str, kind: str = "get", to: str = COMPONENT) -> domish.Element:
        self.connection.feed(
            f"<iq type='{kind}' id='q1' from='user@localhost/res' to='{to}'>{payload}</iq>"
        )
        [answer] = self.connection.read()
        self.assertEqual(answer["id"], "q1")
        self.assertEqual(answer["to"], "user@localhost/res")
        self.assertEqual(answer["from"], to)
        return answer

    def assertError(self, answer: domish.Element, condition: str) -> None:  # noqa: N802
        self.assertEqual(answer["type"], "error")
        self.assertEqual(error_condition(answer), condition)

    def test_disco_info(self) -> None:
        """disco#info names a component identity and the three features."""
        answer = self.ask("<query xmlns='http://jabber.org/protocol/disco#info'/>")
        self.assertEqual(answer["type"], "result")
        query = answer.query
        [identity] = [e for e in query.elements() if e.name == "identity"]
        self.assertEqual((identity["category"], identity["type"]), ("component", "generic"))
        features = sorted(e["var"] for e in query.elements() if e.name == "feature")
        self.assertEqual(
            features,
            ["http://jabber.org/protocol/disco#info", "jabber:iq:version", "urn:xmpp:ping"],
        )

    def test_disco_info_node(self) -> None:
        """disco#info on a node the component does not have is item-not-found."""
        answer = self.ask("<query xmlns='http://jabber.org/protocol/disco#info' node='x'/>")
        self.assertError(answer, "item-not-found")

    def test_ping(self) -> None:
        """An XEP-0199 ping gets an empty result."""
        answer = self.ask("<ping xmlns='urn:xmpp:ping'/>")
        self.assertEqual(answer["type"], "result")
        self.assertEqual(list(answer.elements()), [])

    def test_version(self) -> None:
        """XEP-0092 reports the gateway's name and version."""
        answer = self.ask("<query xmlns='jabber:iq:version'/>")
        query = answer.query
        self.assertEqual(query.uri, "jabber:iq:version")
        fields = {child.name: str(child) for child in query.elements()}
        self.assertEqual(fields, {"name": "xmpp-api-gateway", "version": __version__})

    def test_other_get_unavailable(self) -> None:
        """Any other IQ get is answered service-unavailable."""
        answer = self.ask("<query xmlns='jabber:iq:roster'/>")
        self.assertError(answer, "service-unavailable")

    def test_set_unavailable(self) -> None:
        """An IQ set, even with a known payload, is answered service-unavailable."""
        answer = self.ask("<ping xmlns='urn:xmpp:ping'/>", kind="set")
        self.assertError(answer, "service-unavailable")

    def test_user_in_domain_unavailable(self) -> None:
        """IQs to a user JID in the component's domain are answered service-unavailable."""
        answer = self.ask("<ping xmlns='urn:xmpp:ping'/>", to=f"someone@{COMPONENT}")
        self.assertError(answer, "service-unavailable")

    def test_results_and_errors_not_answered(self) -> None:
        """Results, errors and messages never get an answer (no loops)."""
        self.connection.feed(f"<iq type='result' id='x' from='localhost' to='{COMPONENT}'/>")
        self.connection.feed(f"<iq type='error' id='y' from='localhost' to='{COMPONENT}'/>")
        self.connection.feed(
            f"<message from='a@localhost' to='{COMPONENT}'><body>x</body></message>"
        )
        self.assertEqual(self.connection.read(), [])

    def test_bounces_logged_and_counted(self) -> None:
        """Each stanza error that comes back is counted and logged with its condition."""
        events = capture_log(self)
        for kind in ("message", "presence"):
            self.connection.feed(
                f"<{kind} type='error' from='gone@localhost' to='{COMPONENT}'>"
                f"<error type='cancel'><item-not-found xmlns='{STANZAS_NS}'/>"
                f"<text xmlns='{STANZAS_NS}'>nope</text></error></{kind}>"
            )
        self.assertEqual(self.link.state().bounced, 2)
        lines = [formatEvent(e) for e in events if "bounced" in formatEvent(e)]
        self.assertEqual(len(lines), 2)
        self.assertIn("a message to gone@localhost bounced: item-not-found", lines[0])
        self.assertIn("2 stanza errors bounced", self.link.status_lines()[1])

    def test_error_condition_default(self) -> None:
        """An error stanza without a condition reports undefined-condition."""
        element = domish.Element((None, "message"))
        element.addElement("error")
        self.assertEqual(error_condition(element), "undefined-condition")
