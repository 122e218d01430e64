"""Fixtures for the command-line scripts' tests."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture
def workdir() -> Iterator[Path]:
    """A fresh, short directory (UNIX socket paths are limited to about 100 bytes)."""
    path = Path(tempfile.mkdtemp(prefix="gwctl"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)
