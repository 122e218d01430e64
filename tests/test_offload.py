"""Decoding large inputs off the event loop: the offload itself and every place that uses it.

The resources and the component link are given a :class:`HeldOffload`,
which records each call (the size it was told and the function) and runs it
only when the test says so, as a decoding thread would finish later: the
tests check that each decode point goes through the offload with the right
size and that nothing is answered or queued before the decode is done.
"""

from __future__ import annotations

import json
import queue
import threading
import xmlrpc.client
from collections.abc import Callable
from dataclasses import dataclass, field
from io import BytesIO
from typing import Any

from twisted.internet.defer import Deferred
from twisted.internet.testing import MemoryReactorClock
from twisted.trial.unittest import SynchronousTestCase
from twisted.web.test.requesthelper import DummyRequest

from gateway.frontends.jsonapi.request import decode_json_body
from gateway.frontends.rest.form import form_payload
from gateway.frontends.rest.stanza import parse_stanza
from gateway.frontends.xmlrpc.codec import decode_call, encode_response
from gateway.offload import ThreadOffload, run_inline
from gateway.testing import FakeStanzaSink, MemoryQueue
from gateway.xmpp.link import ComponentLink
from gateway.xmpp.wire import prepare_outbound
from tests.frontends.jsonapi import helpers as jsonapi_helpers
from tests.frontends.rest import helpers as rest_helpers
from tests.frontends.xmlrpc import helpers as xmlrpc_helpers
from tests.xmpp.fakes import FakeServer, component_config


@dataclass
class Held:
    size: int
    fn: Callable[..., Any]
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    deferred: Deferred[Any]


@dataclass
class HeldOffload:
    """An offload that runs nothing until :meth:`release`; records every call."""

    calls: list[Held] = field(default_factory=list)

    def __call__(self, size: int, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
        held = Held(size, fn, args, kwargs, Deferred())
        self.calls.append(held)
        return held.deferred

    def release(self) -> None:
        """Finish every call not finished yet, in order (what a decoding thread would do)."""
        while pending := [held for held in self.calls if not held.deferred.called]:
            held = pending[0]
            try:
                result = held.fn(*held.args, **held.kwargs)
            except Exception as e:
                held.deferred.errback(e)
            else:
                held.deferred.callback(result)

    def functions(self) -> list[Callable[..., Any]]:
        return [held.fn for held in self.calls]


class InlineTests(SynchronousTestCase):
    """run_inline runs at once and reports through the Deferred."""

    def test_result(self) -> None:
        """The Deferred has already fired with the function's result."""
        self.assertEqual(self.successResultOf(run_inline(3, lambda a, b: a + b, 1, b=2)), 3)

    def test_exception(self) -> None:
        """An exception becomes the Deferred's failure, not a raise."""

        def broken() -> None:
            raise ValueError("bad input")

        self.failureResultOf(run_inline(0, broken), ValueError)


class _Reactor:
    """Hands results back through a queue the test waits on (no sleeping)."""

    def __init__(self) -> None:
        self.calls: queue.Queue[tuple[Callable[..., Any], tuple[Any, ...]]] = queue.Queue()

    def callFromThread(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> None:  # noqa: N802
        self.calls.put((lambda: fn(*args, **kwargs), ()))

    def deliver(self) -> None:
        fn, _ = self.calls.get(timeout=10)
        fn()


class ThreadOffloadTests(SynchronousTestCase):
    """ThreadOffload: small inputs inline, large ones in its own thread."""

    def setUp(self) -> None:
        self.reactor = _Reactor()
        self.offload = ThreadOffload(self.reactor, threshold=100)  # type: ignore[arg-type]
        self.offload.startService()
        self.addCleanup(self.offload.stopService)

    def test_small_input_inline(self) -> None:
        """Below the threshold the function runs on the calling thread, at once."""
        result = self.offload(99, threading.get_ident)
        self.assertEqual(self.successResultOf(result), threading.get_ident())

    def test_large_input_in_a_thread(self) -> None:
        """At the threshold the function runs in another thread; the result comes back."""
        result = self.offload(100, threading.get_ident)
        self.reactor.deliver()
        ident = self.successResultOf(result)
        self.assertNotEqual(ident, threading.get_ident())

    def test_large_input_failure(self) -> None:
        """An exception raised in the thread fails the Deferred."""
        result = self.offload(1000, json.loads, b"{not json")
        self.reactor.deliver()
        self.failureResultOf(result, ValueError)

    def test_negative_threshold_refused(self) -> None:
        """A negative threshold is a configuration mistake."""
        with self.assertRaises(ValueError):
            ThreadOffload(self.reactor, threshold=-1)  # type: ignore[arg-type]


class ResourceTests(SynchronousTestCase):
    """Each dialect decodes its body through the offload and answers once it is done."""

    def test_json_body(self) -> None:
        """/api decodes the JSON body through the offload, told the body's size."""
        held = HeldOffload()
        resource = jsonapi_helpers.make_resource(offload=held)
        body = json.dumps({"padding": [1] * 100}).encode()
        request = jsonapi_helpers.make_request(b"POST", "/api/status", body)
        jsonapi_helpers.call(resource, request)
        self.assertEqual([(h.size, h.fn) for h in held.calls], [(len(body), decode_json_body)])
        self.assertFalse(request.finished)
        held.release()
        answer = jsonapi_helpers.answer_of(request)
        self.assertEqual(answer.status, 400)
        self.assertIn(b"unknown arguments", answer.body)

    def test_xmlrpc_body_and_answer(self) -> None:
        """XML-RPC decodes the call and encodes the answer through the offload."""
        held = HeldOffload()
        resource, _ = xmlrpc_helpers.make_resource(offload=held)
        body = xmlrpc.client.dumps((["x"] * 50,), "echothis").encode()
        reply = xmlrpc_helpers.post(resource, body)
        self.assertFalse(reply.finished)
        held.release()
        self.assertEqual([h.fn for h in held.calls], [decode_call, encode_response])
        self.assertEqual({h.size for h in held.calls}, {len(body)})

    def test_xmlrpc_answer_after_release(self) -> None:
        """The echoed value arrives once the offloaded work is done."""
        held = HeldOffload()
        resource, _ = xmlrpc_helpers.make_resource(offload=held)
        request = DummyRequest([b"xmlrpc"])
        request.method = b"POST"
        request.content = BytesIO(xmlrpc.client.dumps(("hi",), "echothis").encode())
        xmlrpc_helpers.render(resource, request)
        self.assertEqual(request.written, [])
        held.release()
        self.assertEqual(xmlrpc.client.loads(b"".join(request.written))[0], ("hi",))

    def test_rest_stanza(self) -> None:
        """mod_rest parses a stanza off the loop and tells the sink the body's size."""
        held = HeldOffload()
        sink = FakeStanzaSink()  # it records the size each call is told
        rig = rest_helpers.make_resource(offload=held, sink=sink)
        stanza = b"<message to='alice@localhost'><body>hi</body></message>"
        request = rest_helpers.make_request(stanza)
        rest_helpers.render(rig.resource, request)
        self.assertFalse(request.finished)
        held.release()
        self.assertEqual([h.fn for h in held.calls], [form_payload, parse_stanza])
        self.assertEqual(rest_helpers.answer_of(request).text, "Ok")
        self.assertEqual(len(sink.submitted), 1)
        self.assertEqual(sink.sizes, [len(stanza)])

    def test_rest_command_line(self) -> None:
        """mod_rest splits a command line through the offload."""
        held = HeldOffload()
        rig = rest_helpers.make_resource(offload=held)
        request = rest_helpers.make_request(b"status")
        rest_helpers.render(rig.resource, request)
        self.assertFalse(request.finished)
        held.release()
        self.assertEqual([h.size for h in held.calls], [len(b"status")] * 2)
        self.assertTrue(request.finished)

    def test_rest_bad_utf8_line(self) -> None:
        """A command line that is not UTF-8 still gets its 400 when split off the loop."""
        held = HeldOffload()
        rig = rest_helpers.make_resource(offload=held)
        request = rest_helpers.make_request(b"status \xff")
        rest_helpers.render(rig.resource, request)
        held.release()
        answer = rest_helpers.answer_of(request)
        self.assertEqual(answer.status, 400)
        self.assertIn("not valid UTF-8", answer.text)


class LinkTests(SynchronousTestCase):
    """The component link prepares large stanzas off the loop before queueing or sending."""

    def setUp(self) -> None:
        self.reactor = MemoryReactorClock()
        self.server = FakeServer(self.reactor)
        self.queue = MemoryQueue()
        self.held = HeldOffload()
        self.link = ComponentLink(
            component_config(), self.queue, self.reactor, jitter=lambda: 0.0, offload=self.held
        )
        self.link.startService()
        self.addCleanup(self.link.stopService)

    def test_submit_waits_for_preparation(self) -> None:
        """Nothing is queued until the stanza is prepared; text is measured by its length."""
        text = "<message to='u@localhost'><body>hi</body></message>"
        stored = self.link.submit(text)
        self.assertEqual([(h.size, h.fn) for h in self.held.calls], [(len(text), prepare_outbound)])
        self.assertNoResult(stored)
        self.assertEqual(self.successResultOf(self.queue.count()), 0)
        self.held.release()
        self.successResultOf(stored)
        self.assertEqual(self.successResultOf(self.queue.count()), 1)

    def test_submit_size_given(self) -> None:
        """A size given by the caller (a posted body) is what the offload is told."""
        element = parse_stanza(b"<message to='u@localhost'/>", max_depth=8).element
        self.link.submit(element, size=123_456)
        self.assertEqual(self.held.calls[0].size, 123_456)

    def test_submit_element_small_by_default(self) -> None:
        """An element built in-process counts as small (size 0)."""
        element = parse_stanza(b"<message to='u@localhost'/>", max_depth=8).element
        self.link.submit(element)
        self.assertEqual(self.held.calls[0].size, 0)

    def test_iq_sent_after_preparation(self) -> None:
        """An awaited IQ is written to the stream only once it is prepared."""
        connection, _ = self.server.connect()
        text = "<iq type='get' id='c1' to='localhost'><query xmlns='jabber:iq:version'/></iq>"
        answer = self.link.iq(text, 10, size=99_999)
        self.assertEqual(self.held.calls[-1].size, 99_999)
        self.assertEqual(connection.read(), [])
        self.held.release()
        [sent] = connection.read()
        self.assertEqual(sent.name, "iq")
        self.assertNoResult(answer)
        connection.answer(sent)
        self.assertIn("c1", self.successResultOf(answer))

    def test_iq_while_down_after_preparation(self) -> None:
        """The link being down is found after preparation, and reported as before."""
        answer = self.link.iq("<iq type='get' id='c1' to='localhost'/>", 10)
        self.held.release()
        self.failureResultOf(answer)
