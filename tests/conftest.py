"""What every test directory shares: which tests start real servers.

The tests under ``integration/`` and ``hostile/`` start the real daemon (and
ejabberd, Prosody or PostgreSQL) on loopback: each is marked
``integration``, so ``pytest -m "not integration"`` runs the rest alone.
"""

from __future__ import annotations

from pathlib import Path

import pytest

#: the directories whose tests start real servers
LIVE = tuple(Path(__file__).parent / name for name in ("integration", "hostile"))


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if any(directory in item.path.parents for directory in LIVE):
            item.add_marker(pytest.mark.integration)
