"""Logins checked by a real ejabberd 23.01's check_password, through the upstream client.

One private ejabberd (Debian's package) serves the module on loopback, its
``/api`` open to loopback callers.  These confirm what the fakes assume: the
answer's shape (a rescode, ``0`` for a right password), an unknown account
and an unknown host answered like a wrong password, and a change forwarded
through :class:`InvalidatingExecutor` ending a cached login at once.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator, Mapping
from typing import Any, ClassVar

import pytest
from twisted.internet import reactor
from twisted.internet.defer import Deferred, ensureDeferred
from twisted.trial import unittest

from gateway.backends.embedded import open_store
from gateway.backends.embedded.generations import StoreGenerations
from gateway.backends.remote_accounts import InvalidatingExecutor, RemoteAccounts
from gateway.backends.upstream.client import UpstreamClient
from gateway.config.model import UpstreamConfig
from gateway.engine.auth import Authenticator
from gateway.engine.credential_cache import CredentialCache
from gateway.engine.errors import Unauthorized, Unavailable
from gateway.engine.model import Caller
from tests.integration.daemon import free_port
from tests.integration.servers import EjabberdServer, missing_ejabberd, require

pytestmark = pytest.mark.integration

VHOST = "localhost"
ADMIN = ("admin", "admin-secret")


@pytest.fixture(scope="module")
def ejabberd() -> Iterator[EjabberdServer]:
    """ejabberd with mod_admin_extra (check_password, change_password) and two accounts."""
    require(missing_ejabberd())
    with EjabberdServer(
        vhost=VHOST,
        users={"bob": "bob-secret", ADMIN[0]: ADMIN[1]},
        component=False,
        extra={"modules": {"mod_admin_extra": {}}},
    ) as server:
        yield server


@pytest.fixture(scope="class")
def ejabberd_class(request: pytest.FixtureRequest, ejabberd: EjabberdServer) -> None:
    request.cls.ejabberd = ejabberd


class Forward:
    """The part of the upstream backend these tests need: a command posted as it is."""

    name = "ejabberd"

    def __init__(self, client: UpstreamClient) -> None:
        self._client = client

    def supports(self, command: str) -> bool:
        return True

    def execute(self, command: str, args: Mapping[str, Any], caller: Caller) -> Deferred[Any]:
        return self._client.call(command, args)


@pytest.mark.usefixtures("ejabberd_class")
class RealUpstreamTests(unittest.TestCase):
    ejabberd: ClassVar[EjabberdServer]

    def setUp(self) -> None:
        directory = tempfile.mkdtemp(prefix="gateway-upstream-accounts-")
        self.addCleanup(shutil.rmtree, directory, True)
        self.store = open_store(f"sqlite:{directory}/gateway.sqlite", reactor)
        self.addCleanup(self.store.close)
        self.generations = StoreGenerations(self.store)
        self.client = self.make_client(self.ejabberd.http_port)
        self.accounts = RemoteAccounts(self.client, self.generations, reactor.seconds)
        self.auth = Authenticator(
            self.accounts, clock=reactor.seconds, cache=CredentialCache(60, reactor.seconds)
        )

    def make_client(self, port: int) -> UpstreamClient:
        config = UpstreamConfig(
            url=f"http://127.0.0.1:{port}/api",
            user=f"{ADMIN[0]}@{VHOST}",
            password=ADMIN[1],
            api_profile="23.01",
            timeout=10,
        )
        client = UpstreamClient(config, reactor)
        closing = getattr(client, "close", None)
        if closing is not None:
            self.addCleanup(closing)
        return client

    async def test_answers_like_ejabberd(self) -> None:
        """Right password: a stamp; wrong password, unknown account, unknown host: refused."""
        assert await self.accounts.verify_password("bob", VHOST, "bob-secret") is not None
        assert await self.accounts.check_password("bob", VHOST, "bob-secret")
        assert not await self.accounts.check_password("bob", VHOST, "wrong")
        assert not await self.accounts.check_password("nobody", VHOST, "bob-secret")
        assert not await self.accounts.check_password("bob", "unknown.example", "bob-secret")

    async def test_change_password_ends_a_cached_login(self) -> None:
        """A change forwarded to ejabberd through the executor ends the cached login at once."""
        self.ejabberd.register("carol", "carol-old")
        executor = InvalidatingExecutor(Forward(self.client), self.generations)
        caller = await self.auth.password("carol", VHOST, "carol-old", "mod_http_api")
        assert caller.user == "carol"
        await self.auth.password("carol", VHOST, "carol-old", "mod_http_api")  # a hit
        args = {"user": "carol", "host": VHOST, "newpass": "carol-new"}
        await executor.execute("change_password", args, Caller(frontend="mod_http_api"))
        with self.assertRaises(Unauthorized):
            await self.auth.password("carol", VHOST, "carol-old", "mod_http_api")
        await self.auth.password("carol", VHOST, "carol-new", "mod_http_api")

    async def test_no_upstream_is_unavailable(self) -> None:
        """Nothing listening: the login fails with Unavailable, not as a wrong password."""
        accounts = RemoteAccounts(self.make_client(free_port()), self.generations, reactor.seconds)
        auth = Authenticator(accounts, clock=reactor.seconds)
        with self.assertRaises(Unavailable):
            await ensureDeferred(auth.password("bob", VHOST, "bob-secret", "mod_http_api"))
