"""The embedded store itself: DSNs, transactions, schema versions and migrations."""

from __future__ import annotations

import shutil
import sqlite3
import tempfile
from pathlib import Path

import pytest
from twisted.internet import reactor
from twisted.trial import unittest

from gateway.backends.embedded.dialect import Dialect, _to_pyformat, parse_dsn
from gateway.backends.embedded.migrations import (
    SchemaError,
    latest_version,
    migrate,
    schema_steps,
    split_statements,
)
from gateway.backends.embedded.startup import open_store
from gateway.backends.embedded.store import Tx
from tests.backends.embedded.cases import (
    NOW,
    MemoryCase,
    Mixin,
    PostgresCase,
    SQLiteCase,
)

# -- pure helpers -------------------------------------------------------------------------------


def test_parse_dsn_forms() -> None:
    """The three store forms parse; SQLite defaults to synchronous=FULL."""
    assert parse_dsn("sqlite:var/gw.sqlite").target == "var/gw.sqlite"
    assert parse_dsn("sqlite:var/gw.sqlite").synchronous == "FULL"
    assert parse_dsn("sqlite::memory:").in_memory
    assert parse_dsn("sqlite:x.db?synchronous=normal").synchronous == "NORMAL"
    pg = parse_dsn("postgresql://u:p@db:5432/gateway")
    assert (pg.engine, pg.target) == ("postgresql", "postgresql://u:p@db:5432/gateway")


@pytest.mark.parametrize(
    "dsn", ["mysql://x", "sqlite:", "sqlite:x.db?journal=off", "sqlite:x?synchronous=off", ""]
)
def test_parse_dsn_rejects(dsn: str) -> None:
    """Anything but the documented forms is a ValueError that names them."""
    with pytest.raises(ValueError, match="(?i)sqlite"):
        parse_dsn(dsn)


def test_placeholders_for_postgresql() -> None:
    """``?`` becomes ``%s`` outside string literals, and a literal ``%`` is doubled."""
    assert _to_pyformat("SELECT a FROM t WHERE b = ? AND c = '?' AND d LIKE 'x%'") == (
        "SELECT a FROM t WHERE b = %s AND c = '?' AND d LIKE 'x%%'"
    )
    assert Dialect("sqlite").sql("SELECT ?") == "SELECT ?"
    assert Dialect("postgresql").sql("SELECT ?") == "SELECT %s"


def test_split_statements_drops_comments() -> None:
    """Schema files split on semicolons, with ``--`` comments removed."""
    script = "-- header\nCREATE TABLE a (x TEXT); -- trailing\n\nCREATE INDEX i ON a (x);\n"
    assert list(split_statements(script)) == ["CREATE TABLE a (x TEXT)", "CREATE INDEX i ON a (x)"]


def test_packaged_schema_starts_at_v1() -> None:
    """The packaged schema files form an unbroken chain starting with v1.sql."""
    steps = schema_steps()
    assert [v for v, _ in steps] == list(range(1, len(steps) + 1))
    assert "CREATE TABLE accounts" in steps[0][1]


def _schema_dir(base: Path, *files: tuple[str, str]) -> Path:
    """A fresh directory under ``base`` holding the given schema files."""
    directory = Path(tempfile.mkdtemp(prefix="schema-", dir=base))
    for name, text in files:
        (directory / name).write_text(text)
    return directory


def test_missing_upgrade_is_an_error(tmp_path: Path) -> None:
    """A gap in the upgrade files (v1, v3) is reported instead of skipped."""
    source = _schema_dir(
        tmp_path, ("v1.sql", "CREATE TABLE a (x TEXT);"), ("upgrade-v3.sql", "SELECT 1;")
    )
    with pytest.raises(SchemaError, match="v2 is missing"):
        schema_steps(source)


# -- against each engine ------------------------------------------------------------------------


class StoreTests(Mixin):
    """Behaviour every engine must share (mixed into trial test cases)."""

    def _scratch(self) -> Path:
        directory = tempfile.mkdtemp(prefix="gateway-schema-")
        self.addCleanup(shutil.rmtree, directory, True)
        return Path(directory)

    async def test_fresh_store_has_latest_schema(self) -> None:
        """Opening an empty database creates the schema and records its version."""
        versions = await self.store.read(
            lambda tx: tx.all("SELECT version, applied_at FROM schema_version ORDER BY version")
        )
        assert [v for v, _ in versions] == list(range(1, latest_version() + 1))

    async def test_reopen_keeps_data_and_schema(self) -> None:
        """A second open of the same database migrates nothing and sees earlier writes."""
        await self.register("alice")
        self.store.close()
        again = await self.open_store()
        rows = await again.read(lambda tx: tx.all("SELECT username FROM accounts"))
        assert rows == [("alice",)]
        versions = await again.read(lambda tx: tx.all("SELECT version FROM schema_version"))
        assert len(versions) == latest_version()

    async def test_failed_write_rolls_back(self) -> None:
        """An exception inside a write function undoes everything that function wrote."""

        def half(tx: Tx) -> None:
            tx.execute("INSERT INTO schema_version (version, applied_at) VALUES (?, ?)", (999, NOW))
            raise RuntimeError("stop")

        with pytest.raises(RuntimeError):
            await self.store.write(half)
        left = await self.store.read(
            lambda tx: tx.scalar("SELECT COUNT(*) FROM schema_version WHERE version = 999")
        )
        assert left == 0

    async def test_placeholders_and_percent_round_trip(self) -> None:
        """``?`` parameters and literal ``%`` work the same on every engine."""
        value = await self.store.read(lambda tx: tx.scalar("SELECT ? || '%'", ("100",)))
        assert value == "100%"

    async def test_upgrade_applies_in_order_and_keeps_data(self) -> None:
        """An upgrade file runs once, after v1, on a store that has data."""
        v1 = ("v1.sql", "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL);")
        v2 = ("upgrade-v2.sql", "ALTER TABLE notes ADD COLUMN tag TEXT NOT NULL DEFAULT 'x';")
        await self.store.write(lambda tx: tx.execute("DROP TABLE schema_version"))
        await self.store.write(lambda tx: migrate(tx, NOW, _schema_dir(self._scratch(), v1)))
        await self.store.write(
            lambda tx: tx.execute("INSERT INTO notes (id, body) VALUES (?, ?)", (1, "kept"))
        )
        assert (
            await self.store.write(
                lambda tx: migrate(tx, NOW, _schema_dir(self._scratch(), v1, v2))
            )
            == 2
        )
        # running it again is a no-op
        assert (
            await self.store.write(
                lambda tx: migrate(tx, NOW, _schema_dir(self._scratch(), v1, v2))
            )
            == 2
        )
        rows = await self.store.read(lambda tx: tx.all("SELECT id, body, tag FROM notes"))
        assert rows == [(1, "kept", "x")]

    async def test_failed_upgrade_changes_nothing(self) -> None:
        """A broken upgrade leaves the schema and its version as they were."""
        v1 = ("v1.sql", "CREATE TABLE notes (id INTEGER PRIMARY KEY);")
        bad = ("upgrade-v2.sql", "CREATE TABLE extra (x TEXT); THIS IS NOT SQL;")
        await self.store.write(lambda tx: tx.execute("DROP TABLE schema_version"))
        await self.store.write(lambda tx: migrate(tx, NOW, _schema_dir(self._scratch(), v1)))
        with pytest.raises(Exception):  # noqa: B017 - each driver raises its own syntax error
            await self.store.write(
                lambda tx: migrate(tx, NOW, _schema_dir(self._scratch(), v1, bad))
            )
        version = await self.store.read(
            lambda tx: tx.scalar("SELECT MAX(version) FROM schema_version")
        )
        assert version == 1
        # the first statement of the failed upgrade was rolled back too
        await self.store.write(lambda tx: tx.execute("CREATE TABLE extra (x TEXT)"))

    async def test_newer_store_is_refused(self) -> None:
        """A store written by a newer gateway is not touched by an older one."""
        await self.store.write(
            lambda tx: tx.execute(
                "INSERT INTO schema_version (version, applied_at) VALUES (?, ?)", (99, NOW)
            )
        )
        with pytest.raises(SchemaError, match="v99"):
            await self.store.write(lambda tx: migrate(tx, NOW))


#: tables that upgrade-v2.sql and later add, newest and children first (their indexes go too)
V2_TABLES = (
    "xmpp_outbound_seq", "xmpp_outbound",
    "password_digests",
    "muc_nicks", "muc_subscribers", "muc_affiliations", "muc_room_options", "muc_rooms",
    "srg_members", "srg_displayed", "srg_groups",
)  # fmt: skip


def _back_to_v1(tx: Tx) -> None:
    for table in V2_TABLES:
        tx.execute(f"DROP TABLE {table}")
    tx.execute("DELETE FROM schema_version WHERE version > 1")


def _back_to_v2(tx: Tx) -> None:
    tx.execute("DROP TABLE xmpp_outbound_seq")
    tx.execute("DROP TABLE xmpp_outbound")
    tx.execute("DROP INDEX muc_affiliations_jid")
    tx.execute("DROP INDEX muc_nicks_jid")
    tx.execute("DROP TABLE password_digests")
    tx.execute("DELETE FROM schema_version WHERE version > 2")


class ReopenTests(Mixin):
    """For stores that outlive their Store object (files and PostgreSQL)."""

    async def test_v2_store_upgraded_to_v3(self) -> None:
        """A store at schema v2 gets the password digest table when opened, data kept."""
        await self.register("old")
        await self.store.write(_back_to_v2)
        self.store.close()
        upgraded = await self.open_store()
        versions = await upgraded.read(
            lambda tx: tx.all("SELECT version FROM schema_version ORDER BY version")
        )
        assert [v for (v,) in versions][:3] == [1, 2, 3]
        assert await upgraded.read(lambda tx: tx.all("SELECT username FROM accounts")) == [("old",)]
        digests = await upgraded.read(lambda tx: tx.scalar("SELECT COUNT(*) FROM password_digests"))
        assert digests == 0

    async def test_v1_store_upgraded_on_open(self) -> None:
        """A store left at schema v1 gets the packaged upgrades when opened, data kept."""
        await self.register("old")
        await self.store.write(_back_to_v1)
        self.store.close()
        upgraded = await self.open_store()
        versions = await upgraded.read(
            lambda tx: tx.all("SELECT version FROM schema_version ORDER BY version")
        )
        assert [v for (v,) in versions] == list(range(1, latest_version() + 1))
        assert await upgraded.read(lambda tx: tx.all("SELECT username FROM accounts")) == [("old",)]
        assert await upgraded.read(lambda tx: tx.scalar("SELECT COUNT(*) FROM srg_groups")) == 0


class TestStoreSQLite(ReopenTests, StoreTests, SQLiteCase):
    async def test_file_and_directory_created_with_wal(self) -> None:
        """``sqlite:PATH`` creates the missing directory and uses WAL with synchronous=FULL."""
        path = self.dsn()[len("sqlite:") :]
        assert Path(path).is_file()
        mode = await self.store.read(lambda tx: tx.scalar("PRAGMA journal_mode"))
        sync = await self.store.read(lambda tx: tx.scalar("PRAGMA synchronous"))
        assert (mode, sync) == ("wal", 2)

    async def test_foreign_keys_enforced(self) -> None:
        """Rows that point at a missing account are refused (foreign keys are on)."""
        with pytest.raises(sqlite3.IntegrityError):
            await self.store.write(
                lambda tx: tx.execute(
                    "INSERT INTO bans (host, username, reason, banned_at) VALUES (?, ?, ?, ?)",
                    ("localhost", "ghost", "r", NOW),
                )
            )


class TestStoreMemory(StoreTests, MemoryCase):
    async def test_reopen_keeps_data_and_schema(self) -> None:
        """An in-memory store is private to its Store: a second open starts empty."""
        await self.register("alice")
        again = await self.open_store()
        assert await again.read(lambda tx: tx.all("SELECT username FROM accounts")) == []


class TestStorePostgres(ReopenTests, StoreTests, PostgresCase):
    pass


class TestOpenFailures(unittest.TestCase):
    def test_unreachable_postgresql_fails(self) -> None:
        """A PostgreSQL DSN that cannot be reached fails the open with the driver's error."""
        with pytest.raises(Exception, match="(?i)connect|refused"):
            open_store("postgresql://nobody@127.0.0.1:1/none?connect_timeout=2", reactor)

    def test_bad_dsn_fails(self) -> None:
        """A malformed DSN fails the open with ValueError before touching anything."""
        with pytest.raises(ValueError):
            open_store("oracle://x", reactor)
