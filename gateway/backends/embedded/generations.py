"""Credential generations in the store, for accounts whose passwords live upstream.

Implements :class:`~gateway.backends.interfaces.CredentialGenerations` on the
``upstream_credential_generations`` table (schema v5).  Every worker and every
gateway sharing the store reads the same rows, so a bump made by one is seen
by the next read of all the others; that is what lets a per-process cache of
verified passwords stay correct.

An account's generation is its own counter plus the all-accounts counter
(the row whose host and user are empty, which no account can have).  Both
only ever grow, so their sum grows with every bump of either.
"""

from __future__ import annotations

from twisted.internet.defer import Deferred, fail

from gateway.backends.embedded.store import Store, Tx

__all__ = ["StoreGenerations"]

# the all-accounts row: an empty host is never an account's
_ALL = ("", "")

_READ = (
    "SELECT COALESCE(SUM(generation), 0) FROM upstream_credential_generations"
    " WHERE (host = ? AND username = ?) OR (host = ? AND username = ?)"
)
_BUMP = (
    "INSERT INTO upstream_credential_generations (host, username, generation)"
    " VALUES (?, ?, 1) ON CONFLICT (host, username)"
    " DO UPDATE SET generation = upstream_credential_generations.generation + 1"
)


class StoreGenerations:
    """Credential generations kept in ``store``; user and host are expected prepared."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def generation(self, user: str, host: str) -> Deferred[int]:
        def read(tx: Tx) -> int:
            return int(tx.scalar(_READ, (host, user, *_ALL)) or 0)

        return self._store.read(read)

    def bump(self, user: str, host: str) -> Deferred[None]:
        if not host:
            # would be the all-accounts row; no account has an empty host
            return fail(ValueError("an account's host cannot be empty"))
        return self._store.write(lambda tx: self._bump(tx, host, user))

    def bump_all(self) -> Deferred[None]:
        return self._store.write(lambda tx: self._bump(tx, *_ALL))

    @staticmethod
    def _bump(tx: Tx, host: str, user: str) -> None:
        tx.execute(_BUMP, (host, user))
