"""Issue 8, item 1: anonymous /rest command lines must not run every command.

With the shipped configuration, a command line POSTed to /rest used to run
as a console command: anyone on loopback could change the admin's password,
and ``--auth`` as a plain account did not limit anything.  Now a command line
is decided by ``api_permissions`` like an /api call, as the ``--auth`` account
or as an anonymous caller from its address.
"""

from __future__ import annotations

from pathlib import Path

from tests.hostile import live
from tests.hostile.live import ADMIN, ALICE, ShippedDaemon

ANONYMOUS_REFUSAL = (
    "Error: api_permissions do not let anonymous callers from 127.0.0.1 run 'change_password'"
)


def admin_password_works(d: ShippedDaemon, password: str) -> bool:
    """True when an /api call authenticated as the admin with ``password`` is answered."""
    status, _, body = d.api(
        "registered_users", {"host": "localhost"}, auth=(f"{ADMIN[0]}@{ADMIN[1]}", password)
    )
    if status == 200:
        assert b"admin" in body, body
    return status == 200


def test_anonymous_change_password_is_refused(tmp_path: Path) -> None:
    """An anonymous ``change_password admin`` over /rest gets 403 and changes nothing;
    the admin's password still works on /api afterwards."""
    with live.shipped_daemon(tmp_path) as d, live.normal_client(d):
        for line in (
            "change_password admin localhost pwned",
            '--auth "" "" "" change_password admin localhost pwned',
        ):
            status, body = d.rest(line)
            assert status == 403, (status, body)
            assert body.decode().startswith(ANONYMOUS_REFUSAL), body
            assert b"--auth USER HOST PASSWORD" in body
        assert admin_password_works(d, ADMIN[2])
        assert not admin_password_works(d, "pwned")


def test_plain_account_cannot_change_the_admins_password(tmp_path: Path) -> None:
    """``--auth alice …`` cannot change the admin's password: 403, and it still works."""
    with live.shipped_daemon(tmp_path) as d, live.normal_client(d):
        user, host, password = ALICE
        status, body = d.rest(f"--auth {user} {host} {password} change_password admin localhost x")
        assert (status, body) == (
            403,
            b"Error: api_permissions do not let alice@localhost run 'change_password'",
        )
        assert admin_password_works(d, ADMIN[2])


def test_admin_may_run_admin_commands(shipped: ShippedDaemon) -> None:
    """``--auth admin …`` runs what the shipped rules let the admin run."""
    user, host, password = ADMIN
    with live.normal_client(shipped):
        status, body = shipped.rest(f"--auth {user} {host} {password} registered_users localhost")
    assert status == 200, body
    assert body.decode().split("\n") == ["admin", "alice"]


def test_wrong_auth_password_is_refused(shipped: ShippedDaemon) -> None:
    """A wrong ``--auth`` password gets 401 and does not fall back to an anonymous call."""
    user, host, _ = ADMIN
    with live.normal_client(shipped):
        status, body = shipped.rest(f"--auth {user} {host} wrong registered_users localhost")
    assert status == 401, body
    assert body.startswith(b"Error: "), body
    assert b"alice" not in body


def test_anonymous_public_commands_still_answer(shipped: ShippedDaemon) -> None:
    """Anonymous loopback callers still get ``status`` and ``connected_users_number``,
    as they do on /api, and nothing more."""
    with live.normal_client(shipped):
        status, body = shipped.rest("status")
        assert status == 200, body
        assert b"is started" in body
        # allowed through to the backend (the embedded one may not support it)
        status, body = shipped.rest("connected_users_number")
        assert status == 200 and b"api_permissions" not in body, body
        refused, _ = shipped.rest("registered_users localhost")
        assert refused == 403
