"""Concurrent writes neither lose nor duplicate data, on SQLite and PostgreSQL.

Many commands are started before any finishes, so their transactions really
overlap on the pool threads; a second :class:`Store` on the same database
stands for a second gateway process.
"""

from __future__ import annotations

from typing import Any

from twisted.internet.defer import Deferred, DeferredList, ensureDeferred

from gateway.backends.embedded import EmbeddedBackend
from gateway.engine.errors import TypedCommandError
from gateway.engine.model import ResTuple
from tests.backends.embedded.cases import HOST, Mixin, PostgresCase, SQLiteCase


async def _settle(deferreds: list[Deferred[Any]]) -> tuple[list[Any], list[BaseException]]:
    """Wait for every Deferred; the successes and the failures."""
    results = await DeferredList(deferreds, consumeErrors=True)
    done = [value for ok, value in results if ok]
    failed = [value.value for ok, value in results if not ok]
    return done, failed


class ConcurrencyTests(Mixin):
    async def test_concurrent_registrations(self) -> None:
        """100 distinct and 10 identical registrations at once: 101 accounts, 9 conflicts."""
        calls = [
            ensureDeferred(self.call("register", user=f"user{i:03d}", host=HOST, password="pw"))
            for i in range(100)
        ]
        calls += [
            ensureDeferred(self.call("register", user="dup", host=HOST, password=f"pw{i}"))
            for i in range(10)
        ]
        done, failed = await _settle(calls)
        assert len(done) == 101 and all(isinstance(r, ResTuple) for r in done)
        assert len(failed) == 9
        assert all(isinstance(e, TypedCommandError) and e.status == 10090 for e in failed)
        users = await self.call("registered_users", host=HOST)
        assert users == sorted([f"user{i:03d}" for i in range(100)] + ["dup"])

    async def test_concurrent_roster_writes(self) -> None:
        """60 new contacts and 20 rewrites of one contact at once leave 61 items, groups intact."""
        await self.register("bob")

        def add(contact: str, nick: str, groups: list[str]) -> Deferred[Any]:
            return ensureDeferred(
                self.call(
                    "add_rosteritem",
                    localuser="bob",
                    localhost=HOST,
                    user=contact,
                    host="example.org",
                    nick=nick,
                    groups=groups,
                    subs="both",
                )
            )

        calls = [add(f"c{i:02d}", f"C{i}", [f"g{i}"]) for i in range(60)]
        calls += [add("same", f"v{i}", ["x", "y"]) for i in range(20)]
        done, failed = await _settle(calls)
        assert failed == [] and len(done) == 80
        roster = await self.call("get_roster", user="bob", host=HOST)
        assert len(roster) == 61
        same = [item for item in roster if item[0] == "same@example.org"]
        assert len(same) == 1 and same[0][4] == ["x", "y"]
        assert all(item[4] == [f"g{int(item[0][1:3])}"] for item in roster if item[0] != same[0][0])

    async def test_two_gateways_share_one_store(self) -> None:
        """Two stores on one database registering overlapping names: each name exactly once."""
        other = EmbeddedBackend(await self.open_store(), self.hosts, self.clock)
        calls: list[Deferred[Any]] = []
        for i in range(40):
            calls.append(
                ensureDeferred(self.call("register", user=f"u{i}", host=HOST, password="a"))
            )
            calls.append(other.try_register(f"u{i}", HOST, "b"))
        done, failed = await _settle(calls)
        assert len(done) == 40 and len(failed) == 40
        assert all(isinstance(e, TypedCommandError) and e.kind == "conflict" for e in failed)
        users = await self.call("registered_users", host=HOST)
        assert sorted(users) == sorted(f"u{i}" for i in range(40))


class TestConcurrencySQLite(ConcurrencyTests, SQLiteCase):
    pass


class TestConcurrencyPostgres(ConcurrencyTests, PostgresCase):
    pass
