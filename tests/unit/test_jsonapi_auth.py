"""The Authorization header of HTTP frontends (gateway.frontends.http_auth)."""

from __future__ import annotations

import ipaddress
from base64 import b64encode

from twisted.internet.defer import ensureDeferred
from twisted.trial.unittest import SynchronousTestCase

from gateway.engine.auth import Authenticator
from gateway.engine.errors import InvalidToken, Unauthorized
from gateway.engine.model import Caller
from gateway.frontends.http_auth import (
    BasicCredentials,
    BearerToken,
    authenticate,
    parse_authorization,
)
from tests.unit.test_jsonapi_fakes import NOW, FakeBackend

IP = ipaddress.ip_address("192.0.2.1")


def basic(raw: bytes) -> bytes:
    return b"Basic " + b64encode(raw)


class ParseTests(SynchronousTestCase):
    def test_none(self) -> None:
        """No header: nothing to check (an anonymous caller)."""
        self.assertIsNone(parse_authorization(None))

    def test_basic(self) -> None:
        """Basic splits at the first colon, so passwords may contain colons."""
        self.assertEqual(parse_authorization(basic(b"a@h:p:w")), BasicCredentials("a@h", "p:w"))
        self.assertEqual(parse_authorization(basic(b"a@h:")), BasicCredentials("a@h", ""))

    def test_basic_utf8(self) -> None:
        """User names and passwords are UTF-8."""
        found = parse_authorization(basic("é@h:ü".encode()))
        self.assertEqual(found, BasicCredentials("é@h", "ü"))

    def test_scheme_case(self) -> None:
        """Scheme names are case-insensitive."""
        self.assertEqual(parse_authorization(b"bearer tok"), BearerToken("tok"))
        self.assertEqual(
            parse_authorization(b"BASIC " + b64encode(b"a@h:p")), BasicCredentials("a@h", "p")
        )

    def test_bearer_trimmed(self) -> None:
        """Blanks around a Bearer token are trimmed."""
        self.assertEqual(parse_authorization(b"Bearer   tok \t"), BearerToken("tok"))

    def test_invalid(self) -> None:
        """Other schemes, bad base64, no colon or bad UTF-8 raise Unauthorized."""
        for value in (
            b"Digest x",
            b"",
            b"Basic !!!",
            basic(b"no-colon"),
            basic(b"\xff@h:p"),
            b"Bearer \xff",
        ):
            self.assertRaises(Unauthorized, parse_authorization, value)


class AuthenticateTests(SynchronousTestCase):
    def setUp(self) -> None:
        self.auth = Authenticator(FakeBackend(), clock=lambda: NOW)

    def run_auth(self, header: bytes | None) -> Caller:
        return self.successResultOf(
            ensureDeferred(authenticate(self.auth, header, ip=IP, tag="t1"))
        )

    def fail_auth(self, header: bytes | None) -> Exception:
        failure = self.failureResultOf(
            ensureDeferred(authenticate(self.auth, header, ip=IP, tag="t1"))
        )
        assert isinstance(failure.value, Exception)
        return failure.value

    def test_anonymous(self) -> None:
        """Without a header the caller is anonymous, with its IP, tag and frontend."""
        self.assertEqual(self.run_auth(None), Caller("mod_http_api", ip=IP, tag="t1"))

    def test_password(self) -> None:
        """Good Basic credentials give the account's caller."""
        caller = self.run_auth(basic(b"admin@localhost:secret"))
        self.assertEqual(
            (caller.user, caller.host, caller.ip, caller.tag), ("admin", "localhost", IP, "t1")
        )
        self.assertIsNone(caller.oauth_scopes)

    def test_wrong_password(self) -> None:
        """A wrong password, unknown user or bare user name is Unauthorized."""
        for raw in (b"admin@localhost:nope", b"nobody@localhost:x", b"admin:secret"):
            self.assertIsInstance(self.fail_auth(basic(raw)), Unauthorized)

    def test_token(self) -> None:
        """A valid Bearer token gives its owner with the granted scopes."""
        caller = self.run_auth(b"Bearer goodtoken")
        self.assertEqual(
            (caller.user, caller.oauth_scopes), ("admin", frozenset({"ejabberd:admin"}))
        )

    def test_bad_tokens(self) -> None:
        """Unknown and expired tokens are InvalidToken."""
        for token in (b"Bearer nope", b"Bearer oldtoken"):
            self.assertIsInstance(self.fail_auth(token), InvalidToken)

    def test_invalid_header(self) -> None:
        """An unusable header is refused, not treated as anonymous."""
        self.assertIsInstance(self.fail_auth(b"Negotiate abc"), Unauthorized)
