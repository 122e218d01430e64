"""Opening the embedded store: the one way in, for the daemon, gateway-extauth and tests.

The schema is created or upgraded synchronously, over a plain DB-API
connection, before any pool exists: the daemon does it before the reactor
runs, so a database that cannot be reached or migrated stops start-up with
one clear message and a non-zero exit, instead of a daemon that listens but
cannot answer.  The pools start with the reactor (after twistd has forked).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from gateway.backends.embedded.backend import EmbeddedBackend
from gateway.backends.embedded.dialect import Dialect, StoreAddress, parse_dsn, prepare_sqlite_file
from gateway.backends.embedded.migrations import migrate
from gateway.backends.embedded.store import Store, Tx, connection_pool

if TYPE_CHECKING:
    from gateway.config.model import Config
    from gateway.engine.files import FilesDir

__all__ = ["open_embedded", "open_store", "prepare_schema"]


def _migrate_connection(connection: Any, dialect: Dialect, now: float) -> None:
    """Bring the schema behind ``connection`` up to date in one transaction."""
    cursor = connection.cursor()
    dialect.begin(cursor, write=True)
    try:
        migrate(Tx(cursor, dialect), now)
    except BaseException:
        connection.rollback()
        raise
    connection.commit()


def prepare_schema(address: StoreAddress, now: float) -> None:
    """Create or upgrade the schema over a plain DB-API connection."""
    dialect = Dialect(address.engine)
    module, args, kwargs = dialect.pool_args(address, writer=True)
    options = {k: v for k, v in kwargs.items() if not k.startswith("cp_")}
    connection = importlib.import_module(module).connect(*args, **options)
    try:
        dialect.prepare_connection(connection, address)
        _migrate_connection(connection, dialect, now)
    finally:
        connection.close()


def open_store(dsn: str, reactor: Any) -> Store:
    """A :class:`Store` on ``dsn`` whose schema is ready; its pools start with the reactor.

    ``dsn`` is ``sqlite:PATH`` (the file and its directory are created
    owner-only), ``sqlite::memory:`` or a ``postgresql://`` connection string.

    Raises:
        ValueError: for a malformed ``dsn``, before anything is touched.
        SchemaError: when the store was written by a newer gateway.
        Exception: the driver's error when the database cannot be reached or migrated.
    """
    address = parse_dsn(dsn)
    now = reactor.seconds()
    if address.in_memory:
        # the database lives inside the pool's one connection: migrate it there
        dialect = Dialect(address.engine)
        pool = connection_pool(
            address,
            reactor,
            writer=True,
            on_connect=lambda connection: _migrate_connection(connection, dialect, now),
        )
        return Store(address, reactor, pool, pool)
    if address.engine == "sqlite":
        prepare_sqlite_file(address.target)
    prepare_schema(address, now)
    writer = connection_pool(address, reactor, writer=True)
    reader = connection_pool(address, reactor, writer=False)
    return Store(address, reactor, writer, reader)


def open_embedded(
    config: Config, reactor: Any, program: str, files: FilesDir | None = None
) -> tuple[EmbeddedBackend, Store]:
    """The embedded backend over ``config``'s store, for the daemon and gateway-extauth alike.

    ``files`` is the directory file arguments are confined to (the daemon's;
    gateway-extauth runs no file command and passes none).

    Raises:
        SystemExit: with ``"<program>: cannot open the store …"`` when the
            database cannot be reached or migrated, or is in memory (which
            gateway-extauth, another process, could never see).
    """
    where = config.gateway.store
    try:
        if parse_dsn(where).in_memory:
            raise ValueError(
                "an in-memory store only lives inside one process; use a file or PostgreSQL"
            )
        store = open_store(where, reactor)
    except Exception as e:
        raise SystemExit(f"{program}: cannot open the store {where}: {e}") from None
    backend = EmbeddedBackend(
        store,
        config.hosts,
        reactor,
        oauth_expire=config.oauth_expire,
        password_digests=config.gateway.password_digests,
        files=files,
        max_password_bytes=config.gateway.limits.max_password_bytes,
    )
    return backend, store
