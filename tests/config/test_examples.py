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


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_examples_run_today(path: Path) -> None:
    """The examples use what exists: the embedded backend, a component link, absolute paths.

    They say which backend is not available yet.
    """
    config = load_config(str(path))
    assert config.gateway.backend == "embedded"
    assert config.gateway.component is not None
    for place in (config.gateway.ctl_socket, config.gateway.files_dir):
        assert place.startswith("/"), place
    assert "NOT AVAILABLE YET" in path.read_text()


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
    """The ejabberd.yml part is YAML whose service host, port and extauth fit the example."""
    path = REPO / "conf" / "examples" / "in-front-of-ejabberd.yml"
    config = load_config(str(path))
    assert config.gateway.component is not None
    snippet = yaml.safe_load(_commented_block(path, "The matching part of ejabberd.yml"))
    assert snippet["hosts"] == list(config.hosts)
    (service,) = [entry for entry in snippet["listen"] if entry["module"] == "ejabberd_service"]
    assert service["port"] == config.gateway.component.port
    assert list(service["hosts"]) == [config.gateway.component.jid]
    assert snippet["auth_method"] == "external"
    assert snippet["extauth_program"].endswith("--config /etc/xmpp-gateway/gateway.yml")


def test_prosody_snippet_matches() -> None:
    """The prosody.cfg.lua part names the example's component domain, port and virtual host."""
    path = REPO / "conf" / "examples" / "in-front-of-prosody.yml"
    config = load_config(str(path))
    assert config.gateway.component is not None
    snippet = _commented_block(path, "The matching part of prosody.cfg.lua")
    assert f"component_ports = {{ {config.gateway.component.port} }}" in snippet
    assert re.search(rf'^Component "{re.escape(config.gateway.component.jid)}"$', snippet, re.M)
    assert f'VirtualHost "{config.hosts[0]}"' in snippet
