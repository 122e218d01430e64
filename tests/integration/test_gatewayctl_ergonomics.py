"""gatewayctl's ``--json``, ``help tags`` and ``completion bash`` against the real daemon."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from tests.integration import daemon
from tests.paths import REPO


def test_json_help_tags_and_completion(tmp_path: Path) -> None:
    """``--json`` prints what /api answers, ``help tags`` lists the tags, completion is shipped.

    The /api answers come from the same daemon, called as its admin.
    """
    with daemon.running_daemon(tmp_path) as d:
        assert d.ctl("register", "admin", "localhost", "secret").returncode == 0
        assert d.ctl("register", "alice", "localhost", "pw").returncode == 0
        admin = ("admin@localhost", "secret")

        listed = d.ctl("--json", "registered_users", "localhost")
        status, expected = daemon.post_json(
            d.http_port, "registered_users", {"host": "localhost"}, auth=admin
        )
        assert (listed.returncode, status) == (0, 200)
        assert json.loads(listed.stdout) == expected == ["admin", "alice"]

        wrapped = d.ctl("--json", "--version", "0", "check_account", "alice", "localhost")
        assert (wrapped.returncode, wrapped.stdout) == (0, "0\n")
        missing = d.ctl("--json", "check_account", "nobody", "localhost")
        assert (missing.returncode, missing.stdout) == (1, "1\n")

        unknown = d.ctl("--json", "no_such_command")
        status, body = daemon.post_json(d.http_port, "no_such_command", {}, auth=admin)
        assert unknown.returncode == 1
        assert json.loads(unknown.stdout) == body
        assert status == 404

        tags = d.ctl("help", "tags")
        assert tags.returncode == 0
        assert tags.stdout.startswith("Available tags and commands:\n")
        assert "\n  documentation\n     gen_html_doc_for_commands, " in tags.stdout

    completion = subprocess.run(
        [str(daemon.BIN / "gatewayctl"), "completion", "bash"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert completion.returncode == 0
    assert completion.stdout == (REPO / "conf" / "gatewayctl.bash-completion").read_text()
