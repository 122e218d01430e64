"""The accounts of ``gateway.auth: xmpp``: logins, credential stamps and the engine's cache."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from twisted.internet.defer import Deferred, fail, succeed
from twisted.trial.unittest import SynchronousTestCase

from gateway.backends.remote_accounts import InvalidatingExecutor
from gateway.backends.xmpp.login_accounts import LoginCheck, xmpp_accounts
from gateway.engine.auth import Authenticator
from gateway.engine.credential_cache import CredentialCache
from gateway.engine.errors import InternalError, Unauthorized, Unavailable
from gateway.engine.model import Caller


class FakeLogin:
    """A server's c2s port: passwords by account; ``down`` makes every login undecided."""

    def __init__(self, passwords: dict[tuple[str, str], str]) -> None:
        self.passwords = passwords
        self.down = False
        self.logins = 0

    def check(self, user: str, host: str, password: str) -> Deferred[bool]:
        self.logins += 1
        if self.down:
            return fail(Unavailable("Cannot check the password with the XMPP server: refused"))
        return succeed(self.passwords.get((user, host)) == password)


class MemoryGenerations:
    """CredentialGenerations in a dict."""

    def __init__(self) -> None:
        self.counts: dict[tuple[str, str], int] = {}
        self.everyone = 0

    def generation(self, user: str, host: str) -> Deferred[int]:
        return succeed(self.counts.get((user, host), 0) + self.everyone)

    def bump(self, user: str, host: str) -> Deferred[None]:
        self.counts[(user, host)] = self.counts.get((user, host), 0) + 1
        return succeed(None)

    def bump_all(self) -> Deferred[None]:
        self.everyone += 1
        return succeed(None)


class ChangingExecutor:
    """The xmpp executor as far as these tests go: ``change_password`` changes the server's."""

    name = "xmpp"

    def __init__(self, login: FakeLogin) -> None:
        self.login = login

    def supports(self, command: str) -> bool:
        return command == "change_password"

    def execute(self, command: str, args: Mapping[str, Any], caller: Caller) -> Deferred[Any]:
        self.login.passwords[(args["user"], args["host"])] = args["newpass"]
        return succeed(True)


class AccountsTests(SynchronousTestCase):
    def setUp(self) -> None:
        self.now = 1000.0
        self.login = FakeLogin({("alice", "localhost"): "secret"})
        self.generations = MemoryGenerations()
        self.accounts = xmpp_accounts(self.login, self.generations, lambda: self.now)

    def test_right_and_wrong_passwords(self) -> None:
        """A login the server accepts gives the account's stamp; a refused one gives None."""
        stamp = self.successResultOf(self.accounts.verify_password("alice", "localhost", "secret"))
        self.assertIsNotNone(stamp)
        self.assertEqual(
            self.successResultOf(self.accounts.credential_stamp("alice", "localhost")), stamp
        )
        self.assertIsNone(
            self.successResultOf(self.accounts.verify_password("alice", "localhost", "nope"))
        )
        self.assertIs(
            self.successResultOf(self.accounts.check_password("alice", "localhost", "secret")), True
        )

    def test_undecided_is_not_a_wrong_password(self) -> None:
        """A server that cannot be asked makes the check fail with Unavailable, never False."""
        self.login.down = True
        self.failureResultOf(
            self.accounts.check_password("alice", "localhost", "secret"), Unavailable
        )
        self.failureResultOf(self.accounts.verify_password("alice", "localhost", "x"), Unavailable)

    def test_a_bump_changes_the_stamp(self) -> None:
        """Bumping the generation (as a change made through the gateway does) moves the stamp."""
        before = self.successResultOf(self.accounts.credential_stamp("alice", "localhost"))
        self.successResultOf(self.generations.bump("alice", "localhost"))
        after = self.successResultOf(self.accounts.credential_stamp("alice", "localhost"))
        self.assertNotEqual(before, after)

    def test_no_tokens_without_a_token_store(self) -> None:
        """Without the gateway's token store, no bearer token is known."""
        self.assertIsNone(self.successResultOf(self.accounts.check_token("abc")))

    def test_only_check_password(self) -> None:
        """The login adapter answers check_password and nothing else."""
        self.failureResultOf(LoginCheck(self.login).call("register", {}), InternalError)


class CachedLoginTests(SynchronousTestCase):
    """The engine's authenticator and credential cache over these accounts."""

    def setUp(self) -> None:
        self.now = 1000.0
        self.login = FakeLogin({("alice", "localhost"): "secret"})
        self.generations = MemoryGenerations()
        accounts = xmpp_accounts(self.login, self.generations, lambda: self.now)
        cache = CredentialCache(60, lambda: self.now)
        self.auth = Authenticator(accounts, lambda: self.now, cache=cache)
        self.executor = InvalidatingExecutor(ChangingExecutor(self.login), self.generations)

    def log_in(self, password: str) -> Deferred[Caller]:
        return Deferred.fromCoroutine(
            self.auth.password("alice", "localhost", password, "mod_http_api")
        )

    def test_cache_spares_logins_until_a_change(self) -> None:
        """A verified password is not logged in again; after change_password it is, and fails."""
        self.successResultOf(self.log_in("secret"))
        self.successResultOf(self.log_in("secret"))
        self.assertEqual(self.login.logins, 1)
        args = {"user": "alice", "host": "localhost", "newpass": "fresh"}
        self.successResultOf(self.executor.execute("change_password", args, Caller(frontend="x")))
        self.failureResultOf(self.log_in("secret"), Unauthorized)
        self.assertEqual(self.login.logins, 2)
        self.successResultOf(self.log_in("fresh"))
