"""The HTTP clients of mod_rest's README, run for real, exactly as the README shows them.

``lynx … -mime_header -post_data``, ``wget --post-data`` with command lines (without and
with ``--auth``), the PHP ``sendRESTRequest`` function (``file_get_contents``, Debian's
php-cli) and ``curl`` post to a real daemon whose component link is up to a private
ejabberd; ``bob``, logged in with a real XMPP client, receives the stanzas.  Only the host
and port differ from the README (``localhost:5280`` becomes this daemon's address), and the
README's recipient ``nolan@localhost`` is ``bob``.  (The README's ``wget`` stanza example
is run in ``test_rest_delivery.py`` against every server.)

The shipped configuration lets anonymous callers run only ``status`` and
``connected_users_number`` over ``/rest``; the README's anonymous command examples
(``registered_users localhost`` and PHP's ``register user12 localhost somepass``) need the
explicit opt-in rule our README documents ("mod_rest trusts its address"), which this
daemon's configuration adds.  ``--auth`` passwords are checked even so.

Missing programs skip their test, or fail it when ``CI`` is set (scripts/test.sh installs
lynx, wget, curl and php-cli).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from tests.integration import daemon
from tests.integration.daemon import Daemon
from tests.integration.servers import EjabberdServer
from tests.integration.test_rest_delivery import receive_world, wait_until_linked
from tests.integration.xmppclient import ReceivedMessage, Receiver

USERS = {"bob": "bob-secret"}
README_SENDER = "localhost/rest"

#: our README's opt-in rule for mod_rest's old "every command from this address"
TRUST_THE_ADDRESS = {
    "from": "mod_rest",
    "who": {"ip": "127.0.0.1"},
    "what": "*",
}

#: mod_rest README's PHP example, verbatim but for the URL and Host, with the closing
#: braces the README's page lost; PHP_URL and PHP_HOST are filled in per test
PHP_EXAMPLE = r"""<?php
function sendRESTRequest ($url, $request) {
    // Create a stream context so that we can POST the REST request to $url
    $context = stream_context_create (array ('http' => array ('method' => 'POST'
                                            ,'header' => "Host: PHP_HOST\nContent-Type: text/html; charset=utf-8\nContent-Length: ".strlen($request)
                                            ,'content' => $request)));
    // Use file_get_contents for PHP 5+ otherwise use fopen, fread, fclose
    if (version_compare(PHP_VERSION, '5.0.0', '>=')) {
        $result = file_get_contents($url, false, $context);
    } else {
        // This is the PHP4 workaround which is slightly less elegant
        // Suppress fopen warnings, otherwise they interfere with the page headers
        $fp = @fopen($url, 'r', false, $context);
        $result = '';
        // Only proceed if we have a file handle, otherwise we enter an infinite loop
        if ($fp) {
            while(!feof($fp)) {
                $result .= fread($fp, 4096);
            }
            fclose($fp);
        }
    }
    return $result;
}
$url = "PHP_URL";
$request = PHP_REQUEST;
$response = sendRESTRequest($url, $request);
echo "Response: $response\n";
"""  # noqa: E501 - the README's long line, as written


def program(name: str) -> str:
    """The path of ``name``; skips the test without it (fails it when ``CI`` is set)."""
    path = shutil.which(name)
    if path is None:
        reason = f"{name} is not installed (scripts/test.sh installs it)"
        if os.environ.get("CI"):
            pytest.fail(f"{reason}; CI is set, so the example must run", pytrace=False)
        pytest.skip(reason)
    return path


def client_env() -> dict[str, str]:
    """The environment for the clients: no proxy between them and the daemon."""
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    env["no_proxy"] = "*"
    return env


@dataclass(frozen=True)
class Setup:
    """ejabberd with bob, and a gateway linked to its component port."""

    server: EjabberdServer
    gateway: Daemon

    @property
    def url(self) -> str:
        # the README's URL ends in a slash: http://localhost:5280/rest/
        return f"http://127.0.0.1:{self.gateway.http_port}/rest/"

    def stanza(self) -> str:
        """The README's message, addressed to bob."""
        to = self.server.jid("bob")
        return f'<message to="{to}" from="{README_SENDER}"><body>World</body></message>'

    def registered(self) -> list[str]:
        result = self.gateway.ctl("registered_users", "localhost")
        assert result.returncode == 0, result.stdout + result.stderr
        return result.stdout.split()

    def check_delivered(self, message: ReceivedMessage) -> None:
        component = self.server.component
        assert component is not None
        assert message.body == "World"
        assert message.to.split("/")[0] == self.server.jid("bob")
        # the link's default "rewrite" policy sends it from the component's domain
        assert message.sender == component.domain


@pytest.fixture(scope="module")
def setup(
    ejabberd_server: Callable[..., EjabberdServer], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Setup]:
    """The shipped config plus the opt-in rule, linked to a private ejabberd."""
    server = ejabberd_server(users=USERS)
    component = server.component
    assert component is not None
    workdir = tmp_path_factory.mktemp("legacy-http")
    http_port, xmlrpc_port = daemon.free_port(), daemon.free_port()
    path = daemon.write_config(
        workdir,
        http_port,
        xmlrpc_port,
        component={
            "jid": component.domain,
            "secret": component.secret,
            "host": component.host,
            "port": component.port,
        },
    )
    config = yaml.safe_load(path.read_text())
    config["api_permissions"]["mod_rest trusts its address"] = TRUST_THE_ADDRESS
    path.write_text(yaml.safe_dump(config))
    process = daemon.start(path, workdir)
    try:
        daemon.wait_for_http(process, http_port)
        gateway = Daemon(process, path, http_port, xmlrpc_port)
        wait_until_linked(gateway)
        registered = gateway.ctl("register", "user1", "localhost", "thepass")
        assert registered.returncode == 0, registered.stdout
        yield Setup(server, gateway)
    finally:
        daemon.stop(process)


def run(argv: list[str], cwd: Path, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        argv,
        cwd=cwd,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        env=client_env(),
    )


def test_lynx_example_delivers(
    setup: Setup, xmpp_receiver: Callable[..., Receiver], tmp_path: Path
) -> None:
    """``lynx http://localhost:5280/rest/ -mime_header -post_data`` with the stanza on its
    standard input prints ``200 OK``, the headers and ``Ok``, and bob receives the message."""
    lynx = program("lynx")
    bob = xmpp_receiver(setup.server, "bob")
    result = run([lynx, setup.url, "-mime_header", "-post_data"], tmp_path, setup.stanza() + "\n")
    assert result.returncode == 0, result.stderr
    head, _, body = result.stdout.partition("\n\n")
    assert head.splitlines()[0].endswith(" 200 OK"), result.stdout
    assert "Content-Type: text/html; charset=utf-8" in head
    assert body.strip() == "Ok"
    setup.check_delivered(receive_world(bob))


def test_wget_command_example(setup: Setup, tmp_path: Path) -> None:
    """``wget … --server-response --post-data 'registered_users localhost'`` saves the
    account list to index.html (allowed by the opt-in rule)."""
    wget = program("wget")
    result = run(
        [wget, setup.url, "--server-response", "--post-data", "registered_users localhost"],
        tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert "HTTP/1.1 200 OK" in result.stderr
    assert "user1" in (tmp_path / "index.html").read_text().split("\n")


def test_wget_auth_example(setup: Setup, tmp_path: Path) -> None:
    """``--post-data '--auth user1 localhost thepass registered_users localhost'`` answers the
    list; the same line with a wrong password is refused (401), trusted address or not."""
    wget = program("wget")
    line = "--auth user1 localhost thepass registered_users localhost"
    result = run([wget, setup.url, "--server-response", "--post-data", line], tmp_path)
    assert result.returncode == 0, result.stderr
    assert "user1" in (tmp_path / "index.html").read_text().split("\n")

    wrong = line.replace("thepass", "notthepass")
    refused = run([wget, setup.url, "--server-response", "--post-data", wrong], tmp_path)
    assert refused.returncode == 6, refused.stderr  # wget's "authentication failure"
    assert "HTTP/1.1 401 Unauthorized" in refused.stderr


def write_php(tmp_path: Path, setup: Setup, request: str) -> Path:
    url = f"http://127.0.0.1:{setup.gateway.http_port}/rest"
    text = (
        PHP_EXAMPLE.replace("PHP_HOST", f"localhost:{setup.gateway.http_port}")
        .replace("PHP_URL", url)
        .replace("PHP_REQUEST", "'" + request.replace("\\", "\\\\").replace("'", "\\'") + "'")
    )
    path = tmp_path / "rest.php"
    path.write_text(text)
    return path


def test_php_example_registers(setup: Setup, tmp_path: Path) -> None:
    """The README's PHP ``sendRESTRequest`` (``file_get_contents``; PHP sends the header
    string with bare-LF separators and a second, identical Content-Length) runs
    ``register user12 localhost somepass``: PHP prints the answer and the account exists."""
    php = program("php")
    script = write_php(tmp_path, setup, "register user12 localhost somepass")
    result = run([php, str(script)], tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Response: User user12@localhost successfully registered" in result.stdout, (
        result.stdout + result.stderr
    )
    assert "user12" in setup.registered()


def test_php_function_sends_a_stanza(
    setup: Setup, xmpp_receiver: Callable[..., Receiver], tmp_path: Path
) -> None:
    """The same PHP function posting the README's stanza gets ``Ok``; bob receives it."""
    php = program("php")
    bob = xmpp_receiver(setup.server, "bob")
    result = run([php, str(write_php(tmp_path, setup, setup.stanza()))], tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Response: Ok" in result.stdout
    setup.check_delivered(receive_world(bob))


def test_curl_examples(
    setup: Setup, xmpp_receiver: Callable[..., Receiver], tmp_path: Path
) -> None:
    """Our README's curl lines: ``-d 'status'`` answers the status text and ``-d '<message…>'``
    answers ``Ok`` and is delivered."""
    curl = program("curl")
    bob = xmpp_receiver(setup.server, "bob")
    status = run([curl, "-s", setup.url, "-d", "status"], tmp_path)
    assert status.returncode == 0, status.stderr
    assert "is started" in status.stdout
    sent = run([curl, "-s", setup.url, "-d", setup.stanza()], tmp_path)
    assert (sent.returncode, sent.stdout) == (0, "Ok")
    setup.check_delivered(receive_world(bob))


def test_metrics_see_the_live_link(setup: Setup, tmp_path: Path) -> None:
    """With the link up, ``/metrics`` shows it up, counts accepted stanzas, and counts the
    mod_rest command calls by command and outcome."""
    curl = program("curl")
    run([curl, "-s", setup.url, "-d", setup.stanza()], tmp_path)
    run([curl, "-s", setup.url, "-d", "registered_users localhost"], tmp_path)
    url = f"http://127.0.0.1:{setup.gateway.http_port}/metrics"
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(url, timeout=10) as response:
        text = response.read().decode()
    values = {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }
    assert values[("xmpp_gateway_component_up", ())] == 1
    assert values[("xmpp_gateway_component_stanzas_accepted_total", ())] >= 1
    key = (("command", "registered_users"), ("dialect", "mod_rest"), ("outcome", "ok"))
    assert values[("xmpp_gateway_requests_total", key)] >= 1
