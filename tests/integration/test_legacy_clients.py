"""Legacy Python clients of ejabberd's XML-RPC API, unchanged, against the gateway.

pyejabberd and ejabberd-python3d were written for ejabberd releases before
24.x; pointed at a listener with the 23.01 profile they must work against the
embedded backend.  Both are installed without their (obsolete, pinned)
dependencies by scripts/test.sh; they only need ``six``.
"""

from __future__ import annotations

from collections.abc import Iterator

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
