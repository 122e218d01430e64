"""The one way to open the embedded store, shared by the daemon and gateway-extauth."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from twisted.internet.testing import MemoryReactorClock

from gateway.backends.embedded.migrations import latest_version
from gateway.backends.embedded.startup import open_embedded, open_store
from gateway.config.load import parse_config


def _config(store: str) -> str:
    return f"hosts: [localhost]\ngateway:\n  store: {store!r}\n"


def test_schema_ready_before_the_reactor_runs(tmp_path: Path) -> None:
    """open_store migrates synchronously: the file has every schema version before any pool ran."""
    reactor = MemoryReactorClock()
    store = open_store(f"sqlite:{tmp_path}/var/gateway.sqlite", reactor)
    try:
        assert not reactor.running
        with sqlite3.connect(tmp_path / "var" / "gateway.sqlite") as connection:
            versions = connection.execute("SELECT version FROM schema_version").fetchall()
        connection.close()
        assert sorted(v for (v,) in versions) == list(range(1, latest_version() + 1))
    finally:
        store.close()


def test_open_embedded_refuses_memory_store() -> None:
    """An in-memory store stops the program with one line: another process could never see it."""
    config = parse_config(_config("sqlite::memory:"))
    with pytest.raises(SystemExit) as exited:
        open_embedded(config, MemoryReactorClock(), "gateway-extauth")
    assert str(exited.value) == (
        "gateway-extauth: cannot open the store sqlite::memory:: "
        "an in-memory store only lives inside one process; use a file or PostgreSQL"
    )


def test_open_embedded_unreachable_store_exits() -> None:
    """A store that cannot be reached stops the program with its name and the driver's reason."""
    where = "postgresql://nobody@127.0.0.1:1/none?connect_timeout=2"
    config = parse_config(_config(where))
    with pytest.raises(SystemExit, match=r"^xmpp-gateway: cannot open the store postgresql://"):
        open_embedded(config, MemoryReactorClock(), "xmpp-gateway")


def test_open_embedded_serves_the_store(tmp_path: Path) -> None:
    """The daemon and gateway-extauth get a backend over the store open_store prepared."""
    config = parse_config(_config(f"sqlite:{tmp_path}/gateway.sqlite"))
    backend, store = open_embedded(config, MemoryReactorClock(), "gateway-extauth")
    try:
        assert backend.name == "embedded"
        assert store.address.target == f"{tmp_path}/gateway.sqlite"
    finally:
        store.close()
