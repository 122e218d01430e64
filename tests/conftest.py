"""What every test directory shares: which tests start real servers.

The tests under ``integration/`` and ``hostile/`` start the real daemon (and
ejabberd, Prosody or PostgreSQL) on loopback: each is marked
``integration``, so ``pytest -m "not integration"`` runs the rest alone.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
from pathlib import Path

import pytest
from twisted.trial.unittest import SynchronousTestCase

#: the directories whose tests start real servers
LIVE = tuple(Path(__file__).parent / name for name in ("integration", "hostile"))


#: where trial test cases' mktemp() paths go (trial would put them in the working directory)
_TRIAL_TEMP = tempfile.mkdtemp(prefix="gateway-trial-")
atexit.register(shutil.rmtree, _TRIAL_TEMP, True)


def _mktemp(self: SynchronousTestCase) -> str:
    """A fresh path that does not exist yet, in a private directory of this test run."""
    return str(Path(tempfile.mkdtemp(dir=_TRIAL_TEMP)) / "temp")


SynchronousTestCase.mktemp = _mktemp  # type: ignore[method-assign]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if any(directory in item.path.parents for directory in LIVE):
            item.add_marker(pytest.mark.integration)
