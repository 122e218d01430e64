"""Server commands against the real daemon: stats, dump_config and reload_config via gatewayctl."""

from __future__ import annotations

import stat
from pathlib import Path

import yaml

from tests.integration import daemon


def test_stats_dump_and_reload(tmp_path: Path) -> None:
    """stats counts accounts, dump_config writes a private file, reload_config applies loglevel.

    Changed by issue 8 (item 2): dump_config writes only inside gateway.files_dir.
    """
    with daemon.running_daemon(tmp_path) as d:
        assert d.ctl("register", "bob", "localhost", "pw").returncode == 0
        assert d.ctl("stats", "registeredusers").stdout == "1\n"
        online = d.ctl("stats", "onlineusers")
        assert online.returncode == 1 and "sessions live in the XMPP server" in online.stdout

        # dump_config writes inside gateway.files_dir (var/files under the daemon's directory)
        out = tmp_path / "var" / "files" / "dump.yml"
        assert d.ctl("dump_config", "dump.yml").returncode == 0
        assert stat.S_IMODE(out.stat().st_mode) == 0o600
        assert yaml.safe_load(out.read_text())["hosts"] == ["localhost"]
        assert d.ctl("dump_config", str(out)).returncode == 1
        assert d.ctl("dump_config", str(tmp_path / "elsewhere.yml")).returncode == 1
        assert not (tmp_path / "elsewhere.yml").exists()

        config = yaml.safe_load(d.config.read_text())
        config["loglevel"] = "debug"
        config["oauth_expire"] = 60
        d.config.write_text(yaml.safe_dump(config))
        assert d.ctl("reload_config").returncode == 0
        assert d.ctl("get_loglevel").stdout == "debug\n"
        status = d.ctl("status").stdout
        assert "Configuration changes waiting for a restart: oauth_expire" in status
