"""``status`` reads like the real ejabberd 23.01's, over /api, XML-RPC and ejabberdctl.

Client libraries take the word before ``is running in that node`` as the server's release and
choose their calls by it, so the gateway's 23.01 profile must word the first lines exactly as
Debian's ejabberd 23.01 does.  Only the node name and Debian's packaging suffix of the release
(``23.01-1``) are normalised; the gateway's own lines that follow are not compared.  The
24.12 wording is checked against ejabberd_admin.erl of tag 24.12 in the unit tests.
"""

from __future__ import annotations

import json
import re
import urllib.request
import xmlrpc.client
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.integration import daemon
from tests.integration.servers import EjabberdServer

_NODE = re.compile(r"^The node \S+ is")
_DEBIAN_RELEASE = re.compile(r"ejabberd 23\.01-[0-9A-Za-z.~+]+ is running")


def normalised(text: str) -> str:
    """``text`` with the node name and Debian's release suffix replaced."""
    text = _NODE.sub("The node NODE is", text)
    return _DEBIAN_RELEASE.sub("ejabberd 23.01 is running", text)


def api_status(port: int) -> str:
    """The JSON string that POST /api/status answers."""
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/status", data=b"{}", method="POST"
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        text = json.loads(response.read())
    assert isinstance(text, str)
    return text


@pytest.fixture(scope="module")
def real(ejabberd_server: Callable[..., EjabberdServer]) -> EjabberdServer:
    """Debian's ejabberd 23.01 on loopback."""
    return ejabberd_server()


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[daemon.Daemon]:
    """The gateway speaking the 23.01 API on every listener."""
    with daemon.running_daemon(tmp_path_factory.mktemp("status"), api_profile="23.01") as d:
        yield d


def test_api_status_first_line_is_ejabberd_2301s(
    real: EjabberdServer, gateway: daemon.Daemon
) -> None:
    """/api status: 23.01's one line (the two sentences run together) is the gateway's
    first line; our product and link state follow on later lines."""
    expected = normalised(api_status(real.http_port))
    assert expected == (
        "The node NODE is started. Status: startedejabberd 23.01 is running in that node"
    )
    ours = normalised(api_status(gateway.http_port)).split("\n")
    assert ours[0] == expected
    assert ours[1].startswith("xmpp-api-gateway ")


def test_xmlrpc_status_is_the_commands_text(gateway: daemon.Daemon) -> None:
    """XML-RPC status answers the same text as /api (ejabberd 23.01 does the same: both
    return the status command's restuple), with ``res`` 0."""
    reply: Any = xmlrpc.client.ServerProxy(f"http://127.0.0.1:{gateway.xmlrpc_port}/").status()
    assert reply["res"] == 0
    assert reply["text"] == api_status(gateway.http_port)


def test_ctl_status_is_ejabberdctls(real: EjabberdServer, gateway: daemon.Daemon) -> None:
    """``gatewayctl status`` prints ejabberdctl's own two lines, exactly as ejabberdctl of
    23.01 prints them, and exits 0 like it."""
    theirs = real.ctl_result("status")
    ours = gateway.ctl("status")
    assert (ours.returncode, theirs.returncode) == (0, 0)
    expected = normalised(theirs.stdout).split("\n")[:2]
    assert expected == [
        "The node NODE is started with status: started",
        "ejabberd 23.01 is running in that node",
    ]
    assert normalised(ours.stdout).split("\n")[:2] == expected
