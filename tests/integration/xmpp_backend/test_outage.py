"""With the XMPP server down, commands and uncheckable logins answer "unavailable" at once.

Never a queued success, and never "wrong password"; once the server is back, the gateway
reconnects and everything works again without a restart.
"""

from __future__ import annotations

import time

from tests.integration.xmpp_backend.conftest import ADMIN_PASSWORD, Setup, wait_until_ready


def test_server_down_and_back(setup: Setup) -> None:
    """Stop the server: a command gets 503 quickly, a login that cannot be checked 503 (not 401);
    start it again: both work."""
    server = setup.server
    server.stop()
    try:
        started = time.monotonic()
        status, answer = setup.api(
            "register", {"user": "ghost", "host": "localhost", "password": "pw"}
        )
        assert status == 503, answer
        # a password the gateway has not verified before: the server cannot be asked
        status, answer = setup.api("status", password=ADMIN_PASSWORD + "-unchecked")
        assert status == 503, answer
        assert time.monotonic() - started < 10
    finally:
        server.start()
    wait_until_ready(setup, timeout=60)
    assert setup.api("status", password=ADMIN_PASSWORD + "-unchecked")[0] == 401
    status, answer = setup.api("register", {"user": "ghost", "host": "localhost", "password": "pw"})
    assert status == 200, answer
