"""LinkProxy: a worker's component link, queueing into the shared store and asking the owner."""

from __future__ import annotations

from typing import Any

from twisted.internet import error as net_error
from twisted.internet.defer import Deferred, fail, succeed
from twisted.trial.unittest import SynchronousTestCase

from gateway.engine.errors import BadRequest, Unavailable
from gateway.stanza import read_stanza
from gateway.testing import MemoryQueue
from gateway.workers.channel import Queue, SendIq
from gateway.workers.proxy import LinkProxy
from gateway.xmpp.link import ComponentLink
from gateway.xmpp.status import LinkState
from tests.xmpp.fakes import component_config


class FakeChannel:
    """Stands in for a WorkerEnd: records calls, answers SendIq with ``iq_answer`` and
    Queue with ``queue_answer``."""

    def __init__(self) -> None:
        self.calls: list[tuple[Any, dict[str, Any]]] = []
        self.iq_answer: Deferred[dict[str, Any]] = succeed({"answer": "<iq type='result'/>"})
        self.queue_answer: Deferred[dict[str, Any]] = succeed({})

    def callRemote(self, command: Any, **arguments: Any) -> Any:  # noqa: N802 - AMP's name
        self.calls.append((command, arguments))
        if command is SendIq:
            return self.iq_answer
        if command is Queue:
            return self.queue_answer
        return None


def proxy(
    channel: FakeChannel | None, queue: MemoryQueue | None = None, **config: Any
) -> tuple[LinkProxy, MemoryQueue]:
    queue = queue or MemoryQueue()
    link = LinkProxy(
        component_config(from_policy="rewrite", **config),
        queue,
        lambda: channel,  # type: ignore[arg-type, return-value]
    )
    return link, queue


def queued(queue: MemoryQueue) -> list[str]:
    items: list[list[tuple[int, str]]] = []
    queue.peek(0, 100).addCallback(items.append)
    return [text for _, text in items[0]]


STANZA = "<message to='bob@localhost' from='alice@elsewhere'><body>hi</body></message>"


class SubmitTests(SynchronousTestCase):
    def test_the_supervisor_stores_the_prepared_stanza(self) -> None:
        """submit hands the supervisor the stanza as the link would write it (its from policy
        applied) and fires once the supervisor has stored it; this worker writes nothing."""
        channel = FakeChannel()
        link, queue = proxy(channel)
        done: list[Any] = []
        link.submit(read_stanza(STANZA.encode())).addCallback(done.append)
        self.assertEqual(done, [None])
        [(command, arguments)] = channel.calls
        self.assertIs(command, Queue)
        self.assertIn('from="rest.localhost"', arguments["stanza"])
        self.assertIn("<body>hi</body>", arguments["stanza"])
        self.assertEqual(queued(queue), [])

    def test_not_answered_before_the_supervisor_stored_it(self) -> None:
        """Ok waits for the supervisor's answer (its commit), not just for the request."""
        channel = FakeChannel()
        channel.queue_answer = Deferred()
        link, _ = proxy(channel)
        done: list[Any] = []
        link.submit(STANZA).addCallback(done.append)
        self.assertEqual(done, [])
        channel.queue_answer.callback({})
        self.assertEqual(done, [None])

    def test_the_supervisors_refusal_is_the_callers(self) -> None:
        """A full queue at the supervisor reaches the caller as Unavailable with its text."""
        channel = FakeChannel()
        channel.queue_answer = fail(Unavailable("the XMPP outbound queue is full (1 stanzas)"))
        link, _ = proxy(channel)
        failures: list[Any] = []
        link.submit(STANZA).addErrback(failures.append)
        self.assertIsInstance(failures[0].value, Unavailable)
        self.assertIn("full (1 stanzas)", failures[0].value.message)

    def test_a_channel_lost_mid_call_is_unavailable_and_says_so(self) -> None:
        """The supervisor went away before answering: Unavailable, saying it may be queued."""
        channel = FakeChannel()
        channel.queue_answer = fail(net_error.ConnectionLost())
        link, _ = proxy(channel)
        failures: list[Any] = []
        link.submit(STANZA).addErrback(failures.append)
        self.assertIsInstance(failures[0].value, Unavailable)
        self.assertIn("may have been queued", failures[0].value.message)

    def test_stored_without_a_channel(self) -> None:
        """With no supervisor to ask, the stanza is stored here (the supervisor reads the queue)."""
        link, queue = proxy(None)
        done: list[Any] = []
        link.submit(STANZA).addCallback(done.append)
        self.assertEqual(done, [None])
        self.assertEqual(len(queued(queue)), 1)

    def test_full_queue_is_unavailable(self) -> None:
        """Stored here, a full queue refuses with Unavailable naming its size."""
        link, queue = proxy(None, max_queued=1)
        link.submit(STANZA)
        failures: list[Any] = []
        link.submit(STANZA).addErrback(failures.append)
        self.assertIsInstance(failures[0].value, Unavailable)
        self.assertIn("full (1 stanzas)", failures[0].value.message)

    def test_broken_store_is_unavailable(self) -> None:
        """Stored here, a store that cannot write gives Unavailable (the error is logged)."""

        class Broken(MemoryQueue):
            def append(self, stanza_xml: str, limit: int | None = None) -> Deferred[int]:
                return fail(OSError("disk gone"))

        link, _ = proxy(None, Broken())
        failures: list[Any] = []
        link.submit(STANZA).addErrback(failures.append)
        self.assertIsInstance(failures[0].value, Unavailable)
        self.assertEqual(len(self.flushLoggedErrors(OSError)), 1)

    def test_bad_stanza_is_refused_here(self) -> None:
        """Text that is not a stanza is refused before anything is stored."""
        link, queue = proxy(FakeChannel())
        failures: list[Any] = []
        link.submit("<nope/>").addErrback(failures.append)
        self.assertIsInstance(failures[0].value, BadRequest)
        self.assertEqual(queued(queue), [])


class IqTests(SynchronousTestCase):
    def test_answer_comes_from_the_owner(self) -> None:
        """iq sends the stanza's text and timeout over the channel and fires with the answer."""
        channel = FakeChannel()
        link, _ = proxy(channel)
        answers: list[Any] = []
        stanza = read_stanza(
            b"<iq type='get' id='a1' to='localhost'><ping xmlns='urn:xmpp:ping'/></iq>"
        )
        link.iq(stanza, 5.0).addCallback(answers.append)
        self.assertEqual(answers, ["<iq type='result'/>"])
        [(command, arguments)] = channel.calls
        self.assertIs(command, SendIq)
        self.assertEqual(arguments["timeout"], 5.0)
        self.assertIn("urn:xmpp:ping", arguments["stanza"])
        self.assertIn('id="a1"', arguments["stanza"])

    def test_no_channel_is_unavailable(self) -> None:
        """Without a channel to the supervisor an IQ fails with Unavailable at once."""
        link, _ = proxy(None)
        failures: list[Any] = []
        link.iq("<iq type='get' to='localhost'/>", 5.0).addErrback(failures.append)
        self.assertIsInstance(failures[0].value, Unavailable)

    def test_channel_closing_mid_call_is_unavailable(self) -> None:
        """A channel that drops before the answer gives Unavailable; other errors pass through."""
        for error, expected in (
            (net_error.ConnectionLost(), Unavailable),
            (Unavailable("link down"), Unavailable),
        ):
            channel = FakeChannel()
            channel.iq_answer = fail(error)
            link, _ = proxy(channel)
            failures: list[Any] = []
            link.iq("<iq type='get' to='localhost'/>", 5.0).addErrback(failures.append)
            self.assertIsInstance(failures[0].value, expected)


class StateTests(SynchronousTestCase):
    def test_not_started_until_told(self) -> None:
        """Before the supervisor pushes anything, the state and lines say "not started", worded
        as the link itself words them."""
        link, _ = proxy(None)
        self.assertEqual(link.state().connected, False)
        self.assertEqual(link.state().configured, True)
        real = ComponentLink(component_config(from_policy="rewrite"), MemoryQueue(), _NoReactor())
        self.assertEqual(link.status_lines(), real.status_lines())

    def test_pushed_state_is_reported(self) -> None:
        """What the supervisor pushed is what state() and status_lines() report."""
        link, _ = proxy(None)
        state = LinkState(connected=True, since=1.0, queued=3, configured=True, accepted=9)
        link.update({"state": state.as_dict(), "lines": ["line one", "line two"]})
        self.assertEqual(link.state(), state)
        self.assertEqual(link.status_lines(), ["line one", "line two"])


class _NoReactor:
    """Enough of a reactor to build (not start) a ComponentLink."""

    def seconds(self) -> float:
        return 0.0

    def callLater(self, *args: Any, **kwargs: Any) -> Any:  # noqa: N802 - Twisted's name
        raise AssertionError("not started")


class EventTests(SynchronousTestCase):
    def test_up_and_messages_reach_the_listeners(self) -> None:
        """Link events from the supervisor reach on_up and on_message listeners; one that
        fails is logged and the others still hear it."""
        link, _ = proxy(None)
        heard: list[Any] = []

        def broken() -> None:
            raise ValueError("listener")

        link.on_up(broken)
        link.on_up(lambda: heard.append("up"))
        link.on_message(heard.append)
        link.event("up", "")
        link.event("message", "<message/>")
        link.event("something else", "")
        self.assertEqual(heard, ["up", "<message/>"])
        self.assertEqual(len(self.flushLoggedErrors(ValueError)), 1)

    def test_is_an_iq_channel(self) -> None:
        """The proxy offers what the XMPP-native backend needs of the link."""
        from gateway.backends.interfaces import IqChannel

        link, _ = proxy(None)
        self.assertIsInstance(link, IqChannel)
