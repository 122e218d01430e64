"""Versioned schema files and the code that applies them.

``schema/v1.sql`` creates the first schema; ``schema/upgrade-vN.sql`` takes a
store from version N-1 to N.  A fresh store gets ``v1.sql`` and then every
upgrade, so both paths always end in the same schema.  ``schema_version``
records each applied version; everything runs inside the caller's single
transaction, so a failed upgrade leaves the store as it was.

Schema files hold portable SQL only, one statement per ``;``, and no ``;``
inside a statement (the splitter is deliberately simple).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from importlib import resources
from importlib.resources.abc import Traversable

from gateway.backends.embedded.store import Tx

__all__ = ["SchemaError", "latest_version", "migrate", "schema_steps", "split_statements"]

_UPGRADE = re.compile(r"^upgrade-v(\d+)\.sql$")


class SchemaError(Exception):
    """The store's schema cannot be used by this version of the gateway."""


def _default_source() -> Traversable:
    return resources.files("gateway.backends.embedded").joinpath("schema")


def schema_steps(source: Traversable | None = None) -> list[tuple[int, str]]:
    """``(version, sql)`` for v1 and every upgrade, in order.

    Raises:
        SchemaError: when an upgrade is missing between v1 and the newest.
    """
    source = source or _default_source()
    steps = [(1, source.joinpath("v1.sql").read_text("utf-8"))]
    upgrades: dict[int, str] = {}
    for entry in source.iterdir():
        match = _UPGRADE.match(entry.name)
        if match:
            upgrades[int(match.group(1))] = entry.read_text("utf-8")
    for version in sorted(upgrades):
        if version != steps[-1][0] + 1:
            raise SchemaError(f"schema upgrade v{steps[-1][0] + 1} is missing")
        steps.append((version, upgrades[version]))
    return steps


def latest_version(source: Traversable | None = None) -> int:
    """The schema version this gateway writes."""
    return schema_steps(source)[-1][0]


def split_statements(script: str) -> Iterable[str]:
    """The statements of a schema file, without ``--`` comments."""
    lines = [line.split("--", 1)[0] for line in script.splitlines()]
    for statement in "\n".join(lines).split(";"):
        if statement.strip():
            yield statement.strip()


def migrate(tx: Tx, now: float, source: Traversable | None = None) -> int:
    """Bring the store up to the newest schema; the version it ends at.

    Raises:
        SchemaError: when the store was written by a newer gateway.
    """
    steps = schema_steps(source)
    tx.dialect.lock_for_migration(tx._cursor)
    tx.execute(
        "CREATE TABLE IF NOT EXISTS schema_version ("
        " version INTEGER PRIMARY KEY,"
        " applied_at DOUBLE PRECISION NOT NULL)"
    )
    current = tx.scalar("SELECT MAX(version) FROM schema_version") or 0
    newest = steps[-1][0]
    if current > newest:
        raise SchemaError(
            f"the store has schema v{current}, newer than this gateway's v{newest}; "
            "upgrade the gateway"
        )
    for version, script in steps:
        if version <= current:
            continue
        for statement in split_statements(script):
            tx.execute(statement)
        tx.execute("INSERT INTO schema_version (version, applied_at) VALUES (?, ?)", (version, now))
    return newest
