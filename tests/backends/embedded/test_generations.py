"""Credential generations in the store (schema v5), seen by every store on the same database.

A second store opened on the test's database stands for another worker or
gateway: its bumps must be read here at once, on SQLite and on PostgreSQL.
"""

from __future__ import annotations

from gateway.backends.embedded.generations import StoreGenerations
from tests.backends.embedded.cases import HOST, OTHER, Mixin, PostgresCase, SQLiteCase


class GenerationTests(Mixin):
    async def test_bumps_grow_the_account_only(self) -> None:
        """An account starts at 0; its bumps raise it and leave other accounts alone."""
        generations = StoreGenerations(self.store)
        assert await generations.generation("bob", HOST) == 0
        await generations.bump("bob", HOST)
        await generations.bump("bob", HOST)
        assert await generations.generation("bob", HOST) == 2
        assert await generations.generation("bob", OTHER) == 0
        assert await generations.generation("eve", HOST) == 0

    async def test_bump_all_raises_every_account(self) -> None:
        """bump_all changes the generation of accounts with and without a row of their own."""
        generations = StoreGenerations(self.store)
        await generations.bump("bob", HOST)
        before = [await generations.generation(u, HOST) for u in ("bob", "eve")]
        await generations.bump_all()
        after = [await generations.generation(u, HOST) for u in ("bob", "eve")]
        assert all(a > b for a, b in zip(after, before, strict=True))

    async def test_another_store_sees_bumps_at_once(self) -> None:
        """A bump through a second store on the same database is read here on the next read."""
        here = StoreGenerations(self.store)
        there = StoreGenerations(await self.open_store())
        first = await here.generation("bob", HOST)
        await there.bump("bob", HOST)
        second = await here.generation("bob", HOST)
        await there.bump_all()
        assert first < second < await here.generation("bob", HOST)

    async def test_an_empty_host_is_refused(self) -> None:
        """The all-accounts row cannot be bumped as if it were an account."""
        generations = StoreGenerations(self.store)
        with self.assertRaises(ValueError):
            await generations.bump("", "")


class SQLiteGenerationTests(GenerationTests, SQLiteCase):
    pass


class PostgresGenerationTests(GenerationTests, PostgresCase):
    pass
