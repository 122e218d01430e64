"""OAuth on the real daemon: requests-oauthlib for the token endpoint, Chromium for the page.

The daemon runs the shipped configuration (``/oauth: ejabberd_oauth`` on the
HTTP listener), with a low brute-force limit so the ban can be reached.
"""

from __future__ import annotations

import json
import re
import subprocess
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
from oauthlib.oauth2 import (
    BackendApplicationClient,
    InvalidClientError,
    InvalidGrantError,
    InvalidScopeError,
    LegacyApplicationClient,
)
from requests_oauthlib import OAuth2Session

from tests.browser import chromium
from tests.integration.daemon import BIN, ROOT, Daemon, env, running_daemon

if TYPE_CHECKING:
    from selenium.webdriver.chrome.webdriver import WebDriver

MAX_FAILURES = 4


@pytest.fixture(scope="module")
def daemon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Daemon]:
    """A daemon with the admin, a plain user and three OAuth clients."""
    with running_daemon(
        tmp_path_factory.mktemp("oauth"),
        brute_force={"max_failures": MAX_FAILURES, "window": 60, "ban_time": 300},
    ) as d:
        for argv in [
            ("register", "admin", "localhost", "secret"),
            ("register", "bob", "localhost", "bobpw"),
            ("oauth_add_client_password", "cli", "Command line", "cli-secret"),
            ("oauth_add_client_password", "admin@localhost", "Monitoring", "m0n"),
        ]:
            result = d.ctl(*argv)
            assert result.returncode == 0, result.stdout + result.stderr
        yield d


@pytest.fixture(autouse=True)
def plain_http(monkeypatch: pytest.MonkeyPatch) -> None:
    """oauthlib insists on https; the daemon listens on loopback in plain HTTP."""
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")


def _base(daemon: Daemon) -> str:
    return f"http://127.0.0.1:{daemon.http_port}"


def _registered(daemon: Daemon, token: str) -> Any:
    """``registered_users`` through /api with ``token`` as Bearer."""
    request = urllib.request.Request(
        f"{_base(daemon)}/api/registered_users",
        data=json.dumps({"host": "localhost"}).encode(),
        headers={"Authorization": f"Bearer {token}"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def test_password_grant_with_requests_oauthlib(daemon: Daemon) -> None:
    """LegacyApplicationClient gets an ejabberd:admin token, and the session uses it on /api."""
    session = OAuth2Session(
        client=LegacyApplicationClient(client_id="cli", scope=["ejabberd:admin"])
    )
    token = session.fetch_token(
        f"{_base(daemon)}/oauth/token",
        username="admin@localhost",
        password="secret",
        client_secret="cli-secret",
    )
    assert token["token_type"] == "bearer" and token["scope"] == ["ejabberd:admin"]
    assert 0 < token["expires_in"] <= 4294967
    answer = session.post(f"{_base(daemon)}/api/registered_users", json={"host": "localhost"})
    assert answer.status_code == 200 and sorted(answer.json()) == ["admin", "bob"]


def test_client_credentials_with_requests_oauthlib(daemon: Daemon) -> None:
    """BackendApplicationClient, registered under the admin's JID, gets the admin's token."""
    session = OAuth2Session(
        client=BackendApplicationClient(client_id="admin@localhost", scope=["ejabberd:admin"])
    )
    token = session.fetch_token(f"{_base(daemon)}/oauth/token", client_secret="m0n")
    assert sorted(_registered(daemon, token["access_token"])) == ["admin", "bob"]
    listed = daemon.ctl("oauth_list_tokens").stdout
    assert "admin@localhost" in listed and token["access_token"] not in listed


def test_refusals_as_oauthlib_reports_them(daemon: Daemon) -> None:
    """A wrong client secret is invalid_client, a scope bob may not hold invalid_scope."""
    session = OAuth2Session(
        client=BackendApplicationClient(client_id="admin@localhost", scope=["ejabberd:admin"])
    )
    with pytest.raises(InvalidClientError):
        session.fetch_token(f"{_base(daemon)}/oauth/token", client_secret="wrong")
    bob = OAuth2Session(client=LegacyApplicationClient(client_id="", scope=["ejabberd:admin"]))
    with pytest.raises(InvalidScopeError):
        bob.fetch_token(f"{_base(daemon)}/oauth/token", username="bob@localhost", password="bobpw")


def test_failed_logins_ban_the_address(tmp_path: Path) -> None:
    """Wrong passwords on /oauth/token count; then even the right one gets 429 + Retry-After."""
    with running_daemon(tmp_path, brute_force={"max_failures": 2}) as daemon:
        assert daemon.ctl("register", "admin", "localhost", "secret").returncode == 0
        url = f"{_base(daemon)}/oauth/token"
        session = OAuth2Session(
            client=LegacyApplicationClient(client_id="", scope=["ejabberd:admin"])
        )
        for _ in range(2):
            with pytest.raises(InvalidGrantError):
                session.fetch_token(url, username="admin@localhost", password="guess")
        form = urlencode(
            {
                "grant_type": "password",
                "username": "admin@localhost",
                "password": "secret",
                "scope": "ejabberd:admin",
            }
        ).encode()
        with pytest.raises(urllib.error.HTTPError) as caught:
            urllib.request.urlopen(urllib.request.Request(url, data=form), timeout=10)
        assert caught.value.code == 429 and caught.value.headers["Retry-After"]
        assert json.loads(caught.value.read())["error"] == "temporarily_unavailable"


# -- the implicit grant in a browser -------------------------------------------------------------


class _Callback(BaseHTTPRequestHandler):
    """The client application's page: it only says it was reached."""

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        body = b"<!DOCTYPE html><title>callback</title><p id='done'>back in the app</p>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def callback() -> Iterator[str]:
    """The URL of a tiny local web application the browser is sent back to."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Callback)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/cb"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def browser() -> Iterator[WebDriver]:
    with chromium() as driver:
        yield driver


def _authorization_page(browser: WebDriver, daemon: Daemon, callback: str) -> None:
    result = daemon.ctl("oauth_add_client_implicit", "webapp", "Web app", callback)
    assert result.returncode == 0, result.stdout + result.stderr
    query = urlencode(
        {
            "response_type": "token",
            "client_id": "webapp",
            "redirect_uri": callback,
            "scope": "ejabberd:admin",
            "state": "s-42",
        }
    )
    browser.get(f"{_base(daemon)}/oauth/authorization_token?{query}")


def _log_in(browser: WebDriver, jid: str, password: str) -> None:
    from selenium.webdriver.common.by import By

    browser.find_element(By.ID, "username").send_keys(jid)
    browser.find_element(By.ID, "password").send_keys(password)
    browser.find_element(By.ID, "accept").click()


def test_implicit_grant_in_chromium(browser: WebDriver, daemon: Daemon, callback: str) -> None:
    """The form logs the admin in and the browser lands on the app with a working token."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    _authorization_page(browser, daemon, callback)
    assert "Web app" in browser.page_source
    _log_in(browser, "admin@localhost", "secret")
    WebDriverWait(browser, 15).until(lambda b: b.current_url.startswith(callback))
    # the address changes when the navigation commits, before the app's page has been parsed
    WebDriverWait(browser, 15).until(lambda b: b.find_elements(By.ID, "done"))
    url = urlsplit(browser.current_url)
    assert f"{url.scheme}://{url.netloc}{url.path}" == callback
    assert not url.query  # the token is in the fragment only, never sent to a server
    fields = dict(parse_qsl(url.fragment))
    assert fields["token_type"] == "bearer" and fields["scope"] == "ejabberd:admin"
    assert fields["state"] == "s-42" and int(fields["expires_in"]) > 0
    assert browser.execute_script("return document.getElementById('done').textContent")
    assert sorted(_registered(daemon, fields["access_token"])) == ["admin", "bob"]


def test_wrong_password_in_chromium(browser: WebDriver, daemon: Daemon, callback: str) -> None:
    """A wrong password keeps the browser on the form, with an error and the JID kept."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    _authorization_page(browser, daemon, callback)
    _log_in(browser, "admin@localhost", "wrong")
    # the click returns before the answer page has loaded (the refusal takes a password check)
    WebDriverWait(browser, 15).until(lambda b: b.find_elements(By.ID, "error"))
    assert browser.find_element(By.ID, "error").text == "Wrong JID or password."
    assert "/oauth/authorization_token" in browser.current_url
    assert browser.find_element(By.ID, "username").get_attribute("value") == "admin@localhost"


# -- the README's OAuth section, as written (host, port and control socket aside) ----------------


def _readme_section() -> str:
    text = (ROOT / "README.md").read_text()
    start = text.index("### OAuth\n")
    return text[start : text.index("\n## ", start)]


def test_readme_oauth_examples(tmp_path: Path) -> None:
    """Every shell block of the README's OAuth section runs and does what the text says."""
    section = _readme_section()
    blocks = re.findall(r"```(?:sh|bash)\n(.*?)```", section, flags=re.S)
    assert len(blocks) == 4
    with running_daemon(tmp_path) as daemon:
        assert daemon.ctl("register", "admin", "localhost", "secret").returncode == 0
        outputs = []
        for block in blocks:
            script = block.replace("http://127.0.0.1:5280", _base(daemon)).replace(
                ".venv/bin/gatewayctl", f"{BIN / 'gatewayctl'} --config {daemon.config}"
            )
            result = subprocess.run(
                ["bash", "-e", "-o", "pipefail", "-c", script],
                capture_output=True,
                text=True,
                timeout=60,
                env=env(),
            )
            assert result.returncode == 0, (block, result.stdout, result.stderr)
            outputs.append(result.stdout)
        token = json.loads(outputs[0])
        assert token["token_type"] == "bearer" and token["scope"] == "ejabberd:admin"
        assert json.loads(outputs[1]) == ["admin"]
        added, answer = outputs[2].splitlines()
        assert added == "Client admin@localhost saved"
        assert json.loads(answer)["token_type"] == "bearer"
        assert "Client webapp saved" in outputs[3]
        link = re.search(r"<(http://127\.0\.0\.1:5280/oauth/authorization_token\?[^>]+)>", section)
        assert link is not None
        url = link.group(1).replace("http://127.0.0.1:5280", _base(daemon))
        with urllib.request.urlopen(url, timeout=10) as page:
            assert page.status == 200 and b"My web app" in page.read()
