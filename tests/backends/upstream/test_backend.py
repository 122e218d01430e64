"""The ejabberd backend: canonical calls forwarded in the upstream's profile, answers decoded."""

from __future__ import annotations

from typing import Any

from twisted.trial.unittest import SynchronousTestCase

from gateway.backends.interfaces import NativeExecutor
from gateway.backends.upstream.backend import UpstreamBackend
from gateway.engine.catalogue import Catalogue
from gateway.engine.errors import (
    CommandFailed,
    GatewayTimeout,
    InternalError,
    TypedCommandError,
    UnknownCommand,
)
from gateway.engine.model import Caller, ResTuple
from tests.backends.upstream.helpers import STATUS_2301, make_client

CALLER = Caller(frontend="mod_http_api")
ROSTER_ARGS = {"user": "alice", "host": "localhost"}


def _bob_2301(group: str) -> dict[str, str]:
    """bob in one group, as 23.01's get_roster lists a contact (once per group)."""
    return {
        "jid": "bob@localhost",
        "nick": "Bob",
        "subscription": "both",
        "ask": "none",
        "group": group,
    }


def _backend(
    answers: dict[str, Any], profile: str, **options: Any
) -> tuple[UpstreamBackend, Any, Any, Any]:
    client, api, stub, clock = make_client(answers, api_profile=profile, **options)
    return UpstreamBackend(client), api, stub, clock


class ForwardTests(SynchronousTestCase):
    def test_2412_upstream_gets_the_canonical_call(self) -> None:
        """To a 24.12 upstream the call goes out unchanged at its version; the answer is decoded."""
        answer = [
            {
                "subscription": "both",
                "pending": "none",
                "nick": "Bob",
                "jid": "bob@localhost",
                "groups": ["Friends"],
            }
        ]
        backend, api, stub, _ = _backend({"/api/get_roster/v0": (200, answer)}, "24.12")
        d = backend.execute("get_roster", ROSTER_ARGS, CALLER)
        stub.flush()
        self.assertEqual(
            self.successResultOf(d), [("bob@localhost", "Bob", "both", "none", ["Friends"])]
        )
        self.assertEqual(api.seen[0].body, ROSTER_ARGS)

    def test_2301_upstream_gets_a_translated_call(self) -> None:
        """To a 23.01 upstream: no version in the path, 23.01's answer read back canonically."""
        answer = [_bob_2301("Friends"), _bob_2301("Team")]
        backend, api, stub, _ = _backend({"/api/get_roster": (200, answer)}, "23.01")
        d = backend.execute("get_roster", ROSTER_ARGS, CALLER)
        stub.flush()
        [contact] = self.successResultOf(d)
        self.assertEqual(contact[0], "bob@localhost")
        self.assertEqual(sorted(contact[4]), ["Friends", "Team"])
        self.assertEqual(api.seen[0].path, "/api/get_roster")

    def test_scalar_answer_of_2301_is_unwrapped(self) -> None:
        """23.01 wraps integers in {name: value}; the backend returns the int."""
        backend, _, stub, _ = _backend(
            {"/api/connected_users_number": (200, {"num_sessions": 2})}, "23.01"
        )
        d = backend.execute("connected_users_number", {}, CALLER)
        stub.flush()
        self.assertEqual(self.successResultOf(d), 2)

    def test_command_the_upstream_lacks(self) -> None:
        """A command 23.01 does not have is its unknown command, and nothing is sent."""
        backend, api, stub, _ = _backend({}, "23.01")
        d = backend.execute("unban_account", {"user": "a", "host": "h"}, CALLER)
        stub.flush()
        error = self.failureResultOf(d, UnknownCommand).value
        self.assertEqual(error.name, "unban_account")
        self.assertEqual(api.seen, [])

    def test_waits_for_profile_detection(self) -> None:
        """With api_profile auto, the first command waits until status told the release."""
        backend, api, stub, _ = _backend(
            {"/api/status": (200, STATUS_2301), "/api/registered_users": (200, ["a"])}, "auto"
        )
        d = backend.execute("registered_users", {"host": "localhost"}, CALLER)
        stub.flush()
        self.assertEqual(self.successResultOf(d), ["a"])
        self.assertEqual([s.path for s in api.seen], ["/api/status", "/api/registered_users"])

    def test_timeout_reaches_the_caller(self) -> None:
        """A command the upstream does not answer in time fails with GatewayTimeout."""
        backend, _, stub, clock = _backend({"/api/stats/v0": None}, "24.12", timeout=2.0)
        d = backend.execute("stats", {"name": "registeredusers"}, CALLER)
        stub.flush()
        clock.advance(2)
        self.failureResultOf(d, GatewayTimeout)


class ErrorTests(SynchronousTestCase):
    def test_typed_error(self) -> None:
        """register on an existing account: the conflict error with ejabberd's code and text."""
        body = {"status": "error", "code": 10090, "message": "User a@localhost already registered"}
        backend, _, stub, _ = _backend({"/api/register": (409, body)}, "23.01")
        d = backend.execute("register", {"user": "a", "host": "localhost", "password": "p"}, CALLER)
        stub.flush()
        error = self.failureResultOf(d, TypedCommandError).value
        self.assertEqual((error.kind, error.status), ("conflict", 10090))

    def test_restuple_other_status_is_a_value(self) -> None:
        """A restuple's 500 code 0 answer is a non-ok ResTuple, not an error."""
        body = {"status": "error", "code": 0, "message": "nope"}
        backend, _, stub, _ = _backend({"/api/status/v0": (500, body)}, "24.12")
        d = backend.execute("status", {}, CALLER)
        stub.flush()
        value = self.successResultOf(d)
        self.assertEqual(value.text, "nope")
        self.assertFalse(value.ok)
        self.assertIsInstance(value, ResTuple)

    def test_muc_failures_are_thrown(self) -> None:
        """mod_muc_admin's failures are marked thrown, as ejabberd throws them."""
        backend, _, stub, _ = _backend({"/api/destroy_room/v0": (400, "Room not found")}, "24.12")
        d = backend.execute("destroy_room", {"room": "r", "service": "conference.h"}, CALLER)
        stub.flush()
        error = self.failureResultOf(d, CommandFailed).value
        self.assertTrue(error.thrown)
        self.assertEqual(error.message, "Room not found")

    def test_returned_failure_is_not_thrown(self) -> None:
        """Other modules' {error, Text} stay returned failures."""
        backend, _, stub, _ = _backend(
            {"/api/registered_users/v0": (400, "Unknown virtual host")}, "24.12"
        )
        d = backend.execute("registered_users", {"host": "nohost"}, CALLER)
        stub.flush()
        error = self.failureResultOf(d, CommandFailed).value
        self.assertFalse(error.thrown)

    def test_unexpected_shape_is_internal_error(self) -> None:
        """An answer of the wrong shape is internal_error (and logged), never a wrong value."""
        backend, _, stub, _ = _backend({"/api/registered_users/v0": (200, {"x": 1})}, "24.12")
        d = backend.execute("registered_users", {"host": "h"}, CALLER)
        stub.flush()
        self.failureResultOf(d, InternalError)


class NativeTests(SynchronousTestCase):
    def test_is_a_native_executor(self) -> None:
        """The backend offers the engine's fidelity seam, keyed by the upstream's profile."""
        backend, _, _, _ = _backend({}, "23.01")
        self.assertIsInstance(backend, NativeExecutor)
        self.assertEqual(backend.native_profile("get_roster"), "23.01")
        self.assertIsNone(backend.native_profile("unban_account"))  # 23.01 lacks it

    def test_unknown_before_detection(self) -> None:
        """With auto and no detection yet, no profile is claimed (the canonical path waits)."""
        backend, _, _, _ = _backend({}, "auto")
        self.assertIsNone(backend.native_profile("get_roster"))

    def test_execute_definition_forwards_the_callers_definition(self) -> None:
        """The caller's 23.01 definition goes out as it is and the answer is decoded by it."""
        answer = [_bob_2301("Friends")]
        backend, api, stub, _ = _backend({"/api/get_roster": (200, answer)}, "23.01")
        definition = Catalogue.load("23.01").newest("get_roster")
        d = backend.execute_definition(definition, ROSTER_ARGS, CALLER)
        stub.flush()
        self.assertEqual(
            self.successResultOf(d), [("bob@localhost", "Bob", "both", "none", "Friends")]
        )
        self.assertEqual((api.seen[0].path, api.seen[0].body), ("/api/get_roster", ROSTER_ARGS))

    def test_execute_definition_keeps_the_version(self) -> None:
        """For a 24.12 upstream, the caller's definition version goes in the path."""
        backend, api, stub, _ = _backend({"/api/ban_account/v0": (200, 0)}, "24.12")
        definition = Catalogue.load("24.12").find("ban_account", 0)
        assert definition is not None
        d = backend.execute_definition(
            definition, {"user": "a", "host": "h", "reason": "r"}, CALLER
        )
        stub.flush()
        self.assertIs(self.successResultOf(d), True)
        self.assertEqual(api.seen[0].path, "/api/ban_account/v0")
