"""Headless Chromium for browser tests, driven by Selenium through Debian's chromedriver.

``with chromium() as driver:`` gives a fresh browser (its own temporary profile) and quits it
afterwards; as a fixture::

    @pytest.fixture(scope="module")
    def browser() -> Iterator[WebDriver]:
        with chromium() as driver:
            yield driver

The test is skipped when Debian's ``chromium`` or ``chromium-driver`` is missing,
and fails instead when ``CI`` is set (CI installs them, see scripts/test.sh).

Nothing is ever downloaded: the driver's path is given to Selenium explicitly, so
selenium-manager does not run, and Chromium's own background traffic (updates, sync, QUIC
probes) is switched off, since the test machines have no network.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from tests.integration.servers import require

if TYPE_CHECKING:
    from selenium.webdriver.chrome.webdriver import WebDriver

__all__ = ["CHROMEDRIVER", "CHROMIUM", "chromium", "missing_chromium"]

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"

FLAGS = (
    "--headless",
    # The tests run as root, where Chromium's sandbox refuses to start.
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1280,1024",
)


def missing_chromium() -> str | None:
    """Why the browser tests cannot run here, or None when they can."""
    for path, package in ((CHROMIUM, "chromium"), (CHROMEDRIVER, "chromium-driver")):
        if not os.access(path, os.X_OK):
            return f"{path} not found: install Debian's {package} package"
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed: pip install -e '.[test]'"
    return None


@contextmanager
def chromium(page_load_timeout: float = 30) -> Iterator[WebDriver]:
    """A headless Chromium with a fresh profile, quit (and its profile removed) afterwards."""
    require(missing_chromium())
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="chromium-test-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (*FLAGS, f"--user-data-dir={profile}"):
        options.add_argument(flag)
    try:
        driver = webdriver.Chrome(options=options, service=Service(executable_path=CHROMEDRIVER))
    except Exception:
        shutil.rmtree(profile, ignore_errors=True)
        raise
    try:
        driver.set_page_load_timeout(page_load_timeout)
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)
