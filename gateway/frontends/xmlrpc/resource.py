"""The HTTP side of the XML-RPC frontend (ejabberd_xmlrpc).

One leaf resource serves both as a request handler (``/xmlrpc`` and any
sub-path) and as the root of a standalone listener (every path).

- Only POST with a body is served.  Anything else gets ejabberd's bare
  ``<h1>400 Bad Request</h1>`` XHTML page, as ejabberd's HTTP layer sends.
- A body that is not well-formed XML, or that declares a DTD, gets the 400
  page ``<h1>Malformed XML</h1>``; well-formed XML that is not a readable
  ``<methodCall>`` (including one nested deeper than ``max_depth``) gets
  ``<h1>Malformed Request</h1>``.
- A body longer than ``max_body_bytes`` gets the 400 page
  ``<h1>Request Too Large</h1>`` (ejabberd has no such limit; the page
  keeps the dialect's shape).
- Every call that decodes is answered 200 ``text/xml`` with a result or a
  fault, never a dropped connection: unexpected errors are logged and become
  fault -118.
"""

from __future__ import annotations

from collections.abc import Callable
from ipaddress import ip_address

from twisted.internet.defer import CancelledError, Deferred, ensureDeferred
from twisted.logger import Logger
from twisted.python.failure import Failure
from twisted.web.iweb import IRequest
from twisted.web.resource import Resource
from twisted.web.server import NOT_DONE_YET

from gateway.engine.auth import Authenticator
from gateway.engine.dispatch import Engine
from gateway.engine.model import IPAddress
from gateway.frontends.erlterm import Atom
from gateway.frontends.xmlrpc import faults
from gateway.frontends.xmlrpc.codec import (
    DecodeError,
    MalformedXml,
    MethodCall,
    decode_call,
    encode_fault,
    encode_response,
)
from gateway.frontends.xmlrpc.faults import Fault
from gateway.frontends.xmlrpc.handler import XmlRpcHandler

__all__ = ["XmlRpcResource", "error_page", "peer_ip"]

log = Logger()

_XHTML_PROLOGUE = (
    b"<?xml version='1.0'?>\n"
    b'<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN" '
    b'"http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">\n'
)
HTML = b"text/html; charset=utf-8"
XML = b"text/xml"


def error_page(heading: str) -> bytes:
    """ejabberd's error page: the XHTML prologue and a bare ``<h1>``."""
    return _XHTML_PROLOGUE + b"<h1>" + heading.encode("utf-8") + b"</h1>"


def peer_ip(request: IRequest) -> IPAddress | None:
    """The IP address of the connection's peer, when it has one."""
    host = getattr(request.getClientAddress(), "host", None)
    if not isinstance(host, str):
        return None
    try:
        return ip_address(host)
    except ValueError:
        return None


class XmlRpcResource(Resource):
    """Serve ejabberd's XML-RPC dialect.

    Args:
        engine: the engine, already speaking this listener's API profile.
        authenticator: checks the auth struct of a call.
        tag: the listener's ``tag``, passed to permission checks.
        max_body_bytes: longest body read.
        max_depth: deepest element nesting accepted.
        client_ip: finds the caller's IP (e.g. honouring trusted proxies);
            the connection's peer by default.
    """

    isLeaf = True

    def __init__(
        self,
        engine: Engine,
        authenticator: Authenticator,
        *,
        tag: str | None = None,
        max_body_bytes: int = 1 << 20,
        max_depth: int = 64,
        client_ip: Callable[[IRequest], IPAddress | None] = peer_ip,
    ) -> None:
        super().__init__()
        self.handler = XmlRpcHandler(engine, authenticator, tag=tag)
        self.max_body_bytes = max_body_bytes
        self.max_depth = max_depth
        self.client_ip = client_ip

    def render(self, request: IRequest) -> bytes | int:
        if request.method != b"POST":
            return _page(request, "400 Bad Request")
        body = _read_body(request, self.max_body_bytes + 1)
        if not body:
            return _page(request, "400 Bad Request")
        if len(body) > self.max_body_bytes:
            return _page(request, "Request Too Large")
        try:
            call = decode_call(body, max_depth=self.max_depth)
        except MalformedXml:
            return _page(request, "Malformed XML")
        except DecodeError:
            return _page(request, "Malformed Request")
        self._answer(request, call)
        return NOT_DONE_YET

    def _answer(self, request: IRequest, call: MethodCall) -> None:
        gone = False
        work: Deferred[bytes] = ensureDeferred(self._reply(call, self.client_ip(request)))

        def connection_lost(_: Failure) -> None:
            nonlocal gone
            gone = True
            work.cancel()

        def write(body: bytes) -> None:
            if not gone:
                _send(request, 200, XML, body)

        def dropped(failure: Failure) -> None:
            if not failure.check(CancelledError):
                log.failure("XML-RPC reply for {method} failed", failure, method=call.name)

        # notifyFinish is on every real request, though not declared by IRequest
        request.notifyFinish().addErrback(connection_lost)  # type: ignore[attr-defined]
        work.addCallback(write).addErrback(dropped)

    async def _reply(self, call: MethodCall, ip: IPAddress | None) -> bytes:
        try:
            return encode_response(await self.handler.handle(call, ip))
        except Fault as fault:
            log.debug("XML-RPC {method}: {fault}", method=call.name, fault=fault.fault_string)
            return encode_fault(fault.code, fault.fault_string)
        except CancelledError:
            raise
        except Exception:
            log.failure("XML-RPC call {method} failed unexpectedly", method=call.name)
            broken = faults.problem(Atom("internal_error"), call.name, ())
            return encode_fault(broken.code, broken.fault_string)


def _read_body(request: IRequest, limit: int) -> bytes:
    content = getattr(request, "content", None)
    if content is None:
        return b""
    content.seek(0)
    data: bytes = content.read(limit)
    return data


def _page(request: IRequest, heading: str) -> bytes:
    body = error_page(heading)
    request.setResponseCode(400)
    request.setHeader(b"content-type", HTML)
    request.setHeader(b"content-length", str(len(body)).encode("ascii"))
    return body


def _send(request: IRequest, status: int, content_type: bytes, body: bytes) -> None:
    request.setResponseCode(status)
    request.setHeader(b"content-type", content_type)
    request.setHeader(b"content-length", str(len(body)).encode("ascii"))
    request.write(body)
    request.finish()
