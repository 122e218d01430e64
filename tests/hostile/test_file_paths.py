"""Issue 8, defect 2: commands that touch files may only use ``gateway.files_dir``.

Before the fix ``create_rooms_file /some/secret`` echoed the file's first line
in its error and ``dump_config`` wrote wherever the caller said.  Now every
file argument is resolved inside ``var/files`` (the shipped default), and an
error never quotes what a file holds.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

from tests.hostile import live
from tests.hostile.live import ShippedDaemon

ADMIN_AUTH = ("admin@localhost", "adminpass")
SECRET = "TOP-SECRET-LINE-4711"


def files_dir(d: ShippedDaemon) -> Path:
    """Where the shipped configuration's ``files_dir`` lands for this daemon."""
    return d.workdir / "var" / "files"


def api_error(d: ShippedDaemon, command: str, body: dict[str, str]) -> tuple[int, str]:
    """Run ``command`` over /api as the admin; the status and the decoded answer as text."""
    status, _, raw = d.api(command, body, auth=ADMIN_AUTH)
    return status, json.dumps(json.loads(raw))


def test_files_dir_is_created_owner_only(shipped: ShippedDaemon) -> None:
    """The daemon creates var/files at start-up with mode 0700."""
    mode = stat.S_IMODE(files_dir(shipped).stat().st_mode)
    assert mode == 0o700, oct(mode)


def test_reading_outside_is_refused_without_quoting(shipped: ShippedDaemon, tmp_path: Path) -> None:
    """create_rooms_file/push_roster on a file outside files_dir: 400, nothing of it is quoted."""
    secret = tmp_path / "secret.txt"
    secret.write_text(f"{SECRET}\n")
    with live.normal_client(shipped):
        for command, body in (
            ("create_rooms_file", {"file": str(secret)}),
            ("destroy_rooms_file", {"file": str(secret)}),
            ("push_roster_all", {"file": str(secret)}),
            ("push_roster", {"file": str(secret), "user": "alice", "host": "localhost"}),
            ("create_rooms_file", {"file": "/etc/passwd"}),
        ):
            status, text = api_error(shipped, command, body)
            assert status == 400, (command, status, text)
            assert "files directory" in text, text
            assert SECRET not in text and "root:" not in text, text
        done = shipped.ctl("create_rooms_file", str(secret))
        assert done.returncode == 1, done.stdout
        assert SECRET not in done.stdout + done.stderr


def test_writing_outside_is_refused(shipped: ShippedDaemon, tmp_path: Path) -> None:
    """dump_config to an absolute path elsewhere, or with '..', writes nothing and says why."""
    outside = tmp_path / "dump.yml"
    with live.normal_client(shipped):
        for out in (str(outside), "../escaped.yml", "../../escaped.yml", "/tmp/../" + str(outside)):
            status, text = api_error(shipped, "dump_config", {"out": out})
            assert status == 400, (out, status, text)
            assert "files directory" in text, text
    assert not outside.exists()
    assert not (shipped.workdir / "var" / "escaped.yml").exists()
    assert not (shipped.workdir / "escaped.yml").exists()


def test_symlinks_cannot_lead_out(shipped: ShippedDaemon, tmp_path: Path) -> None:
    """A symlink inside files_dir pointing out (a file or a directory) is refused both ways."""
    secret = tmp_path / "secret.txt"
    secret.write_text(f"{SECRET}\n")
    (files_dir(shipped) / "leak.txt").symlink_to(secret)
    (files_dir(shipped) / "outdir").symlink_to(tmp_path)
    for command, body in (
        ("create_rooms_file", {"file": "leak.txt"}),
        ("create_rooms_file", {"file": "outdir/secret.txt"}),
        ("dump_config", {"out": "outdir/new.yml"}),
        ("dump_config", {"out": str(files_dir(shipped) / "outdir" / "new.yml")}),
    ):
        status, text = api_error(shipped, command, body)
        assert status == 400, (command, body, status, text)
        assert SECRET not in text, text
    assert not (tmp_path / "new.yml").exists()


def test_inside_works_and_errors_name_lines_only(shipped: ShippedDaemon) -> None:
    """Paths inside files_dir work (relative or absolute); a bad line is named, not quoted."""
    status, text = api_error(shipped, "dump_config", {"out": "dump.yml"})
    assert status == 200, text
    dumped = files_dir(shipped) / "dump.yml"
    assert stat.S_IMODE(dumped.stat().st_mode) == 0o600
    assert "localhost" in dumped.read_text()

    rooms = files_dir(shipped) / "rooms.txt"
    rooms.write_text(f"ok@conference.localhost\n{SECRET}\n")
    status, text = api_error(shipped, "create_rooms_file", {"file": str(rooms)})
    assert status == 400 and "line 2" in text, text
    assert SECRET not in text, text
    rooms.write_text("lobby@conference.localhost\n")
    status, text = api_error(shipped, "create_rooms_file", {"file": "rooms.txt"})
    assert (status, text) == (200, "0"), text
    options = shipped.ctl("get_room_options", "lobby", "conference.localhost")
    assert options.returncode == 0, options.stdout


def test_missing_and_special_files(shipped: ShippedDaemon) -> None:
    """A missing file is a plain error; a FIFO inside files_dir is refused, not read (no hang)."""
    status, text = api_error(shipped, "create_rooms_file", {"file": "nothing-here.txt"})
    assert status == 400 and "No such file" in text, text
    fifo = files_dir(shipped) / "pipe"
    os.mkfifo(fifo)
    with live.normal_client(shipped):
        status, text = api_error(shipped, "create_rooms_file", {"file": "pipe"})
    assert status == 400 and "not a regular file" in text, text
