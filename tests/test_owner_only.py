"""Owner-only directories and files for the store, the socket and dumps (gateway.owner_only)."""

from __future__ import annotations

import os
import shutil
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from twisted.internet import reactor
from twisted.internet.defer import ensureDeferred
from twisted.logger import capturedLogs, formatEvent
from twisted.trial import unittest

from gateway.backends.embedded import open_store
from gateway.backends.embedded.dialect import prepare_sqlite_file
from gateway.owner_only import create_private_file, ensure_private_dir, tighten


def mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


@pytest.fixture
def permissive_umask() -> Iterator[None]:
    """Run with umask 022, so only explicit modes can keep files private."""
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


@pytest.mark.usefixtures("permissive_umask")
def test_every_created_level_is_private(tmp_path: Path) -> None:
    """ensure_private_dir makes each directory it creates 0700, not only the last one."""
    ensure_private_dir(str(tmp_path / "a" / "b" / "c"))
    for path in (tmp_path / "a", tmp_path / "a" / "b", tmp_path / "a" / "b" / "c"):
        assert mode(path) == 0o700, path


def test_existing_directory_tightened_or_reported(tmp_path: Path) -> None:
    """A loose existing directory is made 0700 when asked, otherwise only warned about."""
    loose = tmp_path / "loose"
    loose.mkdir(mode=0o755)
    loose.chmod(0o755)
    with capturedLogs() as events:
        ensure_private_dir(str(loose), tighten_existing=False)
    assert mode(loose) == 0o755
    assert any("chmod go-rwx" in formatEvent(e) for e in events)
    with capturedLogs() as events:
        ensure_private_dir(str(loose))
    assert mode(loose) == 0o700
    assert any("mode 0755" in formatEvent(e) for e in events)


def test_not_a_directory(tmp_path: Path) -> None:
    """A file where the directory should be is an error, not silently accepted."""
    (tmp_path / "file").write_text("")
    with pytest.raises(OSError):
        ensure_private_dir(str(tmp_path / "file"))


def test_tighten_files(tmp_path: Path) -> None:
    """tighten removes group/other bits with a warning; private, missing or links are left alone."""
    loose, private = tmp_path / "loose", tmp_path / "private"
    loose.write_text("")
    loose.chmod(0o644)
    private.write_text("")
    private.chmod(0o600)
    (tmp_path / "link").symlink_to(loose)
    with capturedLogs() as events:
        assert tighten(str(loose)) is True
        assert tighten(str(private)) is False
        assert tighten(str(tmp_path / "missing")) is False
        assert tighten(str(tmp_path / "link")) is False
    assert (mode(loose), mode(private)) == (0o600, 0o600)
    assert [formatEvent(e) for e in events] == [
        f"{loose} was readable by others (mode 0644); made owner-only (0600)"
    ]


def test_foreign_files_are_reported_not_changed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A loose path owned by another account is warned about and left as it is."""
    path = tmp_path / "theirs"
    path.write_text("")
    path.chmod(0o644)
    monkeypatch.setattr(os, "geteuid", lambda: path.stat().st_uid + 1)
    with capturedLogs() as events:
        assert tighten(str(path)) is False
    assert mode(path) == 0o644
    assert any("accessible to others" in formatEvent(e) for e in events)


@pytest.mark.usefixtures("permissive_umask")
def test_private_file_created_once(tmp_path: Path) -> None:
    """create_private_file makes a missing file 0600 and leaves an existing one untouched."""
    path = tmp_path / "store"
    create_private_file(str(path))
    assert mode(path) == 0o600
    path.write_text("data")
    create_private_file(str(path))
    assert path.read_text() == "data"


@pytest.mark.usefixtures("permissive_umask")
def test_sqlite_file_prepared_private(tmp_path: Path) -> None:
    """prepare_sqlite_file creates the directories and the database owner-only, fixing old files."""
    target = tmp_path / "var" / "gateway.sqlite3"
    prepare_sqlite_file(str(target))
    assert (mode(tmp_path / "var"), mode(target)) == (0o700, 0o600)
    for suffix in ("", "-wal", "-shm"):
        path = Path(f"{target}{suffix}")
        path.touch()
        path.chmod(0o644)
    prepare_sqlite_file(str(target))
    for suffix in ("", "-wal", "-shm"):
        assert mode(Path(f"{target}{suffix}")) == 0o600, suffix


class StoreFilesTests(unittest.TestCase):
    def setUp(self) -> None:
        self.old_umask = os.umask(0o022)
        self.addCleanup(os.umask, self.old_umask)
        # not trial's mktemp, which leaves the directory below the working directory
        parent = tempfile.mkdtemp(prefix="gateway-owner-only-")
        self.addCleanup(shutil.rmtree, parent, True)
        self.directory = Path(parent) / "store"

    async def _open_and_write(self) -> None:
        store = open_store(f"sqlite:{self.directory}/var/gateway.sqlite3", reactor)
        self.addCleanup(store.close)
        await store.write(lambda tx: tx.execute("CREATE TABLE probe (x INTEGER)"))
        var = self.directory / "var"
        assert mode(var) == 0o700
        names = sorted(p.name for p in var.iterdir())
        assert names == ["gateway.sqlite3", "gateway.sqlite3-shm", "gateway.sqlite3-wal"], names
        for path in var.iterdir():
            assert mode(path) == 0o600, (path.name, oct(mode(path)))

    def test_store_files_are_private(self) -> object:
        """A real SQLite store (database, WAL and SHM) is owner-only even under umask 022."""
        return ensureDeferred(self._open_and_write())
