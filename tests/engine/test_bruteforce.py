"""The brute-force limiter (gateway.engine.bruteforce) and unban_ip (gateway.engine.bans)."""

from __future__ import annotations

import ipaddress
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from twisted.internet.testing import Clock
from twisted.trial.unittest import SynchronousTestCase

from gateway.backends.chain import ExecutorChain
from gateway.engine.bans import BanCommands, parse_unban_address
from gateway.engine.bruteforce import FailureLimiter
from gateway.engine.builtin import GatewayCommands
from gateway.engine.errors import NotSupported, TooManyFailures
from gateway.engine.model import Caller, CommandCall
from gateway.logs import LogLevelControl
from tests.engine.helpers import make_engine

A = ipaddress.ip_address("192.0.2.1")
B = ipaddress.ip_address("192.0.2.2")
V6 = ipaddress.ip_address("2001:db8::1")


def limiter(clock: Clock, **options: Any) -> FailureLimiter:
    settings = {"max_failures": 3, "window": 10.0, "ban_time": 100.0, **options}
    return FailureLimiter(clock.seconds, **settings)


def fail_times(limit: FailureLimiter, ip: Any, count: int, account: str | None = None) -> None:
    for _ in range(count):
        limit.failure(ip, account)


class LimiterTests(SynchronousTestCase):
    def setUp(self) -> None:
        self.clock = Clock()
        self.limit = limiter(self.clock)

    def banned_for(self, ip: Any) -> int | None:
        """The Retry-After a request from ``ip`` gets, ``None`` when it is served."""
        try:
            self.limit.check(ip)
        except TooManyFailures as e:
            return e.retry_after
        return None

    def test_below_the_limit_is_served(self) -> None:
        """Fewer than max_failures failures do not ban."""
        fail_times(self.limit, A, 2)
        self.assertIsNone(self.banned_for(A))
        self.assertEqual(self.limit.failures(A), 2)

    def test_limit_bans_for_ban_time(self) -> None:
        """max_failures within the window ban the address for ban_time, then it is served."""
        fail_times(self.limit, A, 3)
        self.assertEqual(self.banned_for(A), 100)
        self.clock.advance(99.5)
        self.assertEqual(self.banned_for(A), 1, "Retry-After is rounded up, never 0")
        self.clock.advance(0.5)
        self.assertIsNone(self.banned_for(A))
        self.assertEqual(self.limit.failures(A), 0, "a ban that ended leaves no count behind")

    def test_window_slides(self) -> None:
        """Failures older than the window no longer count."""
        fail_times(self.limit, A, 2)
        self.clock.advance(10.0)
        self.limit.failure(A)
        self.assertIsNone(self.banned_for(A))
        self.assertEqual(self.limit.failures(A), 1)
        self.clock.advance(5.0)
        fail_times(self.limit, A, 2)
        self.assertIsNotNone(self.banned_for(A))

    def test_bans_are_per_address(self) -> None:
        """Another address is not banned by A's failures, even naming the same account."""
        fail_times(self.limit, A, 3, "admin@localhost")
        self.assertIsNotNone(self.banned_for(A))
        self.assertIsNone(self.banned_for(B))
        fail_times(self.limit, B, 2, "admin@localhost")
        self.assertIsNone(self.banned_for(B))

    def test_account_failures_never_ban(self) -> None:
        """Failures naming one account from many addresses are counted but ban none of them."""
        for n in range(10):
            self.limit.failure(ipaddress.ip_address(f"198.51.100.{n}"), "admin@localhost")
        accounts = self.limit.accounts()
        self.assertEqual([(a.account, a.failures) for a in accounts], [("admin@localhost", 10)])
        self.assertEqual(self.limit.bans(), [])

    def test_no_address_is_never_banned(self) -> None:
        """A caller without an address (the control socket) is neither counted nor banned."""
        fail_times(self.limit, None, 10, "admin@localhost")
        self.assertIsNone(self.banned_for(None))
        self.assertEqual(self.limit.bans(), [])
        self.assertEqual(self.limit.accounts()[0].failures, 10)

    def test_exempt_networks(self) -> None:
        """Exempt addresses are never banned; loopback is not exempt unless listed."""
        limit = limiter(self.clock, exempt=[ipaddress.ip_network("192.0.2.0/24")])
        fail_times(limit, A, 10)
        limit.check(A)
        loopback = ipaddress.ip_address("127.0.0.1")
        fail_times(limit, loopback, 3)
        self.assertRaises(TooManyFailures, limit.check, loopback)

    def test_ipv4_mapped_is_the_same_address(self) -> None:
        """::ffff:192.0.2.1 and 192.0.2.1 share one count and one ban."""
        mapped = ipaddress.ip_address("::ffff:192.0.2.1")
        fail_times(self.limit, mapped, 2)
        self.limit.failure(A)
        self.assertRaises(TooManyFailures, self.limit.check, mapped)
        self.assertRaises(TooManyFailures, self.limit.check, A)

    def test_failures_during_a_ban_do_not_extend_it(self) -> None:
        """Attempts that were already running when the ban began add to its count only."""
        fail_times(self.limit, A, 3)
        self.clock.advance(50)
        fail_times(self.limit, A, 2)
        self.assertEqual(self.banned_for(A), 50)
        self.assertEqual([(b.address, b.failures) for b in self.limit.bans()], [(A, 5)])

    def test_clock_set_back_does_not_stretch_a_ban(self) -> None:
        """A wall clock moved backwards leaves at most ban_time to wait."""
        self.clock.advance(10_000)
        fail_times(self.limit, A, 3)
        self.clock.rightNow = 0.0
        self.assertEqual(self.banned_for(A), 100)

    def test_unban_lifts_bans_in_a_network(self) -> None:
        """unban counts the bans it lifts and forgets the counts of the addresses it covers."""
        fail_times(self.limit, A, 3)
        fail_times(self.limit, B, 3)
        other = ipaddress.ip_address("198.51.100.1")
        fail_times(self.limit, other, 3)
        counting = ipaddress.ip_address("192.0.2.3")
        fail_times(self.limit, counting, 2)
        self.assertEqual(self.limit.unban(ipaddress.ip_network("192.0.2.0/24")), 2)
        self.assertIsNone(self.banned_for(A))
        self.assertIsNone(self.banned_for(B))
        self.assertIsNotNone(self.banned_for(other))
        self.assertEqual(self.limit.failures(counting), 0)
        self.assertEqual(self.limit.unban(ipaddress.ip_network("::/0")), 0)

    def test_addresses_are_bounded(self) -> None:
        """A flood of distinct addresses keeps max_addresses counted, dropping the oldest."""
        limit = limiter(self.clock, max_addresses=5)
        for n in range(50):
            limit.failure(ipaddress.ip_address(f"10.0.0.{n}"))
            self.clock.advance(0.01)
        self.assertEqual(limit.failures(ipaddress.ip_address("10.0.0.49")), 1)
        self.assertEqual(limit.failures(ipaddress.ip_address("10.0.0.0")), 0)
        self.assertEqual(len(limit._counting), 5)

    def test_bans_are_bounded(self) -> None:
        """At most max_addresses bans are kept; the one closest to its end goes first."""
        limit = limiter(self.clock, max_addresses=2, max_failures=1)
        for n in range(4):
            limit.failure(ipaddress.ip_address(f"10.0.0.{n}"))
            self.clock.advance(1)
        self.assertEqual(
            [str(b.address) for b in limit.bans()], ["10.0.0.2", "10.0.0.3"], "newest bans kept"
        )

    def test_accounts_are_bounded_and_expire(self) -> None:
        """Account counts are capped and forgotten a window after their latest failure."""
        limit = limiter(self.clock, max_accounts=3)
        for n in range(10):
            limit.failure(None, f"user{n}@localhost")
        self.assertEqual(
            sorted(a.account for a in limit.accounts()),
            ["user7@localhost", "user8@localhost", "user9@localhost"],
        )
        self.clock.advance(10.0)
        self.assertEqual(limit.accounts(), [])

    def test_account_names_are_made_safe_to_show(self) -> None:
        """Names are lower-cased, control characters replaced and long ones cut."""
        self.limit.failure(None, "Admin@LocalHost\nThe node is stopped")
        self.limit.failure(None, "x" * 5000)
        names = sorted(a.account for a in self.limit.accounts())
        self.assertEqual(names[0], "admin@localhost?the node is stopped")
        self.assertEqual(names[1], "x" * 100 + "…")

    def test_status_lines(self) -> None:
        """status lists nothing when nobody fails, else the bans and how many accounts failed.

        Account names are not shown: anonymous callers may run status.
        """
        self.assertEqual(self.limit.status_lines(), [])
        fail_times(self.limit, A, 3, "admin@localhost")
        self.limit.failure(B, "bob@localhost")
        self.clock.advance(4)
        self.assertEqual(
            self.limit.status_lines(),
            [
                "Failed logins: 1 address banned, 1 other address and 2 accounts with recent "
                "failures (3 within 10 s ban an address for 100 s)",
                "  banned 192.0.2.1 for 96 s more after 3 failed logins",
            ],
        )

    def test_guessed_account_is_logged_not_listed(self) -> None:
        """Every max_failures failures naming one account log one warning that names it."""
        from twisted.logger import globalLogPublisher

        seen: list[dict[str, Any]] = []
        globalLogPublisher.addObserver(seen.append)
        try:
            fail_times(self.limit, A, 2, "admin@localhost")
            self.limit.failure(B, "admin@localhost")
        finally:
            globalLogPublisher.removeObserver(seen.append)
        named = [e for e in seen if e.get("account") == "admin@localhost"]
        self.assertEqual(len(named), 1)
        self.assertEqual(named[0]["failures"], 3)
        self.assertNotIn("admin@localhost", "\n".join(self.limit.status_lines()))

    def test_status_lists_are_capped(self) -> None:
        """At most 20 bans are listed, then how many more there are."""
        limit = limiter(self.clock, max_failures=1)
        for n in range(25):
            limit.failure(ipaddress.ip_address(f"10.0.0.{n}"), f"u{n}@h")
        lines = limit.status_lines()
        self.assertIn("  … and 5 more bans", lines)
        self.assertEqual(len(lines), 1 + 20 + 1)

    def test_bad_settings(self) -> None:
        """Non-positive limits are refused."""
        for options in ({"max_failures": 0}, {"window": 0}, {"ban_time": -1}, {"max_accounts": 0}):
            self.assertRaises(ValueError, limiter, self.clock, **options)


class ModelTests(SynchronousTestCase):
    @settings(max_examples=200, deadline=None)
    @given(
        st.lists(
            st.tuples(st.integers(0, 3), st.sampled_from([0.0, 0.5, 1.0, 4.0, 30.0])),
            max_size=80,
        )
    )
    def test_matches_a_naive_model(self, events: list[tuple[int, float]]) -> None:
        """Bans match a model keeping every failure time: max_failures within window, ban_time."""
        clock = Clock()
        limit = limiter(clock)
        history: dict[int, list[float]] = {}
        until: dict[int, float] = {}
        for who, step in events:
            clock.advance(step)
            now = clock.seconds()
            ip = ipaddress.ip_address(f"10.0.0.{who}")
            banned = until.get(who, -1.0) > now
            try:
                limit.check(ip)
                refused = False
            except TooManyFailures:
                refused = True
            self.assertEqual(refused, banned, (who, now))
            if banned:
                continue
            history.setdefault(who, []).append(now)
            recent = [t for t in history[who] if t > now - 10.0]
            if len(recent) >= 3:
                until[who] = now + 100.0
                history[who] = []
            limit.failure(ip)


class UnbanAddressTests(SynchronousTestCase):
    def test_addresses_and_networks(self) -> None:
        """Addresses, masks (host bits ignored) and IPv4-mapped IPv6 read as mod_fail2ban does."""
        cases = {
            "127.0.0.2": "127.0.0.2/32",
            " 10.1.2.3/8 ": "10.0.0.0/8",
            "::FFFF:127.0.0.1/128": "127.0.0.1/32",
            "::ffff:10.0.0.0/104": "10.0.0.0/8",
            "2001:db8::/32": "2001:db8::/32",
        }
        for text, expected in cases.items():
            self.assertEqual(str(parse_unban_address(text)), expected, text)

    def test_not_an_address(self) -> None:
        """Text that is no address gives None."""
        for text in ("", "junk", "300.1.1.1", "10.0.0.0/33"):
            self.assertIsNone(parse_unban_address(text), text)


class UnbanCommandTests(SynchronousTestCase):
    def setUp(self) -> None:
        self.clock = Clock()
        self.limit = limiter(self.clock)
        gateway = ExecutorChain(
            "gateway",
            [
                GatewayCommands(["localhost"], LogLevelControl(), node="gw@test"),
                BanCommands(self.limit),
            ],
        )
        self.engine = make_engine(gateway, gateway=gateway)

    def unban(self, address: str) -> Any:
        call = CommandCall("unban_ip", [("address", address)], frontend="ejabberd_ctl")
        return self.successResultOf(self.engine.call(call)).value

    def test_unban_ip_through_the_engine(self) -> None:
        """unban_ip answers the number of bans lifted, and lifts them."""
        fail_times(self.limit, A, 3)
        fail_times(self.limit, V6, 3)
        self.assertEqual(self.unban("192.0.2.0/24"), 1)
        self.limit.check(A)
        self.assertRaises(TooManyFailures, self.limit.check, V6)
        self.assertEqual(self.unban("192.0.2.1"), 0)

    def test_invalid_address(self) -> None:
        """An address that cannot be read answers -1, like mod_fail2ban."""
        self.assertEqual(self.unban("not-an-ip"), -1)

    def test_only_unban_ip(self) -> None:
        """The executor claims unban_ip alone and refuses anything else it is handed."""
        commands = BanCommands(self.limit)
        self.assertTrue(commands.supports("unban_ip"))
        self.assertFalse(commands.supports("unban_account"))
        caller = Caller("ejabberd_ctl")
        self.failureResultOf(commands.execute("status", {}, caller), NotSupported)
