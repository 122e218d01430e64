"""The shared async resource template and HTTP helpers of gateway.frontends.base."""

from __future__ import annotations

import ipaddress
from collections.abc import Awaitable, Callable
from io import BytesIO
from typing import Any

from twisted.internet.address import IPv4Address, IPv6Address, UNIXAddress
from twisted.internet.defer import CancelledError, Deferred
from twisted.internet.error import ConnectionLost
from twisted.python.failure import Failure
from twisted.trial.unittest import SynchronousTestCase
from twisted.web.iweb import IRequest
from twisted.web.server import NOT_DONE_YET
from twisted.web.test.requesthelper import DummyRequest

from gateway.engine.errors import Forbidden
from gateway.frontends.base import (
    AsyncResource,
    HttpAnswer,
    RequestTooLarge,
    client_ip,
    write_answer,
    xhtml_page,
)


class Recorder(AsyncResource[str]):
    """Runs ``work`` for each request and records what the base hands back."""

    def __init__(self, work: Callable[[IRequest], Awaitable[str]], **kw: int) -> None:
        super().__init__(**kw)
        self.work = work
        self.sent: list[str] = []
        self.errors: list[Failure] = []
        self.fail_sending = False
        self.fail_error_sending = False

    async def _async_render(self, request: IRequest) -> str:
        return await self.work(request)

    def _send_response(self, request: IRequest, response: str) -> None:
        if self.fail_sending:
            raise RuntimeError("encoder bug")
        self.sent.append(response)
        write_answer(request, HttpAnswer(200, response.encode()))

    def _send_error_response(self, request: IRequest, failure: Failure) -> None:
        self.errors.append(failure)
        if self.fail_error_sending:
            raise RuntimeError("error encoder bug")
        write_answer(request, HttpAnswer(500, b"generic"))


def request_with(body: bytes = b"", method: bytes = b"POST") -> Any:
    """A DummyRequest (typed loosely: it does not declare IRequest) with a body."""
    request: Any = DummyRequest([b"x"])
    request.method = method
    request.content = BytesIO(body)
    request.uri = b"/x"
    return request


def request_with_no_content() -> Any:
    return DummyRequest([])


async def answer_ok(request: IRequest) -> str:
    return "ok"


class RenderTests(SynchronousTestCase):
    def test_answer_is_sent(self) -> None:
        """render returns NOT_DONE_YET and the subclass's answer is written and finished."""
        resource = Recorder(answer_ok)
        request = request_with()
        self.assertEqual(resource.render(request), NOT_DONE_YET)
        self.assertEqual(resource.sent, ["ok"])
        self.assertEqual(
            (request.responseCode, request.written, request.finished), (200, [b"ok"], 1)
        )

    def test_answer_after_waiting(self) -> None:
        """An answer that arrives later is written when it arrives."""
        waiting: Deferred[str] = Deferred()

        async def work(request: IRequest) -> str:
            return await waiting

        resource = Recorder(work)
        request = request_with()
        resource.render(request)
        self.assertEqual(request.finished, 0)
        waiting.callback("late")
        self.assertEqual(request.written, [b"late"])

    def test_client_gone_cancels_and_writes_nothing(self) -> None:
        """When the connection is lost, the pending work is cancelled and nothing is
        written to the request, neither an answer nor an error."""
        cancelled: list[bool] = []
        waiting: Deferred[str] = Deferred(lambda d: cancelled.append(True))

        async def work(request: IRequest) -> str:
            return await waiting

        resource = Recorder(work)
        request = request_with()
        resource.render(request)
        request.processingFailed(Failure(ConnectionLost()))
        self.assertEqual(cancelled, [True])
        self.assertEqual((request.written, request.finished, request.responseCode), ([], 0, None))
        self.assertEqual((resource.sent, resource.errors), ([], []))
        self.assertEqual(self.flushLoggedErrors(), [])

    def test_answer_after_client_gone_is_dropped(self) -> None:
        """Work that ignores cancellation and answers anyway is not written out."""

        async def work(request: IRequest) -> str:
            try:
                await Deferred()
            except CancelledError:
                pass
            return "too late"

        resource = Recorder(work)
        request = request_with()
        resource.render(request)
        request.processingFailed(Failure(ConnectionLost()))
        self.assertEqual((request.written, request.finished, resource.sent), ([], 0, []))

    def test_unexpected_error_logged_and_answered(self) -> None:
        """An unexpected exception is logged with its traceback and handed to
        _send_error_response, which answers generically."""

        async def work(request: IRequest) -> str:
            raise ZeroDivisionError("boom")

        resource = Recorder(work)
        request = request_with()
        resource.render(request)
        self.assertEqual(len(self.flushLoggedErrors(ZeroDivisionError)), 1)
        self.assertEqual(len(resource.errors), 1)
        self.assertTrue(resource.errors[0].check(ZeroDivisionError))
        self.assertEqual((request.responseCode, request.written), (500, [b"generic"]))

    def test_expected_error_not_logged(self) -> None:
        """A CommandError is an answer, not a fault: it reaches _send_error_response
        without being logged as a failure."""

        async def work(request: IRequest) -> str:
            raise Forbidden("status")

        resource = Recorder(work)
        resource.render(request_with())
        self.assertTrue(resource.errors[0].check(Forbidden))
        self.assertEqual(self.flushLoggedErrors(), [])

    def test_cancellation_not_from_client_is_an_error(self) -> None:
        """A CancelledError while the client is still there is answered as an
        unexpected error rather than silently dropped."""

        async def work(request: IRequest) -> str:
            raise CancelledError()

        resource = Recorder(work)
        request = request_with()
        resource.render(request)
        self.assertEqual(len(self.flushLoggedErrors(CancelledError)), 1)
        self.assertEqual(request.responseCode, 500)

    def test_encoder_failure_answered(self) -> None:
        """If _send_response itself fails before writing, the failure is logged and the
        generic error answer is sent instead."""
        resource = Recorder(answer_ok)
        resource.fail_sending = True
        request = request_with()
        resource.render(request)
        self.assertEqual(len(self.flushLoggedErrors(RuntimeError)), 1)
        self.assertEqual((request.responseCode, request.finished), (500, 1))

    def test_error_encoder_failure_still_answered(self) -> None:
        """When the dialect's own error encoder fails too, the request still gets a bare 500
        instead of hanging until the client's timeout."""
        resource = Recorder(answer_ok)
        resource.fail_sending = True
        resource.fail_error_sending = True
        request = request_with()
        resource.render(request)
        self.assertEqual(len(self.flushLoggedErrors(RuntimeError)), 2)
        self.assertEqual((request.responseCode, request.finished), (500, 1))
        self.assertEqual(b"".join(request.written), b"internal error")


class BodyTests(SynchronousTestCase):
    def test_body_within_limit(self) -> None:
        """read_body returns the whole body when it fits, even read twice."""
        resource = Recorder(answer_ok, max_body_bytes=5)
        request = request_with(b"12345")
        self.assertEqual(resource.read_body(request), b"12345")
        self.assertEqual(resource.read_body(request), b"12345")

    def test_body_over_limit(self) -> None:
        """A body one byte over the limit raises RequestTooLarge naming the limit."""
        resource = Recorder(answer_ok, max_body_bytes=5)
        error = self.assertRaises(RequestTooLarge, resource.read_body, request_with(b"123456"))
        self.assertEqual(error.limit, 5)

    def test_declared_length_over_limit(self) -> None:
        """A Content-Length over the limit is refused without reading the body."""
        resource = Recorder(answer_ok, max_body_bytes=5)
        request = request_with(b"")
        request.requestHeaders.setRawHeaders(b"content-length", [b"999999"])
        self.assertRaises(RequestTooLarge, resource.read_body, request)

    def test_no_content(self) -> None:
        """A request without a content attribute has an empty body."""
        resource = Recorder(answer_ok)
        self.assertEqual(resource.read_body(request_with_no_content()), b"")

    def test_negative_limit_refused(self) -> None:
        """A negative max_body_bytes is a configuration mistake."""
        self.assertRaises(ValueError, Recorder, answer_ok, max_body_bytes=-1)


class WriteAnswerTests(SynchronousTestCase):
    def test_headers_and_length(self) -> None:
        """write_answer sets the status, the headers and Content-Length, then finishes."""
        request = request_with()
        write_answer(request, HttpAnswer(201, b"abc", (("X-One", "1"),)))
        self.assertEqual(request.responseCode, 201)
        self.assertEqual(request.responseHeaders.getRawHeaders(b"x-one"), [b"1"])
        self.assertEqual(request.responseHeaders.getRawHeaders(b"content-length"), [b"3"])
        self.assertEqual((request.written, request.finished), ([b"abc"], 1))

    def test_head_has_no_body(self) -> None:
        """A HEAD request gets Content-Length 0 and no body."""
        request = request_with(method=b"HEAD")
        write_answer(request, HttpAnswer(400, b"abc"))
        self.assertEqual(request.responseHeaders.getRawHeaders(b"content-length"), [b"0"])
        self.assertEqual(request.written, [])


class XhtmlPageTests(SynchronousTestCase):
    def test_bad_request_page(self) -> None:
        """The 400 page is ejabberd_http's: XML declaration, XHTML doctype, 336 bytes."""
        page = xhtml_page("400 Bad Request")
        self.assertEqual(len(page), 336)
        self.assertTrue(page.startswith(b"<?xml version='1.0'?>\n<!DOCTYPE html PUBLIC "))
        self.assertTrue(page.endswith(b"<body><h1>400 Bad Request</h1></body></html>"))

    def test_markup_refused(self) -> None:
        """Headings are fixed text: anything that looks like markup is refused."""
        self.assertRaises(ValueError, xhtml_page, "<script>")


def addressed(address: Any, xff: bytes | None = None) -> Any:
    request: Any = DummyRequest([])
    request.client = address
    if xff is not None:
        request.requestHeaders.setRawHeaders(b"x-forwarded-for", [xff])
    return request


PROXY = [ipaddress.ip_network("10.0.0.0/8")]


class ClientIpTests(SynchronousTestCase):
    def test_ipv4(self) -> None:
        """An IPv4 peer is returned as an IPv4Address."""
        found = client_ip(addressed(IPv4Address("TCP", "127.0.0.1", 1)))
        self.assertEqual(found, ipaddress.IPv4Address("127.0.0.1"))

    def test_ipv6_and_mapped(self) -> None:
        """An IPv6 peer is IPv6; an IPv4-mapped one is given as plain IPv4."""
        self.assertEqual(
            client_ip(addressed(IPv6Address("TCP", "::1", 1))), ipaddress.IPv6Address("::1")
        )
        self.assertEqual(
            client_ip(addressed(IPv6Address("TCP", "::ffff:192.0.2.1", 1))),
            ipaddress.IPv4Address("192.0.2.1"),
        )

    def test_not_ip(self) -> None:
        """A UNIX socket or no address at all gives None."""
        self.assertIsNone(client_ip(addressed(UNIXAddress(b"/sock"))))
        self.assertIsNone(client_ip(request_with_no_content()))

    def test_forwarded_ignored_without_trust(self) -> None:
        """X-Forwarded-For is ignored unless the peer is a trusted proxy."""
        request = addressed(IPv4Address("TCP", "10.1.1.1", 1), b"192.0.2.7")
        self.assertEqual(client_ip(request), ipaddress.IPv4Address("10.1.1.1"))
        request = addressed(IPv4Address("TCP", "198.51.100.1", 1), b"192.0.2.7")
        self.assertEqual(client_ip(request, PROXY), ipaddress.IPv4Address("198.51.100.1"))

    def test_forwarded_from_trusted_chain(self) -> None:
        """Through trusted proxies, the first X-Forwarded-For address is the caller."""
        request = addressed(IPv4Address("TCP", "10.1.1.1", 1), b"192.0.2.7, 10.2.2.2")
        self.assertEqual(client_ip(request, PROXY), ipaddress.IPv4Address("192.0.2.7"))

    def test_forwarded_chain_with_stranger(self) -> None:
        """One untrusted hop in the chain makes the socket peer the caller."""
        request = addressed(IPv4Address("TCP", "10.1.1.1", 1), b"192.0.2.7, 203.0.113.9")
        self.assertEqual(client_ip(request, PROXY), ipaddress.IPv4Address("10.1.1.1"))

    def test_forwarded_garbage(self) -> None:
        """An unreadable X-Forwarded-For falls back to the socket peer."""
        request = addressed(IPv4Address("TCP", "10.1.1.1", 1), b"not-an-ip")
        self.assertEqual(client_ip(request, PROXY), ipaddress.IPv4Address("10.1.1.1"))


class HalfWrittenTests(SynchronousTestCase):
    def test_failure_after_writing_finishes(self) -> None:
        """If the encoder fails after it started writing, no error answer is mixed in,
        the failure is logged and the request is still finished."""

        class HalfWriter(Recorder):
            def _send_response(self, request: IRequest, response: str) -> None:
                request.write(b"partial")
                raise RuntimeError("encoder bug")

        resource = HalfWriter(answer_ok)
        request = request_with()
        resource.render(request)
        self.assertEqual(len(self.flushLoggedErrors(RuntimeError)), 1)
        self.assertEqual(
            (request.written, request.finished, resource.errors), ([b"partial"], 1, [])
        )
