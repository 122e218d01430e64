"""The component link: handshake, reconnects, the durable queue's delivery, iq() and state."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from lxml import etree
from twisted.internet import defer
from twisted.internet.defer import Deferred
from twisted.internet.testing import MemoryReactorClock
from twisted.logger import LogLevel, formatEvent
from twisted.trial.unittest import SynchronousTestCase

from gateway.backends.embedded.outbox import StoreOutbox
from gateway.backends.interfaces import OutboundQueue
from gateway.engine.errors import BadRequest, Unavailable
from gateway.stanza import FromRefused, InvalidStanza
from gateway.testing import MemoryQueue
from gateway.xmpp.link import NOT_CONFIGURED, ComponentLink, health_check, server_domain_of
from tests.backends.embedded.cases import sync_store
from tests.xmpp.fakes import (
    COMPONENT,
    FakeServer,
    bodies,
    capture_log,
    component_config,
    is_ping,
    stanzas,
    temp_dir,
)

T = TypeVar("T")


def message(body: str, sender: str | None = "bot@rest.localhost", **attrs: str) -> str:
    extra = "".join(f" {k}='{v}'" for k, v in attrs.items())
    sender_attr = f" from='{sender}'" if sender is not None else ""
    return f"<message to='user@localhost'{sender_attr}{extra}><body>{body}</body></message>"


class LinkTestCase(SynchronousTestCase):
    """Shared set-up: a link on a memory reactor, with a fake server side."""

    def setUp(self) -> None:
        self.reactor = MemoryReactorClock()
        self.server = FakeServer(self.reactor)
        self.queue: OutboundQueue = MemoryQueue()
        self.jitter = 0.25

    def make_link(self, queue: OutboundQueue | None = None, **config: Any) -> ComponentLink:
        link = ComponentLink(
            component_config(**config),
            queue if queue is not None else self.queue,
            self.reactor,
            jitter=lambda: self.jitter,
        )
        link.startService()
        self.addCleanup(self._stop, link)
        return link

    def _stop(self, link: ComponentLink) -> None:
        if link.running:
            link.stopService()

    def submit(self, link: ComponentLink, stanza: Any) -> None:
        self.successResultOf(link.submit(stanza))


class HandshakeTests(LinkTestCase):
    """Connecting, authenticating and reporting state."""

    def test_handshake(self) -> None:
        """The link opens a jabber:component:accept stream to its JID and sends the digest."""
        link = self.make_link()
        self.assertEqual(self.server.attempts, 1)
        connection = self.server.accept()
        connection.read()
        header = connection.header
        assert header is not None
        self.assertEqual(header.defaultUri, "jabber:component:accept")
        self.assertEqual(header["to"], COMPONENT)
        self.assertFalse(link.state().connected)
        connection.accept_handshake()
        self.assertTrue(link.state().connected)

    def test_state_and_status_lines(self) -> None:
        """state() and status_lines() say whether the link is up, since when, and the queue."""
        self.reactor.advance(1000)
        link = self.make_link()
        self.assertEqual(link.state().since, 1000)
        self.assertIn("not connected", link.status_lines()[0])
        self.submit(link, message("hi"))
        self.reactor.advance(5)
        self.server.connect()
        state = link.state()
        self.assertEqual(
            (state.connected, state.since, state.queued, state.configured), (True, 1005, 1, True)
        )
        lines = link.status_lines()
        self.assertIn(f"XMPP component {COMPONENT}: connected to 127.0.0.1:5347 since", lines[0])
        self.assertIn("1 stanza queued, 0 stanza errors bounced", lines[1])
        self.assertEqual(NOT_CONFIGURED.as_dict()["configured"], False)

    def test_health_check(self) -> None:
        """The health check is healthy when up or unconfigured, unhealthy when down."""
        self.assertEqual(health_check(None)(), (True, NOT_CONFIGURED.as_dict()))
        link = self.make_link()
        healthy, details = health_check(link)()
        self.assertEqual(
            (healthy, details["connected"], details["configured"]), (False, False, True)
        )
        self.server.connect()
        healthy, details = health_check(link)()
        self.assertEqual((healthy, details["connected"], details["queued"]), (True, True, 0))

    def test_refused_handshake_backs_off(self) -> None:
        """A stream refused at the handshake is retried with a growing delay, logged once."""
        events = capture_log(self)
        self.make_link(secret="wrong")
        delays = []
        for _ in range(3):
            connection = self.server.accept()
            connection.open_stream()
            connection.feed(
                "<stream:error><not-authorized "
                "xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error>"
            )
            self.assertTrue(connection.transport.disconnecting)
            connection.drop()
            before = self.server.attempts
            delays.append(self.reactor.getDelayedCalls()[-1].getTime() - self.reactor.seconds())
            self.reactor.advance(delays[-1])
            self.assertEqual(self.server.attempts, before + 1)
        self.assertLess(delays[0], delays[1])
        self.assertLess(delays[1], delays[2])
        failures = [formatEvent(e) for e in events if "handshake failed" in formatEvent(e)]
        self.assertEqual(len(failures), 3)
        self.assertIn("stream error not-authorized", failures[0])

    def test_handshake_timeout(self) -> None:
        """A server that never answers the handshake is disconnected after the timeout."""
        self.make_link()
        connection = self.server.accept()
        connection.open_stream()
        self.reactor.advance(29)
        self.assertFalse(connection.transport.disconnecting)
        self.reactor.advance(1)
        self.assertTrue(connection.transport.disconnecting)

    def test_server_domain(self) -> None:
        """Pings go to the component's parent domain, or to a one-label domain itself."""
        self.assertEqual(server_domain_of("rest.example.com"), "example.com")
        self.assertEqual(server_domain_of("gateway"), "gateway")


class ReconnectTests(LinkTestCase):
    """Backoff with jitter, and one log line per state change."""

    def test_backoff_with_jitter(self) -> None:
        """Each refused attempt waits 1.5**n seconds plus the injected jitter."""
        self.make_link()
        waits = []
        for attempt in range(1, 4):
            self.server.refuse()
            [call] = self.reactor.getDelayedCalls()
            waits.append(call.getTime() - self.reactor.seconds())
            self.reactor.advance(waits[-1])
            self.assertEqual(self.server.attempts, attempt + 1)
        self.assertEqual(waits, [1.5 + 0.25, 1.5**2 + 0.25, 1.5**3 + 0.25])

    def test_jitter_changes_the_delay(self) -> None:
        """The jitter function is added to every delay."""
        self.jitter = 0.9
        self.make_link()
        self.server.refuse()
        [call] = self.reactor.getDelayedCalls()
        self.assertAlmostEqual(call.getTime() - self.reactor.seconds(), 1.5 + 0.9)

    def test_success_resets_the_backoff(self) -> None:
        """After an authenticated session the next loss retries at the first delay again."""
        self.make_link()
        for _ in range(3):
            self.server.refuse()
            self.reactor.advance(self.reactor.getDelayedCalls()[0].getTime())
        connection, _ = self.server.connect()
        connection.drop()
        delay = min(c.getTime() for c in self.reactor.getDelayedCalls()) - self.reactor.seconds()
        self.assertAlmostEqual(delay, 1.5 + 0.25)

    def test_each_state_change_logged_once(self) -> None:
        """Connecting, failure, retry, connected, authenticated and lost each log one line."""
        events = capture_log(self)
        self.make_link()
        self.server.refuse()
        self.reactor.advance(1.75)
        connection, _ = self.server.connect()
        connection.drop()
        ours = [formatEvent(e) for e in events if e.get("log_namespace") == "gateway.xmpp.link"]
        prefix = f"XMPP component {COMPONENT}: "
        self.assertEqual(
            [line.removeprefix(prefix).split(":")[0].split(",")[0] for line in ours],
            [
                "connecting to 127.0.0.1",
                "cannot connect to 127.0.0.1",
                "retrying in 1.8 s",
                "connecting to 127.0.0.1",
                "connected to 127.0.0.1",
                "authenticated",
                "link lost",
                "retrying in 1.8 s",
            ],
        )
        self.assertIn("Connection was refused", ours[1])

    def test_stop_closes_the_stream(self) -> None:
        """Stopping the service ends the stream politely and does not reconnect."""
        link = self.make_link()
        connection, _ = self.server.connect()
        link.stopService()
        self.assertTrue(connection.transport.value().endswith(b"</stream:stream>"))
        connection.drop()
        self.reactor.advance(3600)
        self.assertEqual(self.server.attempts, 1)
        self.assertFalse(link.state().connected)


class DeliveryTests(LinkTestCase):
    """The durable queue: order, confirmation by ping, resend, limits."""

    def test_queued_while_down_sent_in_order(self) -> None:
        """Stanzas accepted while the link is down are sent in order once it is up."""
        link = self.make_link()
        for n in range(5):
            self.submit(link, message(f"m{n}"))
        _, sent = self.server.connect()
        self.assertEqual(bodies(sent), [f"m{n}" for n in range(5)])
        self.assertTrue(is_ping(sent[-1]))
        self.assertEqual(sent[-1]["to"], "localhost")
        self.assertEqual(sent[-1]["from"], COMPONENT)

    def test_sent_at_once_when_connected(self) -> None:
        """A stanza submitted on a live link is written right away, followed by a ping."""
        link = self.make_link()
        connection, _ = self.server.connect()
        self.submit(link, message("now"))
        sent = connection.read()
        self.assertEqual(bodies(sent), ["now"])
        self.assertTrue(is_ping(sent[-1]))

    def test_confirmed_by_ping(self) -> None:
        """A stanza leaves the queue only when the ping sent after it is answered."""
        link = self.make_link()
        connection, _ = self.server.connect()
        self.submit(link, message("a"))
        sent = connection.read()
        self.assertEqual(self.successResultOf(self.queue.count()), 1)
        connection.answer_pings(sent)
        self.assertEqual(self.successResultOf(self.queue.count()), 0)
        self.assertEqual(link.state().queued, 0)

    def test_error_answer_confirms_too(self) -> None:
        """An error answer to the ping also proves the server processed what came before."""
        link = self.make_link()
        connection, _ = self.server.connect()
        self.submit(link, message("a"))
        connection.answer_pings(connection.read(), kind="error")
        self.assertEqual(self.successResultOf(self.queue.count()), 0)
        self.assertEqual(link.state().bounced, 0)

    def test_unconfirmed_resent_after_reconnect(self) -> None:
        """Stanzas whose ping was not answered are sent again on the next stream."""
        link = self.make_link()
        connection, _ = self.server.connect()
        self.submit(link, message("confirmed"))
        connection.answer_pings(connection.read())
        self.submit(link, message("in flight 1"))
        self.submit(link, message("in flight 2"))
        self.assertEqual(bodies(connection.read()), ["in flight 1", "in flight 2"])
        connection.drop()
        self.submit(link, message("while down"))
        self.reactor.advance(2)
        _, sent = self.server.connect()
        self.assertEqual(bodies(sent), ["in flight 1", "in flight 2", "while down"])

    def test_origin_id_stable_across_resends(self) -> None:
        """A resent message carries the same origin-id as the first time."""
        link = self.make_link()
        connection, _ = self.server.connect()
        self.submit(link, message("x"))
        first = stanzas(connection.read())[0]
        connection.drop()
        self.reactor.advance(2)
        _, sent = self.server.connect()
        again = stanzas(sent)[0]
        ids = [[c["id"] for c in e.elements() if c.uri == "urn:xmpp:sid:0"] for e in (first, again)]
        self.assertEqual(len(ids[0]), 1)
        self.assertEqual(ids[0], ids[1])

    def test_existing_origin_id_kept(self) -> None:
        """A message that brings its own origin-id keeps it and gets no second one."""
        link = self.make_link()
        self.submit(
            link,
            "<message to='u@localhost'><origin-id xmlns='urn:xmpp:sid:0' id='mine'/></message>",
        )
        _, sent = self.server.connect()
        [stanza] = stanzas(sent)
        self.assertEqual([c["id"] for c in stanza.elements()], ["mine"])

    def test_batches_each_followed_by_a_ping(self) -> None:
        """A long queue goes out in batches, each closed by its own ping."""
        link = ComponentLink(
            component_config(), self.queue, self.reactor, jitter=lambda: 0, batch_size=2
        )
        link.startService()
        self.addCleanup(link.stopService)
        for n in range(5):
            self.submit(link, message(f"m{n}"))
        connection, sent = self.server.connect()
        self.assertEqual([is_ping(e) for e in sent], [False, False, True] * 2 + [False, True])
        connection.answer_pings(sent[:3])
        self.assertEqual(self.successResultOf(self.queue.count()), 3)
        connection.answer_pings(sent)
        self.assertEqual(self.successResultOf(self.queue.count()), 0)

    def test_window_bounds_unconfirmed(self) -> None:
        """No more than `window` batches await confirmation; an answer lets the next one go."""
        link = ComponentLink(
            component_config(), self.queue, self.reactor, jitter=lambda: 0, batch_size=2, window=2
        )
        link.startService()
        self.addCleanup(link.stopService)
        for n in range(7):
            self.submit(link, message(f"m{n}"))
        connection, sent = self.server.connect()
        self.assertEqual(bodies(sent), ["m0", "m1", "m2", "m3"])
        connection.answer_pings(sent[:3])
        more = connection.read()
        self.assertEqual(bodies(more), ["m4", "m5"])
        connection.answer_pings(sent + more)
        self.assertEqual(bodies(connection.read()), ["m6"])

    def test_later_ping_answer_confirms_earlier(self) -> None:
        """When a later ping is answered first, everything before it is confirmed."""
        link = self.make_link()
        connection, _ = self.server.connect()
        self.submit(link, message("a"))
        first = connection.read()
        self.submit(link, message("b"))
        second = connection.read()
        connection.answer_pings(second)
        self.assertEqual(self.successResultOf(self.queue.count()), 0)
        connection.answer_pings(first)  # late: changes nothing
        self.assertEqual(self.successResultOf(self.queue.count()), 0)

    def test_ping_timeout_reconnects(self) -> None:
        """A ping left unanswered for ping_timeout drops the stream to start over."""
        link = self.make_link()
        connection, _ = self.server.connect()
        self.submit(link, message("a"))
        connection.read()
        self.reactor.advance(59)
        self.assertFalse(connection.transport.disconnecting)
        self.reactor.advance(1)
        self.assertTrue(connection.transport.disconnecting)
        connection.drop()
        self.assertFalse(link.state().connected)

    def test_queue_full_refused(self) -> None:
        """When max_queued stanzas wait, submit fails with Unavailable and stores nothing."""
        link = self.make_link(max_queued=2)
        self.submit(link, message("1"))
        self.submit(link, message("2"))
        failure = self.failureResultOf(link.submit(message("3")), Unavailable)
        self.assertIn("queue is full", failure.value.message)
        self.assertEqual(self.successResultOf(self.queue.count()), 2)
        _, sent = self.server.connect()
        self.assertEqual(bodies(sent), ["1", "2"])

    def test_room_again_after_confirmation(self) -> None:
        """Once confirmed stanzas leave, a full queue accepts again."""
        link = self.make_link(max_queued=1)
        connection, _ = self.server.connect()
        self.submit(link, message("1"))
        self.failureResultOf(link.submit(message("2")), Unavailable)
        connection.answer_pings(connection.read())
        self.submit(link, message("2"))

    def test_store_failure_is_unavailable(self) -> None:
        """A queue that cannot store makes submit fail with Unavailable, not succeed."""

        class Broken(MemoryQueue):
            def append(self, stanza_xml: str, limit: int | None = None) -> Deferred[int]:
                return defer.fail(OSError("disk full"))

        link = self.make_link(queue=Broken())
        self.failureResultOf(link.submit(message("x")), Unavailable)
        self.flushLoggedErrors(OSError)

    def test_a_stanza_prepared_by_a_worker_is_stored_and_sent(self) -> None:
        """queue_prepared stores text a worker prepared as it is, counts it and sends it;
        a full queue refuses it with Unavailable."""
        link = self.make_link(max_queued=1)
        connection, _ = self.server.connect()
        text = "<message xmlns='jabber:component:accept' to='a@localhost'><body>w</body></message>"
        self.assertIsNone(self.successResultOf(link.queue_prepared(text)))
        self.assertEqual(bodies(connection.read()), ["w"])
        self.assertEqual(link.state().queued, 1)
        self.failureResultOf(link.queue_prepared(text), Unavailable)

    def test_cancelled_submit_still_sent(self) -> None:
        """Cancelling submit's Deferred (the client left) does not stop a stanza being stored.

        The slow queue stores when ``commit`` fires, whatever happened to the
        Deferred it returned, as a database thread would.
        """
        commit: Deferred[None] = Deferred()

        class Slow(MemoryQueue):
            def append(self, stanza_xml: str, limit: int | None = None) -> Deferred[int]:
                stored: Deferred[int] = Deferred()
                store = MemoryQueue.append
                commit.addCallback(lambda _: store(self, stanza_xml, limit).chainDeferred(stored))
                return stored

        link = self.make_link(queue=Slow())
        connection, _ = self.server.connect()
        submitted = link.submit(message("x"))
        submitted.cancel()
        self.failureResultOf(submitted, defer.CancelledError)
        commit.callback(None)
        self.assertEqual(bodies(connection.read()), ["x"])
        self.assertEqual(link.state().queued, 1)

    def test_restart_persistence_with_store_outbox(self) -> None:
        """Stanzas one link stored in the store's outbox are sent by a new link after a restart."""
        path = str(temp_dir(self) / "queue.sqlite3")
        store = sync_store(path)
        first = self.make_link(queue=StoreOutbox(store))
        connection, _ = self.server.connect()
        self.submit(first, message("confirmed"))
        connection.answer_pings(connection.read())
        self.submit(first, message("unconfirmed"))
        connection.read()
        first.stopService()
        connection.drop()
        store.close()

        store = sync_store(path)
        self.addCleanup(store.close)
        second = self.make_link(queue=StoreOutbox(store))
        self.assertEqual(second.state().queued, 1)
        self.submit(second, message("after restart"))
        connection, sent = self.server.connect()
        self.assertEqual(bodies(sent), ["unconfirmed", "after restart"])
        connection.answer_pings(sent)
        self.assertEqual(self.successResultOf(StoreOutbox(store).count()), 0)


class FromPolicyTests(LinkTestCase):
    """The from policy applied by submit."""

    def sent_from(self, link: ComponentLink, stanza: str) -> str:
        self.submit(link, stanza)
        connection, sent = self.server.connect()
        [element] = stanzas(sent)
        return str(element["from"])

    def test_pass(self) -> None:
        """'pass' leaves a foreign from alone."""
        link = self.make_link(from_policy="pass")
        self.assertEqual(self.sent_from(link, message("x", "admin@localhost")), "admin@localhost")

    def test_rewrite(self) -> None:
        """'rewrite' replaces a foreign from by the component JID."""
        link = self.make_link(from_policy="rewrite")
        self.assertEqual(self.sent_from(link, message("x", "admin@localhost")), COMPONENT)

    def test_rewrite_keeps_own_domain(self) -> None:
        """'rewrite' keeps a from inside the component's domain."""
        link = self.make_link(from_policy="rewrite")
        sender = "bot@rest.localhost/r"
        self.assertEqual(self.sent_from(link, message("x", sender)), sender)

    def test_reject(self) -> None:
        """'reject' refuses a foreign from with a BadRequest and queues nothing."""
        link = self.make_link(from_policy="reject")
        failure = self.failureResultOf(link.submit(message("x", "admin@localhost")), FromRefused)
        self.assertIsInstance(failure.value, BadRequest)
        self.assertEqual(self.successResultOf(self.queue.count()), 0)

    def test_reject_accepts_own_domain(self) -> None:
        """'reject' accepts the component JID and JIDs under it."""
        link = self.make_link(from_policy="reject")
        self.submit(link, message("x", COMPONENT))
        self.submit(link, message("y", "bot@rest.localhost"))

    def test_missing_from_gets_component(self) -> None:
        """A stanza without from gets the component JID in every mode."""
        for policy in ("pass", "rewrite", "reject"):
            self.setUp()
            link = self.make_link(from_policy=policy)
            self.assertEqual(self.sent_from(link, message("x", None)), COMPONENT)

    def test_not_a_stanza(self) -> None:
        """Text that is not a message, iq or presence is refused."""
        link = self.make_link()
        self.failureResultOf(link.submit("<foo/>"), InvalidStanza)
        self.failureResultOf(link.submit("<message"), InvalidStanza)

    def test_lxml_element_in_client_namespace(self) -> None:
        """An lxml jabber:client element is written in the component namespace."""
        link = self.make_link()
        element = etree.fromstring(
            "<message xmlns='jabber:client' to='u@localhost'><body>hi</body></message>"
        )
        self.submit(link, element)
        self.assertIsNone(element.get("from"))  # the caller's element is not changed
        _, sent = self.server.connect()
        [stanza] = stanzas(sent)
        self.assertEqual(stanza.uri, "jabber:component:accept")
        self.assertEqual(stanza.body.uri, "jabber:component:accept")


class IqTests(LinkTestCase):
    """iq(): sent at once, answered by id, timing out, failing while down."""

    def setUp(self) -> None:
        super().setUp()
        self.link = self.make_link()

    def iq(self, timeout: float = 10) -> Deferred[str]:
        return self.link.iq(
            "<iq type='get' id='caller-1' to='localhost'><query xmlns='jabber:iq:version'/></iq>",
            timeout,
        )

    def test_result_matched(self) -> None:
        """The answer to our IQ fires the Deferred, with the caller's id, as jabber:client."""
        connection, _ = self.server.connect()
        answer = self.iq()
        [sent] = connection.read()
        self.assertNotEqual(sent["id"], "caller-1")
        self.assertEqual(self.successResultOf(self.queue.count()), 0)  # not queued
        self.assertNoResult(answer)
        connection.feed(f"<iq type='result' id='other' from='localhost' to='{COMPONENT}'/>")
        self.assertNoResult(answer)
        connection.answer(sent, payload="<query xmlns='jabber:iq:version'><name>x</name></query>")
        text = self.successResultOf(answer)
        root = etree.fromstring(text)
        self.assertEqual(root.tag, "{jabber:client}iq")
        self.assertEqual(root.get("id"), "caller-1")
        self.assertEqual(root.get("type"), "result")
        self.assertEqual(root.findtext("{jabber:iq:version}query/{jabber:iq:version}name"), "x")

    def test_error_answer_delivered(self) -> None:
        """An error answer is delivered as the answer, not counted as a bounce."""
        connection, _ = self.server.connect()
        answer = self.iq()
        [sent] = connection.read()
        connection.answer(sent, kind="error")
        self.assertIn('type="error"', self.successResultOf(answer))
        self.assertEqual(self.link.state().bounced, 0)

    def test_answer_from_elsewhere_ignored(self) -> None:
        """An answer with our id but from another JID does not count."""
        connection, _ = self.server.connect()
        answer = self.iq()
        [sent] = connection.read()
        connection.feed(f"<iq type='result' id='{sent['id']}' from='evil@localhost'/>")
        self.assertNoResult(answer)

    def test_timeout(self) -> None:
        """No answer within the timeout fails with TimeoutError."""
        self.server.connect()
        answer = self.iq(timeout=5)
        self.reactor.advance(5)
        self.failureResultOf(answer, defer.TimeoutError)

    def test_link_down(self) -> None:
        """While the link is down iq() fails at once with Unavailable."""
        failure = self.failureResultOf(self.iq(), Unavailable)
        self.assertIn("not connected", failure.value.message)

    def test_link_lost_while_waiting(self) -> None:
        """A link that drops before the answer fails the Deferred with Unavailable."""
        connection, _ = self.server.connect()
        answer = self.iq()
        connection.drop()
        self.failureResultOf(answer, Unavailable)

    def test_only_get_and_set(self) -> None:
        """Only iq get/set can be awaited."""
        self.server.connect()
        self.failureResultOf(self.link.iq("<iq type='result' id='1'/>", 5), InvalidStanza)
        self.failureResultOf(self.link.iq(message("x"), 5), InvalidStanza)


class InboundTests(LinkTestCase):
    """The link wires the inbound handlers to its stream."""

    def test_ping_answered(self) -> None:
        """A ping to the component JID is answered with a result."""
        self.make_link()
        connection, _ = self.server.connect()
        connection.feed(
            f"<iq type='get' id='p1' from='localhost' to='{COMPONENT}'>"
            "<ping xmlns='urn:xmpp:ping'/></iq>"
        )
        [answer] = connection.read()
        self.assertEqual(
            (answer["type"], answer["id"], answer["to"]), ("result", "p1", "localhost")
        )

    def test_bounces_counted(self) -> None:
        """Stanza errors coming back are counted in state()."""
        link = self.make_link()
        connection, _ = self.server.connect()
        connection.feed(
            f"<message type='error' from='nobody@localhost' to='{COMPONENT}'>"
            "<error type='cancel'><service-unavailable "
            "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></message>"
        )
        connection.feed(f"<iq type='error' id='unknown' from='localhost' to='{COMPONENT}'/>")
        self.assertEqual(link.state().bounced, 2)


class ListenerTests(LinkTestCase):
    """on_up and on_message: what the xmpp backend learns from the link."""

    def test_on_up_after_each_handshake(self) -> None:
        """on_up listeners run once per authenticated stream, reconnects included."""
        link = self.make_link()
        ups: list[bool] = []
        link.on_up(lambda: ups.append(link.state().connected))
        connection, _ = self.server.connect()
        self.assertEqual(ups, [True])
        connection.drop()
        self.reactor.advance(60)
        self.server.connect()
        self.assertEqual(ups, [True, True])

    def test_on_message_gets_server_messages(self) -> None:
        """Non-error messages reach on_message as text; errors stay bounces."""
        link = self.make_link()
        got: list[str] = []
        link.on_message(got.append)
        connection, _ = self.server.connect()
        connection.feed(
            f"<message from='localhost' to='{COMPONENT}'>"
            "<privilege xmlns='urn:xmpp:privilege:2'><perm access='roster' type='both'/>"
            "</privilege></message>"
        )
        connection.feed(
            f"<message type='error' from='localhost' to='{COMPONENT}'>"
            "<error type='cancel'><service-unavailable "
            "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></message>"
        )
        [text] = got
        root = etree.fromstring(text)
        self.assertEqual(root.get("from"), "localhost")
        self.assertEqual(root[0].tag, "{urn:xmpp:privilege:2}privilege")
        self.assertEqual(link.state().bounced, 1)

    def test_failing_listener_does_not_break_the_link(self) -> None:
        """A listener that raises is logged; later listeners and the link carry on."""
        link = self.make_link()
        calls: list[str] = []

        def broken() -> None:
            raise RuntimeError("boom")

        link.on_up(broken)
        link.on_up(lambda: calls.append("second"))
        self.server.connect()
        self.assertEqual(calls, ["second"])
        self.assertTrue(link.state().connected)
        self.assertEqual(len(self.flushLoggedErrors(RuntimeError)), 1)


def stream_error(condition: str, text: str = "") -> str:
    """A server's stream error element with ``condition`` (and a text)."""
    ns = "urn:ietf:params:xml:ns:xmpp-streams"
    said = f"<text xmlns='{ns}'>{text}</text>" if text else ""
    return f"<stream:error><{condition} xmlns='{ns}'/>{said}</stream:error>"


class GatedQueue(MemoryQueue):
    """A MemoryQueue whose peek or discard waits for the test while a gate is set."""

    def __init__(self) -> None:
        super().__init__()
        self.peek_gate: Deferred[None] | None = None
        self.discard_gate: Deferred[None] | None = None

    def peek(self, after_id: int, limit: int) -> Deferred[list[tuple[int, str]]]:
        parent = super().peek
        return _after(self.peek_gate, lambda: parent(after_id, limit))

    def discard(self, item_id: int) -> Deferred[bool]:
        parent = super().discard
        return _after(self.discard_gate, lambda: parent(item_id))


def _after(gate: Deferred[None] | None, call: Callable[[], Deferred[T]]) -> Deferred[T]:
    if gate is None:
        return call()
    done: Deferred[T] = Deferred()
    gate.addCallback(lambda _: call().addCallback(done.callback))
    return done


class PoisonStanzaTests(LinkTestCase):
    """A stanza the server closes the stream over is dropped, so the queue moves on."""

    def jam(self, link: ComponentLink, condition: str = "invalid-from") -> list[str]:
        """Connect, let the server close the stream with ``condition``; the bodies it got."""
        connection, sent = self.server.connect()
        connection.feed(stream_error(condition, "Improper domain part of 'from' attribute"))
        self.assertTrue(connection.transport.disconnecting)
        connection.drop()
        self.reactor.advance(2)
        return bodies(sent)

    def errors(self, events: Any) -> list[str]:
        return [
            formatEvent(e)
            for e in events
            if e.get("log_namespace") == "gateway.xmpp.link" and e["log_level"] == LogLevel.error
        ]

    def check_jam_cleared(self, link: ComponentLink, queue: OutboundQueue) -> None:
        events = capture_log(self)
        self.submit(link, message("before"))
        self.submit(link, message("foreign", "admin@localhost", id="bad-1"))
        self.submit(link, message("after"))
        self.assertEqual(self.jam(link), ["before", "foreign", "after"])
        connection, sent = self.server.connect()
        # "before" was never confirmed, so it goes again (origin-id lets receivers tell)
        self.assertEqual(bodies(sent), ["before", "after"])
        connection.answer_pings(sent)
        self.assertEqual(self.successResultOf(queue.count()), 0)
        self.assertEqual(link.state().dead_lettered, 1)
        self.assertIn("1 stanza dead-lettered", link.status_lines()[1])
        [error] = self.errors(events)
        for part in ("invalid-from", "queue id 2", "'bad-1'", "admin@localhost", "from: rewrite"):
            self.assertIn(part, error)

    def test_jam_cleared_after_one_reconnect(self) -> None:
        """After invalid-from the foreign-from stanza is dropped and later stanzas are sent."""
        self.check_jam_cleared(self.make_link(), self.queue)

    def test_jam_cleared_with_store_outbox(self) -> None:
        """The poison stanza leaves the store's outbox too, and stays gone after the reconnect."""
        store = sync_store(str(temp_dir(self) / "queue.sqlite3"))
        self.addCleanup(store.close)
        queue = StoreOutbox(store)
        self.check_jam_cleared(self.make_link(queue=queue), queue)

    def test_one_stanza_per_error(self) -> None:
        """Each stream error drops one stanza, the first foreign one, never more."""
        link = self.make_link()
        self.submit(link, message("bad 1", "admin@localhost"))
        self.submit(link, message("bad 2", "x@sub.rest.localhost"))
        self.submit(link, message("good"))
        self.assertEqual(self.jam(link), ["bad 1", "bad 2", "good"])
        self.assertEqual(link.state().dead_lettered, 1)
        self.assertEqual(self.jam(link), ["bad 2", "good"])
        self.assertEqual(link.state().dead_lettered, 2)
        _, sent = self.server.connect()
        self.assertEqual(bodies(sent), ["good"])

    def test_improper_addressing_blames_missing_to(self) -> None:
        """improper-addressing drops the first stanza with no 'to', not a foreign-from one."""
        link = self.make_link()
        self.submit(link, message("foreign", "admin@localhost"))
        self.submit(link, "<message><body>nowhere</body></message>")
        self.submit(link, message("good"))
        self.jam(link, "improper-addressing")
        _, sent = self.server.connect()
        self.assertEqual(bodies(sent), ["foreign", "good"])
        self.assertEqual(link.state().dead_lettered, 1)

    def test_other_stream_errors_drop_nothing(self) -> None:
        """A stream error one stanza cannot cause (invalid-namespace, ...) drops nothing."""
        link = self.make_link()
        self.submit(link, message("foreign", "admin@localhost"))
        for condition in ("invalid-namespace", "policy-violation", "system-shutdown"):
            self.assertEqual(self.jam(link, condition), ["foreign"])
        self.assertEqual(link.state().dead_lettered, 0)
        self.assertEqual(self.successResultOf(self.queue.count()), 1)

    def test_nothing_to_blame_drops_nothing(self) -> None:
        """invalid-from with only in-domain stanzas unconfirmed drops nothing and says so."""
        events = capture_log(self)
        link = self.make_link()
        self.submit(link, message("mine", COMPONENT))
        self.assertEqual(self.jam(link), ["mine"])
        _, sent = self.server.connect()
        self.assertEqual(bodies(sent), ["mine"])
        self.assertEqual(link.state().dead_lettered, 0)
        [error] = self.errors(events)
        self.assertIn("nothing was dropped", error)

    def test_stanzas_queued_later_not_blamed(self) -> None:
        """Only stanzas written to the failed stream can be blamed, not ones queued since."""
        queue = GatedQueue()
        link = self.make_link(queue=queue)
        connection, _ = self.server.connect()
        self.submit(link, message("in flight"))
        connection.read()
        queue.peek_gate = Deferred()
        connection.feed(stream_error("invalid-from"))
        connection.drop()
        # queued after the stream failed, before the search reads the queue
        self.submit(link, message("later", "admin@localhost"))
        gate, queue.peek_gate = queue.peek_gate, None
        gate.callback(None)
        self.assertEqual(link.state().dead_lettered, 0)
        self.assertEqual(self.successResultOf(queue.count()), 2)

    def test_new_stream_waits_for_the_drop(self) -> None:
        """A stream that comes up while the poison stanza is being dropped does not resend it."""
        queue = GatedQueue()
        link = self.make_link(queue=queue)
        self.submit(link, message("foreign", "admin@localhost"))
        self.submit(link, message("good"))
        queue.discard_gate = Deferred()
        self.jam(link)
        connection, sent = self.server.connect()
        self.assertEqual(sent, [])
        gate, queue.discard_gate = queue.discard_gate, None
        gate.callback(None)
        self.assertEqual(bodies(connection.read()), ["good"])
        self.assertEqual(link.state().dead_lettered, 1)
