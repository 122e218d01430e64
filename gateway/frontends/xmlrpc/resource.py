"""The HTTP side of the XML-RPC frontend (ejabberd_xmlrpc).

One leaf resource serves both as a request handler (``/xmlrpc`` and any
sub-path) and as the root of a standalone listener (every path).

- A POST without a body gets ejabberd_http's full ``400 Bad Request`` page;
  any other method gets ejabberd_xmlrpc's bare ``<h1>400 Bad Request</h1>``.
- A body that is not well-formed XML, or that declares a DTD, gets the 400
  page ``<h1>Malformed XML</h1>``; well-formed XML that is not a readable
  ``<methodCall>`` (including one nested deeper than ``max_depth``) gets
  ``<h1>Malformed Request</h1>``.
- A body longer than ``max_body_bytes`` gets the 400 page
  ``<h1>Request Too Large</h1>`` (ejabberd has no such limit; the page keeps
  the dialect's shape).
- Every call that decodes is answered 200 ``text/xml`` with a result or a
  fault, never a dropped connection: unexpected errors are logged and become
  fault -118.
- A POST from an address banned for failing to authenticate too often gets
  fault -118 ``Too many failed authentications …`` before its body is read.
"""

from __future__ import annotations

from collections.abc import Sequence

from twisted.internet.defer import CancelledError
from twisted.logger import Logger
from twisted.python.failure import Failure
from twisted.web.iweb import IRequest

from gateway.engine.dispatch import Engine
from gateway.engine.errors import TooManyFailures, mapping_for
from gateway.frontends.base import (
    AsyncResource,
    HttpAnswer,
    IPNetwork,
    RequestTooLarge,
    client_ip,
    write_answer,
    xhtml_page,
)
from gateway.frontends.xmlrpc import faults
from gateway.frontends.xmlrpc.codec import (
    DecodeError,
    MalformedXml,
    decode_call,
    encode_fault,
    encode_response,
)
from gateway.frontends.xmlrpc.faults import Fault
from gateway.frontends.xmlrpc.handler import XmlRpcHandler
from gateway.offload import Offload, run_inline

__all__ = ["XmlRpcResource", "error_page"]

log = Logger()

_XHTML_PROLOGUE = (
    b"<?xml version='1.0'?>\n"
    b'<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN" '
    b'"http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">\n'
)
_HTML = "text/html; charset=utf-8"
_XML = "text/xml"


def error_page(heading: str) -> bytes:
    """ejabberd_xmlrpc's error page: the XHTML prologue and a bare ``<h1>``."""
    return _XHTML_PROLOGUE + b"<h1>" + heading.encode("utf-8") + b"</h1>"


def _page(heading: str) -> HttpAnswer:
    return HttpAnswer(400, error_page(heading), [("Content-Type", _HTML)])


def _xml(body: bytes) -> HttpAnswer:
    return HttpAnswer(200, body, [("Content-Type", _XML)])


class XmlRpcResource(AsyncResource[HttpAnswer]):
    """Serve ejabberd's XML-RPC dialect.

    Args:
        engine: the engine, already speaking this listener's API profile.
        tag: the listener's ``tag``, passed to permission checks.
        max_body_bytes: longest body read.
        max_depth: deepest element nesting accepted.
        trusted_proxies: proxies whose ``X-Forwarded-For`` names the caller.
        offload: decodes large calls (and encodes their answers) off the event loop.
    """

    def __init__(
        self,
        engine: Engine,
        *,
        tag: str | None = None,
        max_body_bytes: int = 1 << 20,
        max_depth: int = 64,
        trusted_proxies: Sequence[IPNetwork] = (),
        offload: Offload = run_inline,
    ) -> None:
        super().__init__(max_body_bytes=max_body_bytes, offload=offload)
        self.handler = XmlRpcHandler(engine, tag=tag)
        self.max_depth = max_depth
        self.trusted_proxies = tuple(trusted_proxies)

    async def _async_render(self, request: IRequest) -> HttpAnswer:
        if request.method != b"POST":
            return _page("400 Bad Request")
        ip = client_ip(request, self.trusted_proxies)
        try:
            self.handler.engine.admit(ip)  # a banned address gets nothing else
        except TooManyFailures as e:
            fault = Fault(mapping_for(e).xmlrpc_fault, e.message)
            return _xml(encode_fault(fault.code, fault.fault_string))
        body = self.read_body(request)
        if not body:
            # ejabberd_http refuses a body-less POST before any handler sees it
            return HttpAnswer(400, xhtml_page("400 Bad Request"), [("Content-Type", _HTML)])
        try:
            call = await self.offload(len(body), decode_call, body, max_depth=self.max_depth)
        except MalformedXml:
            return _page("Malformed XML")
        except DecodeError:
            return _page("Malformed Request")
        try:
            value = await self.handler.handle(call, ip)
            # a large call may well get a large answer (echothis echoes it)
            return _xml(await self.offload(len(body), encode_response, value))
        except Fault as fault:
            log.debug("XML-RPC {method}: {fault}", method=call.name, fault=fault.fault_string)
            return _xml(encode_fault(fault.code, fault.fault_string))
        except CancelledError:
            raise  # the client went away; the base class stops here
        except Exception:
            log.failure("XML-RPC call {method} failed unexpectedly", method=call.name)
            return _internal_fault(call.name)

    def _send_response(self, request: IRequest, response: HttpAnswer) -> None:
        write_answer(request, response)

    def _send_error_response(self, request: IRequest, failure: Failure) -> None:
        if failure.check(RequestTooLarge):
            write_answer(request, _page("Request Too Large"))
            return
        # already logged by the base class; the caller still gets a fault
        write_answer(request, _internal_fault(None))


def _internal_fault(method: str | None) -> HttpAnswer:
    fault = faults.internal_error(method)
    return _xml(encode_fault(fault.code, fault.fault_string))
