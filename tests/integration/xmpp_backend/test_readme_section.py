"""The README's "In front of Prosody" section gives the configuration these tests run with."""

from __future__ import annotations

import re

import yaml

from tests.integration.daemon import ROOT
from tests.integration.xmpp_backend.admin_servers import COMPONENT_DOMAIN, EJABBERD_EXTRA

README_DOMAIN = "rest.example.org"


def section() -> str:
    text = (ROOT / "README.md").read_text()
    start = text.index("## In front of Prosody\n")
    end = text.index("\n## ", start + 1)
    return text[start:end]


def block(language: str, first_line: str) -> str:
    [found] = [
        b
        for b in re.findall(rf"```{language}\n(.*?)```", section(), flags=re.S)
        if b.startswith(first_line)
    ]
    return str(found)


def test_prosody_lines() -> None:
    """The Prosody lines are the harness's: admin, admin_adhoc, privilege on host and component."""
    lua = block("lua", "-- prosody.cfg.lua")
    assert f'admins = {{ "{README_DOMAIN}" }}' in lua
    assert 'modules_enabled = { "admin_adhoc" }' in lua
    assert f'["{README_DOMAIN}"] = {{ roster = "both"; message = "outgoing" }};' in lua
    assert lua.count('modules_enabled = { "privilege" }') == 2
    component = lua.index(f'Component "{README_DOMAIN}"')
    assert lua.index('modules_enabled = { "privilege" }', component) > component


def test_ejabberd_lines() -> None:
    """The ejabberd lines are the harness's (the component's domain in the admin ACL, the
    modules, mod_privilege's access rules)."""
    config = yaml.safe_load(block("yaml", "# ejabberd.yml: the parts the gateway needs"))
    ours = yaml.safe_load(yaml.safe_dump(EJABBERD_EXTRA).replace(COMPONENT_DOMAIN, README_DOMAIN))
    assert config["acl"] == ours["acl"]
    assert config["access_rules"] == ours["access_rules"]
    assert config["modules"] == ours["modules"]
    [service] = config["listen"]
    assert service["module"] == "ejabberd_service" and README_DOMAIN in service["hosts"]


def test_gateway_keys() -> None:
    """The gateway.yml block uses the xmpp backend and xmpp logins with the README's component."""
    gateway = yaml.safe_load(block("yaml", "# gateway.yml"))["gateway"]
    assert (gateway["backend"], gateway["auth"]) == ("xmpp", "xmpp")
    assert gateway["workers"] == 1
    assert gateway["component"]["jid"] == README_DOMAIN
    assert set(gateway["xmpp"]) <= {
        "host",
        "timeout",
        "max_in_flight",
        "c2s",
        "c2s_tls",
        "c2s_verify",
        "c2s_ca",
    }
