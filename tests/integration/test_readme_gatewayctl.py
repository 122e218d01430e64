"""The README's gatewayctl examples (ctl ergonomics and documentation commands) run as written."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

from tests.integration import daemon

SECTIONS = ("### gatewayctl", "### Documentation commands")


def examples() -> list[str]:
    """The command lines of the shell blocks in the README's sections named in SECTIONS."""
    text = (daemon.ROOT / "README.md").read_text()
    found = []
    for heading in SECTIONS:
        section = text.split(f"\n{heading}\n", 1)[1].split("\n#", 1)[0]
        for block in re.findall(r"```sh\n(.*?)```", section, flags=re.S):
            found += [line.split("  #")[0].strip() for line in block.splitlines() if line.strip()]
    return found


def test_readme_gatewayctl_examples(tmp_path: Path) -> None:
    """Each line exits 0 when run from a checkout-like directory (``.venv``, ``conf/``).

    The ``--json`` example prints what its comment says after the quick start's
    ``register``; the documentation files appear under ``var/files``.
    """
    lines = examples()
    assert any("--json" in line for line in lines) and any("man -l" in line for line in lines)
    with daemon.running_daemon(tmp_path) as d:
        (tmp_path / "conf").mkdir()
        shutil.copy(d.config, tmp_path / "conf" / "gateway.yml")
        (tmp_path / ".venv").symlink_to(daemon.BIN.parent)
        assert d.ctl("register", "admin", "localhost", "secret").returncode == 0
        outputs = {}
        for line in lines:
            done = subprocess.run(
                ["bash", "-c", line],
                capture_output=True,
                text=True,
                timeout=60,
                cwd=tmp_path,
                env={**daemon.env(), "MANPAGER": "cat"},
            )
            assert done.returncode == 0, f"{line}\n{done.stdout}{done.stderr}"
            outputs[line] = done.stdout
    assert outputs[".venv/bin/gatewayctl --json registered_users localhost"] == '["admin"]\n'
    for name in ("api.md", "roster.html", "tags.md", "gatewayctl.8"):
        assert (tmp_path / "var" / "files" / name).is_file(), name
    markdown = (tmp_path / "var" / "files" / "api.md").read_text()
    assert "\n## register\n" in markdown and "```sh\ngatewayctl register alice" in markdown
