"""mod_rest's documented examples deliver a message through the component link to a real client.

The gateway's ``/rest`` takes the stanza of ejabberd-contrib's mod_rest README, queues it, and
sends it over its XEP-0114 link to a private ejabberd or Prosody; ``bob``, logged in with a
real XMPP client, must receive it with the body and the ``from`` that the link's policy
promises:

- ``rewrite`` (the default): a ``from`` outside the component's domain, such as the README's
  ``localhost/rest``, is replaced by the component JID;
- ``pass``: the ``from`` is sent unchanged.  Only ejabberd can take that, because its test
  listener runs with ``check_from: false``; Prosody closes a component stream that claims a
  foreign sender (``invalid-from``), so it is tested with ``rewrite`` only.

Each gateway configuration runs against its server for the whole module; every test logs
``bob`` in afresh, so the only message it sees is the one it posted.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.integration.daemon import Daemon, running_daemon
from tests.integration.servers import XmppServer
from tests.integration.xmppclient import ReceivedMessage, Receiver

README_SENDER = "localhost/rest"

# (server fixture, the gateway's ``gateway.component.from`` policy)
SETUPS = [("ejabberd", "rewrite"), ("ejabberd", "pass"), ("prosody", "rewrite")]


@dataclass(frozen=True)
class Setup:
    """One server, with a gateway linked to its component listener."""

    server: XmppServer
    gateway: Daemon
    policy: str

    @property
    def url(self) -> str:
        # the README's URL ends in a slash: http://localhost:5280/rest/
        return f"http://127.0.0.1:{self.gateway.http_port}/rest/"

    def stanza(self) -> str:
        """The README's message, addressed to this server's bob."""
        to = self.server.jid("bob")
        return f'<message to="{to}" from="{README_SENDER}"><body>World</body></message>'

    def expected_sender(self) -> str:
        """The ``from`` bob must see, as the configured policy documents it."""
        component = self.server.component
        assert component is not None
        return README_SENDER if self.policy == "pass" else component.domain


def wait_until_linked(gateway: Daemon, timeout: float = 30) -> None:
    """Wait until ``/health`` reports the component link up."""
    url = f"http://127.0.0.1:{gateway.http_port}/health"
    deadline = time.monotonic() + timeout
    last = ""
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except urllib.error.HTTPError as e:
            last = e.read().decode(errors="replace")
        except OSError as e:
            last = str(e)
        time.sleep(0.1)
    raise AssertionError(f"the component link did not come up in {timeout}s: {last}")


@pytest.fixture(
    scope="module", params=SETUPS, ids=[f"{server}-{policy}" for server, policy in SETUPS]
)
def setup(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Setup]:
    """A gateway whose component link is up, for each server and ``from`` policy."""
    kind, policy = request.param
    server: XmppServer = request.getfixturevalue(kind)
    component = server.component
    assert component is not None
    workdir = tmp_path_factory.mktemp(f"rest-{kind}-{policy}")
    link = {
        "jid": component.domain,
        "secret": component.secret,
        "host": component.host,
        "port": component.port,
        "from": policy,
    }
    with running_daemon(workdir, component=link) as gateway:
        wait_until_linked(gateway)
        yield Setup(server, gateway, policy)


def receive_world(bob: Receiver) -> ReceivedMessage:
    """The one message bob gets after a POST: the README's ``World``."""
    [message] = bob.wait_until(lambda ms: any(m.body == "World" for m in ms), timeout=20)
    return message


def check_delivery(setup: Setup, message: ReceivedMessage) -> None:
    assert message.body == "World"
    assert message.sender == setup.expected_sender()
    assert message.to.split("/")[0] == setup.server.jid("bob")
    # the link marks every message so that a receiver can drop a duplicate
    assert message.origin_id
    assert not message.delayed


def test_wget_example_delivers(
    setup: Setup, xmpp_receiver: Callable[..., Receiver], tmp_path: Path
) -> None:
    """The README's ``wget --server-response --post-data '<message …>'`` gets 200 and ``Ok``
    (saved to index.html), and bob receives the message."""
    wget = shutil.which("wget")
    if wget is None:
        reason = "wget is not installed (scripts/test.sh installs it)"
        if os.environ.get("CI"):
            pytest.fail(f"{reason}; CI is set, so the example must run", pytrace=False)
        pytest.skip(reason)
    bob = xmpp_receiver(setup.server, "bob")
    result = subprocess.run(
        [wget, setup.url, "--no-proxy", "--server-response", "--post-data", setup.stanza()],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 0, result.stderr
    # --server-response prints the answer's headers on stderr
    assert "HTTP/1.1 200 OK" in result.stderr
    assert "Content-Type: text/html; charset=utf-8" in result.stderr
    assert (tmp_path / "index.html").read_text() == "Ok"
    check_delivery(setup, receive_world(bob))


def test_lynx_style_post_delivers(setup: Setup, xmpp_receiver: Callable[..., Receiver]) -> None:
    """A raw stanza labelled ``application/x-www-form-urlencoded`` over HTTP/1.0, as
    ``lynx -mime_header -post_data`` sends what it reads, gets ``200 Ok`` and is delivered."""
    bob = xmpp_receiver(setup.server, "bob")
    # lynx posts the lines it read from stdin, each ending in a newline
    body = (setup.stanza() + "\n").encode()
    head = (
        "POST /rest/ HTTP/1.0\r\n"
        f"Host: localhost:{setup.gateway.http_port}\r\n"
        "Accept: text/html, text/plain, */*\r\n"
        "User-Agent: Lynx/2.9.0 libwww-FM/2.14\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\n"
        f"Content-Length: {len(body)}\r\n"
        "\r\n"
    ).encode()
    with socket.create_connection(("127.0.0.1", setup.gateway.http_port), timeout=10) as conn:
        conn.sendall(head + body)
        answer = b""
        # HTTP/1.0 without keep-alive: the server closes after the answer
        while chunk := conn.recv(65536):
            answer += chunk
    headers, _, content = answer.partition(b"\r\n\r\n")
    status_line, *header_lines = headers.decode("latin-1").split("\r\n")
    assert status_line.split(" ", 1)[1] == "200 OK"
    fields = {name.lower(): value for name, _, value in (h.partition(": ") for h in header_lines)}
    assert fields["content-type"] == "text/html; charset=utf-8"
    assert fields["content-length"] == "2"
    assert content == b"Ok"
    check_delivery(setup, receive_world(bob))


def test_python_example_delivers(setup: Setup, xmpp_receiver: Callable[..., Receiver]) -> None:
    """The README's Python example, in Python 3 (``urlopen(url, data)``): the stanza is
    answered ``Ok`` and delivered, and the command that follows answers as ejabberdctl would.

    The command line carries ``--auth`` for the shipped config's admin: anonymous callers may
    not list accounts (mod_rest command lines are decided by ``api_permissions``)."""
    bob = xmpp_receiver(setup.server, "bob")
    for user, password in (("user1", "pw1"), ("admin", "adminpw")):
        registered = setup.gateway.ctl("register", user, "localhost", password)
        assert registered.returncode == 0, registered.stdout
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    with opener.open(setup.url, setup.stanza().encode(), timeout=10) as resp:
        result = resp.read()
    assert result == b"Ok"
    check_delivery(setup, receive_world(bob))

    line = b"--auth admin localhost adminpw registered_users localhost"
    with opener.open(setup.url, line, timeout=10) as resp:
        result = resp.read()
    assert "user1" in result.decode().split("\n")


def test_stanza_without_from_comes_from_the_component(
    setup: Setup, xmpp_receiver: Callable[..., Receiver]
) -> None:
    """A posted message with no ``from`` (mod_rest refused those) arrives from the component
    JID, whatever the policy."""
    bob = xmpp_receiver(setup.server, "bob")
    stanza = f'<message to="{setup.server.jid("bob")}"><body>World</body></message>'
    request = urllib.request.Request(setup.url, stanza.encode(), {"Content-Type": "text/xml"})
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(request, timeout=10) as resp:
        assert resp.read() == b"Ok"
    message = receive_world(bob)
    component = setup.server.component
    assert component is not None
    assert message.sender == component.domain


def test_health_reports_the_link(setup: Setup) -> None:
    """While linked, ``/health`` answers 200 with the link's state as JSON."""
    url = f"http://127.0.0.1:{setup.gateway.http_port}/health"
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(url, timeout=10) as resp:
        assert resp.status == 200
        state = json.loads(resp.read())
    assert state["xmpp_component"]["connected"] is True
