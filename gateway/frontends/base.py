"""The asynchronous resource every HTTP dialect is built on.

:class:`AsyncResource` runs a subclass's ``async def _async_render`` for each
request and hands what it returns to ``_send_response``, or the exception it
raised to ``_send_error_response``.  It owns the parts every dialect needs and
none should get wrong: cancelling the work when the client goes away, never
writing to a connection that is gone, logging unexpected errors, bounding the
request body and finding the caller's address.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Generic, TypeVar

from twisted.internet.address import IPv4Address as TwistedIPv4
from twisted.internet.address import IPv6Address as TwistedIPv6
from twisted.internet.defer import CancelledError, Deferred, ensureDeferred
from twisted.logger import Logger
from twisted.python.failure import Failure
from twisted.web.iweb import IRequest
from twisted.web.resource import Resource
from twisted.web.server import NOT_DONE_YET

from gateway.engine.errors import CommandError, TooManyFailures
from gateway.engine.model import IPAddress
from gateway.offload import Offload, run_inline

__all__ = [
    "AsyncResource",
    "EncoderFailed",
    "HttpAnswer",
    "IPNetwork",
    "RequestTooLarge",
    "client_ip",
    "retry_after",
    "write_answer",
    "xhtml_page",
]

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

R = TypeVar("R")

# ejabberd_http's XHTML preamble: clients that scrape error pages expect it verbatim
_XHTML_DOCTYPE = (
    b"<?xml version='1.0'?>\n"
    b'<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN" '
    b'"http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">\n'
)
_XHTML_HEAD = (
    b"<html xmlns='http://www.w3.org/1999/xhtml' xml:lang='en' lang='en'>"
    b"<head><meta http-equiv='Content-Type' content='text/html; charset=utf-8'/></head>"
)


def xhtml_page(heading: str) -> bytes:
    """ejabberd_http's error page: the XHTML doctype and a page holding one ``<h1>``.

    ``heading`` must be plain text without markup characters (it is fixed
    text such as ``400 Bad Request``, never caller input).
    """
    if any(c in heading for c in "<>&'\""):
        raise ValueError("the heading of an error page must be plain text")
    return (
        _XHTML_DOCTYPE
        + _XHTML_HEAD
        + b"<body><h1>"
        + heading.encode("utf-8")
        + b"</h1></body></html>"
    )


@dataclass(frozen=True, slots=True)
class HttpAnswer:
    """A complete, already encoded HTTP answer."""

    status: int
    body: bytes = b""
    headers: Sequence[tuple[str, str]] = field(default_factory=tuple)


class EncoderFailed(Exception):
    """Stands for an error a dialect could not encode: answered as an unexpected one."""

    def __init__(self) -> None:
        super().__init__("the dialect's error encoder failed")


class RequestTooLarge(Exception):
    """The request body is larger than the resource accepts."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"request body larger than {limit} bytes")
        self.limit = limit


def retry_after(error: BaseException) -> tuple[tuple[str, str], ...]:
    """The ``Retry-After`` header a banned caller gets (RFC 9110), else nothing."""
    if isinstance(error, TooManyFailures):
        return (("Retry-After", str(error.retry_after)),)
    return ()


def write_answer(request: IRequest, answer: HttpAnswer) -> None:
    """Write ``answer`` and finish the request.

    A ``HEAD`` request gets the status and headers with ``Content-Length: 0``
    and no body, as ejabberd_http sends it.
    """
    request.setResponseCode(answer.status)
    for name, value in answer.headers:
        request.setHeader(name.encode("latin-1"), value.encode("latin-1"))
    head = request.method == b"HEAD"
    length = 0 if head else len(answer.body)
    request.setHeader(b"Content-Length", str(length).encode("ascii"))
    if not head and answer.body:
        request.write(answer.body)
    request.finish()


def client_ip(request: IRequest, trusted_proxies: Sequence[IPNetwork] = ()) -> IPAddress | None:
    """The caller's IP address, as an :mod:`ipaddress` object.

    The socket peer, unless it and every proxy named in ``X-Forwarded-For``
    are in ``trusted_proxies``: then the first address of that header.  An
    IPv4 address seen through an IPv6 socket is given as IPv4.  ``None`` when
    the request did not come over IP (e.g. a UNIX socket).
    """
    peer = _peer_ip(request.getClientAddress())
    if peer is None or not trusted_proxies:
        return peer
    raw = request.getHeader(b"x-forwarded-for")
    if not raw:
        return peer
    chain = [part.strip() for part in raw.decode("latin-1").split(",") if part.strip()]
    if not chain:
        return peer
    try:
        hops = [_parse_ip(text) for text in chain]
    except ValueError:
        return peer
    # everyone who passed the request on must be trusted for the first entry to count
    proxies = [*hops[1:], peer]
    if all(any(hop in network for network in trusted_proxies) for hop in proxies):
        return hops[0]
    return peer


def _peer_ip(address: object) -> IPAddress | None:
    if not isinstance(address, TwistedIPv4 | TwistedIPv6):
        return None
    try:
        return _parse_ip(address.host)
    except ValueError:
        return None


def _parse_ip(text: str) -> IPAddress:
    found = ipaddress.ip_address(text.split("%", 1)[0])
    if isinstance(found, ipaddress.IPv6Address) and found.ipv4_mapped is not None:
        return found.ipv4_mapped
    return found


@dataclass(slots=True)
class _Exchange:
    """What the base knows about one request while it is being answered."""

    gone: bool = False


class AsyncResource(Resource, Generic[R]):
    """Answers every request with an ``async def``, Synapse and klein style.

    Subclasses implement:

    - ``async def _async_render(request) -> R``: decode the request and do the
      work, returning whatever ``_send_response`` encodes;
    - ``_send_response(request, response)``: write a successful answer;
    - ``_send_error_response(request, failure)``: write the answer for an
      exception raised by ``_async_render`` (a :class:`CommandError`, a
      :class:`RequestTooLarge` or anything unexpected).

    Decoding a body that may be large goes through ``self.offload`` (e.g.
    ``await self.offload(len(body), decode, body)``), which keeps it off the
    event loop in the daemon and runs it inline by default.

    Both ``_send_*`` methods must write synchronously (e.g. with
    :func:`write_answer`); they are only called while the client is still
    connected.  Exceptions other than those in ``expected_errors`` are logged
    with their traceback before ``_send_error_response`` sees them, so a
    subclass only has to answer them generically.

    Every request gets an answer: when ``_send_response`` fails, the error
    answer is sent; when ``_send_error_response`` cannot word an expected error
    (a bug in a dialect's error encoder), it is asked again with
    :class:`EncoderFailed`, which it answers like any unexpected error (the
    dialect's internal error); only if that fails too is a bare 500 sent.
    """

    isLeaf = True
    log: ClassVar[Logger] = Logger()
    #: exceptions that are answers, not faults: they are not logged
    expected_errors: ClassVar[tuple[type[BaseException], ...]] = (CommandError, RequestTooLarge)

    def __init__(self, *, max_body_bytes: int = 1 << 20, offload: Offload = run_inline) -> None:
        super().__init__()
        if max_body_bytes < 0:
            raise ValueError("max_body_bytes cannot be negative")
        self.max_body_bytes = max_body_bytes
        #: decodes large bodies off the event loop (see :mod:`gateway.offload`)
        self.offload = offload

    # -- Twisted seam ---------------------------------------------------------

    def render(self, request: IRequest) -> int:
        exchange = _Exchange()
        # Ask for the finish notification first: the work may complete (and
        # finish the request) before ensureDeferred returns.
        finished: Deferred[None] = request.notifyFinish()  # type: ignore[attr-defined]
        work = ensureDeferred(self._answer(request, exchange))

        def connection_lost(reason: Failure) -> None:
            exchange.gone = True
            work.cancel()

        finished.addCallbacks(lambda _: None, connection_lost)
        work.addErrback(self._log_escaped, request)
        return NOT_DONE_YET

    async def _answer(self, request: IRequest, exchange: _Exchange) -> None:
        try:
            response = await self._async_render(request)
        except CancelledError:
            if exchange.gone:
                self.log.debug("client went away before {uri} was answered", uri=_uri(request))
                return
            self._fail(request, exchange, Failure())
            return
        except Exception:
            self._fail(request, exchange, Failure())
            return
        if exchange.gone:
            return
        try:
            self._send_response(request, response)
        except Exception:
            self._fail(request, exchange, Failure())

    def _fail(self, request: IRequest, exchange: _Exchange, failure: Failure) -> None:
        if not failure.check(*self.expected_errors):
            self.log.failure("unexpected error answering {uri}", failure, uri=_uri(request))
        if exchange.gone:
            return
        if not _started(request):
            try:
                self._send_error_response(request, failure)
                return
            except Exception:
                self.log.failure("could not send the error answer for {uri}", uri=_uri(request))
        if failure.check(*self.expected_errors) and not _started(request):
            # the dialect could not word this error: its answer to an unexpected one instead
            try:
                self._send_error_response(request, Failure(EncoderFailed()))
                return
            except Exception:
                self.log.failure("could not send the internal error for {uri}", uri=_uri(request))
        self._last_resort(request)

    def _last_resort(self, request: IRequest) -> None:
        """End what was started, or answer a bare 500: every request gets an answer."""
        if not _started(request):
            write_answer(
                request, HttpAnswer(500, b"internal error", (("Content-Type", "text/plain"),))
            )
        elif not getattr(request, "finished", False):
            # too late for an error answer; at least end what was started
            try:
                request.finish()
            except Exception:
                self.log.failure("could not finish {uri}", uri=_uri(request))

    def _log_escaped(self, failure: Failure, request: IRequest) -> None:
        # _answer catches everything; this only guards against bugs in it
        self.log.failure("request handling crashed for {uri}", failure, uri=_uri(request))

    # -- for subclasses -------------------------------------------------------

    async def _async_render(self, request: IRequest) -> R:
        raise NotImplementedError

    def _send_response(self, request: IRequest, response: R) -> None:
        raise NotImplementedError

    def _send_error_response(self, request: IRequest, failure: Failure) -> None:
        raise NotImplementedError

    def read_body(self, request: IRequest) -> bytes:
        """The request body; :class:`RequestTooLarge` past ``max_body_bytes``."""
        limit = self.max_body_bytes
        declared = request.getHeader(b"content-length")
        if declared is not None:
            try:
                if int(declared) > limit:
                    raise RequestTooLarge(limit)
            except ValueError:
                pass  # a malformed length never reaches a resource; read what is there
        content: Any = getattr(request, "content", None)
        if content is None:
            return b""
        content.seek(0)
        data: bytes = content.read(limit + 1)
        if len(data) > limit:
            raise RequestTooLarge(limit)
        return data


def _started(request: IRequest) -> bool:
    # a real Request records it in startedWriting/finished; DummyRequest in written/finished
    return bool(
        getattr(request, "finished", False)
        or getattr(request, "startedWriting", False)
        or getattr(request, "written", None)
    )


def _uri(request: IRequest) -> str:
    return request.uri.decode("latin-1", "replace")
