"""Fixtures for the attacks on a live daemon: see :mod:`tests.hostile.live`.

``shipped`` is one daemon per test module, on the shipped configuration with
the admin and ``alice`` registered.  Tests that change lasting state (bans,
passwords) start their own with ``live.shipped_daemon``.  Every test collected
here is marked ``integration`` (see ``tests/conftest.py``): it starts the real daemon.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.hostile.live import ShippedDaemon, shipped_daemon


@pytest.fixture(scope="module")
def shipped(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ShippedDaemon]:
    """A daemon on conf/gateway.yml as shipped (ports changed), admin and alice registered."""
    with shipped_daemon(tmp_path_factory.mktemp("shipped")) as running:
        yield running
