"""The operator kit in ``conf/``: the systemd unit and logrotate snippet, checked by their tools."""

from __future__ import annotations

import configparser
import getpass
import grp
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.paths import REPO

UNIT = REPO / "conf" / "xmpp-gateway.service"
LOGROTATE = REPO / "conf" / "xmpp-gateway.logrotate"
#: where the unit expects the virtualenv (README, "Running it as a service")
UNIT_VENV = "/opt/xmpp-gateway/venv"


def _service_section() -> dict[str, list[str]]:
    """The [Service] keys of the unit, each with all its values (keys may repeat)."""
    values: dict[str, list[str]] = {}
    section = None
    for raw in UNIT.read_text().replace("\\\n", " ").splitlines():
        line = raw.strip()
        if line.startswith("["):
            section = line
        elif section == "[Service]" and "=" in line and not line.startswith("#"):
            key, _, value = line.partition("=")
            values.setdefault(key, []).append(" ".join(value.split()))
    return values


def test_unit_runs_twistd_in_the_foreground() -> None:
    """ExecStart is the venv's ``twistd -n xmpp-gateway --config /etc/xmpp-gateway/gateway.yml``.

    It restarts on failure, under a user of its own, with the log file and pid file in the
    directories the logrotate snippet uses.
    """
    service = _service_section()
    (command,) = service["ExecStart"]
    words = command.split()
    assert words[0] == f"{UNIT_VENV}/bin/twistd" and words[1] == "-n"
    assert words[-3:] == ["xmpp-gateway", "--config", "/etc/xmpp-gateway/gateway.yml"]
    assert "--logfile /var/log/xmpp-gateway/gateway.log" in command
    assert "--pidfile /run/xmpp-gateway/twistd.pid" in command
    assert service["Restart"] == ["on-failure"]
    assert service["User"] == ["xmpp-gateway"]
    for option in ("NoNewPrivileges", "ProtectHome", "PrivateTmp"):
        assert service[option] == ["yes"], option
    assert service["ProtectSystem"] == ["strict"]
    assert "/var/lib/xmpp-gateway" in service["ReadWritePaths"][0].split()


def test_unit_parses_as_ini() -> None:
    """The unit is well-formed: sections and keys as systemd's format wants them."""
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string(UNIT.read_text())
    assert parser.sections() == ["Unit", "Service", "Install"]
    assert parser["Install"]["WantedBy"] == "multi-user.target"


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is missing")
def test_systemd_analyze_verify(tmp_path: Path) -> None:
    """``systemd-analyze verify`` accepts the unit with no warning (venv path set to this one).

    verify checks that ExecStart's program exists, so the unit's venv path is replaced by
    this test's virtualenv.
    """
    venv = str(Path(sys.executable).parent.parent)
    unit = tmp_path / "xmpp-gateway.service"
    unit.write_text(UNIT.read_text().replace(UNIT_VENV, venv))
    done = subprocess.run(
        ["systemd-analyze", "verify", str(unit)], capture_output=True, text=True, timeout=60
    )
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")


def logrotate_config(tmp_path: Path, log: Path, pidfile: Path) -> Path:
    """The shipped snippet with the log, pid file and user of this test."""
    user, group = getpass.getuser(), grp.getgrgid(os.getgid()).gr_name
    text = (
        LOGROTATE.read_text()
        .replace("/var/log/xmpp-gateway/gateway.log", str(log))
        .replace("/run/xmpp-gateway/twistd.pid", str(pidfile))
        .replace("xmpp-gateway xmpp-gateway", f"{user} {group}")
    )
    path = tmp_path / "logrotate.conf"
    path.write_text(text)
    path.chmod(0o644)
    return path


@pytest.mark.skipif(shutil.which("logrotate") is None, reason="logrotate is missing")
def test_logrotate_accepts_the_snippet(tmp_path: Path) -> None:
    """``logrotate --debug`` reads the snippet without an error (nothing is rotated)."""
    log = tmp_path / "gateway.log"
    log.write_text("a line\n")
    config = logrotate_config(tmp_path, log, tmp_path / "twistd.pid")
    done = subprocess.run(
        ["logrotate", "--debug", "--state", str(tmp_path / "state"), str(config)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "error" not in done.stderr.lower()
    assert f"considering log {log}" in done.stderr
    directives = [line.split()[0] for line in _uncommented(LOGROTATE) if line.strip()]
    # the daemon does not append: a truncated file would fill with zero bytes
    assert "copytruncate" not in directives and "postrotate" in directives


def _uncommented(path: Path) -> list[str]:
    return [line for line in path.read_text().splitlines() if not line.lstrip().startswith("#")]
