"""The configurations shipped in ``conf/`` load, and the server snippets in their comments match."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from gateway.config.load import load_config
from tests.paths import REPO

EXAMPLES = sorted((REPO / "conf" / "examples").glob("*.yml"))
SHIPPED = [REPO / "conf" / "gateway.yml", *EXAMPLES]


def test_the_examples_are_there() -> None:
    """Both "in front of" examples are shipped."""
    assert [p.name for p in EXAMPLES] == ["in-front-of-ejabberd.yml", "in-front-of-prosody.yml"]


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_loads_without_warnings(path: Path) -> None:
    """Each shipped configuration loads with the daemon's loader and draws no warning."""
    config = load_config(str(path))
    assert config.warnings == ()
    assert config.ignored_modules == ()


def test_prosody_example_administers_prosody() -> None:
    """The Prosody example runs the xmpp backend over a component link, checks passwords by
    logging in to Prosody, and uses absolute paths."""
    path = REPO / "conf" / "examples" / "in-front-of-prosody.yml"
    config = load_config(str(path))
    assert (config.gateway.backend, config.gateway.auth) == ("xmpp", "xmpp")
    assert config.gateway.workers == 1  # the backend needs the link in its process
    assert config.gateway.component is not None
    assert config.gateway.xmpp is not None and config.gateway.xmpp.host == config.hosts[0]
    for place in (config.gateway.ctl_socket, config.gateway.files_dir):
        assert place.startswith("/"), place


def test_ejabberd_example_forwards_to_ejabberd() -> None:
    """The ejabberd example runs the ejabberd backend, checks passwords there, keeps OAuth
    local, and uses absolute paths."""
    config = load_config(str(REPO / "conf" / "examples" / "in-front-of-ejabberd.yml"))
    assert config.gateway.backend == "ejabberd"
    assert config.gateway.auth == "upstream"
    assert dict(config.gateway.routes) == {"[tag:oauth]": "embedded"}
    assert config.gateway.upstream is not None
    for place in (config.gateway.ctl_socket, config.gateway.files_dir):
        assert place.startswith("/"), place


def _commented_block(path: Path, heading: str) -> str:
    """The indented comment lines after ``heading``, uncommented."""
    lines = path.read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if heading in line) + 1
    block = []
    for line in lines[start:]:
        if not line.startswith("#"):
            break
        text = line[1:]
        if text.strip() and not text.startswith("   "):
            break
        block.append(text[3:] if text.strip() else "")
    return "\n".join(block)


def test_ejabberd_snippet_matches() -> None:
    """The ejabberd.yml part is YAML whose /api listener is the example's upstream URL and
    whose api_permissions let the example's upstream account run everything over /api."""
    path = REPO / "conf" / "examples" / "in-front-of-ejabberd.yml"
    config = load_config(str(path))
    upstream = config.gateway.upstream
    assert upstream is not None
    snippet = yaml.safe_load(_commented_block(path, "The matching part of ejabberd.yml"))
    (listener,) = [entry for entry in snippet["listen"] if entry["module"] == "ejabberd_http"]
    assert upstream.url == f"http://{listener['ip']}:{listener['port']}/api"
    assert listener["request_handlers"]["/api"] == "mod_http_api"
    (rule,) = snippet["api_permissions"].values()
    assert rule["from"] == "mod_http_api" and rule["what"] == "*"
    acls = [entry["acl"] for entry in rule["who"]["access"]["allow"]]
    assert sorted(acls) == ["api_gateway", "loopback"]
    assert snippet["acl"]["api_gateway"]["user"] == [upstream.user]
    account = re.search(r"ejabberdctl register (\S+) (\S+) '([^']+)'", path.read_text())
    assert account is not None
    assert f"{account[1]}@{account[2]}" == upstream.user and account[3] == upstream.password


def test_prosody_snippet_matches() -> None:
    """The prosody.cfg.lua part names the example's component domain, port and virtual host."""
    path = REPO / "conf" / "examples" / "in-front-of-prosody.yml"
    config = load_config(str(path))
    assert config.gateway.component is not None
    snippet = _commented_block(path, "The matching part of prosody.cfg.lua")
    assert f"component_ports = {{ {config.gateway.component.port} }}" in snippet
    assert re.search(rf'^Component "{re.escape(config.gateway.component.jid)}"$', snippet, re.M)
    assert f'VirtualHost "{config.hosts[0]}"' in snippet
    # the component is an admin and holds the XEP-0356 privileges, on both sections
    domain = config.gateway.component.jid
    assert f'admins = {{ "{domain}" }}' in snippet
    assert f'["{domain}"] = {{ roster = "both"; message = "outgoing" }};' in snippet
    assert snippet.count('modules_enabled = { "privilege" }') == 2
