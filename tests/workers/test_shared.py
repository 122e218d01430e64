"""SharedState: changes made in one worker are relayed, and relayed changes are applied."""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Any

from twisted.internet.defer import Deferred, ensureDeferred
from twisted.trial.unittest import SynchronousTestCase

from gateway.config.load import load_config
from gateway.config.permissions_parse import permissions_from_config
from gateway.engine.auth import Authenticator
from gateway.engine.bans import BanCommands
from gateway.engine.errors import CommandFailed, TooManyFailures, Unauthorized
from gateway.engine.model import Caller
from gateway.logs import LogLevelControl
from gateway.reload import ConfigReloader
from gateway.testing import FakeBackend
from gateway.workers.shared import SharedState

IP = ipaddress.ip_address("192.0.2.7")


def state() -> tuple[SharedState, list[tuple[str, Any]]]:
    shared = SharedState()
    sent: list[tuple[str, Any]] = []
    shared.connect(lambda action, argument: sent.append((action, argument)))
    return shared, sent


class LevelsTests(SynchronousTestCase):
    def test_set_is_relayed_and_applied(self) -> None:
        """set_loglevel here is relayed by name; a relayed level is set without relaying back."""
        shared, sent = state()
        levels = LogLevelControl("info")
        control = shared.levels(levels)
        self.assertEqual(control.set(5), "debug")
        self.assertEqual(sent, [("loglevel", "debug")])
        shared.apply("loglevel", "warning")
        self.assertEqual(control.get(), "warning")
        self.assertEqual(len(sent), 1)


class CachesTests(SynchronousTestCase):
    def test_clear_is_relayed_and_applied_locally(self) -> None:
        """clear_cache empties the caches here and relays; a relayed clear does not relay."""
        shared, sent = state()
        caches = shared.caches()
        cleared: list[str] = []
        caches.register("one", lambda: cleared.append("one"))
        self.assertEqual(caches.clear_all(), (["one"], []))
        self.assertEqual(sent, [("clear_cache", None)])
        shared.apply("clear_cache", None)
        self.assertEqual(cleared, ["one", "one"])
        self.assertEqual(len(sent), 1)

    def test_shared_caches_are_cleared_once(self) -> None:
        """A cache of state every process shares (the store's credential generations) is
        cleared by the process that ran clear_cache, not again by each that hears of it."""
        shared, _ = state()
        caches = shared.caches()
        cleared: list[str] = []
        caches.register("local", lambda: cleared.append("local"))
        caches.register("store", lambda: cleared.append("store"), shared=True)
        self.assertEqual(caches.clear_all(), (["local", "store"], []))
        shared.apply("clear_cache", None)
        self.assertEqual(cleared, ["local", "store", "local"])

    def test_waiting_clear_is_relayed(self) -> None:
        """The clear the clear_cache command uses (waiting for each cache) relays too."""
        shared, sent = state()
        caches = shared.caches()
        caches.register("one", lambda: None)
        results: list[Any] = []
        ensureDeferred(caches.clear_all_waiting()).addCallback(results.append)
        self.assertEqual(results, [(["one"], [])])
        self.assertEqual(sent, [("clear_cache", None)])


class LimiterTests(SynchronousTestCase):
    def test_failures_elsewhere_count_here(self) -> None:
        """Failures relayed from other workers count toward a ban here, and are not relayed on."""
        shared, sent = state()
        limiter = shared.limiter(lambda: 100.0, max_failures=3, window=60, ban_time=300)
        limiter.failure(IP, "alice@localhost")
        self.assertEqual(sent, [("failure", ["192.0.2.7", "alice@localhost"])])
        shared.apply("failure", ["192.0.2.7", None])
        shared.apply("failure", ["192.0.2.7", None])
        self.assertEqual(len(sent), 1)
        with self.assertRaises(TooManyFailures):
            limiter.check(IP)
        # counted for /metrics where they happened: one failure here, no ban imposed here
        self.assertEqual((limiter.failures_total, limiter.bans_total), (1, 0))

    def test_unban_is_relayed_and_applied(self) -> None:
        """unban_ip here is relayed as a network; a relayed unban lifts the ban here."""
        shared, sent = state()
        limiter = shared.limiter(lambda: 100.0, max_failures=1, window=60, ban_time=300)
        shared.apply("failure", ["192.0.2.7", None])
        with self.assertRaises(TooManyFailures):
            limiter.check(IP)
        shared.apply("unban", "192.0.2.0/24")
        limiter.check(IP)
        self.assertEqual(sent, [])
        limiter.failure(IP)
        self.assertEqual(limiter.unban(ipaddress.ip_network("192.0.2.7/32")), 1)
        self.assertEqual(sent[-1], ("unban", "192.0.2.7/32"))

    def test_refusal_and_unban_wait_until_every_worker_applied_them(self) -> None:
        """A refused login is answered, and unban_ip answers, only once the relay has been
        applied by the other workers (the next request may land on any of them)."""
        shared = SharedState()
        applied: Deferred[None] = Deferred()
        shared.connect(lambda action, argument: applied)
        limiter = shared.limiter(lambda: 100.0, max_failures=5, window=60, ban_time=300)
        auth = Authenticator(FakeBackend(), clock=lambda: 100.0, limiter=limiter)
        refused: list[Any] = []
        ensureDeferred(auth.password("bob", "localhost", "wrong", "mod_http_api", IP)).addErrback(
            refused.append
        )
        self.assertEqual(refused, [])
        unbanned: list[Any] = []
        BanCommands(limiter).execute(
            "unban_ip", {"address": "192.0.2.7"}, Caller(frontend="ctl")
        ).addCallback(unbanned.append)
        self.assertEqual(unbanned, [])
        applied.callback(None)
        self.assertIsInstance(refused[0].value, Unauthorized)
        self.assertEqual(unbanned, [0])

    def test_failure_without_address(self) -> None:
        """A failure with no address (the control socket) relays and applies as such."""
        shared, sent = state()
        limiter = shared.limiter(lambda: 100.0)
        limiter.failure(None, "bob@localhost")
        shared.apply("failure", [None, "bob@localhost"])
        self.assertEqual(sent, [("failure", [None, "bob@localhost"])])
        # the relayed one is counted in the metrics of the worker it happened in
        self.assertEqual(limiter.failures_total, 1)


class ReloadTests(SynchronousTestCase):
    def test_reload_command_relays_after_success_only(self) -> None:
        """reload_config relays once the file loaded; a broken file relays nothing."""
        path = Path(self.mktemp())
        path.write_text("hosts: [localhost]\nloglevel: info\n")
        shared, sent = state()
        levels = LogLevelControl("info")
        config = load_config(str(path))
        reloader = ConfigReloader(
            config, levels=levels, permissions=permissions_from_config(config)
        )
        command = shared.reload(reloader)
        path.write_text("hosts: [localhost]\nloglevel: debug\n")
        command()
        self.assertEqual(sent, [("reload", None)])
        self.assertEqual(levels.get(), "debug")
        path.write_text("hosts: [\n")
        with self.assertRaises(CommandFailed):
            command()
        self.assertEqual(len(sent), 1)

    def test_relayed_reload_reads_the_file_and_logs_a_broken_one(self) -> None:
        """A relayed reload re-reads the file here; a file that does not load is logged."""
        path = Path(self.mktemp())
        path.write_text("hosts: [localhost]\nloglevel: info\n")
        shared, _ = state()
        levels = LogLevelControl("info")
        config = load_config(str(path))
        reloader = ConfigReloader(
            config, levels=levels, permissions=permissions_from_config(config)
        )
        shared.reload(reloader)
        path.write_text("hosts: [localhost]\nloglevel: error\n")
        shared.apply("reload", None)
        self.assertEqual(levels.get(), "error")
        path.write_text("hosts: [\n")
        shared.apply("reload", None)  # logged, not raised
        self.assertEqual(levels.get(), "error")

    def test_unknown_or_unwired_actions_are_ignored(self) -> None:
        """An action this worker has nothing for is ignored."""
        shared, sent = state()
        shared.apply("loglevel", "debug")
        shared.apply("something new", 1)
        self.assertEqual(sent, [])


class LongAccountTests(SynchronousTestCase):
    def test_huge_account_is_relayed_short_and_counted_alike(self) -> None:
        """A failure naming a huge account relays only its first characters, which the
        receiving limiter counts under the same account as the sender."""
        shared, sent = state()
        here = shared.limiter(lambda: 1.0)
        there_state, _ = state()
        there = there_state.limiter(lambda: 1.0)
        huge = "x" * 1_000_000 + "@localhost"
        here.failure(IP, huge)
        [(_, [_, relayed])] = sent
        self.assertLess(len(relayed), 1000)
        there_state.apply("failure", ["192.0.2.7", relayed])
        self.assertEqual(
            [a.account for a in here.accounts()], [a.account for a in there.accounts()]
        )
