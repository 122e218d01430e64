"""The Authenticator prepares and length-checks credentials before the backend sees them.

Issue 8 items 3, 4 and 5: a malformed or over-long user, host or password is
a plain failed login (never another exception, never a backend call), and
the backend gets the SASLprepped password.
"""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from twisted.internet.defer import Deferred, ensureDeferred, succeed
from twisted.python.failure import Failure
from twisted.trial.unittest import SynchronousTestCase

from gateway.backends.interfaces import TokenGrant
from gateway.engine.auth import Authenticator, normalise_account
from gateway.engine.errors import Unauthorized
from gateway.engine.identifiers import InvalidIdentifier
from gateway.engine.model import Caller

HUGE = "a" * 1_000_000


class RecordingBackend:
    """Knows bob@localhost with password ``right``; records what it was asked."""

    name = "recording"

    def __init__(self) -> None:
        self.asked: list[tuple[str, str, str]] = []

    def supports(self, command: str) -> bool:
        return False

    def execute(self, command: str, args: object, caller: Caller) -> Deferred[object]:
        raise AssertionError(command)

    def check_password(self, user: str, host: str, password: str) -> Deferred[bool]:
        self.asked.append((user, host, password))
        return succeed((user, host, password) == ("bob", "localhost", "right"))

    def check_token(self, token: str) -> Deferred[TokenGrant | None]:
        return succeed(None)


def outcome(authenticator: Authenticator, user: str, host: str, password: str) -> object:
    """The Caller, or the Failure, of one password login (fired synchronously)."""
    results: list[object] = []
    ensureDeferred(authenticator.password(user, host, password, "mod_http_api")).addBoth(
        results.append
    )
    assert results, "the login did not finish synchronously"
    return results[0]


class AuthenticatorTests(SynchronousTestCase):
    def setUp(self) -> None:
        self.backend = RecordingBackend()
        self.auth = Authenticator(self.backend, max_password_bytes=64)

    def refused_unasked(self, user: str, host: str, password: str) -> None:
        result = outcome(self.auth, user, host, password)
        self.assertIsInstance(result, Failure)
        assert isinstance(result, Failure)
        result.trap(Unauthorized)
        self.assertEqual(self.backend.asked, [])

    def test_empty_host_labels(self) -> None:
        """``a..b``, ``.``, ``a.`` and an empty host are Unauthorized, not a crash."""
        for host in ("a..b", ".", "a.", "", ".localhost", "\u200b"):
            self.refused_unasked("bob", host, "right")

    def test_basic_with_empty_labels(self) -> None:
        """HTTP Basic ``admin@a..b`` and ``admin@.`` are Unauthorized."""
        for jid in ("bob@a..b", "bob@.", "bob@", "@localhost"):
            failure = self.failureResultOf(
                ensureDeferred(self.auth.basic(jid, "right", "mod_http_api"))
            )
            failure.trap(Unauthorized)
        self.assertEqual(self.backend.asked, [])

    def test_over_long_parts(self) -> None:
        """A megabyte user, host or password is refused without asking the backend."""
        self.refused_unasked(HUGE, "localhost", "right")
        self.refused_unasked("bob", HUGE, "right")
        self.refused_unasked("bob", "localhost", HUGE)

    def test_configured_password_maximum(self) -> None:
        """Passwords past max_password_bytes are refused; at the maximum they are checked."""
        self.refused_unasked("bob", "localhost", "x" * 65)
        outcome(self.auth, "bob", "localhost", "x" * 64)
        self.assertEqual(self.backend.asked, [("bob", "localhost", "x" * 64)])

    def test_nul_and_control_characters(self) -> None:
        """``right\\0`` (and other forbidden characters) never reach the backend."""
        for password in ("right\x00", "right\x00\x00", "ri\x07ght"):
            self.refused_unasked("bob", "localhost", password)

    def test_backend_gets_prepared_credentials(self) -> None:
        """Names are nodeprepped/nameprepped and the password SASLprepped before the check."""
        caller = outcome(self.auth, "Bob", "LocalHost", "ri\u00adght")
        self.assertIsInstance(caller, Caller)
        self.assertEqual(self.backend.asked, [("bob", "localhost", "right")])

    def test_normalise_account_raises_invalid_identifier(self) -> None:
        """normalise_account refuses with InvalidIdentifier, a ValueError."""
        with self.assertRaises(InvalidIdentifier):
            normalise_account("bob", "a..b")
        self.assertTrue(issubclass(InvalidIdentifier, ValueError))


TEXT = st.text(st.characters(exclude_categories=()), max_size=30)


@given(user=TEXT, host=TEXT, password=TEXT)
def test_any_credentials_log_in_or_fail_cleanly(user: str, host: str, password: str) -> None:
    """On any text, a login gives a Caller or Unauthorized, never another exception."""
    result = outcome(Authenticator(RecordingBackend()), user, host, password)
    if isinstance(result, Failure):
        assert result.check(Unauthorized), result.getTraceback()
    else:
        assert isinstance(result, Caller)
