"""Passwords are SASLprepped on register, change and every check (issue 8, item 5)."""

from __future__ import annotations

from gateway.backends.embedded.passwords import hash_password
from gateway.engine.errors import ArgumentError, CommandFailed, TypedCommandError
from gateway.frontends import extauth
from tests.backends.embedded.cases import HOST, Mixin, PostgresCase, SQLiteCase


class PasswordPrepTests(Mixin):
    async def check(self, password: str, user: str = "bob") -> bool:
        result: bool = await self.call("check_password", user=user, host=HOST, password=password)
        return result

    async def test_trailing_nul_does_not_log_in(self) -> None:
        """``pw\\0`` is not ``pw``: PBKDF2's zero padding no longer makes them equal."""
        await self.register("bob", password="adminpass")
        assert await self.check("adminpass")
        for variant in ("adminpass\x00", "adminpass\x00\x00", "\x00adminpass"):
            assert not await self.check(variant), repr(variant)
            assert not await self.backend.check_password("bob", HOST, variant)

    async def test_register_refuses_prohibited_characters(self) -> None:
        """register with a NUL or another control character is an argument error naming it."""
        for password in ("pw\x00", "p\x07w", "\ue000"):
            error = await self.fails("register", user="bob", host=HOST, password=password)
            assert isinstance(error, ArgumentError), error
            assert error.code == "bad_argument_type"
            assert "Argument 'password'" in error.message
            assert password not in error.message
        assert await self.call("check_account", user="bob", host=HOST) is False

    async def test_change_password_refuses_prohibited_characters(self) -> None:
        """change_password with a NUL is an argument error and the old password stays."""
        await self.register("bob", password="old")
        error = await self.fails("change_password", user="bob", host=HOST, newpass="new\x00")
        assert isinstance(error, ArgumentError) and "Argument 'newpass'" in error.message
        assert await self.check("old")

    async def test_equivalent_spellings_are_one_password(self) -> None:
        """A no-break space is a space and a soft hyphen is nothing, on register and check alike."""
        await self.register("bob", password="pass\u00a0wo\u00adrd")
        assert await self.check("pass word")
        assert await self.check("pass\u2003word")
        assert not await self.check("password")
        await self.call("change_password", user="bob", host=HOST, newpass="\u2168")
        assert await self.check("IX")

    async def test_password_that_prepares_to_nothing_is_empty(self) -> None:
        """A password of soft hyphens only is the empty password, refused as such.

        ``register`` says it in ejabberd's words for an empty password.
        """
        error = await self.fails("register", user="bob", host=HOST, password="\u00ad\u00ad")
        assert isinstance(error, TypedCommandError)
        assert error.message.endswith(": The password contains unacceptable characters")
        await self.register("bob", password="old")
        error = await self.fails("change_password", user="bob", host=HOST, newpass="\u00ad")
        assert isinstance(error, CommandFailed) and "Empty password" in error.message

    async def test_configured_maximum(self) -> None:
        """Passwords past max_password_bytes cannot be set and never match."""
        self.use_backend(max_password_bytes=16)
        await self.register("bob", password="x" * 16)
        assert await self.check("x" * 16)
        assert not await self.check("x" * 17)
        error = await self.fails("register", user="amy", host=HOST, password="x" * 17)
        assert isinstance(error, ArgumentError) and "longer than 16 bytes" in error.message
        error = await self.fails("change_password", user="bob", host=HOST, newpass="é" * 9)
        assert isinstance(error, ArgumentError) and "longer than 16 bytes" in error.message

    async def test_extauth_paths_prepare_too(self) -> None:
        """try_register and set_password (extauth) prepare and refuse like the commands."""
        await self.backend.try_register("amy", HOST, "one\u00a0two")
        assert await self.backend.check_password("amy", HOST, "one two")
        with self.assertRaises(ArgumentError):
            await self.backend.set_password("amy", HOST, "bad\x00")
        assert await self.backend.check_password("amy", HOST, "one two")

    async def test_extauth_requests(self) -> None:
        """Through extauth, what the server hands over is prepared like any API password."""
        assert await extauth.answer(self.backend, "tryregister:bob:localhost:pass\u00a0word")
        assert await extauth.answer(self.backend, "auth:bob:localhost:pass word")
        assert not await extauth.answer(self.backend, "auth:bob:localhost:pass word\x00")
        assert not await extauth.answer(self.backend, "setpass:bob:localhost:new\x00")
        assert not await extauth.answer(self.backend, "tryregister:amy:localhost:pw\x00")
        assert await self.call("check_account", user="amy", host=HOST) is False
        assert await self.check("pass word")

    async def test_printable_ascii_keys_unchanged(self) -> None:
        """Keys stored from raw printable ASCII (before SASLprep) still verify: no migration."""
        old = hash_password("Tr0ub4dor&3 !~")
        await self.register("bob", password="placeholder")
        await self.store.write(
            lambda tx: tx.execute(
                "UPDATE accounts SET salt = ?, iterations = ?, stored_key = ?, server_key = ?"
                " WHERE username = ?",
                (old.salt, old.iterations, old.stored_key, old.server_key, "bob"),
            )
        )
        assert await self.check("Tr0ub4dor&3 !~")


class TestPasswordPrepSQLite(PasswordPrepTests, SQLiteCase):
    pass


class TestPasswordPrepPostgres(PasswordPrepTests, PostgresCase):
    pass
