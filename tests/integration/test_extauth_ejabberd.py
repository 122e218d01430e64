"""Real XMPP logins against the gateway's accounts: ejabberd with ``gateway-extauth``.

One gateway daemon and one ejabberd (``auth_method: external``) serve the whole module.
ejabberd runs ``gateway-extauth --config <the daemon's file>``, so both processes open the
same SQLite store: what the daemon's ``/api`` writes decides what a real client may do over
c2s.  The harness turns ejabberd's authentication cache off, so every login reaches the store.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.integration.daemon import BIN, Daemon, post_json, running_daemon
from tests.integration.servers import EjabberdServer
from tests.integration.xmppclient import can_login

VHOST = "localhost"
ADMIN = (f"admin@{VHOST}", "admin pw")


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Daemon]:
    """The gateway daemon, with an administrator account to drive its /api."""
    with running_daemon(tmp_path_factory.mktemp("gateway")) as d:
        result = d.ctl("register", "admin", VHOST, ADMIN[1])
        assert result.returncode == 0, result.stdout + result.stderr
        yield d


@pytest.fixture(scope="module")
def ejabberd(gateway: Daemon, ejabberd_server: Callable[..., EjabberdServer]) -> EjabberdServer:
    """ejabberd authenticating every account through gateway-extauth on the daemon's store."""
    return ejabberd_server(
        vhost=VHOST,
        component=False,
        auth_method="external",
        extauth_program=[str(BIN / "gateway-extauth"), "--config", str(gateway.config)],
        # check_account and change_password for ejabberd's own ctl
        extra={"modules": {"mod_admin_extra": {}}},
    )


def api(gateway: Daemon, command: str, **args: Any) -> Any:
    """Run ``command`` through the daemon's /api as the administrator; its answer.

    Fails the test unless the answer is HTTP 200.
    """
    status, answer = post_json(gateway.http_port, command, args, auth=ADMIN)
    assert status == 200, f"{command} answered {status}: {answer}"
    return answer


def login(ejabberd: EjabberdServer, user: str, password: str) -> bool:
    """Whether ``user`` logs in to ejabberd over c2s with ``password``."""
    return can_login(ejabberd.host, ejabberd.c2s_port, ejabberd.jid(user), password)


def test_api_registered_user_logs_in(gateway: Daemon, ejabberd: EjabberdServer) -> None:
    """An account created through the gateway's /api logs in to ejabberd with its password,
    even one holding colons and spaces; a wrong password and an unknown user are refused."""
    api(gateway, "register", user="alice", host=VHOST, password="alice pw")
    api(gateway, "register", user="bob", host=VHOST, password="b:o:b s3cret")
    assert login(ejabberd, "alice", "alice pw")
    assert login(ejabberd, "bob", "b:o:b s3cret")
    assert not login(ejabberd, "alice", "alice")
    assert not login(ejabberd, "bob", "b:o:b")
    assert not login(ejabberd, "nobody", "alice pw")


def test_changed_password_replaces_the_old_one(gateway: Daemon, ejabberd: EjabberdServer) -> None:
    """After change_password through /api the old password is refused and the new one works."""
    api(gateway, "register", user="carol", host=VHOST, password="old pw")
    assert login(ejabberd, "carol", "old pw")
    api(gateway, "change_password", user="carol", host=VHOST, newpass="new pw")
    assert not login(ejabberd, "carol", "old pw")
    assert login(ejabberd, "carol", "new pw")


def test_ban_blocks_login_and_unban_restores_it(gateway: Daemon, ejabberd: EjabberdServer) -> None:
    """A banned account cannot log in with its right password; the embedded store keeps the
    password through a ban, so after unban_account (API v2) the same password works again."""
    api(gateway, "register", user="dave", host=VHOST, password="dave pw")
    assert login(ejabberd, "dave", "dave pw")
    api(gateway, "ban_account", user="dave", host=VHOST, reason="spam")
    assert not login(ejabberd, "dave", "dave pw")
    api(gateway, "unban_account", user="dave", host=VHOST)
    assert login(ejabberd, "dave", "dave pw")


def test_ejabberd_sees_which_accounts_exist(gateway: Daemon, ejabberd: EjabberdServer) -> None:
    """ejabberd's own check_account (extauth ``isuser``) is true for an account registered
    through /api and false for one that was never registered or has been unregistered."""
    api(gateway, "register", user="erin", host=VHOST, password="erin pw")
    assert ejabberd.ctl_result("check_account", "erin", VHOST).returncode == 0
    assert ejabberd.ctl_result("check_account", "nobody", VHOST).returncode != 0
    api(gateway, "unregister", user="erin", host=VHOST)
    assert ejabberd.ctl_result("check_account", "erin", VHOST).returncode != 0
    assert not login(ejabberd, "erin", "erin pw")


def test_password_set_in_ejabberd_reaches_the_gateway(
    gateway: Daemon, ejabberd: EjabberdServer
) -> None:
    """ejabberd's change_password (extauth ``setpass``) writes the gateway's store: the
    gateway's check_password then accepts the new password and refuses the old one."""
    api(gateway, "register", user="frank", host=VHOST, password="frank pw")
    ejabberd.ctl("change_password", "frank", VHOST, "frank new")
    assert login(ejabberd, "frank", "frank new")
    assert api(gateway, "check_password", user="frank", host=VHOST, password="frank new") == 0
    assert api(gateway, "check_password", user="frank", host=VHOST, password="frank pw") == 1
