"""Installing the project with pip: no deprecation warnings, and twistd finds the plugin.

The install is the one ``scripts/install-and-start.sh`` and ``scripts/test.sh``
make (editable, setuptools' default mode), of a copy of the project's
packaging files, into a fresh virtual environment.  It runs the project
venv's own pip (``pip --python``), a current one that shows what the build
backend warns about; the pip a new venv bundles may hide it.  Dependencies
come from the configured package index, so this takes a while.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import venv
from pathlib import Path

from tests.integration.daemon import ROOT

#: what gets copied: what the build reads, without caches and build output
_COPIED = ("pyproject.toml", "README.md", "gateway", "twisted")
_IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc", "dropin.cache", "*.egg-info")


def _copy_project(target: Path) -> Path:
    target.mkdir()
    for name in _COPIED:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, target / name, ignore=_IGNORED)
        else:
            shutil.copy2(source, target / name)
    return target


def test_pip_install_prints_no_deprecation_and_twistd_finds_the_plugin(tmp_path: Path) -> None:
    """``pip install -e`` of the project says nothing deprecated; ``twistd`` lists the plugin.

    Checks the whole output (``-v`` shows the build backend's own
    warnings), then that the fresh venv's ``twistd --help``, run away from
    the source tree, offers ``xmpp-gateway``, and that ``gatewayctl`` was
    installed.
    """
    project = _copy_project(tmp_path / "project")
    fresh = tmp_path / "venv"
    venv.EnvBuilder(with_pip=False).create(fresh)
    python = fresh / "bin" / "python"
    installed = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "-v", "-e", str(project)],
        capture_output=True,
        text=True,
        timeout=900,
        cwd=tmp_path,
    )
    log = installed.stdout + installed.stderr
    assert installed.returncode == 0, log
    # the build backend's own output is shown, so its warnings would be too
    assert "running editable_wheel" in log, log
    deprecated = [line for line in log.splitlines() if re.search("deprecat", line, re.I)]
    assert deprecated == [], "\n".join(deprecated)
    assert "Compat editable" not in log

    helped = subprocess.run(
        [str(fresh / "bin" / "twistd"), "--help"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert helped.returncode == 0, helped.stderr
    assert re.search(r"^\s+xmpp-gateway\s", helped.stdout, re.M), helped.stdout
    assert (fresh / "bin" / "gatewayctl").is_file()
