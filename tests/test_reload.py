"""reload_config and dump_config on the configuration side (gateway.reload, gateway.config.dump)."""

from __future__ import annotations

import textwrap
from dataclasses import replace
from ipaddress import ip_address
from pathlib import Path

import pytest
import yaml

from gateway.config.dump import dump_yaml
from gateway.config.errors import ConfigError
from gateway.config.load import load_config, parse_config
from gateway.config.model import Config
from gateway.config.permissions_parse import permissions_from_config
from gateway.engine.adapters import standard_adapters
from gateway.engine.catalogue import Catalogue
from gateway.engine.dispatch import Engine
from gateway.engine.errors import CommandFailed
from gateway.engine.model import Caller
from gateway.logs import LogLevelControl
from gateway.reload import ConfigReloader, restart_needed
from tests.paths import SHIPPED_CONFIG

SHIPPED = SHIPPED_CONFIG
CATALOGUE = Catalogue.load("24.12")
STATUS = CATALOGUE.lookup("status")
USERS = CATALOGUE.lookup("registered_users")
CALLER = Caller(frontend="mod_http_api", ip=ip_address("127.0.0.1"))

BASE = """\
hosts: [localhost]
loglevel: info
acl:
  local:
    ip: ["127.0.0.1/8"]
api_permissions:
  "local status":
    who: {acl: local}
    what: [status]
listen:
  - port: 5280
    module: ejabberd_http
    request_handlers: {/api: mod_http_api}
gateway:
  store: "sqlite:var/one.sqlite3"
"""


def comparable(config: Config) -> Config:
    """``config`` without what a dump does not carry (where it came from, ignored modules)."""
    return replace(config, source=None, ignored_modules=(), warnings=())


class Daemon:
    """A reloader over a file in ``tmp_path``, with the live objects it drives."""

    def __init__(self, tmp_path: Path, text: str = BASE) -> None:
        self.path = tmp_path / "gateway.yml"
        self.path.write_text(text)
        config = load_config(str(self.path))
        self.levels = LogLevelControl(config.loglevel)
        self.permissions = permissions_from_config(config)
        self.reloader = ConfigReloader(config, levels=self.levels, permissions=self.permissions)

    def edit(self, old: str, new: str) -> None:
        text = self.path.read_text()
        assert old in text
        self.path.write_text(text.replace(old, new))


# -- what needs a restart ---------------------------------------------------------------------


def test_restart_needed_names_changed_settings() -> None:
    """Settings wired at start-up are named by key path when they differ; live ones are not."""
    old = parse_config(BASE)
    new = parse_config(
        BASE.replace("port: 5280", "port: 5281")
        .replace("loglevel: info", "loglevel: debug")
        .replace("one.sqlite3", "two.sqlite3")
        + "  password_digests: [sha]\noauth_expire: 60\n"
    )
    assert restart_needed(old, new) == (
        "oauth_expire",
        "listen",
        "gateway.store",
        "gateway.password_digests",
    )
    assert restart_needed(old, parse_config(BASE)) == ()


def test_trusted_proxies_wait_for_a_restart() -> None:
    """trusted_proxies is wired into the listeners at start-up, so a change waits for a restart."""
    old = parse_config(BASE)
    new = parse_config(BASE + 'trusted_proxies: ["10.0.0.0/8"]\n')
    assert restart_needed(old, new) == ("trusted_proxies",)


# -- reload -------------------------------------------------------------------------------------


def test_reload_applies_level_and_permissions(tmp_path: Path) -> None:
    """loglevel and api_permissions take effect at once; nothing waits for a restart."""
    daemon = Daemon(tmp_path)
    assert daemon.permissions.allows(CALLER, STATUS)
    daemon.edit("loglevel: info", "loglevel: debug")
    daemon.edit("what: [status]", "what: [registered_users]")
    assert daemon.reloader.reload() == ()
    assert daemon.levels.get() == "debug"
    assert not daemon.permissions.allows(CALLER, STATUS)
    assert daemon.permissions.allows(CALLER, USERS)
    assert daemon.reloader.current.loglevel == "debug"
    assert daemon.reloader.status_lines() == []


def test_reload_reports_restart_settings_and_keeps_them(tmp_path: Path) -> None:
    """A changed listener is reported (and shown by status) but the running value stays."""
    daemon = Daemon(tmp_path)
    daemon.edit("port: 5280", "port: 6280")
    daemon.edit("what: [status]", "what: [registered_users]")
    assert daemon.reloader.reload() == ("listen",)
    assert daemon.reloader.current.listen[0].port == 5280
    assert daemon.permissions.allows(CALLER, USERS)
    assert daemon.reloader.status_lines() == ["Configuration changes waiting for a restart: listen"]
    # putting the old value back clears the report
    daemon.edit("port: 6280", "port: 5280")
    assert daemon.reloader.reload() == ()
    assert daemon.reloader.pending == ()


def test_new_acls_judge_with_the_hosts_still_served(tmp_path: Path) -> None:
    """Until a restart applies a hosts change, bare user ACLs match on the running hosts."""
    daemon = Daemon(tmp_path)
    daemon.edit('ip: ["127.0.0.1/8"]', "user: [admin]")
    daemon.edit("hosts: [localhost]", "hosts: [example.org]")
    assert daemon.reloader.reload() == ("hosts",)
    admin = Caller(frontend="mod_http_api", user="admin", host="localhost")
    assert daemon.permissions.allows(admin, STATUS)
    assert not daemon.permissions.allows(replace(admin, host="example.org"), STATUS)


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("loglevel: info", "loglevel: loud"),
        ("what: [status]", "what: 12"),
        ("hosts: [localhost]", "hosts: [localhost"),
    ],
)
def test_broken_file_changes_nothing(tmp_path: Path, old: str, new: str) -> None:
    """A file that does not load raises its ConfigError and leaves every setting as it was."""
    daemon = Daemon(tmp_path)
    daemon.edit("loglevel: info", "loglevel: debug")
    daemon.reloader.reload()
    # the broken file says "info" (where it is readable): applying any of it would show
    daemon.path.write_text(BASE)
    daemon.edit(old, new)
    before = daemon.reloader.current
    with pytest.raises(ConfigError):
        daemon.reloader.reload()
    assert daemon.levels.get() == "debug"
    assert daemon.permissions.allows(CALLER, STATUS)
    assert daemon.reloader.current is before


def test_reload_command_reports_the_config_error(tmp_path: Path) -> None:
    """For reload_config, a file that does not load is a CommandFailed carrying its error text."""
    daemon = Daemon(tmp_path)
    daemon.path.write_text(BASE + "oauth_expire: soon\n")
    with pytest.raises(CommandFailed) as info:
        daemon.reloader.reload_command()
    assert info.value.message == (
        "The configuration was not reloaded: oauth_expire: expected an integer, got 'soon'"
    )
    assert daemon.permissions.allows(CALLER, STATUS)


def test_reload_command_answers_like_reload(tmp_path: Path) -> None:
    """A file that loads is applied by reload_command as by reload, naming what waits."""
    daemon = Daemon(tmp_path)
    daemon.edit("port: 5280", "port: 6280")
    daemon.edit("what: [status]", "what: [registered_users]")
    assert daemon.reloader.reload_command() == ("listen",)
    assert daemon.permissions.allows(CALLER, USERS)


def test_missing_file_is_a_config_error(tmp_path: Path) -> None:
    """A configuration file removed since start-up is reported by name."""
    daemon = Daemon(tmp_path)
    daemon.path.unlink()
    with pytest.raises(ConfigError, match="gateway.yml"):
        daemon.reloader.reload()


def test_config_without_file_cannot_reload() -> None:
    """A configuration built in code has no file to re-read."""
    config = parse_config(BASE)
    reloader = ConfigReloader(
        config, levels=LogLevelControl(), permissions=permissions_from_config(config)
    )
    with pytest.raises(ConfigError, match="not started from a configuration file"):
        reloader.reload()


def test_live_permissions_reach_every_profile() -> None:
    """Engines made for other API profiles share the one permissions object that is replaced."""
    config = parse_config(BASE)
    live = permissions_from_config(config)
    engine = Engine(CATALOGUE, CATALOGUE, None, None, live, standard_adapters())  # type: ignore[arg-type]
    legacy = engine.for_profile(Catalogue.load("23.01"))
    assert legacy.permissions is live
    live.replace(permissions_from_config(parse_config("hosts: [localhost]\napi_permissions: {}\n")))
    assert not engine.permissions.allows(CALLER, STATUS)
    assert not legacy.permissions.allows(CALLER, STATUS)
    # the access rules mod_rest consults follow as well
    assert not live.access_allows("local", CALLER)


# -- dump ---------------------------------------------------------------------------------------

RICH = """\
hosts: [example.org, Example.net]
loglevel: 4
acl:
  admin: {user: ["admin@example.org"]}
access_rules:
  rest_admins:
    - allow: admin
api_permissions:
  "admin":
    who: admin
    what: ["*", "!stop"]
oauth_expire: 3600
listen:
  - port: 5443
    ip: "::"
    module: ejabberd_http
    tls: true
    certfile: /etc/gw.pem
    request_handlers: {/api/: mod_http_api, /rest: mod_rest}
    api_profile: "23.01"
    tag: public
    custom_headers: {X-Frame-Options: DENY}
  - port: 4560
    module: ejabberd_xmlrpc
trusted_proxies: ["10.0.0.0/8", "::1"]
modules:
  mod_http_api: {default_version: "24.06"}
  mod_rest:
    allowed_ips: ["10.0.0.0/8", "::1"]
    allowed_destinations: ["Room@conference.example.org"]
    allowed_stanza_types: [message]
    access_commands:
      rest_admins:
        commands: [registered_users, status]
        argument_restrictions: {host: example.org}
  mod_roster: {versioning: true}
gateway:
  api_profile: "23.01"
  store: "postgresql://gw:secret@db/gateway"
  component: {jid: rest.example.org, secret: s3cret, port: 15347, from: reject}
  ctl_socket: /run/gw.sock
  limits: {max_body_bytes: 4096, request_timeout: 2.5, max_password_bytes: 64,
           receive_timeout: 3, idle_timeout: 7, max_connections: 9, shutdown_grace: 0}
  brute_force: {max_failures: 4, window: 5, ban_time: 6, exempt: ["192.0.2.0/24"]}
  files_dir: /srv/gw-files
  password_digests: [sha, md5]
"""


@pytest.mark.parametrize("text", [SHIPPED.read_text(), RICH, "hosts: [localhost]\n"])
def test_dump_loads_back_to_the_same_configuration(text: str) -> None:
    """The dump is a complete file that loads into the configuration it was made from."""
    config = parse_config(text)
    again = parse_config(dump_yaml(config))
    assert comparable(again) == comparable(config)
    assert again.warnings == config.warnings


def test_dump_spells_out_defaults_and_leaves_ignored_modules_out() -> None:
    """Defaults appear in full; modules the gateway ignores are not in the dump."""
    dumped = dump_yaml(parse_config(RICH))
    assert dumped.startswith("# Effective configuration")
    data = yaml.safe_load(dumped)
    assert list(data) == [
        "hosts",
        "loglevel",
        "acl",
        "access_rules",
        "api_permissions",
        "oauth_expire",
        "listen",
        "trusted_proxies",
        "modules",
        "gateway",
    ]
    assert data["hosts"] == ["example.org", "example.net"]
    assert data["loglevel"] == "info"
    assert set(data["modules"]) == {"mod_http_api", "mod_rest"}
    assert data["gateway"]["limits"] == {
        "max_body_bytes": 4096,
        "max_xml_depth": 64,
        "request_timeout": 2.5,
        "max_password_bytes": 64,
        "receive_timeout": 3.0,
        "idle_timeout": 7.0,
        "max_connections": 9,
        "shutdown_grace": 0.0,
        "credential_cache_ttl": 10.0,
    }
    assert data["gateway"]["brute_force"]["exempt"] == ["192.0.2.0/24"]
    assert data["gateway"]["files_dir"] == "/srv/gw-files"
    assert data["gateway"]["component"]["host"] == "127.0.0.1"
    assert data["gateway"]["backend"] == "embedded"


def test_dump_writes_repeated_values_in_full() -> None:
    """YAML anchors in the file come out as plain repeated values, not aliases."""
    text = textwrap.dedent(
        """\
        hosts: [localhost]
        acl:
          a: &who {user: ["x@localhost"]}
          b: *who
        """
    )
    dumped = dump_yaml(parse_config(text))
    assert "&" not in dumped and "*" not in dumped
    assert yaml.safe_load(dumped)["acl"] == {
        "a": {"user": ["x@localhost"]},
        "b": {"user": ["x@localhost"]},
    }


def test_dump_after_reload_shows_what_is_in_effect(tmp_path: Path) -> None:
    """After a reload the dump has the new access policy and the listeners still running."""
    daemon = Daemon(tmp_path)
    daemon.edit("port: 5280", "port: 6280")
    daemon.edit("what: [status]", "what: [registered_users]")
    daemon.reloader.reload()
    data = yaml.safe_load(daemon.reloader.dump())
    assert data["api_permissions"]["local status"]["what"] == ["registered_users"]
    assert data["listen"][0]["port"] == 5280


def test_reload_removing_a_section_drops_it_from_the_dump(tmp_path: Path) -> None:
    """api_permissions removed from the file go back to the defaults, and out of the dump."""
    daemon = Daemon(tmp_path)
    text = daemon.path.read_text()
    start = text.index("api_permissions:")
    daemon.path.write_text(text[:start] + text[text.index("listen:") :])
    daemon.reloader.reload()
    assert daemon.reloader.current.api_permissions is None
    assert "api_permissions" not in yaml.safe_load(daemon.reloader.dump())
