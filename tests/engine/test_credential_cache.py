"""The verified-credential cache: a recent success skips the backend's full check (issue 12).

These run the :class:`~gateway.engine.auth.Authenticator` over the in-memory
:class:`~gateway.testing.FakeBackend`, counting its full password checks and
its stamp reads; the embedded store's side (hashes, other processes) is in
``tests/backends/embedded/test_credential_cache.py``.
"""

from __future__ import annotations

from ipaddress import IPv4Address

from twisted.internet.defer import ensureDeferred
from twisted.internet.task import Clock
from twisted.trial.unittest import SynchronousTestCase

from gateway.engine.auth import Authenticator
from gateway.engine.bruteforce import FailureLimiter
from gateway.engine.caches import CacheRegistry
from gateway.engine.credential_cache import CredentialCache
from gateway.engine.errors import TooManyFailures, Unauthorized
from gateway.engine.model import Caller
from gateway.testing import FakeBackend

HOST = "localhost"


class CredentialCacheTests(SynchronousTestCase):
    def setUp(self) -> None:
        self.clock = Clock()
        self.clock.advance(1000)
        self.backend = FakeBackend({("bob", HOST): "right", ("eve", HOST): "evepw"})
        self.cache = CredentialCache(10, self.clock.seconds)
        self.auth = Authenticator(self.backend, clock=self.clock.seconds, cache=self.cache)

    def login(self, password: str, user: str = "bob", ip: IPv4Address | None = None) -> object:
        """The Caller, or the Failure, of one password login (fired synchronously)."""
        results: list[object] = []
        d = ensureDeferred(self.auth.password(user, HOST, password, "mod_http_api", ip))
        d.addBoth(results.append)
        assert results, "the login did not finish synchronously"
        return results[0]

    def assert_ok(self, password: str, user: str = "bob") -> None:
        caller = self.login(password, user)
        assert isinstance(caller, Caller), caller
        assert (caller.user, caller.host) == (user, HOST)

    def assert_refused(self, password: str, user: str = "bob") -> None:
        outcome = self.login(password, user)
        assert not isinstance(outcome, Caller), outcome
        outcome.trap(Unauthorized)  # type: ignore[attr-defined]

    def test_hit_skips_the_full_check(self) -> None:
        """A repeat login within the TTL does no full check, only one stamp read."""
        self.assert_ok("right")
        assert (self.backend.password_checks, self.backend.stamp_reads) == (1, 0)
        self.assert_ok("right")
        self.assert_ok("right")
        assert (self.backend.password_checks, self.backend.stamp_reads) == (1, 2)
        assert len(self.cache) == 1

    def test_other_password_or_account_misses(self) -> None:
        """A different password (or account) is checked in full; a wrong one is refused."""
        self.assert_ok("right")
        self.assert_refused("wrong")
        assert self.backend.password_checks == 2
        self.assert_ok("evepw", user="eve")
        assert self.backend.password_checks == 3

    def test_failures_are_not_cached(self) -> None:
        """A wrong password is checked in full every time and leaves nothing in the cache."""
        for _ in range(3):
            self.assert_refused("wrong")
        self.assert_refused("right", user="ghost")
        assert self.backend.password_checks == 4
        assert len(self.cache) == 0

    def test_ttl_expiry(self) -> None:
        """After the TTL the password is checked in full again, then cached anew."""
        self.assert_ok("right")
        self.clock.advance(9.9)
        self.assert_ok("right")
        assert self.backend.password_checks == 1
        self.clock.advance(0.2)
        self.assert_ok("right")
        assert self.backend.password_checks == 2
        self.assert_ok("right")
        assert self.backend.password_checks == 2

    def test_password_change_invalidates_at_once(self) -> None:
        """Once the stored password changes, the old one is refused, with no waiting for the TTL."""
        self.assert_ok("right")
        self.backend.accounts[("bob", HOST)] = "new"
        self.assert_refused("right")
        self.assert_ok("new")
        assert len(self.cache) == 1

    def test_removed_account_invalidates_at_once(self) -> None:
        """An account removed meanwhile is refused at once."""
        self.assert_ok("right")
        del self.backend.accounts[("bob", HOST)]
        self.assert_refused("right")
        assert len(self.cache) == 0

    def test_clear_cache_empties_it(self) -> None:
        """The registry's clear_all (clear_cache) forgets every verified password."""
        caches = CacheRegistry()
        caches.register("verified credentials", self.cache.clear)
        self.assert_ok("right")
        assert caches.clear_all() == (["verified credentials"], [])
        assert len(self.cache) == 0
        self.assert_ok("right")
        assert self.backend.password_checks == 2

    def test_zero_ttl_disables_it(self) -> None:
        """With a TTL of 0 every login is a full check and the backend is never asked for stamps."""
        cache = CredentialCache(0, self.clock.seconds)
        self.auth = Authenticator(self.backend, clock=self.clock.seconds, cache=cache)
        self.assert_ok("right")
        self.assert_ok("right")
        assert (self.backend.password_checks, self.backend.stamp_reads) == (2, 0)
        assert len(cache) == 0

    def test_key_is_a_salted_digest(self) -> None:
        """Keys hold no password, differ per process salt, and parts cannot shift between fields."""
        other = CredentialCache(10, self.clock.seconds)
        key = self.cache.key("bob", HOST, "right")
        assert b"right" not in key
        assert key != other.key("bob", HOST, "right")
        assert self.cache.key("ab", "c", "d") != self.cache.key("a", "bc", "d")

    def test_brute_force_counting_unchanged(self) -> None:
        """Wrong passwords still count and ban; a banned address is refused even with a hit."""
        limiter = FailureLimiter(self.clock.seconds, max_failures=3, window=60, ban_time=300)
        self.auth = Authenticator(
            self.backend, clock=self.clock.seconds, limiter=limiter, cache=self.cache
        )
        ip = IPv4Address("192.0.2.7")
        assert isinstance(self.login("right", ip=ip), Caller)
        for _ in range(3):
            self.login("wrong", ip=ip).trap(Unauthorized)  # type: ignore[attr-defined]
        self.login("right", ip=ip).trap(TooManyFailures)  # type: ignore[attr-defined]

    def test_size_is_bounded(self) -> None:
        """The cache keeps at most max_entries, dropping expired then the oldest."""
        cache = CredentialCache(10, self.clock.seconds, max_entries=2)
        for n in range(5):
            cache.remember(cache.key(f"u{n}", HOST, "pw"), b"s")
        assert len(cache) == 2
        assert cache.lookup(cache.key("u4", HOST, "pw")) == b"s"
        assert cache.lookup(cache.key("u0", HOST, "pw")) is None
