"""The daemon's API description: OpenAPI documents, and the docs page in headless Chromium."""

from __future__ import annotations

import json
import subprocess
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from openapi_spec_validator import validate as validate_spec

from gateway.engine.catalogue import Catalogue
from tests.browser import chromium
from tests.integration.daemon import Daemon, running_daemon

if TYPE_CHECKING:
    from selenium.webdriver.chrome.webdriver import WebDriver
    from selenium.webdriver.remote.webelement import WebElement

COMMANDS = len(Catalogue.load("24.12").names())


@pytest.fixture(scope="module")
def daemon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Daemon]:
    """A daemon with the admin account the page's examples use."""
    with running_daemon(tmp_path_factory.mktemp("docs")) as d:
        result = d.ctl("register", "admin", "localhost", "secret")
        assert result.returncode == 0, result.stdout + result.stderr
        yield d


@pytest.fixture(scope="module")
def browser() -> Iterator[WebDriver]:
    with chromium() as driver:
        yield driver


@pytest.fixture
def page(browser: WebDriver, daemon: Daemon) -> WebDriver:
    """The docs page freshly loaded."""
    browser.get(f"http://127.0.0.1:{daemon.http_port}/api/docs")
    return browser


def _get(daemon: Daemon, path: str) -> tuple[int, str, bytes]:
    url = f"http://127.0.0.1:{daemon.http_port}{path}"
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.status, response.headers["Content-Type"], response.read()


def _visible(page: WebDriver) -> list[WebElement]:
    from selenium.webdriver.common.by import By

    return [s for s in page.find_elements(By.CSS_SELECTOR, "section.command") if s.is_displayed()]


def _count(page: WebDriver) -> str:
    from selenium.webdriver.common.by import By

    return str(page.find_element(By.ID, "count").text)


@pytest.mark.parametrize("path", ["/api/openapi.json", "/api/v2/openapi.json"])
def test_openapi_served(daemon: Daemon, path: str) -> None:
    """The daemon serves valid OpenAPI 3.1 documents, anonymously."""
    status, content_type, body = _get(daemon, path)
    assert (status, content_type) == (200, "application/json")
    document: dict[str, Any] = json.loads(body)
    validate_spec(document)
    assert document["servers"] == [{"url": "/api"}]
    suffix = "/v2" if "/v2/" in path else ""
    assert f"/register{suffix}" in document["paths"]


def test_page_loads(page: WebDriver) -> None:
    """The page loads with every command listed and shown, its style and script applied."""
    from selenium.webdriver.common.by import By

    assert page.title == "ejabberd API 24.12: commands"
    assert len(_visible(page)) == COMMANDS
    assert _count(page) == f"{COMMANDS} of {COMMANDS} commands"
    header = page.find_element(By.TAG_NAME, "header")
    assert header.value_of_css_property("position") == "sticky"  # the inline style applies


def test_search_narrows_the_list(page: WebDriver) -> None:
    """Typing in the search box hides the commands whose name and tags do not match."""
    from selenium.webdriver.common.by import By

    before = len(_visible(page))
    search = page.find_element(By.ID, "search")
    search.send_keys("roster")
    shown = _visible(page)
    assert 0 < len(shown) < before
    for section in shown:
        assert (
            "roster" in f"{section.get_attribute('data-name')} {section.get_attribute('data-tags')}"
        )
    assert _count(page) == f"{len(shown)} of {COMMANDS} commands"
    names = {s.get_attribute("data-name") for s in shown}
    assert {"get_roster", "add_rosteritem", "srg_create"} <= names  # srg_create by its tag
    search.send_keys(" count")  # every word must match
    assert {s.get_attribute("data-name") for s in _visible(page)} == {"get_roster_count"}
    search.clear()
    search.send_keys("no command is called this")
    assert _visible(page) == []
    assert _count(page) == f"0 of {COMMANDS} commands"


def test_tag_button_filters(page: WebDriver) -> None:
    """Clicking a command's tag puts the tag in the search box and filters by it."""
    from selenium.webdriver.common.by import By

    section = page.find_element(By.ID, "register")
    section.find_element(By.CSS_SELECTOR, "button.tag[data-tag='accounts']").click()
    assert page.find_element(By.ID, "search").get_attribute("value") == "accounts"
    shown = _visible(page)
    assert 0 < len(shown) < COMMANDS
    assert all("accounts" in (s.get_attribute("data-tags") or "").split() for s in shown)


def test_section_shows_arguments(page: WebDriver) -> None:
    """A command's section shows its arguments with their types, and its result."""
    from selenium.webdriver.common.by import By

    page.find_element(By.ID, "search").send_keys("change_password")
    [section] = _visible(page)
    rows = [
        [cell.text for cell in row.find_elements(By.TAG_NAME, "td")]
        for row in section.find_elements(By.CSS_SELECTOR, "table.args tbody tr")
    ]
    assert rows == [
        ["user", "binary", "yes"],
        ["host", "binary", "yes"],
        ["newpass", "binary", "yes"],
    ]
    assert "res::rescode" in section.text


def test_version_links_open_sections(page: WebDriver) -> None:
    """A command's version link opens the section of that version."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    section = page.find_element(By.ID, "status_list")
    older = section.find_element(By.ID, "status_list-v0")
    assert older.get_attribute("open") is None
    section.find_element(By.CSS_SELECTOR, "a[href='#status_list-v0']").click()
    # the browser fires "hashchange" as a task of its own, after the click has returned
    WebDriverWait(page, 10).until(lambda _: older.get_attribute("open") is not None)
    assert "/api/status_list/v0" in older.text


def test_example_request_works(page: WebDriver, daemon: Daemon, tmp_path: Path) -> None:
    """The curl example shown, with the page's own address, runs and answers as the example
    response is shaped."""
    from selenium.webdriver.common.by import By

    section = page.find_element(By.ID, "registered_users")
    request, response = section.find_elements(By.TAG_NAME, "pre")[:2]
    command = request.text
    assert f"http://127.0.0.1:{daemon.http_port}/api/registered_users" in command
    result = subprocess.run(
        command, shell=True, capture_output=True, text=True, timeout=30, cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == ["admin"]
    assert isinstance(json.loads(response.text), list)
