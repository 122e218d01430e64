"""Account commands of the embedded backend, through the engine, on SQLite and PostgreSQL."""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import replace

from gateway.backends.embedded.passwords import (
    ITERATIONS,
    SCHEME,
    hash_password,
    verify_password,
)
from gateway.engine.builtin import node_name, node_term
from gateway.engine.errors import CommandFailed, TypedCommandError
from gateway.engine.model import ResTuple
from tests.backends.embedded.cases import HOST, OTHER, Mixin, PostgresCase, SQLiteCase

DAY = 86400


def test_scram_credentials_verify() -> None:
    """A password verifies against its own credentials only; salts differ per hash."""
    first, second = hash_password("pencil"), hash_password("pencil")
    assert first.iterations == ITERATIONS and first.scheme == SCHEME
    assert first.salt != second.salt and first.stored_key != second.stored_key
    assert verify_password("pencil", first)
    assert not verify_password("pencil ", first)
    assert "pencil" not in repr(first)


def test_scram_matches_rfc7677_example() -> None:
    """The keys follow RFC 7677's SCRAM-SHA-256 test vector (user/pencil)."""
    creds = hash_password("pencil", 4096, base64.b64decode("W22ZaJ0SNY7soEsUEjb6gQ=="))
    # ServerSignature in the RFC is derived from ServerKey; check ServerKey via that derivation
    auth_message = (
        b"n=user,r=rOprNGfwEbeRWgbNEkqO,"
        b"r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096,"
        b"c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0"
    )

    signature = hmac.digest(base64.b64decode(creds.server_key), auth_message, "sha256")
    assert base64.b64encode(signature).decode() == "6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="


def test_password_not_stored_in_plaintext_anywhere() -> None:
    """Neither the password nor a plain digest of it appears in the stored credentials."""
    creds = hash_password("correct horse")
    stored = " ".join([creds.salt, creds.stored_key, creds.server_key])
    assert "correct horse" not in stored
    assert hashlib.md5(b"correct horse").hexdigest() not in stored


class AccountTests(Mixin):
    # -- register / unregister / registered_users ---------------------------------------------

    async def test_register_success_text(self) -> None:
        """register answers ejabberd's success text and the account exists afterwards."""
        result = await self.call("register", user="bob", host=HOST, password="pw")
        assert result == ResTuple("User bob@localhost successfully registered")
        assert await self.call("check_account", user="bob", host=HOST) is True

    async def test_register_twice_conflicts(self) -> None:
        """A second register is ejabberd's conflict 10090, and the first password stays."""
        await self.register("bob", password="first")
        error = await self.fails("register", user="bob", host=HOST, password="second")
        assert isinstance(error, TypedCommandError)
        assert (error.kind, error.status, error.code) == ("conflict", 10090, "conflict")
        assert error.message == "User bob@localhost already registered"
        assert await self.call("check_password", user="bob", host=HOST, password="first")

    async def test_register_normalises_names(self) -> None:
        """User names are nodeprepped: Bob and bob are the same account."""
        await self.register("Bob")
        error = await self.fails("register", user="bob", host=HOST, password="x")
        assert error.code == "conflict"
        assert await self.call("registered_users", host=HOST) == ["bob"]
        assert await self.call("check_password", user="BOB", host=HOST, password="secret")

    async def test_register_unknown_host(self) -> None:
        """register on a host not served is cannot_register 10001 'Unknown virtual host'."""
        error = await self.fails("register", user="bob", host="elsewhere.org", password="pw")
        assert isinstance(error, TypedCommandError)
        assert (error.kind, error.status, error.message) == (
            "cannot_register",
            10001,
            "Unknown virtual host",
        )

    async def test_register_malformed_user_and_empty_password(self) -> None:
        """A user name that cannot be a JID, or an empty password, is cannot_register.

        The texts are ejabberd's, naming the node as ``~p`` prints it (captured
        from Debian's ejabberd 23.01; 24.12's ejabberd_admin words them alike):
        ``Can't register user @@@localhost at node ejabberd@host: Malformed
        username`` and ``…: The password contains unacceptable characters``.
        An empty password is refused before the name is looked at.
        """
        node = node_term(node_name())
        cases = [
            ("@@", "pw", "Malformed username"),
            ("not a jid", "pw", "Malformed username"),
            ("zed", "", "The password contains unacceptable characters"),
            ("@@", "", "The password contains unacceptable characters"),
        ]
        for user, password, why in cases:
            error = await self.fails("register", user=user, host=HOST, password=password)
            assert isinstance(error, TypedCommandError)
            assert (error.kind, error.status) == ("cannot_register", 10001)
            assert error.message == f"Can't register user {user}@{HOST} at node {node}: {why}"
        assert await self.call("registered_users", host=HOST) == []

    async def test_register_names_the_context_node(self) -> None:
        """The node in register's failures is the backend's (the one ``status`` names)."""
        self.backend.ctx = replace(self.backend.ctx, node="xmpp-gateway@box")
        error = await self.fails("register", user="zed", host=HOST, password="")
        assert error.message == (
            "Can't register user zed@localhost at node 'xmpp-gateway@box':"
            " The password contains unacceptable characters"
        )

    async def test_registered_users_sorted_per_host(self) -> None:
        """registered_users lists the host's user names sorted, and only that host's."""
        for name in ("zed", "amy", "Mike"):
            await self.register(name)
        await self.register("other", host=OTHER)
        assert await self.call("registered_users", host=HOST) == ["amy", "mike", "zed"]
        assert await self.call("registered_users", host=OTHER) == ["other"]

    async def test_registered_users_unknown_host(self) -> None:
        """registered_users of a host not served fails with 'Unknown virtual host'."""
        error = await self.fails("registered_users", host="nowhere.org")
        assert isinstance(error, CommandFailed) and error.message == "Unknown virtual host"

    async def test_unregister(self) -> None:
        """unregister removes the account and its data; a missing account is reported as such."""
        await self.register("bob")
        await self.call(
            "add_rosteritem",
            localuser="bob",
            localhost=HOST,
            user="amy",
            host=HOST,
            nick="Amy",
            groups=["G"],
            subs="both",
        )
        assert await self.call("unregister", user="bob", host=HOST) == ResTuple(
            "User bob@localhost unregistered"
        )
        assert await self.call("check_account", user="bob", host=HOST) is False
        assert await self.call("get_roster", user="bob", host=HOST) == []
        again = await self.call("unregister", user="bob", host=HOST)
        assert again == ResTuple("User bob@localhost was not registered")

    async def test_unregister_unknown_host(self) -> None:
        """unregister on a host not served fails with 'Unknown virtual host'."""
        error = await self.fails("unregister", user="bob", host="nowhere.org")
        assert error.message == "Unknown virtual host"

    # -- checks ---------------------------------------------------------------------------------

    async def test_check_account(self) -> None:
        """check_account is true only for a registered account on a served host."""
        await self.register("bob")
        assert await self.call("check_account", user="bob", host=HOST) is True
        assert await self.call("check_account", user="amy", host=HOST) is False
        assert await self.call("check_account", user="bob", host=OTHER) is False
        assert await self.call("check_account", user="bob", host="nowhere.org") is False

    async def test_check_password(self) -> None:
        """check_password is true for the right password only, false for unknown accounts."""
        await self.register("bob", password="s3cret")
        assert await self.call("check_password", user="bob", host=HOST, password="s3cret")
        assert not await self.call("check_password", user="bob", host=HOST, password="S3cret")
        assert not await self.call("check_password", user="amy", host=HOST, password="s3cret")
        assert not await self.call("check_password", user="b@b", host=HOST, password="s3cret")
        assert await self.backend.check_password("bob", HOST, "s3cret")

    async def test_password_stored_as_scram_only(self) -> None:
        """The accounts table holds SCRAM keys, never the password text."""
        await self.register("bob", password="plain-text-pw")
        rows = await self.store.read(lambda tx: tx.all("SELECT * FROM accounts"))
        assert rows and all("plain-text-pw" not in str(v) for v in rows[0])
        assert SCHEME in rows[0]

    async def test_check_password_hash_cannot_work_on_scram(self) -> None:
        """check_password_hash on an account fails, saying SCRAM keys cannot verify an md5/sha."""
        await self.register("bob", password="pw")
        digest = hashlib.md5(b"pw").hexdigest()
        for method in ("md5", "sha"):
            error = await self.fails(
                "check_password_hash", user="bob", host=HOST, passwordhash=digest, hashmethod=method
            )
            assert isinstance(error, CommandFailed)
            assert "SCRAM-SHA-256" in error.message and method in error.message

    async def test_check_password_hash_unknown_account_or_method(self) -> None:
        """No account: the same answer as an existing one; an unknown method: ejabberd's atom.

        ejabberd 23.01 and 24.12 throw the bare atom ``unkown_hash_method``
        (misspelt; captured from Debian's ejabberd 23.01: /api ``400
        "unkown_hash_method"``, XML-RPC ``A problem 'unkown_hash_method'
        occurred …``), for every account; clients compare it.

        A missing account used to answer false where an existing one answered
        the "cannot check" error, which told callers which accounts exist
        (issue 8, item 8): now both get the error, word for word.
        """
        await self.register("bob", password="pw")
        answers = []
        for user in ("bob", "ghost"):
            error = await self.fails(
                "check_password_hash", user=user, host=HOST, passwordhash="x", hashmethod="md5"
            )
            answers.append((type(error), error.message))
        assert answers[0] == answers[1]
        for user in ("bob", "ghost"):
            error = await self.fails(
                "check_password_hash", user=user, host=HOST, passwordhash="x", hashmethod="rot13"
            )
            assert isinstance(error, CommandFailed)
            assert (error.message, error.atom, error.thrown) == (
                "unkown_hash_method",
                "unkown_hash_method",
                True,
            )
            assert error.thrown_term() == "unkown_hash_method"

    async def test_change_password(self) -> None:
        """change_password replaces the password: the old one fails, the new one works."""
        await self.register("bob", password="old")
        assert await self.call("change_password", user="bob", host=HOST, newpass="new") is True
        assert not await self.call("check_password", user="bob", host=HOST, password="old")
        assert await self.call("check_password", user="bob", host=HOST, password="new")

    async def test_change_password_failures(self) -> None:
        """Unknown account or host: not_found 'unknown_user'; empty password refused."""
        missing = await self.fails("change_password", user="ghost", host=HOST, newpass="x")
        assert isinstance(missing, CommandFailed)
        assert (missing.code, missing.message) == ("not_found", "unknown_user")
        # ejabberd (23.01 and 24.12) finds no such account on a host it does not serve
        host = await self.fails("change_password", user="bob", host="nowhere.org", newpass="x")
        assert isinstance(host, CommandFailed)
        assert (host.code, host.message, host.thrown) == ("not_found", "unknown_user", True)
        await self.register("bob", password="old")
        empty = await self.fails("change_password", user="bob", host=HOST, newpass="")
        assert "Empty password" in empty.message
        assert await self.call("check_password", user="bob", host=HOST, password="old")

    # -- bans -----------------------------------------------------------------------------------

    async def test_ban_blocks_login_until_unban(self) -> None:
        """A banned account cannot log in; unban_account restores the old password."""
        await self.register("bob", password="pw")
        assert await self.call("ban_account", user="bob", host=HOST, reason="spam") is True
        assert not await self.call("check_password", user="bob", host=HOST, password="pw")
        assert await self.call("check_account", user="bob", host=HOST) is True
        assert await self.call("unban_account", user="bob", host=HOST) is True
        assert await self.call("check_password", user="bob", host=HOST, password="pw")

    async def test_ban_details(self) -> None:
        """get_ban_details lists reason, bandate, lastdate and lastreason; [] when not banned."""
        await self.register("bob")
        assert await self.call("get_ban_details", user="bob", host=HOST) == []
        await self.store.write(
            lambda tx: tx.execute(
                "INSERT INTO last_activity (host, username, seen_at, status) VALUES (?, ?, ?, ?)",
                (HOST, "bob", 1_699_990_000, "Connection reset"),
            )
        )
        self.clock.advance(0.5)
        await self.call("ban_account", user="bob", host=HOST, reason="Spamming other users")
        assert await self.call("get_ban_details", user="bob", host=HOST) == [
            ("reason", "Spamming other users"),
            ("bandate", "2023-11-14T22:13:20.500000Z"),
            ("lastdate", "2023-11-14T19:26:40Z"),
            ("lastreason", "Connection reset"),
        ]

    async def test_ban_twice_and_unban_unbanned(self) -> None:
        """Banning twice and unbanning an unbanned account answer ejabberd's error terms."""
        await self.register("bob")
        assert await self.call("unban_account", user="bob", host=HOST) == "account_was_not_banned"
        await self.call("ban_account", user="bob", host=HOST, reason="first")
        again = await self.call("ban_account", user="bob", host=HOST, reason="second")
        assert again == "account_was_already_banned"
        details = dict(await self.call("get_ban_details", user="bob", host=HOST))
        assert details["reason"] == "first"

    async def test_ban_unknown_account_or_host(self) -> None:
        """Banning or unbanning a missing account is not_found; an unknown host is named."""
        for command, extra in (("ban_account", {"reason": "r"}), ("unban_account", {})):
            error = await self.fails(command, user="ghost", host=HOST, **extra)
            assert (error.code, error.message) == ("not_found", "unknown_user")
            error = await self.fails(command, user="bob", host="nowhere.org", **extra)
            assert error.message == "Unknown virtual host"

    async def test_ban_survives_password_change_and_goes_with_account(self) -> None:
        """A ban outlives a password change; unregistering removes the ban with the account."""
        await self.register("bob", password="pw")
        await self.call("ban_account", user="bob", host=HOST, reason="r")
        await self.call("change_password", user="bob", host=HOST, newpass="pw2")
        assert not await self.call("check_password", user="bob", host=HOST, password="pw2")
        await self.call("unregister", user="bob", host=HOST)
        await self.register("bob", password="pw3")
        assert await self.call("get_ban_details", user="bob", host=HOST) == []
        assert await self.call("check_password", user="bob", host=HOST, password="pw3")

    # -- purges ---------------------------------------------------------------------------------

    async def _seen(self, user: str, host: str, when: float) -> None:
        await self.store.write(
            lambda tx: tx.execute(
                "INSERT INTO last_activity (host, username, seen_at, status) VALUES (?, ?, ?, ?)",
                (host, user, int(when), ""),
            )
        )

    async def test_delete_old_users(self) -> None:
        """Accounts idle longer than the limit go (never-seen ones by registration time)."""
        await self.register("old")  # registered at NOW, never seen
        await self.register("active")
        await self.register("stale", host=OTHER)
        self.clock.advance(40 * DAY)
        await self.register("fresh")  # registered 40 days later
        now = self.clock.seconds()
        await self._seen("active", HOST, now - 2 * DAY)
        await self._seen("stale", OTHER, now - 31 * DAY)
        result = await self.call("delete_old_users", days=30)
        assert result == ResTuple('Deleted 2 users: ["old@localhost", "stale@example.net"]')
        assert await self.call("registered_users", host=HOST) == ["active", "fresh"]
        assert await self.call("registered_users", host=OTHER) == []

    async def test_delete_old_users_vhost(self) -> None:
        """The vhost variant only looks at one host, and reports zero deletions plainly."""
        await self.register("old")
        await self.register("old", host=OTHER)
        self.clock.advance(10 * DAY)
        result = await self.call("delete_old_users_vhost", host=OTHER, days=5)
        assert result == ResTuple('Deleted 1 users: ["old@example.net"]')
        assert await self.call("registered_users", host=HOST) == ["old"]
        none = await self.call("delete_old_users_vhost", host=OTHER, days=5)
        assert none == ResTuple("Deleted 0 users: []")

    async def test_delete_old_users_in_2301(self) -> None:
        """The 23.01 profile lists the deleted accounts as ejabberd 23.01 prints them.

        The text was captured from Debian's ejabberd 23.01 (ejabberdctl and /api):
        ``~p`` of ``{User, Host}`` binaries, broken over lines past 80 columns.
        """
        for user in ("alice", "bob", "josé", "longusername_abcdefghijkl"):
            await self.register(user)
        self.clock.advance(10 * DAY)
        result = await self.legacy_call("delete_old_users_vhost", host=HOST, days=5)
        assert result == ResTuple(
            'Deleted 4 users: [{<<"alice">>,<<"localhost">>},\n'
            '                  {<<"bob">>,<<"localhost">>},\n'
            '                  {<<"josé">>,<<"localhost">>},\n'
            '                  {<<"longusername_abcdefghijkl">>,<<"localhost">>}]'
        )
        await self.register("solo")
        self.clock.advance(10 * DAY)
        result = await self.legacy_call("delete_old_users", days=5)
        assert result == ResTuple('Deleted 1 users: [{<<"solo">>,<<"localhost">>}]')
        assert await self.legacy_call("delete_old_users", days=5) == ResTuple("Deleted 0 users: []")

    async def test_delete_old_users_failures(self) -> None:
        """An unknown host or negative days are refused without deleting anything."""
        await self.register("old")
        self.clock.advance(10 * DAY)
        error = await self.fails("delete_old_users_vhost", host="nowhere.org", days=1)
        assert error.message == "Unknown virtual host"
        error = await self.fails("delete_old_users", days=-1)
        assert "negative" in error.message
        assert await self.call("registered_users", host=HOST) == ["old"]


class TestAccountsSQLite(AccountTests, SQLiteCase):
    pass


class TestAccountsPostgres(AccountTests, PostgresCase):
    pass
