"""The XML-RPC resource: HTTP behaviour, async rendering and error containment."""

from __future__ import annotations

from io import BytesIO
from ipaddress import ip_address, ip_network

from hypothesis import given, settings
from hypothesis import strategies as st
from twisted.internet.address import IPv4Address
from twisted.internet.defer import Deferred
from twisted.internet.error import ConnectionDone
from twisted.python.failure import Failure
from twisted.web.server import NOT_DONE_YET
from twisted.web.test.requesthelper import DummyRequest

from gateway.engine.catalogue import Catalogue
from tests.frontends.xmlrpc.helpers import ADMIN, call, make_resource, post, render

STATUS = b"<methodCall><methodName>status</methodName></methodCall>"
CONNECTED_USERS = b"<methodCall><methodName>connected_users_number</methodName></methodCall>"
GET_LAST = (
    b"<methodCall><methodName>get_last</methodName><params><param><value><struct>"
    b"<member><name>user</name><value>a</value></member>"
    b"<member><name>host</name><value>localhost</value></member>"
    b"</struct></value></param></params></methodCall>"
)


def request_for(body: bytes, path: list[bytes] | None = None) -> DummyRequest:
    request = DummyRequest(path if path is not None else [])
    request.method = b"POST"
    request.content = BytesIO(body)  # type: ignore[attr-defined]
    return request


def test_any_path_is_served() -> None:
    """As a standalone listener's root (or under /xmlrpc), every sub-path answers calls."""
    resource, _ = make_resource()
    assert resource.isLeaf
    for path in ([], [b"xmlrpc"], [b"xmlrpc", b"deep", b"er"], [b"anything"]):
        request = request_for(STATUS, path)
        assert render(resource, request) == NOT_DONE_YET
        assert request.finished
        assert request.responseCode == 200
        assert b"<name>text</name>" in b"".join(request.written)


def test_rendering_is_asynchronous() -> None:
    """The reply is written when the backend answers, not during ``render``."""
    resource, backend = make_resource()
    backend.hold("connected_users_number")
    request = request_for(CONNECTED_USERS)
    assert render(resource, request) == NOT_DONE_YET
    assert not request.finished
    backend.pending[0].callback(3)
    assert request.finished
    assert b"<int>3</int>" in b"".join(request.written)


def test_lost_connection_cancels_and_writes_nothing() -> None:
    """When the client goes away the work is cancelled and nothing is written."""
    resource, backend = make_resource()
    backend.hold("connected_users_number")
    request = request_for(CONNECTED_USERS)
    render(resource, request)
    request.processingFailed(Failure(ConnectionDone()))
    assert backend.cancelled == 1
    assert request.written == []
    assert not request.finished


def test_late_answer_after_disconnect_is_dropped() -> None:
    """A backend that ignores cancellation and answers later causes no write."""
    resource, backend = make_resource()
    late: Deferred[int] = Deferred()  # no canceller: cancel() errbacks it at once
    backend.answer("connected_users_number", lambda _: late)
    request = request_for(CONNECTED_USERS)
    render(resource, request)
    request.processingFailed(Failure(ConnectionDone()))
    late.callback(5)
    assert request.written == []
    assert not request.finished


def test_unexpected_backend_error_is_a_fault() -> None:
    """A crash inside a command is fault -118 naming ``internal_error``, never a dropped line."""
    resource, _ = make_resource()
    reply = call(resource, "srg_get_info", ADMIN, {"group": "g", "host": "localhost"})
    fault = reply.fault()
    assert reply.status == 200
    assert fault.faultString == (
        "Error -118\nA problem 'internal_error' occurred executing the command srg_get_info "
        'with arguments\n[{group,<<"g">>},{host,<<"localhost">>}]'
    )


def test_not_supported_is_a_clear_fault() -> None:
    """A command the backend cannot run is -118 with a plain "not supported" message."""
    resource, _ = make_resource()
    fault = call(resource, "dump", ADMIN, {"file": "backup.db"}).fault()
    assert fault.faultCode == -118
    assert fault.faultString == ("Error -118\nCommand 'dump' is not supported by the fake backend")


def test_unavailable_is_a_clear_fault() -> None:
    """A backend that is down answers -118 with its own message."""
    resource, _ = make_resource()
    fault = call(resource, "stats", ADMIN, {"name": "registeredusers"}).fault()
    assert fault.faultString == "Error -118\nthe upstream server is not reachable"


def test_internal_command_24_12() -> None:
    """24.12 internal commands are -118 ``frontend_cannot_call_an_internal_command``."""
    resource, _ = make_resource("24.12")
    fault = call(resource, "mnesia_list_tables", ADMIN).fault()
    assert fault.faultString == (
        "Error -118\nA problem '{error,frontend_cannot_call_an_internal_command}' occurred "
        "executing the command mnesia_list_tables with arguments\n[]"
    )


def test_unexpected_handler_error_is_a_fault() -> None:
    """Even an error outside the engine is answered with fault -118, and logged."""
    resource, _ = make_resource()

    async def broken(*_: object) -> object:
        raise RuntimeError("boom")

    resource.handler.handle = broken  # type: ignore[method-assign, assignment]
    reply = post(resource, STATUS)
    assert reply.status == 200
    fault = reply.fault()
    assert fault.faultString == (
        "Error -118\nA problem 'internal_error' occurred executing the command status "
        "with arguments\n[]"
    )


def test_body_size_limit() -> None:
    """A body over ``max_body_bytes`` is the 400 page ``Request Too Large``."""
    resource, _ = make_resource(max_body_bytes=len(STATUS))
    assert post(resource, STATUS).status == 200
    resource, _ = make_resource(max_body_bytes=len(STATUS) - 1)
    reply = post(resource, STATUS)
    assert reply.status == 400
    assert reply.body.endswith(b"\n<h1>Request Too Large</h1>")


def test_depth_limit_page() -> None:
    """Nesting deeper than ``max_depth`` is the 400 page ``Malformed Request``."""
    resource, _ = make_resource(max_depth=6)
    reply = call(resource, "echothis", [[["x"]]])
    assert reply.status == 400
    assert reply.body.endswith(b"\n<h1>Malformed Request</h1>")


def test_entity_body_is_refused() -> None:
    """A body declaring entities gets the 400 ``Malformed XML`` page and is never expanded."""
    resource, _ = make_resource()
    body = (
        b'<?xml version="1.0"?><!DOCTYPE m [<!ENTITY a "aaaaaaaaaa">'
        b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
        b"<methodCall><methodName>echothis</methodName><params><param><value>&b;</value>"
        b"</param></params></methodCall>"
    )
    reply = post(resource, body)
    assert reply.status == 400
    assert reply.body.endswith(b"\n<h1>Malformed XML</h1>")


def test_caller_ip_and_tag_reach_the_engine() -> None:
    """The peer address and the listener tag are part of the caller the backend sees."""
    resource, backend = make_resource(tag="admin-api")
    request = request_for(GET_LAST)
    request.client = IPv4Address("TCP", "192.0.2.7", 4242)
    render(resource, request)
    caller = backend.calls[0][2]
    assert (caller.ip, caller.tag, caller.user) == (ip_address("192.0.2.7"), "admin-api", None)
    assert caller.frontend == "ejabberd_xmlrpc"


def test_trusted_proxy_names_the_caller() -> None:
    """Behind a trusted proxy, ``X-Forwarded-For`` decides the caller's IP."""
    resource, backend = make_resource(trusted_proxies=[ip_network("10.0.0.0/8")])
    request = request_for(GET_LAST)
    request.client = IPv4Address("TCP", "10.1.2.3", 4242)
    request.requestHeaders.addRawHeader(b"x-forwarded-for", b"198.51.100.9")
    render(resource, request)
    assert backend.calls[0][2].ip == ip_address("198.51.100.9")


def test_newest_version_is_used() -> None:
    """XML-RPC always calls the newest definition (24.12 ``add_rosteritem`` v1 with ``groups``)."""
    resource, backend = make_resource()
    backend.answer("add_rosteritem", True)
    args = {
        "localuser": "alice",
        "localhost": "localhost",
        "user": "bob",
        "host": "localhost",
        "nick": "Bob",
        "groups": ["Friends", "Team"],
        "subs": "both",
    }
    assert call(resource, "add_rosteritem", ADMIN, args).loads() == {"res": 0}
    assert backend.calls[0][1]["groups"] == ["Friends", "Team"]
    assert Catalogue.load("24.12").newest("add_rosteritem").version == 1


@settings(max_examples=60)
@given(st.binary(max_size=200))
def test_arbitrary_bodies_always_get_an_answer(body: bytes) -> None:
    """Whatever the body, the resource answers 200 or 400 and finishes the request."""
    resource, _ = make_resource()
    request = request_for(body)
    assert render(resource, request) == NOT_DONE_YET
    assert request.finished
    assert request.responseCode in (200, 400)
