"""Issue 8, defect 7: the store and the control socket must be readable by their owner only.

Before the fix ``var/gateway.sqlite3`` (password keys, token hashes) was
created 0644 in a 0755 ``var/``.  Now ``var/``, the store, its WAL and SHM
files and the control socket are owner-only, files left loose by an older
version are fixed at start-up with a warning, and ``gateway-extauth`` (which
opens the same store) creates it owner-only too.
"""

from __future__ import annotations

import stat
import subprocess
from pathlib import Path

import yaml

from tests.hostile import live
from tests.hostile.live import ShippedDaemon
from tests.integration import daemon as _daemon

STORE_FILES = ("gateway.sqlite3", "gateway.sqlite3-wal", "gateway.sqlite3-shm")


def mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


def loose(path: Path) -> bool:
    """Whether group or others have any access to ``path``."""
    return bool(mode(path) & 0o077)


def test_created_owner_only(shipped: ShippedDaemon) -> None:
    """After start-up and a few writes: var/ is 0700; store, WAL, SHM and socket are 0600."""
    var = shipped.workdir / "var"
    with live.normal_client(shipped):
        done = shipped.ctl("register", "carol", "localhost", "carolpass")
        assert done.returncode == 0, done.stdout
    assert mode(var) == 0o700, oct(mode(var))
    for name in STORE_FILES:
        assert (var / name).exists(), name  # WAL and SHM live while the daemon runs
        assert mode(var / name) == 0o600, (name, oct(mode(var / name)))
    socket = var / "gatewayctl.sock"
    assert stat.S_ISSOCK(socket.lstat().st_mode)
    assert not loose(socket), oct(mode(socket))


def test_loose_files_are_fixed_with_a_warning(tmp_path: Path) -> None:
    """Files an older version left world-readable are made owner-only at start, and logged."""
    with live.shipped_daemon(tmp_path):
        pass
    var = tmp_path / "var"
    var.chmod(0o755)
    for path in var.iterdir():
        if path.name.startswith("gateway.sqlite3"):
            path.chmod(0o644)
    (var / "files").chmod(0o755)
    with live.shipped_daemon(tmp_path, register=False) as again:
        status = again.ctl("status")
        assert status.returncode == 0, status.stdout
        for name in STORE_FILES:
            assert mode(var / name) == 0o600, (name, oct(mode(var / name)))
        assert mode(var / "files") == 0o700
        log = again.output()
    assert "gateway.sqlite3" in log and "0644" in log, log
    assert "owner-only" in log, log


def test_extauth_creates_the_store_owner_only(tmp_path: Path) -> None:
    """gateway-extauth opening a store that does not exist yet creates it (and var/) owner-only."""
    config = live.shipped_config(_daemon.free_port(), _daemon.free_port(), _daemon.free_port())
    path = tmp_path / "gateway.yml"
    path.write_text(yaml.safe_dump(config))
    done = subprocess.run(
        [str(_daemon.BIN / "gateway-extauth"), "--config", str(path)],
        input=b"",
        capture_output=True,
        timeout=60,
        env=_daemon.env(),
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    var = tmp_path / "var"
    assert mode(var) == 0o700, oct(mode(var))
    store = var / "gateway.sqlite3"
    assert store.exists()
    for file in var.iterdir():
        if file.name.startswith("gateway.sqlite3"):
            assert mode(file) == 0o600, (file.name, oct(mode(file)))
