"""The documentation commands through gatewayctl on the real daemon."""

from __future__ import annotations

import os
import re
import shutil
import stat
import subprocess
from pathlib import Path

from tests.integration import daemon


def test_documentation_commands_through_gatewayctl(tmp_path: Path) -> None:
    """Each command writes its owner-only file in gateway.files_dir; paths outside are refused.

    ``runtime`` documents what this daemon runs (its embedded backend cannot
    join a cluster), ``man`` answers where its page is and the page renders
    with ``man -l`` when man-db is installed.
    """
    files = tmp_path / "var" / "files"
    with daemon.running_daemon(tmp_path) as d:
        done = d.ctl("gen_markdown_doc_for_commands", "api.md", "", "json,ctl")
        assert (done.returncode, done.stdout) == (0, ""), done.stdout
        markdown = (files / "api.md").read_text("utf-8")
        assert "\n## register\n" in markdown and "gatewayctl register alice localhost" in markdown

        assert d.ctl("gen_html_doc_for_commands", "api.html", "^get_", "xmlrpc").returncode == 0
        page = (files / "api.html").read_text("utf-8")
        assert '<section id="cmd-get_roster">' in page and "cmd-register" not in page

        assert d.ctl("gen_markdown_doc_for_tags", "tags.md").returncode == 0
        assert "\n## accounts\n" in (files / "tags.md").read_text("utf-8")

        assert d.ctl("gen_markdown_doc_for_commands", "run.md", "runtime", "").returncode == 0
        running = (files / "run.md").read_text("utf-8")
        assert "\n## register\n" in running and "\n## man\n" in running
        assert "\n## join_cluster\n" not in running

        done = d.ctl("man")
        page_path = files / "gatewayctl.8"
        assert (done.returncode, done.stdout) == (
            0,
            f"Manual page written to {page_path}; read it with: man -l {page_path}\n",
        )
        for name in ("api.md", "api.html", "tags.md", "run.md", "gatewayctl.8"):
            assert stat.S_IMODE((files / name).stat().st_mode) == 0o600, name

        outside = tmp_path / "outside.md"
        refused = d.ctl("gen_markdown_doc_for_tags", str(outside))
        assert refused.returncode == 1 and "outside the files directory" in refused.stdout
        assert not outside.exists()
        again = d.ctl("man")
        assert again.returncode == 1 and "already exists" in again.stdout

    if shutil.which("man"):
        rendered = subprocess.run(
            ["man", "-l", str(page_path)],
            capture_output=True,
            text=True,
            timeout=60,
            env={**os.environ, "MANPAGER": "cat", "MANWIDTH": "80"},
        )
        assert rendered.returncode == 0, rendered.stderr
        assert re.search(r"^\s+register user host password$", rendered.stdout, re.M)
