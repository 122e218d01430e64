"""Shared bases for the embedded backend tests (this module holds no tests).

Every behaviour test is written once in a mixin and run twice: by a class
deriving from :class:`SQLiteCase` (a file in a temporary directory) and by one deriving
from :class:`PostgresCase` (a fresh database in the session's throwaway
cluster, see ``pg.py``, handed over by the fixtures of this directory's
``conftest.py``).  Commands go through a real
:class:`~gateway.engine.dispatch.Engine`, so argument names, coercion and
``policy: user`` arguments are the engine's own.

:func:`sync_store` is a real store that answers without threads, for
synchronous tests (the component link's, on a memory reactor).
"""

from __future__ import annotations

import shutil
import sqlite3
import tempfile
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar, cast

import pytest
from twisted.enterprise import adbapi
from twisted.internet import reactor
from twisted.internet.defer import Deferred, ensureDeferred, fail, succeed
from twisted.internet.task import Clock
from twisted.trial import unittest

from gateway.backends.embedded import EmbeddedBackend, Store, open_store
from gateway.backends.embedded.dialect import Dialect, StoreAddress, parse_dsn, prepare_sqlite_file
from gateway.backends.embedded.startup import prepare_schema
from gateway.engine.dispatch import Engine
from gateway.engine.errors import CommandError
from gateway.engine.model import Caller, CommandCall
from tests.backends.embedded.pg import PostgresCluster
from tests.engine.helpers import NoCommands, make_engine

__all__ = [
    "NOW",
    "EmbeddedCase",
    "MemoryCase",
    "Mixin",
    "PostgresCase",
    "SQLiteCase",
    "SyncPool",
    "sync_store",
]

#: the fake clock's start: 2023-11-14T22:13:20Z
NOW = 1_700_000_000.0
HOST = "localhost"
OTHER = "example.net"
ADMIN = Caller(frontend="mod_http_api")


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
        self.engine = make_engine(self.backend, gateway=NoCommands())
        return self.backend

    async def open_store(self) -> Store:
        """Open (another) store on this test's database, closed after the test."""
        store = open_store(self.dsn(), reactor)
        self.addCleanup(store.close)
        return store

    async def call(self, command: str, **args: Any) -> Any:
        """Run ``command`` through the engine; its result value."""
        call = CommandCall(command, tuple(args.items()), frontend=ADMIN.frontend)
        result = await self.engine.call(call)
        return result.value

    async def legacy_call(self, command: str, **args: Any) -> Any:
        """Run ``command`` in the 23.01 profile, over the same backend; its result value."""
        legacy = make_engine(self.backend, profile="23.01", gateway=NoCommands())
        call = CommandCall(command, tuple(args.items()), frontend=ADMIN.frontend)
        return (await legacy.call(call)).value

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


class SyncPool:
    """adbapi's ``runInteraction`` on one SQLite connection, run at once, committed like adbapi.

    A :class:`Store` over it answers without threads, so synchronous tests (the
    link's, on a memory reactor) run the real store, schema and outbox.
    """

    def __init__(self, address: StoreAddress) -> None:
        module, args, kwargs = Dialect(address.engine).pool_args(address, writer=True)
        options = {k: v for k, v in kwargs.items() if not k.startswith("cp_")}
        self.connection = sqlite3.connect(*args, **options)
        Dialect(address.engine).prepare_connection(self.connection, address)

    def runInteraction(  # noqa: N802 - adbapi's name
        self, interaction: Callable[..., Any], *args: Any, **kw: Any
    ) -> Deferred[Any]:
        txn = adbapi.Transaction(self, self.connection)
        try:
            result = interaction(txn, *args, **kw)
        except Exception:
            self.connection.rollback()
            return fail()
        finally:
            txn.close()
        self.connection.commit()
        return succeed(result)

    def close(self) -> None:
        self.connection.close()


def sync_store(path: str) -> Store:
    """A :class:`Store` on the SQLite file ``path`` with the current schema, answering at once.

    Closing it closes its connection; another ``sync_store(path)`` reopens the file.
    """
    address = parse_dsn(f"sqlite:{path}")
    prepare_sqlite_file(address.target)
    prepare_schema(address, NOW)
    pool = cast(adbapi.ConnectionPool, SyncPool(address))
    return Store(address, Clock(), pool, pool)
