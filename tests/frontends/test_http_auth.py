"""The HTTP Authorization header (gateway.frontends.http_auth), and the engine checking it."""

from __future__ import annotations

import ipaddress
from base64 import b64encode

from twisted.internet.defer import Deferred
from twisted.trial.unittest import SynchronousTestCase

from gateway.engine.credentials import NO_CREDENTIALS, Basic, Token, Unreadable
from gateway.engine.errors import InvalidToken, Unauthorized
from gateway.engine.model import Caller
from gateway.frontends.http_auth import parse_authorization
from tests.frontends.jsonapi.helpers import make_engine

IP = ipaddress.ip_address("192.0.2.1")


def basic(raw: bytes) -> bytes:
    return b"Basic " + b64encode(raw)


class ParseTests(SynchronousTestCase):
    def test_none(self) -> None:
        """No header: nothing to check (an anonymous caller)."""
        self.assertEqual(parse_authorization(None), NO_CREDENTIALS)

    def test_basic(self) -> None:
        """Basic splits at the first colon, so passwords may contain colons."""
        self.assertEqual(parse_authorization(basic(b"a@h:p:w")), Basic("a@h", "p:w"))
        self.assertEqual(parse_authorization(basic(b"a@h:")), Basic("a@h", ""))

    def test_basic_utf8(self) -> None:
        """User names and passwords are UTF-8."""
        found = parse_authorization(basic("é@h:ü".encode()))
        self.assertEqual(found, Basic("é@h", "ü"))

    def test_scheme_case(self) -> None:
        """Scheme names are case-insensitive."""
        self.assertEqual(parse_authorization(b"bearer tok"), Token("tok"))
        self.assertEqual(parse_authorization(b"BASIC " + b64encode(b"a@h:p")), Basic("a@h", "p"))

    def test_bearer_trimmed(self) -> None:
        """Blanks around a Bearer token are trimmed."""
        self.assertEqual(parse_authorization(b"Bearer   tok \t"), Token("tok"))

    def test_invalid(self) -> None:
        """Other schemes, bad base64, no colon or bad UTF-8 are unreadable credentials."""
        for value in (
            b"Digest x",
            b"",
            b"Basic !!!",
            basic(b"no-colon"),
            basic(b"\xff@h:p"),
            b"Bearer \xff",
        ):
            self.assertEqual(parse_authorization(value), Unreadable())


class AuthenticateTests(SynchronousTestCase):
    """What the engine makes of the credentials a header carries."""

    def setUp(self) -> None:
        self.engine = make_engine()

    def authenticate(self, header: bytes | None) -> Deferred[Caller]:
        credentials = parse_authorization(header)
        return self.engine.authenticate(credentials, frontend="mod_http_api", ip=IP, tag="t1")

    def run_auth(self, header: bytes | None) -> Caller:
        return self.successResultOf(self.authenticate(header))

    def fail_auth(self, header: bytes | None) -> Exception:
        failure = self.failureResultOf(self.authenticate(header))
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
