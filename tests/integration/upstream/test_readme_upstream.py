"""README's "In front of ejabberd", followed as a new user would, on Debian's ejabberd 23.01.

ejabberd runs with the section's ejabberd.yml snippet (its listener on a free port, example.org
read as localhost) and no other rule for ``/api``; the accounts are created with the section's
``ejabberdctl`` lines; the gateway runs conf/examples/in-front-of-ejabberd.yml with only its
ports, paths and domain changed; then the section's example calls must succeed.
"""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import yaml

from tests.integration import daemon
from tests.integration.servers import LOOPBACK, EjabberdServer, missing_ejabberd, require

EXAMPLE = daemon.ROOT / "conf" / "examples" / "in-front-of-ejabberd.yml"
DOMAIN = "example.org"
VHOST = "localhost"


def section() -> str:
    """The text of the README's "In front of ejabberd" section."""
    text = (daemon.ROOT / "README.md").read_text()
    return text.split("\n## In front of ejabberd\n", 1)[1].split("\n## ", 1)[0]


def blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", section(), flags=re.S)


def yaml_block(first_line: str) -> Any:
    """The section's YAML block that starts with the comment ``first_line``."""
    [block] = [b for b in blocks("yaml") if b.startswith(first_line)]
    return yaml.safe_load(block)


def shell_lines() -> list[str]:
    """The command lines of the section's bash blocks, in order."""
    return [
        line.split("  #")[0].strip()
        for block in blocks("bash")
        for line in block.splitlines()
        if line.strip()
    ]


def _local(value: Any) -> Any:
    """``value`` with example.org read as this test's virtual host."""
    return yaml.safe_load(yaml.safe_dump(value).replace(DOMAIN, VHOST))


class ReadmeEjabberd(EjabberdServer):
    """ejabberd with the README's snippet as its ACLs, /api listener, permissions and modules.

    Only ``console commands`` (ejabberdctl, which the test drives) is kept of the harness's
    own permissions, so ``/api`` is open to exactly what the snippet allows.
    """

    def config(self) -> dict[str, Any]:
        config = super().config()
        snippet = _local(yaml_block("# ejabberd.yml"))
        [listener] = snippet["listen"]
        listener["port"] = self.http_port
        config["listen"] = [
            entry for entry in config["listen"] if entry["module"] != "ejabberd_http"
        ] + [listener]
        config["acl"] = snippet["acl"]
        config["api_permissions"] = {
            "console commands": config["api_permissions"]["console commands"],
            **snippet["api_permissions"],
        }
        config["modules"] = {**config["modules"], **snippet["modules"]}
        return config


def test_the_section_shows_both_sides() -> None:
    """The section has the ejabberd.yml snippet, the gateway's keys, the accounts to create
    and example calls in three dialects; its gateway keys are those of the example file."""
    gateway = yaml_block("# gateway.yml")["gateway"]
    example = yaml.safe_load(EXAMPLE.read_text())["gateway"]
    assert gateway == {key: example[key] for key in gateway}
    lines = shell_lines()
    assert any(line.startswith("ejabberdctl register") for line in lines)
    assert any(line.startswith("curl ") and "/api/" in line for line in lines)
    assert any(line.startswith("wget ") and "/rest" in line for line in lines)
    assert any(line.startswith("gatewayctl ") for line in lines)


@dataclass(frozen=True)
class Followed:
    """The servers set up as the section says, and what its example calls printed."""

    gateway_port: int
    outputs: dict[str, str]


@pytest.fixture(scope="module")
def followed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Followed]:
    """ejabberd with the snippet and the section's accounts, the gateway running the example
    configuration, and the section's example calls run (each must exit 0 with no error)."""
    require(missing_ejabberd())
    tmp_path = tmp_path_factory.mktemp("readme-upstream")
    lines = shell_lines()
    gateway_port = daemon.free_port()
    with ReadmeEjabberd() as ejabberd:
        for line in lines:
            if line.startswith("ejabberdctl "):
                ejabberd.ctl(*shlex.split(line.replace(DOMAIN, VHOST))[1:])
        config = tmp_path / "gateway.yml"
        text = EXAMPLE.read_text()
        for old, new in (
            ("http://127.0.0.1:5280/api", f"http://{LOOPBACK}:{ejabberd.http_port}/api"),
            ("port: 5281", f"port: {gateway_port}"),
            ("/var/lib/xmpp-gateway/gateway.sqlite3", str(tmp_path / "gateway.sqlite3")),
            ("/run/xmpp-gateway/gatewayctl.sock", str(tmp_path / "gatewayctl.sock")),
            ("/var/lib/xmpp-gateway/files", str(tmp_path / "files")),
            (DOMAIN, VHOST),
        ):
            assert old in text, old
            text = text.replace(old, new)
        config.write_text(text)
        process = daemon.start(config, tmp_path)
        try:
            daemon.wait_for_http(process, gateway_port)
            outputs = {}
            for line in lines:
                if line.startswith("ejabberdctl "):
                    continue
                if line.startswith("wget ") and shutil.which("wget") is None:
                    pytest.skip("wget is not installed")
                command = (
                    line.replace("127.0.0.1:5281", f"127.0.0.1:{gateway_port}")
                    .replace("/etc/xmpp-gateway/gateway.yml", str(config))
                    .replace(DOMAIN, VHOST)
                )
                if command.startswith("gatewayctl "):
                    command = f"{daemon.BIN / 'gatewayctl'} {command[len('gatewayctl ') :]}"
                done = subprocess.run(
                    ["bash", "-c", command],
                    capture_output=True,
                    text=True,
                    timeout=60,
                    cwd=tmp_path,
                    env=daemon.env(),
                )
                assert done.returncode == 0, f"{command}\n{done.stdout}{done.stderr}"
                assert '"status":"error"' not in done.stdout.replace(" ", ""), done.stdout
                assert not done.stdout.startswith("Error"), done.stdout
                outputs[line.split()[0]] = done.stdout
            yield Followed(gateway_port, outputs)
        finally:
            output = daemon.stop(process)
            assert "Traceback" not in output, output


def test_followed_as_written(followed: Followed) -> None:
    """Every example call of the section succeeds and answers from ejabberd's accounts."""
    outputs = followed.outputs
    assert "api-gateway" in outputs["curl"] and "admin" in outputs["curl"], outputs
    assert outputs["wget"] == "2", outputs
    assert outputs["gatewayctl"].split() == sorted(["admin", "api-gateway"]), outputs


def test_oauth_route_keeps_tokens_local(followed: Followed) -> None:
    """The example routes ``[tag:oauth]`` to the gateway's own store: an ejabberd account
    gets a token from the gateway's /oauth (its password checked by ejabberd), and that
    token runs a command that ejabberd answers."""
    assert _token_call(followed.gateway_port) == (200, ["admin", "api-gateway"])


def _token_call(port: int) -> tuple[int, Any]:
    """With the example's route of ``[tag:oauth]`` to the gateway's own store: a token from
    its /oauth (the password checked by ejabberd) runs a command that ejabberd answers."""
    form = urllib.parse.urlencode(
        {
            "grant_type": "password",
            "username": f"admin@{VHOST}",
            "password": "secret",
            "scope": "ejabberd:admin",
        }
    ).encode()
    url = f"http://{LOOPBACK}:{port}"
    try:
        with urllib.request.urlopen(f"{url}/oauth/token", form, timeout=30) as response:
            token = json.loads(response.read())["access_token"]
    except urllib.error.HTTPError as e:
        return e.code, f"/oauth/token: {e.read().decode(errors='replace')}"
    request = urllib.request.Request(
        f"{url}/api/registered_users",
        json.dumps({"host": VHOST}).encode(),
        {"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, sorted(json.loads(response.read()))
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode(errors="replace")
