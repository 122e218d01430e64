"""Request heads read as ejabberd reads them: bare-LF header lines, repeated identical lengths.

Each test feeds raw bytes to a :class:`~gateway.frontends.http_guard.GuardedSite`
channel on a ``StringTransport`` and looks at what the resource received and
what went back on the wire.
"""

from __future__ import annotations

from typing import Any

from twisted.internet.address import IPv4Address
from twisted.internet.testing import MemoryReactorClock, StringTransport
from twisted.trial.unittest import SynchronousTestCase
from twisted.web.resource import Resource

from gateway.frontends.http_guard import GuardedChannel, GuardedSite

PEER = IPv4Address("TCP", "127.0.0.1", 40000)
BODY = b"register user12 localhost somepass"

#: what PHP 8.2's file_get_contents sends for mod_rest README's sendRESTRequest
#: (captured from php-cli): the example's header string, bare-LF separated, between
#: PHP's own lines, with a second identical Content-Length and a second Content-Type
PHP_REQUEST = (
    b"POST /rest HTTP/1.1\r\n"
    b"Connection: close\r\n"
    b"Content-Length: 34\r\n"
    b"Host: localhost:5280\nContent-Type: text/html; charset=utf-8\nContent-Length: 34\r\n"
    b"Content-Type: application/x-www-form-urlencoded\r\n"
    b"\r\n" + BODY
)


class Recorder(Resource):
    """Answers ``ok`` and keeps each request's headers and body."""

    isLeaf = True

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[tuple[dict[bytes, list[bytes]], bytes]] = []

    def render(self, request: Any) -> bytes:
        headers = {
            name.lower(): values for name, values in request.requestHeaders.getAllRawHeaders()
        }
        self.seen.append((headers, request.content.read()))
        return b"ok"


class FramingTestCase(SynchronousTestCase):
    """One guarded site and a way to send it raw bytes."""

    def setUp(self) -> None:
        self.resource = Recorder()
        self.site = GuardedSite(
            self.resource,
            name="test listener",
            reactor=MemoryReactorClock(),
            receive_timeout=5.0,
            idle_timeout=8.0,
            max_connections=10,
        )

    def send(self, data: bytes) -> StringTransport:
        """Open a connection, write ``data`` to it and return what the channel wrote back."""
        channel = self.site.buildProtocol(PEER)
        assert isinstance(channel, GuardedChannel)
        transport = StringTransport(peerAddress=PEER)
        channel.makeConnection(transport)
        channel.dataReceived(data)
        return transport

    def assert_refused(self, data: bytes) -> None:
        transport = self.send(data)
        self.assertTrue(transport.value().startswith(b"HTTP/1.1 400 "), transport.value())
        self.assertTrue(transport.disconnecting)
        self.assertEqual(self.resource.seen, [])


class PhpRequestTests(FramingTestCase):
    """The request PHP's stream wrapper makes from mod_rest README's example."""

    def test_php_request_is_answered(self) -> None:
        """PHP's head (bare-LF lines, a repeated identical Content-Length) gets 200.

        The resource sees every field as its own header, one Content-Length,
        both Content-Types, and the whole body.
        """
        transport = self.send(PHP_REQUEST)
        self.assertTrue(transport.value().startswith(b"HTTP/1.1 200 OK\r\n"), transport.value())
        [(headers, body)] = self.resource.seen
        self.assertEqual(body, BODY)
        self.assertEqual(headers[b"content-length"], [b"34"])
        self.assertEqual(headers[b"host"], [b"localhost:5280"])
        self.assertEqual(
            headers[b"content-type"],
            [b"text/html; charset=utf-8", b"application/x-www-form-urlencoded"],
        )

    def test_bare_lf_fields_on_a_keep_alive_connection(self) -> None:
        """After a head with bare-LF fields, the next request on the connection is read normally."""
        first = b"POST /a HTTP/1.1\r\nHost: x\nContent-Length: 2\r\n\r\nab"
        second = b"POST /b HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc"
        transport = self.send(first + second)
        self.assertEqual(transport.value().count(b"HTTP/1.1 200 OK"), 2)
        self.assertEqual([body for _, body in self.resource.seen], [b"ab", b"abc"])


class ContentLengthTests(FramingTestCase):
    """Repeated lengths: identical ones count once, anything ambiguous is refused."""

    def test_identical_lengths_count_once(self) -> None:
        """Two identical Content-Length lines (CRLF-separated) are one header; the body is read."""
        transport = self.send(
            b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc"
        )
        self.assertTrue(transport.value().startswith(b"HTTP/1.1 200 OK\r\n"))
        [(headers, body)] = self.resource.seen
        self.assertEqual((headers[b"content-length"], body), ([b"3"], b"abc"))

    def test_identical_lengths_with_spacing_count_once(self) -> None:
        """Whitespace around the value does not make a length different (``3`` and `` 3 ``)."""
        transport = self.send(
            b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-length:  3 \r\n\r\nabc"
        )
        self.assertTrue(transport.value().startswith(b"HTTP/1.1 200 OK\r\n"))

    def test_conflicting_lengths_are_refused(self) -> None:
        """Two different Content-Length values get 400 and nothing reaches the resource."""
        self.assert_refused(
            b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd"
        )

    def test_conflicting_lengths_on_bare_lf_lines_are_refused(self) -> None:
        """Different lengths stay refused when one of them comes on a bare-LF line."""
        self.assert_refused(
            b"POST / HTTP/1.1\r\nContent-Length: 3\r\nHost: x\nContent-Length: 30\r\n\r\nabc"
        )

    def test_same_number_written_differently_is_refused(self) -> None:
        """``3`` and ``03`` are not identical values: refused."""
        self.assert_refused(
            b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 03\r\n\r\nabc"
        )

    def test_malformed_repeat_is_refused(self) -> None:
        """A repeated length that is not a plain number (``+3``, ``3, 3``) is refused."""
        for repeat in (b"+3", b"3, 3", b"3 3"):
            with self.subTest(repeat=repeat):
                self.resource.seen.clear()
                self.assert_refused(
                    b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n"
                    b"Content-Length: " + repeat + b"\r\n\r\nabc"
                )

    def test_length_with_chunked_encoding_is_refused(self) -> None:
        """Content-Length with Transfer-Encoding: chunked is refused, in either order and
        whether the length is repeated or not: the end of the body is never guessed."""
        chunked = b"Transfer-Encoding: chunked\r\n"
        length = b"Content-Length: 3\r\n"
        for fields in (
            length + chunked,
            chunked + length,
            length + length + chunked,
            length + chunked + length,
            b"Host: x\nTransfer-Encoding: chunked\r\n" + length,
        ):
            with self.subTest(fields=fields):
                self.assert_refused(b"POST / HTTP/1.1\r\n" + fields + b"\r\n3\r\nabc\r\n0\r\n\r\n")


class BareLineFeedTests(FramingTestCase):
    """A bare LF ends a header line, and nothing else changes."""

    def test_bare_lf_in_the_request_line_is_refused(self) -> None:
        """The request line must end in CRLF: ``POST / HTTP/1.1\\nHost: x`` is refused."""
        self.assert_refused(b"POST / HTTP/1.1\nHost: x\r\nContent-Length: 0\r\n\r\n")

    def test_empty_line_between_bare_lfs_is_refused(self) -> None:
        """``\\n\\n`` inside a line (a head ending mid-line) is refused, not taken as its end."""
        self.assert_refused(b"POST / HTTP/1.1\r\nHost: x\n\nContent-Length: 3\r\n\r\nabc")

    def test_line_ending_in_bare_lf_is_refused(self) -> None:
        """A header line ending in a bare LF before its CRLF is refused."""
        self.assert_refused(b"POST / HTTP/1.1\r\nHost: x\n\r\nContent-Length: 0\r\n\r\n")

    def test_bare_lf_in_a_chunk_size_line_is_refused(self) -> None:
        """Chunked bodies keep twisted.web's strict parsing: a bare-LF chunk-size line is
        refused."""
        self.assert_refused(
            b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\nabc\r\n0\r\n\r\n"
        )

    def test_bad_field_on_a_bare_lf_line_is_refused(self) -> None:
        """A malformed field among bare-LF lines is refused like any malformed field."""
        self.assert_refused(
            b"POST / HTTP/1.1\r\nHost: x\nno colon here\r\nContent-Length: 0\r\n\r\n"
        )

    def test_header_count_limit_still_applies(self) -> None:
        """Fields packed on bare-LF lines count towards twisted.web's limit of header fields."""
        many = b"\n".join(b"X-Field-%d: y" % i for i in range(GuardedChannel.maxHeaders + 1))
        self.assert_refused(b"POST / HTTP/1.1\r\n" + many + b"\r\nContent-Length: 0\r\n\r\n")
