"""``stats`` and ``stats_host`` answered by the embedded store, on SQLite and PostgreSQL."""

from __future__ import annotations

from gateway.engine.errors import CommandFailed, NotSupported
from tests.backends.embedded.cases import HOST, OTHER, Mixin, PostgresCase, SQLiteCase


class StatsTests(Mixin):
    async def test_registered_users_counts(self) -> None:
        """registeredusers counts every served host's accounts, or one host's."""
        assert await self.call("stats", name="registeredusers") == 0
        for user in ("a", "b", "c"):
            await self.register(user)
        await self.register("d", host=OTHER)
        assert await self.call("stats", name="registeredusers") == 4
        assert await self.call("stats_host", name="registeredusers", host=HOST) == 3
        assert await self.call("stats_host", name="registeredusers", host="EXAMPLE.net") == 1
        await self.call("unregister", user="a", host=HOST)
        assert await self.call("stats_host", name="registeredusers", host=HOST) == 2

    async def test_online_figures_are_refused_honestly(self) -> None:
        """Online counts are not_supported, saying sessions live in the XMPP server."""
        for command, args in (
            ("stats", {"name": "onlineusers"}),
            ("stats", {"name": "onlineusersnode"}),
            ("stats_host", {"name": "onlineusers", "host": HOST}),
        ):
            error = await self.fails(command, **args)
            assert isinstance(error, NotSupported)
            assert error.code == "not_supported"
            assert "sessions live in the XMPP server" in error.message
            assert args["name"] in error.message

    async def test_daemon_figures_are_not_the_stores(self) -> None:
        """uptimeseconds and processes reaching the backend are not_supported (the gateway's)."""
        for name in ("uptimeseconds", "processes"):
            error = await self.fails("stats", name=name)
            assert isinstance(error, NotSupported) and name in error.message

    async def test_unknown_names_and_hosts(self) -> None:
        """Unknown statistic names list the accepted ones; unknown hosts are named."""
        error = await self.fails("stats", name="users")
        assert isinstance(error, CommandFailed)
        assert "Unknown statistic 'users'" in error.message and "uptimeseconds" in error.message
        error = await self.fails("stats_host", name="uptimeseconds", host=HOST)
        assert "registeredusers, onlineusers" in error.message
        error = await self.fails("stats_host", name="registeredusers", host="nowhere.org")
        assert error.message == "Unknown virtual host"


class TestStatsSQLite(StatsTests, SQLiteCase):
    pass


class TestStatsPostgres(StatsTests, PostgresCase):
    pass
