"""Legacy password digests (``gateway.password_digests``) and ``check_password_hash``."""

from __future__ import annotations

import hashlib
from itertools import count

import pytest

from gateway.backends.embedded import EmbeddedBackend
from gateway.backends.embedded.passwords import (
    STORABLE_DIGESTS,
    digest_matches,
    plain_digests,
)
from gateway.config.load import PASSWORD_DIGESTS
from gateway.engine.errors import CommandFailed
from tests.backends.embedded.cases import HOST, Mixin, PostgresCase, SQLiteCase


def sha(text: str) -> str:
    return hashlib.sha1(text.encode()).hexdigest()


def md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()


def pyejabberd_form(hexdigest: str) -> str:
    """How pyejabberd spells a digest: upper case, each byte without leading zeros."""
    pairs = [hexdigest[i : i + 2] for i in range(0, len(hexdigest), 2)]
    return "".join(pair.lstrip("0") for pair in pairs).upper()


def password_with_zero_byte() -> str:
    """A password whose SHA-1 has a zero byte, so the legacy spellings differ."""
    for n in count():
        candidate = f"pw{n}"
        digest = sha(candidate)
        if any(digest[i : i + 2] == "00" for i in range(0, 40, 2)):
            return candidate
    raise AssertionError("unreachable")


# -- the digests themselves -------------------------------------------------------------------


def test_plain_digests_are_hex_of_the_utf8_password() -> None:
    """Each method gives the lower-case hex digest of the UTF-8 bytes, unsalted."""
    found = plain_digests("pässword", ["md5", "sha", "sha256"])
    assert found == {
        "md5": hashlib.md5("pässword".encode()).hexdigest(),
        "sha": hashlib.sha1("pässword".encode()).hexdigest(),
        "sha256": hashlib.sha256("pässword".encode()).hexdigest(),
    }
    with pytest.raises(ValueError, match="sha1"):
        plain_digests("x", ["sha1"])


def test_config_and_store_agree_on_methods() -> None:
    """The config accepts exactly the methods the store can keep."""
    assert set(PASSWORD_DIGESTS) == set(STORABLE_DIGESTS)


@pytest.mark.parametrize(
    ("supplied", "expected"),
    [
        ("00AB05", True),  # ejabberd's spelling: two upper-case digits a byte
        ("00ab05", True),  # what hashlib's hexdigest() gives
        ("0AB5", True),  # older ejabberd: no leading zero in a byte
        ("AB5", True),  # pyejabberd: a zero byte written as nothing
        ("00AB06", False),
        ("", False),
        ("00AB05 ", False),
        ("ÄB5", False),
    ],
)
def test_digest_spellings(supplied: str, expected: bool) -> None:
    """A stored digest matches the spellings clients send for it, and nothing else."""
    assert digest_matches("00ab05", supplied) is expected


def test_backend_refuses_unknown_digest_method() -> None:
    """An unusable method in password_digests stops the backend from being built."""
    with pytest.raises(ValueError, match="sha1"):
        EmbeddedBackend(None, ["localhost"], None, password_digests=["sha1"])  # type: ignore[arg-type]


# -- through the engine, on both engines ---------------------------------------------------------


class DigestTests(Mixin):
    async def check(self, user: str, digest: str, method: str = "sha") -> bool:
        result: bool = await self.call(
            "check_password_hash", user=user, host=HOST, passwordhash=digest, hashmethod=method
        )
        return result

    async def stored_methods(self, user: str) -> list[str]:
        rows = await self.store.read(
            lambda tx: tx.all(
                "SELECT method FROM password_digests WHERE host = ? AND username = ?"
                " ORDER BY method",
                (HOST, user),
            )
        )
        return [r[0] for r in rows]

    async def test_check_password_hash_with_digests(self) -> None:
        """With sha and md5 kept, both methods verify the password in any client spelling."""
        self.use_backend(password_digests=["sha", "md5"])
        password = password_with_zero_byte()
        await self.register("bob", password=password)
        assert await self.stored_methods("bob") == ["md5", "sha"]
        assert await self.check("bob", sha(password))
        assert await self.check("bob", sha(password).upper())
        assert await self.check("bob", pyejabberd_form(sha(password)))
        assert await self.check("bob", md5(password), "md5")
        assert await self.check("bob", md5(password), "MD5")
        assert not await self.check("bob", sha("wrong"))
        assert not await self.check("bob", sha(password), "md5")

    async def test_change_password_rewrites_digests(self) -> None:
        """After change_password the old digest is refused and the new one accepted."""
        self.use_backend(password_digests=["sha"])
        await self.register("bob", password="first")
        await self.call("change_password", user="bob", host=HOST, newpass="second")
        assert not await self.check("bob", sha("first"))
        assert await self.check("bob", sha("second"))

    async def test_extauth_paths_write_digests(self) -> None:
        """try_register and set_password (extauth) keep the digests too."""
        backend = self.use_backend(password_digests=["sha"])
        await backend.try_register("amy", HOST, "one")
        assert await self.check("amy", sha("one"))
        await backend.set_password("amy", HOST, "two")
        assert await self.check("amy", sha("two"))
        assert not await self.check("amy", sha("one"))

    async def test_method_not_configured_is_a_clear_error(self) -> None:
        """Asking for a method the store does not keep fails, naming the option."""
        self.use_backend(password_digests=["md5"])
        await self.register("bob", password="pw")
        error = await self.fails(
            "check_password_hash", user="bob", host=HOST, passwordhash=sha("pw"), hashmethod="sha"
        )
        assert isinstance(error, CommandFailed)
        assert "gateway.password_digests" in error.message and "SCRAM-SHA-256" in error.message

    async def test_digest_written_at_next_password_change(self) -> None:
        """An account from before the option answers false until its password is set again.

        It used to fail with "no digest stored yet", which an unknown account
        never did, so the answer told which accounts exist (issue 8, item 8):
        now it is false, like an unknown account's, and the log says why.
        """
        await self.register("bob", password="old")
        self.use_backend(password_digests=["sha"])
        assert not await self.check("bob", sha("old"))
        assert not await self.check("ghost", sha("old"))
        await self.call("change_password", user="bob", host=HOST, newpass="new")
        assert await self.check("bob", sha("new"))

    async def test_digests_dropped_when_option_removed(self) -> None:
        """With the option emptied, the next password change removes the stored digests."""
        self.use_backend(password_digests=["sha", "md5"])
        await self.register("bob", password="pw")
        self.use_backend(password_digests=["md5"])
        await self.call("change_password", user="bob", host=HOST, newpass="pw2")
        assert await self.stored_methods("bob") == ["md5"]
        self.use_backend()
        await self.call("change_password", user="bob", host=HOST, newpass="pw3")
        assert await self.stored_methods("bob") == []
        error = await self.fails(
            "check_password_hash", user="bob", host=HOST, passwordhash=md5("pw3"), hashmethod="md5"
        )
        assert isinstance(error, CommandFailed)

    async def test_banned_or_missing_account_is_false(self) -> None:
        """A banned account's right digest answers false, as does an unknown account."""
        self.use_backend(password_digests=["sha"])
        await self.register("bob", password="pw")
        await self.call("ban_account", user="bob", host=HOST, reason="spam")
        assert not await self.check("bob", sha("pw"))
        assert not await self.check("ghost", sha("pw"))
        await self.call("unban_account", user="bob", host=HOST)
        assert await self.check("bob", sha("pw"))

    async def test_digests_go_with_the_account(self) -> None:
        """Unregistering removes the account's digests."""
        self.use_backend(password_digests=["sha"])
        await self.register("bob", password="pw")
        await self.call("unregister", user="bob", host=HOST)
        count = await self.store.read(lambda tx: tx.scalar("SELECT COUNT(*) FROM password_digests"))
        assert count == 0


class TestDigestsSQLite(DigestTests, SQLiteCase):
    pass


class TestDigestsPostgres(DigestTests, PostgresCase):
    pass
