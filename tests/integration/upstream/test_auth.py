"""``gateway.auth: upstream``: callers log in with their ejabberd passwords.

A wrong password is refused as ejabberd's own interfaces refuse it, and a password changed
through the gateway takes effect at once, whatever the gateway remembered of the old one.
"""

from __future__ import annotations

import pytest

from tests.compat.harness import Answer
from tests.integration.upstream.harness import ADMIN, ADMIN_AUTH, VHOST, Front

WRONG = (f"{ADMIN}@{VHOST}", "not-the-password")
NOBODY = (f"nobody@{VHOST}", "whatever")


@pytest.mark.parametrize("auth", [WRONG, NOBODY], ids=["wrong password", "no such account"])
def test_refused_login_answers_like_ejabberd(front: Front, auth: tuple[str, str]) -> None:
    """A wrong password or an unknown account gets, over /api and XML-RPC, exactly ejabberd's
    own refusal (same status or fault, same text)."""
    args = {"host": VHOST}
    assert front.gateway_api.call("registered_users", args, auth) == front.ejabberd_api.call(
        "registered_users", args, auth
    )
    assert front.gateway_xmlrpc.call(
        "registered_users", (args,), auth
    ) == front.ejabberd_xmlrpc.call("registered_users", (args,), auth)


def _as(front: Front, password: str) -> Answer:
    """registered_users over /api as lena with ``password``: 403 when the login is right
    (lena may not run it), 401 when it is refused."""
    return front.gateway_api.call("registered_users", {"host": VHOST}, (f"lena@{VHOST}", password))


def test_password_change_through_the_gateway_applies_at_once(front: Front) -> None:
    """After change_password through the gateway, the old password is refused and the new one
    accepted on the very next call (the remembered login is forgotten), in every dialect."""
    answer = front.gateway_api.call(
        "register", {"user": "lena", "host": VHOST, "password": "old-pw"}, ADMIN_AUTH
    )
    assert answer.status == 200, answer.show()
    assert _as(front, "old-pw").status == 403  # logged in (remembered now), not allowed
    answer = front.gateway_api.call(
        "change_password", {"user": "lena", "host": VHOST, "newpass": "new-pw"}, ADMIN_AUTH
    )
    assert answer.status == 200, answer.show()
    assert _as(front, "old-pw").status == 401
    assert _as(front, "new-pw").status == 403
    refused = front.gateway_rest.call(f"registered_users {VHOST}", (f"lena@{VHOST}", "old-pw"))
    assert refused.status == 401, refused.show()
    answer = front.gateway_xmlrpc.call(
        "registered_users", ({"host": VHOST},), (f"lena@{VHOST}", "old-pw")
    )
    assert answer.kind == "fault", answer.show()
    # and the change is ejabberd's: its own check agrees
    answer = front.ejabberd_api.call(
        "check_password", {"user": "lena", "host": VHOST, "password": "new-pw"}, ADMIN_AUTH
    )
    assert answer.body == 0, answer.show()
