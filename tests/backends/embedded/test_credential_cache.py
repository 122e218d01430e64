"""The credential cache over the real store: hits skip PBKDF2, changes anywhere end them (issue 12).

"Elsewhere" is a second store and backend object opened on the same
database, standing in for another worker or gateway process: a password
change, an unregister or a ban made there is seen by the next login here,
without waiting for the TTL.  PBKDF2 computations are counted, not timed.
"""

from __future__ import annotations

from typing import Any

from gateway.backends.embedded import EmbeddedBackend, passwords
from gateway.engine.auth import Authenticator
from gateway.engine.credential_cache import CredentialCache
from gateway.engine.errors import Unauthorized
from gateway.engine.model import CommandCall
from tests.backends.embedded.cases import ADMIN, HOST, Mixin, PostgresCase, SQLiteCase
from tests.engine.helpers import NoCommands, make_engine


class CredentialCacheTests(Mixin):
    def count_hashes(self) -> list[bytes]:
        """Record the password of every PBKDF2 computed from now on."""
        seen: list[bytes] = []
        real = passwords._keys

        def counting(password: str, salt: bytes, iterations: int) -> tuple[bytes, bytes]:
            seen.append(password.encode())
            return real(password, salt, iterations)

        self.patch(passwords, "_keys", counting)
        return seen

    def authenticator(self) -> tuple[Authenticator, CredentialCache]:
        cache = CredentialCache(10, self.clock.seconds)
        return Authenticator(self.backend, clock=self.clock.seconds, cache=cache), cache

    async def elsewhere(self, command: str, **args: Any) -> Any:
        """Run ``command`` through a second store and backend on the same database."""
        store = await self.open_store()
        backend = EmbeddedBackend(store, self.hosts, self.clock)
        engine = make_engine(backend, gateway=NoCommands())
        call = CommandCall(command, tuple(args.items()), frontend=ADMIN.frontend)
        return (await engine.call(call)).value

    async def assert_refused(self, auth: Authenticator, password: str) -> None:
        with self.assertRaises(Unauthorized):
            await auth.password("bob", HOST, password, "mod_http_api")

    async def test_hit_avoids_pbkdf2(self) -> None:
        """The first login hashes once; repeats in the TTL (even spelt otherwise) hash nothing."""
        await self.register("bob", password="right")
        auth, _ = self.authenticator()
        hashes = self.count_hashes()
        await auth.password("bob", HOST, "right", "mod_http_api")
        assert len(hashes) == 1
        for _ in range(3):
            caller = await auth.password("Bob", "LocalHost", "right", "mod_http_api")
            assert (caller.user, caller.host) == ("bob", HOST)
        assert len(hashes) == 1

    async def test_wrong_password_is_never_served_from_the_cache(self) -> None:
        """After a success, a wrong password still costs a PBKDF2, is refused, is not cached."""
        await self.register("bob", password="right")
        auth, cache = self.authenticator()
        await auth.password("bob", HOST, "right", "mod_http_api")
        hashes = self.count_hashes()
        for _ in range(2):
            await self.assert_refused(auth, "wrong")
        assert len(hashes) == 2
        assert len(cache) == 1

    async def test_unknown_account_same_work_as_wrong_password(self) -> None:
        """Misses keep the no-enumeration property: one PBKDF2 whether or not the account exists."""
        await self.register("bob", password="right")
        auth, cache = self.authenticator()
        hashes = self.count_hashes()
        for jid in ("bob@localhost", "ghost@localhost"):
            with self.assertRaises(Unauthorized):
                await auth.basic(jid, "wrong", "mod_http_api")
        assert len(hashes) == 2
        assert len(cache) == 0

    async def test_ttl_expiry(self) -> None:
        """Past the TTL the password is hashed again."""
        await self.register("bob", password="right")
        auth, _ = self.authenticator()
        hashes = self.count_hashes()
        await auth.password("bob", HOST, "right", "mod_http_api")
        self.clock.advance(11)
        await auth.password("bob", HOST, "right", "mod_http_api")
        assert len(hashes) == 2

    async def test_change_password_elsewhere_invalidates_at_once(self) -> None:
        """A password changed through another backend on the same store ends the old one's hit."""
        await self.register("bob", password="right")
        auth, _ = self.authenticator()
        await auth.password("bob", HOST, "right", "mod_http_api")
        assert await self.elsewhere("change_password", user="bob", host=HOST, newpass="new")
        await self.assert_refused(auth, "right")
        caller = await auth.password("bob", HOST, "new", "mod_http_api")
        assert caller.user == "bob"

    async def test_change_back_to_the_same_password_still_rechecks(self) -> None:
        """Setting the same password again draws a new salt: the next login checks in full."""
        await self.register("bob", password="right")
        auth, _ = self.authenticator()
        await auth.password("bob", HOST, "right", "mod_http_api")
        await self.call("change_password", user="bob", host=HOST, newpass="right")
        hashes = self.count_hashes()
        await auth.password("bob", HOST, "right", "mod_http_api")
        assert len(hashes) == 1

    async def test_unregister_elsewhere_invalidates_at_once(self) -> None:
        """An account removed through another backend is refused at once, and re-registering
        with another password does not revive the old one."""
        await self.register("bob", password="right")
        auth, _ = self.authenticator()
        await auth.password("bob", HOST, "right", "mod_http_api")
        await self.elsewhere("unregister", user="bob", host=HOST)
        await self.assert_refused(auth, "right")
        await self.elsewhere("register", user="bob", host=HOST, password="other")
        await self.assert_refused(auth, "right")

    async def test_ban_elsewhere_invalidates_at_once(self) -> None:
        """A ban through another backend refuses the cached password at once; unban restores it."""
        await self.register("bob", password="right")
        auth, _ = self.authenticator()
        await auth.password("bob", HOST, "right", "mod_http_api")
        await self.elsewhere("ban_account", user="bob", host=HOST, reason="spam")
        await self.assert_refused(auth, "right")
        await self.elsewhere("unban_account", user="bob", host=HOST)
        caller = await auth.password("bob", HOST, "right", "mod_http_api")
        assert caller.user == "bob"

    async def test_stamp_read_does_no_hashing(self) -> None:
        """credential_stamp is a plain read: no PBKDF2, None for unknown or banned accounts."""
        await self.register("bob", password="right")
        hashes = self.count_hashes()
        stamp = await self.backend.credential_stamp("Bob", HOST)
        assert stamp is not None
        assert await self.backend.credential_stamp("ghost", HOST) is None
        assert await self.backend.credential_stamp("bob", "nowhere.org") is None
        await self.call("ban_account", user="bob", host=HOST, reason="spam")
        assert await self.backend.credential_stamp("bob", HOST) is None
        assert hashes == []


class TestCredentialCacheSQLite(CredentialCacheTests, SQLiteCase):
    pass


class TestCredentialCachePostgres(CredentialCacheTests, PostgresCase):
    pass
