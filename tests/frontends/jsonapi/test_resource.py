"""JsonApiResource behaviour beyond the §7 cases: versions, mounts, limits, headers,
result shapes, ordering of checks, cancellation and robustness."""

from __future__ import annotations

import ipaddress
from typing import Any, cast

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from twisted.internet.error import ConnectionLost
from twisted.python.failure import Failure
from twisted.trial.unittest import SynchronousTestCase
from twisted.web.iweb import IRequest

from gateway.engine.errors import TypedCommandError
from tests.frontends.jsonapi.helpers import (
    ADMIN,
    basic,
    call,
    get,
    make_backend,
    make_request,
    make_resource,
    post,
)


class VersionTests(SynchronousTestCase):
    def test_mount_version(self) -> None:
        """A handler mounted at /v1/api uses version 1 (bare results); one mounted at
        /api/v0 uses version 0 (wrapped), unless the path names another."""
        v1 = make_resource("24.12")
        answer = post(v1, "/v1/api/connected_users_number", mount="/v1/api")
        self.assertEqual(answer.body, b"0")
        v0 = make_resource("24.12")
        answer = post(v0, "/api/v0/connected_users_number", mount="/api/v0")
        self.assertEqual(answer.body, b'{"num_sessions":0}')
        answer = post(v0, "/api/v0/connected_users_number/v1", mount="/api/v0")
        self.assertEqual(answer.body, b"0")

    def test_default_version(self) -> None:
        """default_version applies when the path names no version."""
        resource = make_resource("24.12", default_version=0)
        self.assertEqual(post(resource, "/api/connected_users_number").body, b'{"num_sessions":0}')
        self.assertEqual(post(resource, "/api/connected_users_number/v3").body, b"0")

    def test_header_names_definition_version(self) -> None:
        """X-Api-Version is the version of the definition used, not the one asked for."""
        resource = make_resource("24.12")
        body = {
            "localuser": "a",
            "localhost": "localhost",
            "user": "b",
            "host": "localhost",
            "nick": "B",
            "group": "x",
            "subs": "both",
        }
        answer = post(resource, "/api/add_rosteritem/v0", body)
        self.assertEqual(answer.header("X-Api-Version"), "0")
        answer = post(resource, "/api/add_rosteritem/v7", body)
        self.assertEqual(answer.header("X-Api-Version"), "1")
        # the v1 definition takes groups, so the v0 argument is unknown there
        self.assertEqual(answer.json(), "Request have unknown arguments: [group]")

    def test_no_definition_at_version(self) -> None:
        """A command that only exists in a later version is unknown at an earlier one."""
        resource = make_resource("24.12")
        body = {"user": "a", "host": "localhost"}
        answer = post(resource, "/api/get_ban_details/v1", body, headers=[ADMIN])
        self.assertEqual(answer.status, 404)
        self.assertIsNone(answer.header("X-Api-Version"))
        answer = post(resource, "/api/get_ban_details", body, headers=[ADMIN])
        self.assertEqual(answer.header("X-Api-Version"), "2")

    def test_extra_segments_2412(self) -> None:
        """24.12 ignores path segments after the command."""
        answer = post(make_resource("24.12"), "/api/status/anything/else")
        self.assertEqual(answer.status, 200)

    def test_legacy_versions(self) -> None:
        """23.01 has only version 0: any requested version finds it, scalars are always
        wrapped, and X-Api-Version is 0."""
        resource = make_resource("23.01")
        answer = post(resource, "/v1/api/connected_users_number", mount="/v1/api")
        self.assertEqual(
            (answer.body, answer.header("X-Api-Version")), (b'{"num_sessions":0}', "0")
        )


class RequestShapeTests(SynchronousTestCase):
    def setUp(self) -> None:
        self.backend = make_backend()
        self.resource = make_resource(
            "24.12", self.backend, tag="edge", custom_headers=[("X-Served-By", "gw")]
        )

    def test_trailing_question_mark(self) -> None:
        """A trailing ? is harmless for POST and GET."""
        self.assertEqual(post(self.resource, "/api/status?").status, 200)
        self.assertEqual(get(self.resource, "/api/status?").status, 200)

    def test_escaped_command(self) -> None:
        """The command segment is %-decoded."""
        self.assertEqual(post(self.resource, "/api/st%61tus").status, 200)

    def test_undecodable_command(self) -> None:
        """A command segment that is not UTF-8 is an unknown command."""
        self.assertEqual(post(self.resource, "/api/%ff").status, 404)

    def test_newline_body(self) -> None:
        """A body of a single newline means no arguments."""
        self.assertEqual(post(self.resource, "/api/status", b"\n").status, 200)

    def test_options_with_body(self) -> None:
        """OPTIONS with a body is 400."""
        answer = call(self.resource, make_request(b"OPTIONS", "/api/status", b"x"))
        self.assertEqual(answer.status, 400)

    def test_custom_headers_everywhere(self) -> None:
        """custom_headers go on JSON answers, errors, OPTIONS and the XHTML page."""
        answers = [
            post(self.resource, "/api/status"),
            post(self.resource, "/api/nope"),
            call(self.resource, make_request(b"OPTIONS", "/api/status")),
            call(self.resource, make_request(b"POST", "/api/status")),
        ]
        for answer in answers:
            self.assertEqual(answer.header("X-Served-By"), "gw")

    def test_body_too_large(self) -> None:
        """A body over max_body_bytes is 413 with a JSON string and the JSON headers."""
        resource = make_resource("24.12", max_body_bytes=10)
        answer = post(resource, "/api/status", b'{"a":"0123456789"}')
        self.assertEqual(answer.status, 413)
        self.assertEqual(answer.json(), "Request body too large: the limit is 10 bytes")
        self.assertEqual(answer.header("Content-Type"), "application/json")

    def test_caller_details(self) -> None:
        """The backend sees the caller's account, IP, listener tag and frontend."""
        post(
            self.resource,
            "/api/registered_users",
            {"host": "localhost"},
            headers=[ADMIN],
            ip="127.0.0.2",
        )
        _, _, caller = self.backend.calls[-1]
        self.assertEqual(
            (caller.frontend, caller.user, caller.host, caller.ip, caller.tag),
            ("mod_http_api", "admin", "localhost", ipaddress.ip_address("127.0.0.2"), "edge"),
        )

    def test_anonymous_outside_loopback(self) -> None:
        """IP rules see the caller's address: status from outside loopback is 403."""
        answer = post(self.resource, "/api/status", ip="192.0.2.9")
        self.assertEqual(answer.status, 403)
        self.assertEqual(answer.header("X-Api-Version"), "0")

    def test_x_admin_ignored(self) -> None:
        """X-Admin grants nothing."""
        answer = post(
            self.resource,
            "/api/registered_users",
            {"host": "localhost"},
            headers=[(b"X-Admin", b"true")],
        )
        self.assertEqual(answer.status, 403)


class OrderTests(SynchronousTestCase):
    """name -> auth -> arguments -> permission -> execution."""

    def setUp(self) -> None:
        self.backend = make_backend()
        self.resource = make_resource("24.12", self.backend)

    def test_name_before_auth_and_body(self) -> None:
        """An unknown command is 404 whatever the credentials or body."""
        answer = post(
            self.resource, "/api/nope", b"not json", headers=[basic("admin@localhost", "wrong")]
        )
        self.assertEqual(answer.status, 404)

    def test_auth_before_arguments(self) -> None:
        """Bad credentials are reported before missing arguments."""
        answer = post(
            self.resource, "/api/registered_users", {}, headers=[basic("admin@localhost", "wrong")]
        )
        self.assertEqual(answer.status, 401)

    def test_arguments_before_permission(self) -> None:
        """Argument errors are reported to callers who may not run the command."""
        answer = post(self.resource, "/api/registered_users", {"host": 1})
        self.assertEqual((answer.status, answer.json()), (400, "Arg 1 is not in format binary"))
        self.assertEqual(self.backend.calls, [])


class ResultTests(SynchronousTestCase):
    def setUp(self) -> None:
        self.backend = make_backend()
        self.resource = make_resource("24.12", self.backend)

    def admin_post(self, path: str, body: Any) -> Any:
        return post(self.resource, path, body, headers=[ADMIN])

    def test_rescode_typed_error_is_1(self) -> None:
        """A rescode command failing with {error, Type, Code, Msg} answers 200 1."""
        self.backend.answer(
            "change_password", TypedCommandError("not_exists", 10001, "No such user")
        )
        body = {"user": "nobody", "host": "localhost", "newpass": "x"}
        self.assertEqual(self.admin_post("/api/change_password", body).body, b"1")
        del self.backend.answers["change_password"]  # the fake's own: alice exists
        body["user"] = "alice"
        self.assertEqual(self.admin_post("/api/change_password", body).body, b"0")

    def test_restuple_not_ok(self) -> None:
        """A restuple with another status than ok is 500 code 0 with its text; one with
        error is 400 with its text."""
        answer = self.admin_post("/api/kick_user", {"user": "alice", "host": "localhost"})
        self.assertEqual(
            (answer.status, answer.body),
            (500, b'{"status":"error","message":"Kicked sessions: 1","code":0}'),
        )
        answer = self.admin_post("/api/rooms_empty_destroy", {"service": "muc.localhost"})
        self.assertEqual((answer.status, answer.json()), (400, "Room list unavailable"))

    def test_pair_list_and_tuple(self) -> None:
        """name/value lists are one object in order; tuples are objects."""
        answer = self.admin_post(
            "/api/get_room_options", {"name": "lobby", "service": "muc.localhost"}
        )
        self.assertEqual(answer.body, b'{"title":"Lobby","public":"true"}')
        answer = self.admin_post("/api/get_last", {"user": "alice", "host": "localhost"})
        self.assertEqual(
            answer.body, b'{"timestamp":"2024-01-01T00:00:00Z","status":"Gone fishing"}'
        )

    def test_unencodable_result(self) -> None:
        """A result holding text with no UTF-8 form is 400 "400 Bad Request"."""
        answer = self.admin_post("/api/get_presence", {"user": "alice", "server": "localhost"})
        self.assertEqual((answer.status, answer.json()), (400, "400 Bad Request"))

    def test_not_supported(self) -> None:
        """A command the backend cannot run is 501 with code 50 and a clear message."""
        answer = self.admin_post("/api/get_ban_details", {"user": "a", "host": "localhost"})
        self.assertEqual(answer.status, 501)
        self.assertEqual(dict(answer.json())["code"], 50)
        self.assertIn("not supported by the fake backend", dict(answer.json())["message"])

    def test_backend_crash(self) -> None:
        """A crash inside the backend is logged and answered 500 "internal_error"."""

        def crash(_: Any) -> Any:
            raise KeyError("oops")

        self.backend.answer("connected_users_number", crash)
        answer = post(self.resource, "/api/connected_users_number")
        self.assertEqual((answer.status, answer.json()), (500, "internal_error"))
        self.assertEqual(len(self.flushLoggedErrors(KeyError)), 1)

    def test_result_of_wrong_shape(self) -> None:
        """A backend value that does not fit the result type is logged and answered
        500 "internal_error" with the JSON headers."""
        self.backend.answer("connected_users_number", "zero")
        answer = post(self.resource, "/api/connected_users_number")
        self.assertEqual((answer.status, answer.json()), (500, "internal_error"))
        self.assertEqual(answer.header("Content-Type"), "application/json")
        self.assertEqual(len(self.flushLoggedErrors(TypeError)), 1)


class CancellationTests(SynchronousTestCase):
    def test_client_gone_cancels_command(self) -> None:
        """When the client disconnects mid-command, the backend call is cancelled and
        nothing is written."""
        backend = make_backend()
        resource = make_resource("24.12", backend)
        request = make_request(b"POST", "/api/stats", b'{"name":"onlineusers"}', headers=[ADMIN])
        resource.render(cast(IRequest, request))
        self.assertEqual((len(backend.pending), request.finished), (1, 0))
        request.processingFailed(Failure(ConnectionLost()))
        self.assertEqual(backend.cancelled, 1)
        self.assertEqual((request.written, request.finished), ([], 0))
        self.assertEqual(self.flushLoggedErrors(), [])

    def test_late_answer(self) -> None:
        """A command that answers later is written when it does."""
        backend = make_backend()
        resource = make_resource("24.12", backend)
        request = make_request(b"POST", "/api/stats", b'{"name":"onlineusers"}', headers=[ADMIN])
        resource.render(cast(IRequest, request))
        backend.pending[0].callback(7)
        self.assertEqual((request.responseCode, b"".join(request.written)), (200, b"7"))


METHODS = st.sampled_from([b"GET", b"POST", b"PUT", b"OPTIONS", b"HEAD", b"DELETE"])
COMMANDS = st.sampled_from(
    [
        "status",
        "registered_users",
        "srg_create",
        "get_roster",
        "x%ff",
        "",
        "delete_old_users",
        "get_room_options",
    ]
)
QUERIES = st.text(alphabet="ab=&%+?5fF\u00e9", max_size=12)


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(METHODS, COMMANDS, QUERIES, st.binary(max_size=60), st.booleans(), st.booleans())
def test_any_request_gets_an_answer(
    method: bytes, command: str, query: str, body: bytes, legacy: bool, admin: bool
) -> None:
    """Whatever the method, path, query and body, the resource answers once, with a
    status the dialect uses, and a JSON answer parses as JSON."""
    import json

    resource = make_resource("23.01" if legacy else "24.12")
    path = f"/api/{command}?{query}" if query else f"/api/{command}"
    request = make_request(method, path, body, headers=[ADMIN] if admin else [])
    answer = call(resource, request)
    assert answer.finished == 1
    assert answer.status in {200, 400, 401, 403, 404, 409, 500, 501}
    if answer.header("Content-Type") == "application/json" and method != b"HEAD":
        json.loads(answer.body)


class RealRequestTests(SynchronousTestCase):
    """Through an in-memory Site (StubTreq), so Twisted's real Request is used."""

    def setUp(self) -> None:
        from treq.testing import StubTreq

        from gateway.frontends.router import PrefixRouter

        self.stub: Any = StubTreq(PrefixRouter([("/api", make_resource("24.12"))]))

    def fetch(self, method: str, url: str, body: bytes | None = None) -> tuple[int, Any, bytes]:
        d = self.stub.request(method, "http://gw" + url, data=body)
        self.stub.flush()
        response = self.successResultOf(d)
        content = self.successResultOf(response.content())
        self.stub.flush()
        return response.code, response.headers, content

    def test_post(self) -> None:
        """A POST through a real Site gets the JSON answer and headers."""
        code, headers, body = self.fetch("POST", "/api/connected_users_number/v0", b"{}")
        self.assertEqual((code, body), (200, b'{"num_sessions":0}'))
        self.assertEqual(headers.getRawHeaders("Content-Type"), ["application/json"])
        self.assertEqual(headers.getRawHeaders("X-Api-Version"), ["0"])

    def test_head(self) -> None:
        """HEAD through a real Site is 400 with Content-Length 0 and no body."""
        code, headers, body = self.fetch("HEAD", "/api/status")
        self.assertEqual((code, body), (400, b""))
        self.assertEqual(headers.getRawHeaders("Content-Length"), ["0"])

    def test_empty_post(self) -> None:
        """An empty POST through a real Site gets the XHTML page."""
        code, headers, body = self.fetch("POST", "/api/status", b"")
        self.assertEqual(code, 400)
        self.assertIn(b"<h1>400 Bad Request</h1>", body)
