"""The mod_http_api cases of the wire spec (wire-behaviour.md §7, cases 1–23).

Each test names its case.  "A" is ejabberd 23.01 (our ``23.01`` profile),
"B" ejabberd 24.12 (our ``24.12`` profile).  Where the gateway deliberately
answers differently from ejabberd, the docstring says so and why.
"""

from __future__ import annotations

from base64 import b64encode

from twisted.trial.unittest import SynchronousTestCase

from gateway import __version__
from tests.frontends.jsonapi.helpers import (
    ADMIN,
    NODE,
    basic,
    call,
    get,
    make_backend,
    make_request,
    make_resource,
    post,
)

#: ``status`` in each profile: that release's first line (the node printed as Erlang's ``~p``
#: prints it, quoted for the hyphen), then our product and version
STATUS_TEXT_A = (
    f"The node '{NODE}' is started. Status: startedejabberd 23.01 is running in that node\n"
    f"xmpp-api-gateway {__version__}"
)
STATUS_TEXT_B = (
    f"The node '{NODE}' is started. Status: started  ejabberd 24.12 is running in that node\n"
    f"xmpp-api-gateway {__version__}"
)
FORBIDDEN = "AccessRules: Account does not have the right to perform the operation."
JSON_HEADERS = {
    "content-type": "application/json",
    "access-control-allow-origin": "*",
    "access-control-allow-headers": "Content-Type, Authorization, X-Admin",
}


class CaseTests(SynchronousTestCase):
    def setUp(self) -> None:
        self.backend_a = make_backend()
        self.backend_b = make_backend()
        self.a = make_resource("23.01", self.backend_a)
        self.b = make_resource("24.12", self.backend_b)

    def assertJsonHeaders(self, answer: object) -> None:
        for name, value in JSON_HEADERS.items():
            self.assertEqual(answer.header(name), value, name)  # type: ignore[attr-defined]

    # 1-3 -----------------------------------------------------------------------

    def test_case_01_status(self) -> None:
        """Case 1: POST /api/status {} from loopback answers 200 with the status text as a
        JSON string, in both profiles.  The first line is worded as that release words it,
        with the profile's release where clients read it (23.01 runs the two sentences
        together, 24.12 puts two spaces between them); our product follows on its own line."""
        for resource, text in ((self.a, STATUS_TEXT_A), (self.b, STATUS_TEXT_B)):
            answer = post(resource, "/api/status", {})
            self.assertEqual(answer.status, 200)
            self.assertEqual(answer.json(), text)
            self.assertJsonHeaders(answer)
            self.assertEqual(answer.header("X-Api-Version"), "0")

    def test_case_02_connected_users_number(self) -> None:
        """Case 2: connected_users_number is {"num_sessions":0} in A (always version 0)
        and a bare 0 in B (newest version by default)."""
        self.assertEqual(
            post(self.a, "/api/connected_users_number", {}).body, b'{"num_sessions":0}'
        )
        answer = post(self.b, "/api/connected_users_number", {})
        self.assertEqual((answer.status, answer.body), (200, b"0"))

    def test_case_03_explicit_version_0(self) -> None:
        """Case 3: /api/connected_users_number/v0 is 400 code 40 "Missing command name."
        in A (one path segment only) and {"num_sessions":0} in B."""
        answer = post(self.a, "/api/connected_users_number/v0", {})
        self.assertEqual(answer.status, 400)
        self.assertEqual(
            answer.json(), [["status", "error"], ["code", 40], ["message", "Missing command name."]]
        )
        answer = post(self.b, "/api/connected_users_number/v0", {})
        self.assertEqual((answer.status, answer.body), (200, b'{"num_sessions":0}'))
        self.assertEqual(answer.header("X-Api-Version"), "0")

    # 4-6 -----------------------------------------------------------------------

    def test_case_04_forbidden_key_order(self) -> None:
        """Case 4: anonymous registered_users is 403 code 32; A writes status, code,
        message and B status, message, code."""
        answer = post(self.a, "/api/registered_users", {"host": "localhost"})
        self.assertEqual(answer.status, 403)
        self.assertEqual(answer.json(), [["status", "error"], ["code", 32], ["message", FORBIDDEN]])
        answer = post(self.b, "/api/registered_users", {"host": "localhost"})
        self.assertEqual(answer.status, 403)
        self.assertEqual(answer.json(), [["status", "error"], ["message", FORBIDDEN], ["code", 32]])
        self.assertJsonHeaders(answer)
        self.assertEqual(self.backend_b.calls, [])

    def test_case_05_unknown_command(self) -> None:
        """Case 5: an unknown command is 404 code 40 "Endpoint not found." and carries
        no X-Api-Version (no definition was chosen)."""
        for resource, order in (
            (self.a, ["status", "code", "message"]),
            (self.b, ["status", "message", "code"]),
        ):
            answer = post(resource, "/api/nonexistent_cmd_xyz_123", {})
            self.assertEqual(answer.status, 404)
            body = dict(answer.json())
            self.assertEqual(
                body, {"status": "error", "code": 40, "message": "Endpoint not found."}
            )
            self.assertEqual([k for k, _ in answer.json()], order)
            self.assertIsNone(answer.header("X-Api-Version"))

    def test_case_06_existing_atom_not_a_command(self) -> None:
        """Case 6: /api/ok.  23.01 answers 400 "unknown_command" because `ok` is an atom
        of its VM, and so does A (the names 23.01 knew are a capture, atoms_2301); B
        answers every unknown name alike, 404 code 40 "Endpoint not found.", since which
        names a 24.12 VM knows was not captured."""
        answer = post(self.a, "/api/ok", {})
        self.assertEqual((answer.status, answer.json()), (400, "unknown_command"))
        self.assertJsonHeaders(answer)
        self.assertIsNone(answer.header("X-Api-Version"))
        answer = post(self.b, "/api/ok", {})
        self.assertEqual(answer.status, 404)
        self.assertEqual(dict(answer.json())["message"], "Endpoint not found.")
        self.assertEqual(dict(answer.json())["code"], 40)

    def test_case_06_unknown_names_in_23_01_order(self) -> None:
        """A takes 23.01's order for a name it does not know: the body is read first (not
        JSON: 400 "400 Bad Request"), then a name 23.01's VM did not know is 404, and
        one it knew has its credentials checked (401) before "unknown_command"."""
        answer = post(self.a, "/api/nonexistent_cmd_xyz_123", b"not json")
        self.assertEqual((answer.status, answer.body), (400, b'"400 Bad Request"'))
        answer = post(self.b, "/api/nonexistent_cmd_xyz_123", b"not json")
        self.assertEqual(answer.status, 404)
        # a 24.12 command 23.01 did not know as an atom, then one it did (halt)
        answer = post(self.a, "/api/get_roster_count", {}, headers=[basic("x@localhost", "no")])
        self.assertEqual(dict(answer.json())["message"], "Endpoint not found.")
        answer = post(self.a, "/api/halt", {}, headers=[basic("admin@localhost", "wrong")])
        self.assertEqual(answer.status, 401)
        self.assertEqual(dict(answer.json())["code"], 10)
        answer = post(self.a, "/api/halt", {}, headers=[ADMIN])
        self.assertEqual((answer.status, answer.json()), (400, "unknown_command"))
        answer = get(self.a, "/api/user")
        self.assertEqual((answer.status, answer.json()), (400, "unknown_command"))
        self.assertEqual(self.backend_a.calls, [])

    # 7-11 ----------------------------------------------------------------------

    def test_case_07_invalid_json(self) -> None:
        """Case 7: a body that is not JSON is 400 with the JSON string "400 Bad Request"."""
        for resource in (self.a, self.b):
            answer = post(resource, "/api/status", b"not json")
            self.assertEqual((answer.status, answer.body), (400, b'"400 Bad Request"'))
            self.assertJsonHeaders(answer)

    def test_case_08_array_body(self) -> None:
        """Case 8: a body of [] runs status with no arguments in A; B wants an object
        and answers 400 "400 Bad Request"."""
        answer = post(self.a, "/api/status", b"[]")
        self.assertEqual((answer.status, answer.json()), (200, STATUS_TEXT_A))
        answer = post(self.b, "/api/status", b"[]")
        self.assertEqual((answer.status, answer.body), (400, b'"400 Bad Request"'))

    def test_case_09_unknown_arguments(self) -> None:
        """Case 9: leftover keys are 400 "Request have unknown arguments: [...]": body
        order in A ([foo,bar]), sorted in B ([bar,foo]); a GET lists its query keys."""
        body = b'{"foo":1,"bar":2}'
        answer = post(self.a, "/api/status", body)
        self.assertEqual(answer.status, 400)
        self.assertEqual(answer.json(), "Request have unknown arguments: [foo,bar]")
        answer = post(self.b, "/api/status", body)
        self.assertEqual(answer.json(), "Request have unknown arguments: [bar,foo]")
        for resource in (self.a, self.b):
            answer = get(resource, "/api/status?foo=1")
            self.assertEqual(answer.status, 400)
            self.assertEqual(answer.json(), "Request have unknown arguments: [foo]")

    def test_case_10_post_without_body(self) -> None:
        """Case 10: a POST with no body is ejabberd_http's 400 XHTML page, 336 bytes."""
        for resource in (self.a, self.b):
            answer = call(resource, make_request(b"POST", "/api/status"))
            self.assertEqual(answer.status, 400)
            self.assertEqual(answer.header("Content-Type"), "text/html; charset=utf-8")
            self.assertTrue(answer.body.startswith(b"<?xml version='1.0'?>\n<!DOCTYPE html"))
            self.assertIn(b"<h1>400 Bad Request</h1>", answer.body)
            self.assertEqual(len(answer.body), 336)
            self.assertEqual(answer.header("Content-Length"), "336")

    def test_case_11_missing_command(self) -> None:
        """Case 11: POST /api {} is 400 code 40 "Missing command name."."""
        for resource in (self.a, self.b):
            answer = post(resource, "/api", {})
            self.assertEqual(answer.status, 400)
            self.assertEqual(
                dict(answer.json()),
                {"status": "error", "code": 40, "message": "Missing command name."},
            )
            self.assertJsonHeaders(answer)

    # 12-15: argument checks run before permissions, so anonymous callers see them

    def test_case_12_query_values_are_text(self) -> None:
        """Case 12: GET ?days=5 is text, so delete_old_users (integer days) is 400
        "Arg <<53>> is not in format integer", even for an anonymous caller."""
        for resource in (self.a, self.b):
            answer = get(resource, "/api/delete_old_users?days=5")
            self.assertEqual(answer.status, 400)
            self.assertEqual(answer.json(), "Arg <<53>> is not in format integer")

    def test_case_13_wrong_type(self) -> None:
        """Case 13: {"host":5} is 400 "Arg 5 is not in format binary"; null reads
        "Arg null …"."""
        for resource in (self.a, self.b):
            answer = post(resource, "/api/registered_users", {"host": 5})
            self.assertEqual(answer.status, 400)
            self.assertEqual(answer.json(), "Arg 5 is not in format binary")
            answer = post(resource, "/api/registered_users", {"host": None})
            self.assertEqual(answer.json(), "Arg null is not in format binary")

    def test_case_14_missing_argument(self) -> None:
        """Case 14: registered_users {} is 400 "Request have missing argument: host"."""
        for resource in (self.a, self.b):
            answer = post(resource, "/api/registered_users", {})
            self.assertEqual(answer.status, 400)
            self.assertEqual(answer.json(), "Request have missing argument: host")

    def test_case_15_duplicate_argument(self) -> None:
        """Case 15: ?host=a&host=b is 400 "Request have duplicate argument: host"; a
        repeated JSON key is the same error in A, while in B the last value wins (so the
        anonymous call goes on to the permission check and is refused)."""
        for resource in (self.a, self.b):
            answer = get(resource, "/api/registered_users?host=a&host=b")
            self.assertEqual(answer.status, 400)
            self.assertEqual(answer.json(), "Request have duplicate argument: host")
        body = b'{"host":"a","host":"localhost"}'
        answer = post(self.a, "/api/registered_users", body)
        self.assertEqual(answer.json(), "Request have duplicate argument: host")
        answer = post(self.b, "/api/registered_users", body)
        self.assertEqual(answer.status, 403)
        answer = post(self.b, "/api/registered_users", body, headers=[ADMIN])
        self.assertEqual((answer.status, answer.json()), (200, ["admin", "alice", "bob"]))

    # 16-19 ---------------------------------------------------------------------

    def test_case_16_bad_credentials(self) -> None:
        """Case 16: a wrong password, an unknown user, a name without @, a broken Basic
        header or another scheme (Digest) are all 401 code 10 "You are not authorized to
        call this command."."""
        headers = [
            basic("nobody@localhost", "wrong"),
            basic("admin@localhost", "wrong"),
            basic("admin", "secret"),
            (b"Authorization", b"Basic !!!notbase64"),
            (b"Authorization", b"Basic " + b64encode(b"no-colon")),
            (b"Authorization", b"Digest x"),
        ]
        for resource in (self.a, self.b):
            for header in headers:
                answer = post(resource, "/api/registered_users", {"host": "x"}, headers=[header])
                self.assertEqual(answer.status, 401, header)
                self.assertEqual(
                    dict(answer.json()),
                    {
                        "status": "error",
                        "code": 10,
                        "message": "You are not authorized to call this command.",
                    },
                )

    def test_case_17_bad_token(self) -> None:
        """Case 17: an unknown or expired Bearer token is 401 code 10 "Oauth Token is
        invalid or expired."; a good one authenticates."""
        for resource in (self.a, self.b):
            for token in (b"abcdef", b"oldtoken"):
                answer = post(
                    resource,
                    "/api/registered_users",
                    {"host": "localhost"},
                    headers=[(b"Authorization", b"Bearer " + token)],
                )
                self.assertEqual(answer.status, 401)
                self.assertEqual(
                    dict(answer.json())["message"], "Oauth Token is invalid or expired."
                )
                self.assertEqual(dict(answer.json())["code"], 10)
            answer = post(
                resource,
                "/api/registered_users",
                {"host": "localhost"},
                headers=[(b"Authorization", b"Bearer  goodtoken ")],
            )
            self.assertEqual(answer.status, 200)

    def test_case_18_options(self) -> None:
        """Case 18: OPTIONS /api/status is 200 with an empty text/plain body and the four
        CORS headers; OPTIONS /api is 400 with the same headers."""
        for resource in (self.a, self.b):
            for path, status in (("/api/status", 200), ("/api", 400)):
                answer = call(resource, make_request(b"OPTIONS", path))
                self.assertEqual((answer.status, answer.body), (status, b""))
                self.assertEqual(answer.header("Content-Type"), "text/plain")
                self.assertEqual(answer.header("Access-Control-Allow-Origin"), "*")
                self.assertEqual(
                    answer.header("Access-Control-Allow-Methods"), "GET, POST, OPTIONS"
                )
                self.assertEqual(
                    answer.header("Access-Control-Allow-Headers"),
                    "Content-Type, Authorization, X-Admin",
                )
                self.assertEqual(answer.header("Access-Control-Max-Age"), "86400")

    def test_case_19_other_methods(self) -> None:
        """Case 19: PUT and DELETE are 400 code 40 "Missing command name."; HEAD is 400
        with Content-Length 0 and no body."""
        for resource in (self.a, self.b):
            for method in (b"PUT", b"DELETE"):
                answer = call(resource, make_request(method, "/api/status", b"{}"))
                self.assertEqual(answer.status, 400)
                self.assertEqual(dict(answer.json())["message"], "Missing command name.")
                self.assertEqual(dict(answer.json())["code"], 40)
            answer = call(resource, make_request(b"HEAD", "/api/status"))
            self.assertEqual((answer.status, answer.body), (400, b""))
            self.assertEqual(answer.header("Content-Length"), "0")

    # 20-23: as the admin -----------------------------------------------------------

    def test_case_20_register_conflict(self) -> None:
        """Case 20: registering an existing user is 409 {"status":"error","code":10090,
        "message":"User admin@localhost already registered"}, keys in each profile's
        order; a new user gets the success text."""
        body = {"user": "admin", "host": "localhost", "password": "x"}
        answer = post(self.a, "/api/register", body, headers=[ADMIN])
        self.assertEqual(answer.status, 409)
        self.assertEqual(
            answer.body,
            b'{"status":"error","code":10090,"message":"User admin@localhost already registered"}',
        )
        answer = post(self.b, "/api/register", body, headers=[ADMIN])
        self.assertEqual(answer.status, 409)
        self.assertEqual(
            answer.body,
            b'{"status":"error","message":"User admin@localhost already registered","code":10090}',
        )
        body = {"user": "carol", "host": "localhost", "password": "x"}
        answer = post(self.b, "/api/register", body, headers=[ADMIN])
        self.assertEqual(
            (answer.status, answer.json()), (200, "User carol@localhost successfully registered")
        )

    def test_case_21_rescode_and_failure(self) -> None:
        """Case 21: check_account is 0 for an existing account and 1 otherwise;
        registered_users on an unknown host is 400 "Unknown virtual host"."""
        for resource in (self.a, self.b):
            answer = post(
                resource,
                "/api/check_account",
                {"user": "alice", "host": "localhost"},
                headers=[ADMIN],
            )
            self.assertEqual((answer.status, answer.body), (200, b"0"))
            answer = post(
                resource,
                "/api/check_account",
                {"user": "nobody", "host": "localhost"},
                headers=[ADMIN],
            )
            self.assertEqual((answer.status, answer.body), (200, b"1"))
            answer = post(resource, "/api/registered_users", {"host": "nohost"}, headers=[ADMIN])
            self.assertEqual((answer.status, answer.json()), (400, "Unknown virtual host"))

    def test_case_22_get_roster(self) -> None:
        """Case 22: get_roster {"user":"alice","server":"localhost"} (server renamed to
        host) gives B's roster items with the keys reverse-sorted; A gives 23.01's items,
        one per group, in field order."""
        body = {"user": "alice", "server": "localhost"}
        answer = post(self.b, "/api/get_roster", body, headers=[ADMIN])
        self.assertEqual(answer.status, 200)
        self.assertEqual(
            answer.body,
            b'[{"subscription":"both","pending":"none","nick":"Bob",'
            b'"jid":"bob@localhost","groups":["Friends","Team"]}]',
        )
        self.assertEqual(self.backend_b.calls[-1][1], {"user": "alice", "host": "localhost"})
        answer = post(self.a, "/api/get_roster", body, headers=[ADMIN])
        self.assertEqual(answer.status, 200)
        self.assertEqual(
            [[k for k, _ in item] for item in answer.json()],
            [["jid", "nick", "subscription", "ask", "group"]] * 2,
        )
        self.assertEqual([dict(item)["group"] for item in answer.json()], ["Friends", "Team"])

    def test_case_23_internal_command(self) -> None:
        """Case 23: B refuses the internal webadmin_node_db even for the admin: 400
        "frontend_cannot_call_an_internal_command" (checked after the arguments).  A
        has no such command: 404."""
        body = {"node": "gw", "query": [], "lang": "en"}
        answer = post(self.b, "/api/webadmin_node_db", body, headers=[ADMIN])
        self.assertEqual(
            (answer.status, answer.json()), (400, "frontend_cannot_call_an_internal_command")
        )
        answer = post(self.a, "/api/webadmin_node_db", body, headers=[ADMIN])
        self.assertEqual(answer.status, 404)
