"""The upstream client: requests, errors, limits, timeouts and profile detection."""

from __future__ import annotations

import base64
from typing import Any

from treq.testing import StubTreq
from twisted.internet.defer import Deferred, fail, succeed
from twisted.internet.error import ConnectionRefusedError
from twisted.internet.task import Clock
from twisted.python.failure import Failure
from twisted.trial.unittest import SynchronousTestCase
from twisted.web._newclient import ResponseNeverReceived

from gateway.backends.upstream.client import UpstreamClient
from gateway.backends.upstream.failures import UpstreamRefused
from gateway.config.model import UpstreamConfig
from gateway.engine.errors import (
    GatewayTimeout,
    TypedCommandError,
    Unavailable,
    UnknownCommand,
)
from tests.backends.upstream.helpers import (
    STATUS_2301,
    STATUS_2412,
    URL,
    CannedApi,
    make_client,
)


class RequestTests(SynchronousTestCase):
    def test_posts_json_with_basic_auth(self) -> None:
        """A call POSTs the arguments as JSON to <url>/<name> with the gateway's Basic auth."""
        client, api, stub, _ = make_client({"/api/registered_users": (200, ["alice", "bob"])})
        d = client.call("registered_users", {"host": "localhost"})
        stub.flush()
        self.assertEqual(self.successResultOf(d), ["alice", "bob"])
        [seen] = api.seen
        self.assertEqual(seen.body, {"host": "localhost"})
        expected = "Basic " + base64.b64encode(b"gw@localhost:pw").decode()
        self.assertEqual(seen.authorization, expected)

    def test_version_goes_in_the_path(self) -> None:
        """A versioned call goes to <url>/<name>/vN, the form ejabberd 24.12 reads."""
        client, api, stub, _ = make_client({"/api/get_roster/v1": (200, [])})
        d = client.call("get_roster", {"user": "a", "host": "b"}, version=1)
        stub.flush()
        self.assertEqual(self.successResultOf(d), [])
        self.assertEqual(api.seen[0].path, "/api/get_roster/v1")

    def test_bearer_token(self) -> None:
        """With a token the gateway authenticates as Bearer."""
        client, api, stub, _ = make_client(
            {"/api/status": (200, "x")}, user=None, password=None, token="tok123"
        )
        d = client.call("status", {})
        stub.flush()
        self.successResultOf(d)
        self.assertEqual(api.seen[0].authorization, "Bearer tok123")

    def test_config_errors(self) -> None:
        """A user that is not a full JID, no credentials, or a bad URL are refused at once."""
        for bad in (
            {"url": URL, "user": "gw", "password": "x"},
            {"url": URL},
            {"url": "ftp://x/api", "token": "t"},
            {"url": URL, "token": "t", "api_profile": "22.05"},
        ):
            with self.assertRaises(ValueError):
                UpstreamClient(UpstreamConfig(**bad), Clock(), http=_Refusing())

    def test_error_answers_become_engine_errors(self) -> None:
        """409 and 404 answers come back as the typed and unknown-command errors."""
        client, _, stub, _ = make_client(
            {
                "/api/register": (
                    409,
                    {"status": "error", "code": 10090, "message": "User a@b already registered"},
                ),
                "/api/nope": (
                    404,
                    {"status": "error", "code": 40, "message": "Endpoint not found."},
                ),
            }
        )
        d1 = client.call("register", {"user": "a", "host": "b", "password": "c"})
        d2 = client.call("nope", {})
        stub.flush()
        error = self.failureResultOf(d1, TypedCommandError).value
        self.assertEqual((error.code, error.status), ("conflict", 10090))
        self.failureResultOf(d2, UnknownCommand)

    def test_gateway_credentials_refused(self) -> None:
        """A 401 for the gateway's own account is Unavailable, naming the gateway's credentials."""
        client, _, stub, _ = make_client(
            {
                "/api/stats": (
                    401,
                    {
                        "status": "error",
                        "code": 10,
                        "message": "You are not authorized to call this command.",
                    },
                )
            }
        )
        d = client.call("stats", {"name": "registeredusers"})
        stub.flush()
        error = self.failureResultOf(d, UpstreamRefused).value
        self.assertIsInstance(error, Unavailable)
        self.assertIn("refused the gateway's credentials", error.message)

    def test_body_that_is_not_json(self) -> None:
        """A 200 whose body is not JSON is Unavailable, not a crash."""
        client, _, stub, _ = make_client({"/api/status": (200, b"<html>")})
        d = client.call("status", {})
        stub.flush()
        self.failureResultOf(d, Unavailable)

    def test_answers_are_decoded_through_the_offload(self) -> None:
        """The JSON answer is decoded by the injected offload, told the body's size."""
        sizes: list[int] = []

        def offload(size: int, fn: Any, *args: Any) -> Deferred[Any]:
            sizes.append(size)
            return succeed(fn(*args))

        api = CannedApi({"/api/registered_users": (200, ["alice"])})
        stub = StubTreq(api)
        config = UpstreamConfig(url=URL, token="t")
        client = UpstreamClient(config, Clock(), http=stub, offload=offload)
        d = client.call("registered_users", {"host": "h"})
        stub.flush()
        self.assertEqual(self.successResultOf(d), ["alice"])
        self.assertEqual(sizes, [len(b'["alice"]')])

    def test_body_size_is_capped(self) -> None:
        """An answer longer than max_body is refused."""
        api_answers = {"/api/registered_users": (200, ["x" * 100] * 20)}
        client, _, stub, _ = make_client(api_answers)
        client._max_body = 500
        d = client.call("registered_users", {"host": "h"})
        stub.flush()
        error = self.failureResultOf(d, Unavailable).value
        self.assertIn("more than 500 bytes", error.message)


class _Refusing:
    """An HTTP client whose every connection is refused."""

    def __init__(self, error: Exception | None = None) -> None:
        self.error = error or ConnectionRefusedError("Connection refused")
        self.calls = 0

    def post(self, url: str, data: bytes, **kwargs: Any) -> Deferred[Any]:
        self.calls += 1
        return fail(self.error)


def _client(http: Any, **options: Any) -> UpstreamClient:
    settings: dict[str, Any] = {"url": URL, "token": "t"}
    settings.update(options)
    return UpstreamClient(UpstreamConfig(**settings), Clock(), http=http)


class OutageTests(SynchronousTestCase):
    def test_connection_refused(self) -> None:
        """A refused connection is Unavailable naming the upstream; health says unreachable."""
        client = _client(_Refusing())
        error = self.failureResultOf(client.call("stats", {}), Unavailable).value
        self.assertNotIsInstance(error, GatewayTimeout)
        self.assertIn(f"upstream ejabberd at {URL} is unavailable", error.message)
        self.assertIn("Connection refused", error.message)
        health = client.health()
        self.assertIs(health.reachable, False)
        self.assertEqual(health.last_error, error.message)
        self.assertEqual((health.in_flight, health.queued), (0, 0))

    def test_connection_reset(self) -> None:
        """A connection lost before the answer (Twisted's wrapped reasons) is Unavailable too."""
        reset = ResponseNeverReceived([Failure(ConnectionRefusedError("reset by peer"))])
        client = _client(_Refusing(reset))
        error = self.failureResultOf(client.call("stats", {}), Unavailable).value
        self.assertIn("reset by peer", error.message)

    def test_timeout_cancels_the_request(self) -> None:
        """No answer within timeout: GatewayTimeout, and the HTTP request is cancelled."""
        client, api, stub, clock = make_client({"/api/stats": None}, timeout=5.0)
        d = client.call("stats", {"name": "x"})
        stub.flush()
        self.assertNoResult(d)
        clock.advance(4.9)
        self.assertNoResult(d)
        clock.advance(0.2)
        error = self.failureResultOf(d, GatewayTimeout).value
        self.assertIn("did not answer stats within 5 s", error.message)
        stub.flush()
        self.assertTrue(api.seen[0].lost.called, "the upstream request was not cancelled")
        self.assertEqual(client.health().in_flight, 0)
        self.assertIs(client.health().reachable, False)

    def test_caller_cancel_cancels_the_request(self) -> None:
        """A caller that goes away cancels the upstream request and frees its slot."""
        client, api, stub, _ = make_client({"/api/stats": None})
        d = client.call("stats", {})
        stub.flush()
        d.cancel()
        self.failureResultOf(d)
        stub.flush()
        self.assertTrue(api.seen[0].lost.called)
        self.assertEqual(client.health().in_flight, 0)


class LimitTests(SynchronousTestCase):
    def test_in_flight_queue_and_refusal(self) -> None:
        """max_connections in flight, max_queued waiting in order, more refused at once."""
        client, api, stub, clock = make_client(
            {"/api/stats": None, "/api/status": (200, "ok")},
            max_connections=1,
            max_queued=1,
            timeout=10.0,
        )
        first = client.call("stats", {})
        second = client.call("status", {})
        stub.flush()
        self.assertEqual(len(api.seen), 1)
        self.assertEqual((client.health().in_flight, client.health().queued), (1, 1))
        third = client.call("status", {})
        error = self.failureResultOf(third, Unavailable).value
        self.assertIn("busy", error.message)
        clock.advance(10)  # the first times out; the queued one goes out
        self.failureResultOf(first, GatewayTimeout)
        stub.flush()
        self.assertEqual([s.path for s in api.seen], ["/api/stats", "/api/status"])
        self.assertEqual(self.successResultOf(second), "ok")
        self.assertEqual((client.health().in_flight, client.health().queued), (0, 0))

    def test_queue_wait_counts_towards_the_timeout(self) -> None:
        """A call stuck in the queue still ends at its timeout, and leaves the queue."""
        client, api, stub, clock = make_client(
            {"/api/stats": None}, max_connections=1, max_queued=4, timeout=3.0
        )
        first = client.call("stats", {})
        clock.advance(1)
        waiting = client.call("stats", {})
        stub.flush()
        self.assertEqual(client.health().queued, 1)
        clock.advance(2.5)  # the first is late now; the queued one is not yet
        stub.flush()
        self.failureResultOf(first, GatewayTimeout)
        self.assertNoResult(waiting)
        clock.advance(1)
        self.failureResultOf(waiting, GatewayTimeout)
        self.assertEqual(client.health().queued, 0)


class ProfileTests(SynchronousTestCase):
    def test_fixed_profile_asks_nothing(self) -> None:
        """A configured profile is used as it is, without asking status."""
        client, api, _, _ = make_client({}, api_profile="23.01")
        self.assertEqual(self.successResultOf(client.ensure_profile()), "23.01")
        self.assertEqual(api.seen, [])

    def test_detects_2301_and_2412(self) -> None:
        """auto reads the release from status: 23.01 → "23.01", 24.12 → "24.12"."""
        for text, profile in ((STATUS_2301, "23.01"), (STATUS_2412, "24.12")):
            client, api, stub, _ = make_client({"/api/status": (200, text)})
            self.assertIsNone(client.profile)
            d = client.ensure_profile()
            stub.flush()
            self.assertEqual(self.successResultOf(d), profile)
            self.assertEqual(client.profile, profile)
            self.assertIn(f"API profile {profile}", client.status_lines()[0])

    def test_newer_release_is_2412(self) -> None:
        """A release after 24.12 (25.04) speaks the versioned API."""
        text = STATUS_2412.replace("24.12", "25.04")
        client, _, stub, _ = make_client({"/api/status": (200, text)})
        d = client.ensure_profile()
        stub.flush()
        self.assertEqual(self.successResultOf(d), "24.12")

    def test_waiters_share_one_detection(self) -> None:
        """Calls waiting for the profile all get it from one status request."""
        client, api, stub, _ = make_client({"/api/status": (200, STATUS_2301)})
        waiting = [client.ensure_profile() for _ in range(3)]
        stub.flush()
        self.assertEqual([self.successResultOf(d) for d in waiting], ["23.01"] * 3)
        self.assertEqual(len(api.seen), 1)

    def test_unreadable_status(self) -> None:
        """A status that names no release fails the waiters clearly; the next call asks again."""
        client, api, stub, _ = make_client({"/api/status": (200, "something else")})
        d = client.ensure_profile()
        stub.flush()
        error = self.failureResultOf(d, Unavailable).value
        self.assertIn("api_profile", error.message)
        d = client.ensure_profile()
        stub.flush()
        self.failureResultOf(d, Unavailable)
        self.assertEqual(len(api.seen), 2)

    def test_asks_again_after_an_outage(self) -> None:
        """After the upstream was unreachable, the profile is asked again (it may be upgraded)."""
        client, api, stub, _ = make_client({"/api/status": (200, STATUS_2301), "/api/stats": None})
        d = client.ensure_profile()
        stub.flush()
        self.assertEqual(self.successResultOf(d), "23.01")
        client._failed("the upstream ejabberd is unavailable: down")
        self.assertEqual(client.profile, "23.01")  # the last known one stays in use meanwhile
        api.answers["/api/status"] = (200, STATUS_2412)
        d = client.ensure_profile()
        stub.flush()
        self.assertEqual(self.successResultOf(d), "24.12")
        self.assertEqual(len([s for s in api.seen if s.path == "/api/status"]), 2)
        self.assertIs(client.health().reachable, True)

    def test_detection_failure_when_down(self) -> None:
        """When status cannot be asked, the waiters get the Unavailable error."""
        client = _client(_Refusing())
        self.failureResultOf(client.ensure_profile(), Unavailable)
        self.assertIsNone(client.profile)
