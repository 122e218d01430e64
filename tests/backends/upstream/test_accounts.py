"""Logins checked by the upstream's check_password, cached safely (issues 10 and 12).

The upstream is a fake ``/api`` in memory; the credential generations are the
real ones in an SQLite store (answering without threads).  "Another worker" is
a second store, :class:`RemoteAccounts` and authenticator opened on the
same file, each with its own in-memory caches, as a second process would be.
Upstream checks are counted, never timed.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Mapping
from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from twisted.internet.defer import Deferred, ensureDeferred, succeed
from twisted.internet.task import Clock
from twisted.trial.unittest import SynchronousTestCase

from gateway.backends.embedded.generations import StoreGenerations
from gateway.backends.interfaces import TokenGrant
from gateway.backends.remote_accounts import (
    DEFAULT_FAILURE_TTL,
    INVALIDATES,
    InvalidatingExecutor,
    RemoteAccounts,
    _accepted,
)
from gateway.engine.auth import Authenticator
from gateway.engine.caches import CacheRegistry
from gateway.engine.catalogue import Catalogue
from gateway.engine.credential_cache import CredentialCache
from gateway.engine.credentials import Basic, Password
from gateway.engine.errors import (
    CommandFailed,
    GatewayTimeout,
    InternalError,
    TypedCommandError,
    Unauthorized,
    Unavailable,
    UnknownCommand,
)
from gateway.engine.model import Caller, CommandDefinition
from gateway.engine.server import ServerCommands
from tests.backends.embedded.cases import sync_store
from tests.backends.upstream.fakes import CountingGenerations, FakeUpstream, Forwarder

HOST = "localhost"
ADMIN = Caller(frontend="mod_http_api")
#: the engine's success cache TTL in these tests (far longer than the failure TTL)
TTL = 30.0


class Worker:
    """One process's view: its own store connection, accounts, authenticator and caches."""

    def __init__(self, path: str, upstream: FakeUpstream, clock: Clock) -> None:
        self.store = sync_store(path)
        self.generations = CountingGenerations(StoreGenerations(self.store))
        self.accounts = RemoteAccounts(upstream, self.generations, clock.seconds)
        self.cache = CredentialCache(TTL, clock.seconds)
        self.auth = Authenticator(self.accounts, clock=clock.seconds, cache=self.cache)
        self.executor = InvalidatingExecutor(Forwarder(upstream), self.generations)
        self.caches = CacheRegistry()
        self.caches.register("verified credentials", self.cache.clear)
        self.caches.register("upstream credential generations", self.accounts.clear)


class NativeForwarder(Forwarder):
    """A forwarder that speaks 23.01 natively (runs old definitions unchanged)."""

    def native_profile(self, command: str) -> str | None:
        return "23.01"

    def execute_definition(
        self, definition: CommandDefinition, args: Mapping[str, Any], caller: Caller
    ) -> Deferred[Any]:
        return self.execute(definition.name, args, caller)


class RemoteAccountsCase(SynchronousTestCase):
    def setUp(self) -> None:
        directory = tempfile.mkdtemp(prefix="gateway-upstream-")
        self.addCleanup(shutil.rmtree, directory, True)
        self.path = f"{directory}/gateway.sqlite"
        self.clock = Clock()
        self.clock.advance(1_700_000_000)
        self.upstream = FakeUpstream({("bob", HOST): "right", ("eve", HOST): "evepw"})
        self.worker = self.new_worker()

    def new_worker(self) -> Worker:
        worker = Worker(self.path, self.upstream, self.clock)
        self.addCleanup(worker.store.close)
        return worker

    def login(self, password: str, user: str = "bob", worker: Worker | None = None) -> Any:
        """The Caller of a password login, or the Failure it ended with (fired at once)."""
        auth = (worker or self.worker).auth
        results: list[Any] = []
        ensureDeferred(auth.password(user, HOST, password, "mod_http_api")).addBoth(results.append)
        assert results, "the login did not finish synchronously"
        return results[0]

    def accepted(self, password: str, user: str = "bob", worker: Worker | None = None) -> None:
        result = self.login(password, user, worker)
        assert isinstance(result, Caller), result
        assert (result.user, result.host) == (user, HOST)

    def refused(self, password: str, user: str = "bob", worker: Worker | None = None) -> None:
        result = self.login(password, user, worker)
        assert not isinstance(result, Caller), f"{password!r} was accepted"
        result.trap(Unauthorized)

    def forward(self, command: str, worker: Worker | None = None, **args: Any) -> Any:
        executor = (worker or self.worker).executor
        return self.successResultOf(executor.execute(command, args, ADMIN))


class CacheTests(RemoteAccountsCase):
    def test_hit_skips_the_upstream(self) -> None:
        """A right password is checked upstream once; repeats in the TTL only read the store."""
        self.accepted("right")
        for _ in range(3):
            self.accepted("right")
        assert self.upstream.checks() == 1
        assert self.upstream.calls[0] == (
            "check_password",
            {"user": "bob", "host": HOST, "password": "right"},
            None,
        )

    def test_expiry_asks_again(self) -> None:
        """Once the engine's TTL is over, the upstream is asked again."""
        self.accepted("right")
        self.clock.advance(TTL + 1)
        self.accepted("right")
        assert self.upstream.checks() == 2

    def test_change_password_ends_the_old_password_at_once(self) -> None:
        """change_password forwarded through the executor: old refused, new accepted, no wait."""
        self.accepted("right")
        self.forward("change_password", user="bob", host=HOST, newpass="new")
        self.refused("right")
        self.accepted("new")

    def test_each_invalidating_command_from_another_worker(self) -> None:
        """change_password, unregister, ban_account by worker A end worker B's hit at once."""
        for command, extra in (
            ("change_password", {"newpass": "other"}),
            ("unregister", {}),
            ("ban_account", {"reason": "spam"}),
        ):
            with self.subTest(command=command):
                self.upstream.accounts[("bob", HOST)] = "right"
                b = self.new_worker()
                self.accepted("right", worker=b)
                self.accepted("right", worker=b)
                checks = self.upstream.checks()
                self.forward(command, user="bob", host=HOST, **extra)
                self.refused("right", worker=b)
                assert self.upstream.checks() == checks + 1

    def test_a_native_call_invalidates_like_a_translated_one(self) -> None:
        """A 23.01 caller's change_password passed through unchanged still ends cached logins."""
        inner = NativeForwarder(self.upstream)
        executor = InvalidatingExecutor(inner, self.worker.generations)
        assert executor.native_profile("change_password") == "23.01"
        b = self.new_worker()
        self.accepted("right", worker=b)
        definition = Catalogue.load("23.01").lookup("change_password")
        args = {"user": "bob", "host": HOST, "newpass": "new"}
        assert self.successResultOf(executor.execute_definition(definition, args, ADMIN)) is True
        assert inner.executed == ["change_password"]
        self.refused("right", worker=b)
        self.accepted("new", worker=b)

    def test_account_spelt_otherwise_is_bumped_as_prepared(self) -> None:
        """The bump names the account as logins prepare it (``Bob``@``LocalHost`` is bob)."""
        b = self.new_worker()
        self.accepted("right", worker=b)
        self.forward("change_password", user="Bob", host="LocalHost", newpass="new")
        assert self.worker.generations.bumps == [("bob", HOST)]
        self.refused("right", worker=b)

    def test_other_accounts_keep_their_hits(self) -> None:
        """Bumping bob leaves eve's cached login a hit."""
        self.accepted("evepw", user="eve")
        self.forward("change_password", user="bob", host=HOST, newpass="new")
        self.accepted("evepw", user="eve")
        assert self.upstream.checks() == 1

    def test_clear_cache_ends_every_workers_hits(self) -> None:
        """clear_cache (through ServerCommands) bumps every account: other workers miss too."""
        b = self.new_worker()
        self.accepted("right", worker=b)
        self.accepted("evepw", user="eve", worker=b)
        commands = ServerCommands(Forwarder(self.upstream), self.clock, caches=self.worker.caches)
        assert self.successResultOf(commands.execute("clear_cache", {}, ADMIN)) is True
        assert self.worker.generations.bumps == [None]
        checks = self.upstream.checks()
        self.accepted("right", worker=b)
        self.accepted("evepw", user="eve", worker=b)
        assert self.upstream.checks() == checks + 2

    def test_clear_cache_fails_when_the_bump_fails(self) -> None:
        """A bump that cannot be written makes clear_cache fail, naming the cache."""
        self.worker.generations.broken = True
        commands = ServerCommands(Forwarder(self.upstream), self.clock, caches=self.worker.caches)
        failure = self.failureResultOf(commands.execute("clear_cache", {}, ADMIN), CommandFailed)
        assert "upstream credential generations" in failure.value.message


class FailureTests(RemoteAccountsCase):
    def test_a_refusal_is_never_cached_as_a_success(self) -> None:
        """A wrong password stays refused; the engine's cache holds only the right one."""
        self.accepted("right")
        for _ in range(3):
            self.refused("wrong")
        assert len(self.worker.cache) == 1

    def test_refusals_are_remembered_briefly(self) -> None:
        """A burst of one wrong password costs one upstream check until the failure TTL ends."""
        for _ in range(5):
            self.refused("wrong")
        assert self.upstream.checks() == 1
        self.clock.advance(DEFAULT_FAILURE_TTL)
        self.refused("wrong")
        assert self.upstream.checks() == 2

    def test_a_right_password_after_wrong_ones_is_asked(self) -> None:
        """A remembered refusal is for that password only: the right one is still checked."""
        self.refused("wrong")
        self.accepted("right")

    def test_a_bump_ends_remembered_refusals(self) -> None:
        """A password refused a moment ago works as soon as it is set (no waiting for the TTL)."""
        self.refused("next")
        self.forward("change_password", user="bob", host=HOST, newpass="next")
        self.accepted("next")

    def test_register_ends_remembered_refusals(self) -> None:
        """Logging in before registering, then registering, works at once."""
        self.refused("pw", user="carol")
        self.forward("register", user="carol", host=HOST, password="pw")
        self.accepted("pw", user="carol")

    def test_upstream_failures_are_refusals(self) -> None:
        """The upstream's own ``{error, _}`` for these credentials is a wrong password."""
        for error in (CommandFailed("Unknown virtual host"), TypedCommandError("error", 0, "no")):
            self.upstream.failure = error
            self.refused("right")


class UnavailableTests(RemoteAccountsCase):
    def test_unavailable_upstream_is_not_a_wrong_password(self) -> None:
        """Down or slow: the caller gets Unavailable/GatewayTimeout, and nothing is remembered."""
        for error in (Unavailable("upstream down"), GatewayTimeout("no answer in 30 s")):
            self.upstream.failure = error
            for _ in range(2):
                result = self.login("right")
                assert isinstance(result.value, type(error)), result
                assert not isinstance(result.value, Unauthorized)
        assert len(self.worker.cache) == 0
        self.upstream.failure = None
        checks = self.upstream.checks()
        self.accepted("right")
        self.refused("wrong")
        assert self.upstream.checks() == checks + 2

    def test_a_broken_answer_or_command_is_unavailable(self) -> None:
        """A missing command, an upstream crash or a non-rescode answer: Unavailable, not 401."""
        for error in (UnknownCommand("check_password"), InternalError("crashed")):
            self.upstream.failure = error
            self.login("right").trap(Unavailable)
        self.upstream.failure = None
        self.upstream.answer = "yes"
        self.login("right").trap(Unavailable)
        assert len(self.worker.cache) == 0

    def test_store_down_is_unavailable(self) -> None:
        """When the generation cannot be read, logins fail with Unavailable, unchecked."""
        self.worker.generations.broken = True
        self.login("right").trap(Unavailable)
        assert self.upstream.checks() == 0
        assert len(self.flushLoggedErrors(OSError)) == 1


class ExecutorTests(RemoteAccountsCase):
    def test_other_commands_pass_through(self) -> None:
        """A command that changes no login runs unchanged and bumps nothing."""
        assert self.worker.executor.name == "ejabberd"
        assert self.worker.executor.supports("status")
        assert not self.worker.executor.supports("get_roster")
        assert self.forward("status") == "running"
        assert self.worker.generations.bumps == []

    def test_a_failed_change_still_bumps(self) -> None:
        """A forwarded change that times out may have happened: bump, then the original error."""
        b = self.new_worker()
        self.accepted("right", worker=b)
        forwarder = self.worker.executor._inner
        assert isinstance(forwarder, Forwarder)
        forwarder.failure = GatewayTimeout("no answer")
        d = self.worker.executor.execute(
            "change_password", {"user": "bob", "host": HOST, "newpass": "new"}, ADMIN
        )
        self.failureResultOf(d, GatewayTimeout)
        assert self.worker.generations.bumps == [("bob", HOST)]
        self.refused("right", worker=b)

    def test_bump_failure_after_a_change_is_an_error(self) -> None:
        """When the store cannot be bumped, the caller is told, not answered ok."""
        self.worker.generations.broken = True
        d = self.worker.executor.execute(
            "change_password", {"user": "bob", "host": HOST, "newpass": "new"}, ADMIN
        )
        failure = self.failureResultOf(d, Unavailable)
        assert "could not invalidate" in failure.value.message
        assert len(self.flushLoggedErrors(OSError)) == 1

    def test_unreadable_account_bumps_everyone(self) -> None:
        """An account that cannot be prepared (or whole-server commands) bump every account."""
        self.forward("unregister", user="bad user@", host=HOST)
        assert self.worker.generations.bumps == [None]
        assert INVALIDATES["delete_old_users"] == "all"

    def test_the_commands_named(self) -> None:
        """The commands that stop or change a login are all listed."""
        for command in ("change_password", "unregister", "ban_account", "unban_account"):
            assert INVALIDATES[command] == "account"


class SamePathTests(RemoteAccountsCase):
    def test_unknown_account_takes_the_same_path(self) -> None:
        """An unknown account and a wrong password cost the same reads and upstream calls."""
        generations = self.worker.generations
        self.refused("wrong", user="bob")
        known = (len(generations.reads), self.upstream.checks())
        self.refused("wrong", user="ghost")
        assert (len(generations.reads) - known[0], self.upstream.checks() - known[1]) == known

    def test_digest_never_holds_the_password(self) -> None:
        """Remembered keys are 32-byte MACs under a per-process key, never the password."""
        password = "correct horse battery staple"
        self.upstream.accounts[("bob", HOST)] = password
        self.accepted(password)
        self.refused("wrong password here")
        accounts = self.worker.accounts
        keys = [*accounts._failures._entries, *self.worker.cache._entries]
        assert len(keys) == 2
        for key in keys:
            assert len(key) == 32
            assert b"password" not in key and b"correct" not in key
        for stamp, _ in [
            *accounts._failures._entries.values(),
            *self.worker.cache._entries.values(),
        ]:
            assert b"correct" not in stamp and b"wrong" not in stamp
        other = self.new_worker().accounts
        assert other._failures.key("bob", HOST, "x") != accounts._failures.key("bob", HOST, "x")


class ConcurrencyTests(RemoteAccountsCase):
    def test_concurrent_checks_share_one_upstream_call(self) -> None:
        """Logins with the same credentials while a check is under way wait for that one."""
        self.upstream.holding = True
        pending = [self.worker.accounts.verify_password("bob", HOST, "right") for _ in range(3)]
        assert self.upstream.checks() == 1
        self.upstream.release()
        stamps = [self.successResultOf(d) for d in pending]
        assert stamps[0] is not None and stamps == [stamps[0]] * 3

    def test_a_caller_leaving_does_not_cancel_the_others(self) -> None:
        """Cancelling one waiting login leaves the shared check and the other waiter alive."""
        self.upstream.holding = True
        first = self.worker.accounts.verify_password("bob", HOST, "right")
        second = self.worker.accounts.verify_password("bob", HOST, "right")
        first.cancel()
        self.failureResultOf(first)
        self.upstream.release()
        assert self.successResultOf(second) is not None

    def test_a_bump_during_a_check_leaves_a_stale_stamp(self) -> None:
        """A change racing with a check: the answer's stamp is older, so it is never a hit."""
        self.upstream.holding = True
        d = self.worker.accounts.verify_password("bob", HOST, "right")
        self.forward("change_password", user="bob", host=HOST, newpass="new")
        self.upstream.release()  # answers "right" was right, as it was when asked
        stamp = self.successResultOf(d)
        now = self.successResultOf(self.worker.accounts.credential_stamp("bob", HOST))
        assert stamp is not None and stamp != now


class DialectTests(RemoteAccountsCase):
    def test_each_credential_kind(self) -> None:
        """XML-RPC's struct and mod_rest's --auth (Password) and /api's Basic log in upstream."""
        auth = self.worker.auth
        for credentials in (Password("bob", HOST, "right"), Basic("bob@localhost", "right")):
            caller = self.successResultOf(ensureDeferred(auth.login(credentials, "xmlrpc")))
            assert (caller.user, caller.host) == ("bob", HOST)
            bad = Password("bob", HOST, "nope") if isinstance(credentials, Password) else None
            bad = bad or Basic("bob@localhost", "nope")
            self.failureResultOf(ensureDeferred(auth.login(bad, "xmlrpc")), Unauthorized)


class TokenTests(SynchronousTestCase):
    def test_tokens_are_the_gateways_own(self) -> None:
        """Tokens go to the given checker (the embedded store); without one none is known."""
        grant = TokenGrant("bob", HOST, frozenset({"ejabberd:user"}), 2e9)

        class Tokens:
            def check_token(self, token: str) -> Deferred[TokenGrant | None]:
                return succeed(grant if token == "abc" else None)

        upstream = FakeUpstream({})
        generations = CountingGenerations(StoreGenerations(sync_store(self.mktemp())))
        with_tokens = RemoteAccounts(upstream, generations, Clock().seconds, tokens=Tokens())
        assert self.successResultOf(with_tokens.check_token("abc")) == grant
        assert self.successResultOf(with_tokens.check_token("xyz")) is None
        without = RemoteAccounts(upstream, generations, Clock().seconds)
        assert self.successResultOf(without.check_token("abc")) is None
        assert upstream.calls == []


@given(st.recursive(st.none() | st.booleans() | st.integers() | st.text(), st.lists, max_leaves=4))
def test_only_a_rescode_answers(answer: Any) -> None:
    """Only 0 / 1 (or a boolean) read as an answer; anything else is Unavailable, never ok."""
    try:
        ok = _accepted(answer)
    except Unavailable:
        assert not (isinstance(answer, int) and answer in (0, 1))
    else:
        assert isinstance(answer, int) and answer in (0, 1)
        assert ok == (answer is True or (answer == 0 and not isinstance(answer, bool)))


def test_wrapped_rescode() -> None:
    """``{"res": 0}`` is a right password and ``{"res": 1}`` a wrong one."""
    assert _accepted({"res": 0}) is True
    assert _accepted({"res": 1}) is False
