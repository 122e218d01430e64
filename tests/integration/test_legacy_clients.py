"""Legacy Python clients of ejabberd's XML-RPC API, unchanged, against the gateway.

pyejabberd and ejabberd-python3d were written for ejabberd releases before
24.x; pointed at a listener with the 23.01 profile they must work against the
embedded backend.  Both are installed without their (obsolete, pinned)
dependencies by scripts/test.sh; they only need ``six``.
"""

from __future__ import annotations

import re
import xmlrpc.client
from collections.abc import Iterator
from typing import Any

import pytest

from tests.integration import daemon

pyejabberd = pytest.importorskip("pyejabberd")
python3d = pytest.importorskip("ejabberd_python3d.client")


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[daemon.Daemon]:
    """A daemon whose standalone XML-RPC listener speaks the 23.01 API, with an admin account."""
    workdir = tmp_path_factory.mktemp("legacy")
    with daemon.running_daemon(
        workdir, xmlrpc_profile="23.01", password_digests=["sha", "md5"]
    ) as d:
        result = d.ctl("register", "admin", "localhost", "adminpass")
        assert result.returncode == 0, result.stdout
        yield d


def test_pyejabberd_account_lifecycle(gateway: daemon.Daemon) -> None:
    """pyejabberd registers, lists, checks (sha hash), changes a password and reads a roster."""
    from pyejabberd import EjabberdAPIClient

    client = EjabberdAPIClient(
        "127.0.0.1", gateway.xmlrpc_port, "admin", "adminpass", "localhost", protocol="http"
    )
    assert client.register("pybob", "localhost", "first") is True
    users = client.registered_users("localhost")
    assert {"username": "pybob"} in users
    assert client.check_password_hash("pybob", "localhost", "first") is True
    assert client.check_password_hash("pybob", "localhost", "wrong") is False
    assert client.change_password("pybob", "localhost", "second") is True
    assert client.check_password_hash("pybob", "localhost", "second") is True
    assert client.check_password_hash("pybob", "localhost", "first") is False
    assert (
        client.add_rosteritem("pybob", "localhost", "admin", "localhost", "Boss", "Work", "both")
        is True
    )
    roster = client.get_roster("pybob", "localhost")
    assert roster == [
        {
            "jid": "admin@localhost",
            "nick": "Boss",
            "subscription": "both",
            "ask": "undefined",
            "group": "Work",
        }
    ]


def test_python3d_account_lifecycle(gateway: daemon.Daemon) -> None:
    """ejabberd-python3d registers, lists, checks and changes a password and reads a roster."""
    client = python3d.EjabberdAPIClient(
        "127.0.0.1", "admin", "adminpass", "localhost", gateway.xmlrpc_port, protocol="http"
    )
    assert client.register("py3carol", "localhost", "one") is True
    assert {"username": "py3carol"} in client.registered_users("localhost")
    assert client.check_password("py3carol", "localhost", "one") is True
    assert client.check_password("py3carol", "localhost", "two") is False
    assert client.change_password("py3carol", "localhost", "two") is True
    assert client.check_password("py3carol", "localhost", "two") is True
    assert client.get_roster("py3carol", "localhost") == []


# -- the release a client reads from status -----------------------------------------

#: how clients read the server's release: the word before "is running in that node"
RUNNING = re.compile(r"(\S+) is running in that node")
#: the oldest release whose account commands (change_password …) such a client calls
OLDEST_SUPPORTED = (16, 1)


def read_release(status_text: str) -> str:
    """The server release a client reads off ``status``, as such clients do."""
    found = RUNNING.search(status_text)
    assert found is not None, status_text
    return found[1]


def release_tuple(release: str) -> tuple[int, ...]:
    """``"23.01"`` as ``(23, 1)``; a release a client cannot read counts as ancient."""
    try:
        return tuple(int(part) for part in release.split("."))
    except ValueError:
        return (0,)


def gated(release: str) -> None:
    """What a client that chooses its calls by release does before changing a password."""
    if release_tuple(release) < OLDEST_SUPPORTED:
        raise RuntimeError(f"ejabberd {release} is too old for change_password")


def test_xmlrpc_client_reads_the_profile_release(gateway: daemon.Daemon) -> None:
    """xmlrpc.client reads 23.01 off the 23.01 listener's status and 24.12 off the 24.12
    one (the HTTP listener's /xmlrpc), never our product version, and the password change
    it gates on that release works on both."""
    auth = {"user": "admin", "server": "localhost", "password": "adminpass"}
    listeners = {
        "23.01": f"http://127.0.0.1:{gateway.xmlrpc_port}/",
        "24.12": f"http://127.0.0.1:{gateway.http_port}/xmlrpc",
    }
    for profile, url in listeners.items():
        server = xmlrpc.client.ServerProxy(url)
        reply: Any = server.status()
        text = reply["text"]
        assert text.split("\n")[0].endswith(f"ejabberd {profile} is running in that node")
        release = read_release(text)
        assert release == profile
        gated(release)
        user = f"xr{profile.replace('.', '')}"
        assert server.register(auth, {"user": user, "host": "localhost", "password": "a"})
        answer = server.change_password(auth, {"user": user, "host": "localhost", "newpass": "b"})
        assert answer == {"res": 0}
        assert server.check_password(
            auth, {"user": user, "host": "localhost", "password": "b"}
        ) == {"res": 0}


def test_pyejabberd_reads_the_profile_release(gateway: daemon.Daemon) -> None:
    """pyejabberd's own XML-RPC proxy and auth struct read 23.01 off status, and the
    password change gated on that release succeeds."""
    from pyejabberd import EjabberdAPIClient

    client = EjabberdAPIClient(
        "127.0.0.1", gateway.xmlrpc_port, "admin", "adminpass", "localhost", protocol="http"
    )
    release = read_release(client.proxy.status(client.auth)["text"])
    assert release == "23.01"
    gated(release)
    assert client.register("pyrelease", "localhost", "first") is True
    assert client.change_password("pyrelease", "localhost", "second") is True
    assert client.check_password_hash("pyrelease", "localhost", "second") is True


def test_python3d_reads_the_profile_release(gateway: daemon.Daemon) -> None:
    """ejabberd-python3d's status answers the rescode (0: running); its proxy and auth
    struct read 23.01 off the status text, and the gated password change succeeds."""
    client = python3d.EjabberdAPIClient(
        "127.0.0.1", "admin", "adminpass", "localhost", gateway.xmlrpc_port, protocol="http"
    )
    assert client.status() == 0
    release = read_release(client.server_proxy.status(client.auth)["text"])
    assert release == "23.01"
    gated(release)
    assert client.register("py3release", "localhost", "one") is True
    assert client.change_password("py3release", "localhost", "two") is True
    assert client.check_password("py3release", "localhost", "two") is True
