"""Remember verified passwords for a few seconds, so repeated logins skip PBKDF2.

A client of the HTTP API sends the same password with every request; checking
it costs one PBKDF2 each time.  After a successful check the
:class:`~gateway.engine.auth.Authenticator` remembers it here for
``gateway.limits.credential_cache_ttl`` seconds (0 turns the cache off).

What is kept: a key, the BLAKE2b MAC of ``(user, host, password)`` under a
random key made when the process starts (so the password itself is never
held, and a dumped key cannot be tested offline without that process
secret), with the account's *credential stamp* and an expiry time.  Only
successes are stored; a failure is never cached, so a wrong password always
takes the backend's full check (and is counted by the brute-force limiter),
and misses do exactly the work they did without a cache (the same-work
property against account enumeration holds).

Why a hit is still correct after a change made anywhere: the stamp comes
from the store (:meth:`~gateway.backends.interfaces.Backend.verify_password`
returns it from the very transaction that checked the password) and a hit
re-reads it (:meth:`~gateway.backends.interfaces.Backend.credential_stamp`,
one indexed primary-key read, far cheaper than PBKDF2) and must find it
unchanged.  For the embedded store the stamp is a digest of the stored
SCRAM credentials (scheme, salt, iterations, keys): every password set draws
a fresh random salt, so ``change_password`` (in any dialect, through
extauth, or from another process sharing the store) changes it; a banned or
removed account has no stamp at all (``None``); a re-registered account has
new salt.  That is a generation number the store already keeps in the same
transaction as every change, with no extra column to forget to bump.
Because PBKDF2 is a pure function of those stored values, an unchanged stamp
means the password verified earlier still verifies: the cache can answer
only what a full check would answer.  A stamp read in the checking
transaction can never be newer than the check, so a change racing with a
login at worst causes a miss.  ``unban_account`` brings the old stamp back,
as the old password works again.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable

__all__ = ["DEFAULT_MAX_ENTRIES", "CredentialCache"]

#: entries kept at most; the oldest go first when it is full
DEFAULT_MAX_ENTRIES = 10000


class CredentialCache:
    """Verified ``(user, host, password)`` triples, by salted digest, for ``ttl`` seconds.

    Args:
        ttl: seconds an entry is trusted; 0 (or less) keeps nothing.
        clock: the current time.
        max_entries: the most entries kept.
    """

    def __init__(
        self,
        ttl: float,
        clock: Callable[[], float],
        max_entries: int = DEFAULT_MAX_ENTRIES,
    ) -> None:
        self.ttl = ttl
        self._clock = clock
        self._max_entries = max_entries
        # per-process secret: the keys are useless outside this process
        self._salt = os.urandom(32)
        # key -> (stamp, expiry); insertion order is age order
        self._entries: dict[bytes, tuple[bytes, float]] = {}

    @property
    def enabled(self) -> bool:
        """Whether anything is ever kept."""
        return self.ttl > 0

    def __len__(self) -> int:
        return len(self._entries)

    def key(self, user: str, host: str, password: str) -> bytes:
        """The keyed digest standing for the triple (length-prefixed, so parts cannot shift)."""
        mac = hashlib.blake2b(key=self._salt, digest_size=32)
        for part in (user, host, password):
            data = part.encode("utf-8", "surrogatepass")
            mac.update(len(data).to_bytes(8, "big"))
            mac.update(data)
        return mac.digest()

    def lookup(self, key: bytes) -> bytes | None:
        """The stamp remembered under ``key``, or ``None`` (expired entries are dropped)."""
        entry = self._entries.get(key)
        if entry is None:
            return None
        stamp, expires = entry
        if expires <= self._clock():
            del self._entries[key]
            return None
        return stamp

    def remember(self, key: bytes, stamp: bytes) -> None:
        """Trust ``key`` while the account's stamp stays ``stamp``, for ``ttl`` seconds."""
        if not self.enabled:
            return
        now = self._clock()
        self._entries.pop(key, None)
        if len(self._entries) >= self._max_entries:
            self._prune(now)
        self._entries[key] = (stamp, now + self.ttl)

    def forget(self, key: bytes) -> None:
        """Drop ``key`` (its stamp no longer matches the store)."""
        self._entries.pop(key, None)

    def clear(self) -> None:
        """Forget everything (``clear_cache``)."""
        self._entries.clear()

    def _prune(self, now: float) -> None:
        for key in [k for k, (_, expires) in self._entries.items() if expires <= now]:
            del self._entries[key]
        while len(self._entries) >= self._max_entries:
            del self._entries[next(iter(self._entries))]
