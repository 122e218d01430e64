"""Checking a password does the same work whether or not the account exists (issue 8, item 8).

Timing is not measured: the tests count PBKDF2 computations (and digest
comparisons), which is what made an unknown account answer faster.
"""

from __future__ import annotations

import hashlib
from typing import Any

from gateway.backends.embedded import accounts, passwords
from gateway.engine.auth import Authenticator
from gateway.engine.errors import Unauthorized
from tests.backends.embedded.cases import HOST, Mixin, PostgresCase, SQLiteCase


class EnumerationTests(Mixin):
    def count_hashes(self) -> list[bytes]:
        """Record the password of every PBKDF2 computed from now on."""
        seen: list[bytes] = []
        real = passwords._keys

        def counting(password: str, salt: bytes, iterations: int) -> tuple[bytes, bytes]:
            seen.append(password.encode())
            assert iterations == passwords.ITERATIONS
            return real(password, salt, iterations)

        self.patch(passwords, "_keys", counting)
        return seen

    async def check(self, user: str, password: str, host: str = HOST) -> Any:
        return await self.call("check_password", user=user, host=host, password=password)

    async def test_check_password_hashes_once_whatever_the_account(self) -> None:
        """Right, wrong, unknown, banned, malformed or unserved: one PBKDF2 of equal cost each."""
        await self.register("bob", password="right")
        await self.register("eve", password="right")
        await self.call("ban_account", user="eve", host=HOST, reason="spam")
        hashes = self.count_hashes()
        cases = [
            ("bob", "right", HOST, True),
            ("bob", "wrong", HOST, False),
            ("ghost", "right", HOST, False),
            ("eve", "right", HOST, False),
            ("a@b", "right", HOST, False),
            ("bob", "right", "nowhere.org", False),
            ("bob", "right", "a..b", False),
            ("bob", "right\x00", HOST, False),
        ]
        for user, password, host, expected in cases:
            before = len(hashes)
            assert await self.check(user, password, host) is expected, (user, password, host)
            assert len(hashes) == before + 1, (user, password, host)

    async def test_authenticator_login_does_the_same_work(self) -> None:
        """A Basic/XML-RPC/--auth login of an unknown account hashes like a wrong password."""
        await self.register("bob", password="right")
        authenticator = Authenticator(self.backend)
        hashes = self.count_hashes()
        for jid in ("bob@localhost", "ghost@localhost"):
            with self.assertRaises(Unauthorized):
                await authenticator.basic(jid, "wrong", "mod_http_api")
        assert len(hashes) == 2
        caller = await authenticator.basic("Bob@LocalHost", "right", "mod_http_api")
        assert (caller.user, caller.host) == ("bob", "localhost")
        assert len(hashes) == 3

    async def test_removeuser3_hashes_once_whatever_the_account(self) -> None:
        """extauth's removeuser3 checks a password with the same work for a missing account."""
        await self.register("bob", password="right")
        hashes = self.count_hashes()
        assert not await self.backend.remove_user("ghost", HOST, "right")
        assert not await self.backend.remove_user("bob", HOST, "wrong")
        assert len(hashes) == 2
        assert await self.backend.remove_user("bob", HOST, "right")
        assert len(hashes) == 3

    async def test_check_password_hash_same_answer_and_work(self) -> None:
        """With a digest kept, missing, banned and existing accounts compare one digest each."""
        self.use_backend(password_digests=["sha"])
        await self.register("bob", password="pw")
        await self.register("eve", password="pw")
        await self.call("ban_account", user="eve", host=HOST, reason="spam")
        compared: list[str] = []
        real = accounts.digest_matches

        def counting(stored_hex: str, supplied: str) -> bool:
            compared.append(stored_hex)
            return real(stored_hex, supplied)

        self.patch(accounts, "digest_matches", counting)
        right = hashlib.sha1(b"pw").hexdigest()
        answers = [
            await self.call(
                "check_password_hash", user=user, host=HOST, passwordhash=digest, hashmethod="sha"
            )
            for user, digest in (("bob", right), ("bob", "00"), ("ghost", right), ("eve", right))
        ]
        assert answers == [True, False, False, False]
        assert len(compared) == 4
        assert {len(stored) for stored in compared} == {40}


class TestEnumerationSQLite(EnumerationTests, SQLiteCase):
    pass


class TestEnumerationPostgres(EnumerationTests, PostgresCase):
    pass
