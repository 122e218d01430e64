"""The start-up warning about api_permissions rules open to anybody (gateway.config.load)."""

from __future__ import annotations

import textwrap

import pytest

from gateway.config.load import load_config, parse_config
from tests.paths import SHIPPED_CONFIG

SHIPPED = SHIPPED_CONFIG


def warnings_for(api_permissions: str, extra: str = "") -> tuple[str, ...]:
    """The warnings of a config holding ``api_permissions`` (YAML) and ``extra`` sections."""
    text = "hosts: [localhost]\n" + textwrap.dedent(extra) + "api_permissions:\n"
    text += textwrap.indent(textwrap.dedent(api_permissions), "  ")
    return parse_config(text).warnings


def open_warnings(found: tuple[str, ...]) -> list[str]:
    return [w for w in found if "grants every command" in w]


def test_shipped_config_does_not_warn() -> None:
    """The shipped rules (console commands for all via ctl only, admins, two public
    commands) raise no warning."""
    assert open_warnings(load_config(str(SHIPPED)).warnings) == []


def test_everything_for_all_over_mod_rest_warns() -> None:
    """The old trust-everyone mod_rest rule is named in a warning with its frontend."""
    [warning] = open_warnings(
        warnings_for(
            """
            "mod_rest commands": {from: mod_rest, who: all, what: "*"}
            """
        )
    )
    assert warning.startswith('api_permissions."mod_rest commands": grants every command ("*")')
    assert "through mod_rest;" in warning
    assert "from: ejabberd_ctl" in warning


def test_rule_without_from_warns_for_every_network_frontend() -> None:
    """A rule without ``from`` reaches every network frontend; revoking a few commands
    does not make ``"*"`` safe."""
    [warning] = open_warnings(warnings_for('open: {who: all, what: ["*", "!stop", "!start"]}\n'))
    assert "through ejabberd_xmlrpc, mod_http_api, mod_rest;" in warning


@pytest.mark.parametrize(
    "who",
    [
        '{ip: "0.0.0.0/0"}',
        "anyone",
        "{access: everybody}",
        "{access: [{allow: all}]}",
        "[admin, all]",
    ],
)
def test_equivalents_of_all_warn(who: str) -> None:
    """An address range, ACL or access rule admitting everybody counts as ``who: all``."""
    extra = """
    acl:
      admin: {user: admin@localhost}
      anyone: {ip: "::/0"}
    access_rules:
      everybody: [allow]
    """
    found = warnings_for(f'open: {{from: mod_http_api, who: {who}, what: "*"}}\n', extra)
    assert len(open_warnings(found)) == 1, found


@pytest.mark.parametrize(
    "rule",
    [
        '{from: ejabberd_ctl, who: all, what: "*"}',
        '{from: mod_rest, who: {ip: "127.0.0.1"}, what: "*"}',
        "{who: all, what: [status, connected_users_number]}",
        '{who: all, what: ["[tag:server]"]}',
        '{who: all, what: "!*"}',
        '{who: {oauth: {scope: "ejabberd:admin", acl: all}}, what: "*"}',
        '{who: {access: [{deny: all}, {allow: all}]}, what: "*"}',
    ],
)
def test_limited_rules_do_not_warn(rule: str) -> None:
    """Rules limited to the control socket, to some addresses, to some commands or to
    token holders, and rules that admit nobody, raise no warning."""
    assert open_warnings(warnings_for(f"limited: {rule}\n")) == []
