"""Failed authentications through the Authenticator and each dialect (issue 8, item 9).

The limiter's own rules are tested in ``test_bruteforce``; here: what counts
as a failure in each dialect, that a banned address is refused before any
credential is checked, and how each dialect says so (429 + ``Retry-After`` on
/api and /rest, fault -118 on XML-RPC).
"""

from __future__ import annotations

import ipaddress
import xmlrpc.client
from io import BytesIO
from typing import Any, cast

from twisted.internet.address import IPv4Address
from twisted.internet.defer import ensureDeferred
from twisted.internet.testing import Clock
from twisted.trial.unittest import SynchronousTestCase
from twisted.web.iweb import IRequest
from twisted.web.test.requesthelper import DummyRequest

from gateway.engine.auth import Authenticator
from gateway.engine.bruteforce import FailureLimiter
from gateway.engine.errors import InvalidToken, TooManyFailures, Unauthorized
from gateway.engine.names import MOD_HTTP_API
from gateway.frontends.ctl.process import CtlProcessor
from gateway.frontends.http_auth import parse_authorization
from gateway.frontends.jsonapi import JsonApiResource
from gateway.frontends.xmlrpc import XmlRpcResource
from tests.frontends.helpers import basic
from tests.frontends.jsonapi import helpers as jsonapi_helpers
from tests.frontends.rest import helpers as rest_helpers
from tests.frontends.xmlrpc import helpers as xmlrpc_helpers

ATTACKER = "192.0.2.66"
OTHER = "127.0.0.1"
MAX = 3
BAN = 100.0


def make_limiter(clock: Clock) -> FailureLimiter:
    return FailureLimiter(clock.seconds, max_failures=MAX, window=60.0, ban_time=BAN)


class AuthenticatorTests(SynchronousTestCase):
    def setUp(self) -> None:
        self.clock = Clock()
        self.limiter = make_limiter(self.clock)
        self.backend = rest_helpers.make_backend()  # counts password checks
        self.auth = Authenticator(self.backend, clock=lambda: 0.0, limiter=self.limiter)
        self.ip = ipaddress.ip_address(ATTACKER)

    def password(self, password: str, ip: Any = None, user: str = "admin") -> Exception | None:
        d = ensureDeferred(self.auth.password(user, "localhost", password, "mod_http_api", ip))
        if password == "secret" and not self.limiter.bans():
            self.successResultOf(d)
            return None
        failure = self.failureResultOf(d)
        assert isinstance(failure.value, Exception)
        return failure.value

    def test_banned_address_is_refused_before_any_check(self) -> None:
        """Once banned, even the right password is refused without asking the backend."""
        for _ in range(MAX):
            self.assertIsInstance(self.password("guess", self.ip), Unauthorized)
        checks = self.backend.password_checks
        error = self.password("secret", self.ip)
        self.assertIsInstance(error, TooManyFailures)
        assert isinstance(error, TooManyFailures)
        self.assertEqual(error.retry_after, int(BAN))
        self.assertEqual(self.backend.password_checks, checks, "no password was checked")

    def test_unknown_accounts_and_bad_names_count(self) -> None:
        """Unknown accounts and names that cannot be prepared count like wrong passwords."""
        self.password("x", self.ip, user="nobody")
        self.password("x", self.ip, user="bad@user")
        self.password("x", self.ip, user="")
        self.assertIsInstance(self.password("secret", self.ip), TooManyFailures)

    def test_success_resets_nothing(self) -> None:
        """A good login between guesses does not clear the count (one valid account must not
        buy unlimited guesses at another)."""
        for _ in range(MAX - 1):
            self.password("guess", self.ip)
        self.successResultOf(
            ensureDeferred(self.auth.password("alice", "localhost", "alicepw", "mod_rest", self.ip))
        )
        self.password("guess", self.ip)
        self.assertRaises(TooManyFailures, self.auth.admit, self.ip)

    def test_failures_name_the_account(self) -> None:
        """Each failure is also counted for the account it named, as given, lower-cased."""
        self.password("guess", self.ip, user="Admin")
        self.assertEqual(
            [(a.account, a.failures) for a in self.limiter.accounts()], [("admin@localhost", 1)]
        )

    def test_no_address_is_never_banned(self) -> None:
        """Callers without an address (the gatewayctl socket) keep being checked, never banned."""
        for _ in range(MAX * 3):
            self.assertIsInstance(self.password("guess", None), Unauthorized)
        self.assertEqual(self.limiter.bans(), [])

    def test_bad_tokens_and_bare_names_count(self) -> None:
        """Unknown tokens and Basic names without a host are failures too."""
        d = ensureDeferred(
            self.auth.token("nope", "ejabberd_xmlrpc", self.ip, user="admin", host="h")
        )
        self.failureResultOf(d, InvalidToken)
        self.failureResultOf(ensureDeferred(self.auth.token("nope", "mod_http_api", self.ip)))
        self.failureResultOf(ensureDeferred(self.auth.basic("admin", "x", "mod_http_api", self.ip)))
        self.failureResultOf(
            ensureDeferred(self.auth.token("nope", "mod_http_api", self.ip)), TooManyFailures
        )
        self.assertEqual(sorted(a.account for a in self.limiter.accounts()), ["admin", "admin@h"])

    def test_malformed_authorization_header_counts(self) -> None:
        """A header that cannot even be read counts against the address."""
        for _ in range(MAX):
            d = ensureDeferred(
                self.auth.login(parse_authorization(b"Basic !!!"), MOD_HTTP_API, self.ip)
            )
            self.failureResultOf(d, Unauthorized)
        d = ensureDeferred(self.auth.login(parse_authorization(None), MOD_HTTP_API, self.ip))
        self.failureResultOf(d, TooManyFailures)

    def test_ctl_socket_auth_is_never_banned(self) -> None:
        """gatewayctl --auth over the socket (no address) keeps answering the auth error."""
        engine = jsonapi_helpers.make_engine(authenticator=self.auth)
        processor = CtlProcessor(engine)
        for _ in range(MAX * 2):
            text, status = self.successResultOf(
                processor.process(["--auth", "admin", "localhost", "guess", "status"])
            )
            self.assertEqual(status, 1)
            self.assertNotIn("Too many", text)


class JsonApiTests(SynchronousTestCase):
    def setUp(self) -> None:
        self.clock = Clock()
        backend = jsonapi_helpers.make_backend()
        auth = Authenticator(
            backend, clock=lambda: jsonapi_helpers.NOW, limiter=make_limiter(self.clock)
        )
        engine = jsonapi_helpers.make_engine(backend=backend, authenticator=auth)
        self.resource = JsonApiResource(engine)

    def post(self, ip: str, *headers: tuple[bytes, bytes]) -> jsonapi_helpers.Answer:
        return jsonapi_helpers.post(self.resource, "/api/status", headers=headers, ip=ip)

    def test_ban_is_429_with_retry_after(self) -> None:
        """After max_failures wrong passwords: 429, Retry-After, JSON code 29, even anonymous."""
        for _ in range(MAX):
            self.assertEqual(self.post(ATTACKER, basic("admin@localhost", "guess")).status, 401)
        self.clock.advance(30)
        for headers in ([basic("admin@localhost", "secret")], []):
            answer = self.post(ATTACKER, *headers)
            self.assertEqual(answer.status, 429)
            self.assertEqual(answer.header("Retry-After"), "70")
            body = answer.json()
            self.assertEqual(dict(body)["code"], 29)
            self.assertIn("Too many failed authentications", dict(body)["message"])
        self.assertEqual(self.post(OTHER, basic("admin@localhost", "secret")).status, 200)

    def test_other_errors_have_no_retry_after(self) -> None:
        """Retry-After is only sent with the ban answer."""
        answer = self.post(ATTACKER, basic("admin@localhost", "guess"))
        self.assertEqual(answer.status, 401)
        self.assertIsNone(answer.header("Retry-After"))


class XmlRpcTests(SynchronousTestCase):
    def setUp(self) -> None:
        self.clock = Clock()
        backend = xmlrpc_helpers.make_backend()
        auth = Authenticator(
            backend, clock=lambda: xmlrpc_helpers.NOW, limiter=make_limiter(self.clock)
        )
        engine = xmlrpc_helpers.make_engine("24.12", backend, authenticator=auth)
        self.resource = XmlRpcResource(engine)

    def call(self, ip: str, *params: Any) -> xmlrpc_helpers.Reply:
        request = DummyRequest([b"xmlrpc"])
        request.method = b"POST"
        request.client = IPv4Address("TCP", ip, 50000)
        body = xmlrpc.client.dumps(params, methodname="registered_users").encode()
        request.content = BytesIO(body)  # type: ignore[attr-defined]
        self.resource.render(cast(IRequest, request))
        return xmlrpc_helpers.Reply(request.responseCode or 200, {}, b"".join(request.written))

    def test_ban_is_a_fault(self) -> None:
        """Wrong auth structs are -118 "Invalid authentication data", then the ban fault."""
        wrong = {"user": "admin", "server": "localhost", "password": "guess"}
        for _ in range(MAX):
            fault = self.call(ATTACKER, wrong, {"host": "localhost"}).fault()
            self.assertEqual(fault.faultString, "Error -118\nInvalid authentication data")
        for params in ((xmlrpc_helpers.ADMIN, {"host": "localhost"}), ({"host": "localhost"},)):
            reply = self.call(ATTACKER, *params)
            self.assertEqual(reply.status, 200)
            fault = reply.fault()
            self.assertEqual(fault.faultCode, -118)
            self.assertTrue(fault.faultString.startswith("Error -118\nToo many failed"))
        reply = self.call(OTHER, xmlrpc_helpers.ADMIN, {"host": "localhost"})
        self.assertEqual(reply.loads(), {"users": ["admin", "alice"]})

    def test_malformed_struct_members_count(self) -> None:
        """An auth struct whose members are not text counts as a failure."""
        for _ in range(MAX):
            bad = {"user": 1, "server": "localhost", "password": "x"}
            self.call(ATTACKER, bad, {"host": "localhost"}).fault()
        fault = self.call(ATTACKER, xmlrpc_helpers.ADMIN, {"host": "localhost"}).fault()
        self.assertIn("Too many failed", fault.faultString)


class RestTests(SynchronousTestCase):
    def setUp(self) -> None:
        self.clock = Clock()
        self.backend = rest_helpers.make_backend()
        auth = Authenticator(self.backend, limiter=make_limiter(self.clock))
        self.rig = rest_helpers.make_resource(
            rest_helpers.rest_options(allowed_ips=(ipaddress.ip_network("0.0.0.0/0"),)),
            authenticator=auth,
        )

    def post(self, body: str, ip: str = ATTACKER) -> tuple[rest_helpers.Answer, str | None]:
        request = rest_helpers.make_request(body.encode(), ip=ip)
        answer = rest_helpers.render(self.rig.resource, request)
        retry = request.responseHeaders.getRawHeaders(b"retry-after")
        return answer, retry[-1].decode() if retry else None

    def test_wrong_auth_lines_lead_to_429(self) -> None:
        """Wrong --auth lines are 401s, then 429 + Retry-After with a mod_rest text body."""
        for _ in range(MAX):
            answer, retry = self.post("--auth admin localhost guess status")
            self.assertEqual((answer.status, retry), (401, None))
        checks = self.backend.password_checks
        for line in ("--auth admin localhost secret status", "status", "<message to='a@b'/>"):
            answer, retry = self.post(line)
            self.assertEqual(answer.status, 429, line)
            self.assertEqual(retry, str(int(BAN)))
            self.assertTrue(answer.text.startswith("Error: Too many failed authentications"))
        self.assertEqual(self.backend.password_checks, checks, "no password was checked")
        answer, _ = self.post("--auth admin localhost secret status", ip=OTHER)
        self.assertEqual(answer.status, 200, answer.text)
