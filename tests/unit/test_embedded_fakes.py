"""Shared bases for the embedded backend tests (this module holds no tests).

Every behaviour test is written once in a mixin and run twice: by a class
deriving from :class:`SQLiteCase` (an in-memory database) and by one deriving
from :class:`PostgresCase` (a fresh database in the session's throwaway
cluster, see ``tests/pg.py``; a module with PostgreSQL cases imports its ``postgres`` and
``postgres_class`` fixtures).  Commands go through a real
:class:`~gateway.engine.dispatch.Engine`, so argument names, coercion and
``policy: user`` arguments are the engine's own.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar

import pytest
from twisted.internet import reactor
from twisted.internet.defer import Deferred, ensureDeferred, fail
from twisted.internet.task import Clock
from twisted.trial import unittest

from gateway.backends.embedded import EmbeddedBackend, Store, open_store
from gateway.engine.catalogue import Catalogue
from gateway.engine.dispatch import Engine
from gateway.engine.errors import CommandError
from gateway.engine.model import Caller, CommandCall, CommandDefinition
from tests.pg import PostgresCluster

__all__ = ["NOW", "EmbeddedCase", "MemoryCase", "Mixin", "PostgresCase", "SQLiteCase"]

#: the fake clock's start: 2023-11-14T22:13:20Z
NOW = 1_700_000_000.0
HOST = "localhost"
OTHER = "example.net"
ADMIN = Caller(frontend="mod_http_api")


class _NoGateway:
    """The engine's gateway executor, claiming no command."""

    name = "gateway"

    def supports(self, command: str) -> bool:
        return False

    def execute(self, command: str, args: Mapping[str, Any], caller: Caller) -> Deferred[Any]:
        return fail(AssertionError(f"unexpected gateway command {command}"))


class _AllowAll:
    def allows(self, caller: Caller, definition: CommandDefinition) -> bool:
        return True


class EmbeddedCase(unittest.TestCase):
    """Opens a store and a backend serving ``localhost`` and ``example.net`` per test."""

    hosts: ClassVar[tuple[str, ...]] = (HOST, OTHER)
    store: Store
    backend: EmbeddedBackend
    clock: Clock
    engine: Engine

    def dsn(self) -> str:
        raise NotImplementedError

    def setUp(self) -> Deferred[None]:  # type: ignore[override]  # trial waits on it
        return ensureDeferred(self._open())

    async def _open(self) -> None:
        self.clock = Clock()
        self.clock.advance(NOW)
        self.store = await self.open_store()
        self.use_backend()

    def use_backend(self, **options: Any) -> EmbeddedBackend:
        """Serve the test's store with a backend built with ``options`` (and a new engine)."""
        self.backend = EmbeddedBackend(self.store, self.hosts, self.clock, **options)
        catalogue = Catalogue.load("24.12")
        self.engine = Engine(catalogue, catalogue, self.backend, _NoGateway(), _AllowAll())
        return self.backend

    async def open_store(self) -> Store:
        """Open (another) store on this test's database, closed after the test."""
        store = await open_store(self.dsn(), reactor)
        self.addCleanup(store.close)
        return store

    async def call(self, command: str, **args: Any) -> Any:
        """Run ``command`` through the engine; its result value."""
        result = await self.engine.call(CommandCall(command, tuple(args.items())), ADMIN)
        return result.value

    async def fails(self, command: str, **args: Any) -> CommandError:
        """Run ``command``, which must fail with a command error; that error."""
        try:
            value = await self.call(command, **args)
        except CommandError as e:
            return e
        raise AssertionError(f"{command} succeeded with {value!r}")

    async def register(self, user: str, host: str = HOST, password: str = "secret") -> None:
        await self.call("register", user=user, host=host, password=password)


class SQLiteCase(EmbeddedCase):
    """An SQLite file in a temporary directory, removed after the test."""

    _dsn: str | None = None

    def dsn(self) -> str:
        if self._dsn is None:
            directory = tempfile.mkdtemp(prefix="gateway-store-")
            self.addCleanup(shutil.rmtree, directory, True)
            self._dsn = f"sqlite:{directory}/store/gateway.sqlite"
        return self._dsn


class MemoryCase(EmbeddedCase):
    """An in-memory SQLite store (what ``sqlite::memory:`` gives)."""

    def dsn(self) -> str:
        return "sqlite::memory:"


@pytest.mark.usefixtures("postgres_class")
class PostgresCase(EmbeddedCase):
    """A fresh database in the session's PostgreSQL cluster."""

    cluster: ClassVar[PostgresCluster]
    _dsn: str | None = None

    def dsn(self) -> str:
        # one database per test, shared by every store the test opens
        if self._dsn is None:
            self._dsn = self.cluster.fresh_database()
        return self._dsn


# Behaviour mixins derive from this: the test case as far as mypy can see, but
# a plain object at run time, so pytest does not collect the mixin itself.
if TYPE_CHECKING:
    Mixin = EmbeddedCase
else:
    Mixin = object
