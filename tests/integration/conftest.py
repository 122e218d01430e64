"""Fixtures that start real XMPP servers (Debian's ejabberd and Prosody) and clients for tests.

``ejabberd_server`` and ``prosody_server`` are module-scoped factories: each call starts one
private server with the given options and returns it running; every server a module started is
stopped and removed when the module's tests are done.  ``xmpp_receiver`` starts logged-in
clients that are logged out at the end of the test.

``ejabberd`` and ``prosody`` are one server of each kind per module, with the accounts of
``xmpp_users`` (a module overrides that fixture to register others), and ``server`` runs a test
against each of them.

Without the server packages the tests that use them are skipped, or fail when ``CI`` is set.
Every test collected from this directory is marked ``integration`` (see ``tests/conftest.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from typing import TYPE_CHECKING, Any

import pytest

from tests.integration.servers import (
    EjabberdServer,
    ProsodyServer,
    XmppServer,
    missing_ejabberd,
    missing_prosody,
    require,
)

if TYPE_CHECKING:
    from tests.integration.xmppclient import Receiver


@pytest.fixture(scope="module")
def ejabberd_server() -> Iterator[Callable[..., EjabberdServer]]:
    """``ejabberd_server(**options)`` starts a private ejabberd (see EjabberdServer)."""
    require(missing_ejabberd())
    with ExitStack() as stack:

        def start(**options: Any) -> EjabberdServer:
            server = EjabberdServer(**options)
            stack.callback(server.close)
            server.start()
            return server

        yield start


@pytest.fixture(scope="module")
def prosody_server() -> Iterator[Callable[..., ProsodyServer]]:
    """``prosody_server(**options)`` starts a private Prosody (see ProsodyServer)."""
    require(missing_prosody())
    with ExitStack() as stack:

        def start(**options: Any) -> ProsodyServer:
            server = ProsodyServer(**options)
            stack.callback(server.close)
            server.start()
            return server

        yield start


@pytest.fixture(scope="module")
def xmpp_users() -> dict[str, str]:
    """The accounts (user -> password) a module's ``ejabberd`` and ``prosody`` start with."""
    return {"bob": "bob-secret"}


@pytest.fixture(scope="module")
def ejabberd(
    ejabberd_server: Callable[..., EjabberdServer], xmpp_users: dict[str, str]
) -> EjabberdServer:
    """The module's ejabberd, with ``xmpp_users`` registered."""
    return ejabberd_server(users=xmpp_users)


@pytest.fixture(scope="module")
def prosody(
    prosody_server: Callable[..., ProsodyServer], xmpp_users: dict[str, str]
) -> ProsodyServer:
    """The module's Prosody, with ``xmpp_users`` registered."""
    return prosody_server(users=xmpp_users)


@pytest.fixture(params=["ejabberd", "prosody"])
def server(request: pytest.FixtureRequest) -> XmppServer:
    """Each test taking ``server`` runs once against ejabberd and once against Prosody."""
    result: XmppServer = request.getfixturevalue(request.param)
    return result


@pytest.fixture
def xmpp_receiver() -> Iterator[Callable[..., Receiver]]:
    """``xmpp_receiver(server, user, password=None, **options)`` logs ``user`` in and
    returns a started xmppclient.Receiver; the password defaults to the one the user was
    registered with through ``server``."""
    # Imported here so that tests without XMPP clients run even where slixmpp is missing.
    from tests.integration.xmppclient import Receiver

    with ExitStack() as stack:

        def start(
            server: XmppServer, user: str, password: str | None = None, **options: Any
        ) -> Receiver:
            receiver = Receiver(
                server.host,
                server.c2s_port,
                server.jid(user),
                server.password(user) if password is None else password,
                **options,
            )
            stack.callback(receiver.stop)
            return receiver.start()

        yield start
