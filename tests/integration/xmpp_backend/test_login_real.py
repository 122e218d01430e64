"""``gateway.auth: xmpp``'s login check against the real servers (plain loopback and STARTTLS).

Each check runs :class:`~gateway.backends.xmpp.login.XmppLoginVerifier` on the real reactor
in a process of its own (login_probe.py), so these tests need neither the daemon nor the rest
of the xmpp backend.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.certs import self_signed_pem
from tests.integration.daemon import env, free_port
from tests.integration.servers import ProsodyServer, XmppServer, missing_prosody, require
from tests.integration.xmpp_backend.conftest import ADMIN_PASSWORD


def probe(c2s: str, user: str, password: str, *options: str) -> str:
    """``accepted``, ``refused`` or ``undecided: …`` for one login check."""
    command = [sys.executable, "-m", "tests.integration.xmpp_backend.login_probe"]
    result = subprocess.run(
        [*command, c2s, "localhost", user, password, *options],
        capture_output=True,
        text=True,
        env=env(),
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def c2s_of(server: XmppServer) -> str:
    return f"tcp:host={server.host}:port={server.c2s_port}"


def test_right_wrong_and_unknown(xmpp_server: XmppServer) -> None:
    """The server's verdict: its password accepted, a wrong one and an unknown account refused."""
    c2s = c2s_of(xmpp_server)
    assert probe(c2s, "admin", ADMIN_PASSWORD) == "accepted"
    assert probe(c2s, "admin", ADMIN_PASSWORD + "x") == "refused"
    assert probe(c2s, "nobody-here", "x") == "refused"


def test_no_server_is_no_verdict(xmpp_server: XmppServer) -> None:
    """Nothing listening, or TLS demanded and not offered: undecided, never "refused"."""
    closed = f"tcp:host=127.0.0.1:port={free_port()}"
    assert probe(closed, "admin", ADMIN_PASSWORD).startswith("undecided: Unavailable")
    answer = probe(c2s_of(xmpp_server), "admin", ADMIN_PASSWORD, "required")
    assert answer.startswith("undecided: Unavailable") and "STARTTLS" in answer


def self_signed(directory: Path, name: str) -> Path:
    """A certificate for ``name`` (and its key) as Prosody looks for them: NAME.crt, NAME.key."""
    cert_pem, key_pem = self_signed_pem(name)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{name}.crt"
    path.write_bytes(cert_pem)
    (directory / f"{name}.key").write_bytes(key_pem)
    return path


@pytest.fixture(scope="module")
def tls_prosody(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ProsodyServer, Path]]:
    """A Prosody offering STARTTLS with a self-signed certificate for localhost."""
    require(missing_prosody())
    certs = tmp_path_factory.mktemp("certs")
    ca = self_signed(certs, "localhost")
    server = ProsodyServer(
        users={"alice": "wonderland"},
        component=False,
        modules=["tls"],
        settings={
            "certificates": certs,
            "ssl": {"certificate": ca, "key": certs / "localhost.key"},
            "allow_unencrypted_plain_auth": False,
        },
    )
    with server:
        yield server, ca


def test_starttls_verified(tls_prosody: tuple[ProsodyServer, Path]) -> None:
    """STARTTLS with the certificate checked against c2s_ca: the login is decided over TLS."""
    server, ca = tls_prosody
    assert probe(c2s_of(server), "alice", "wonderland", "required", str(ca)) == "accepted"
    assert probe(c2s_of(server), "alice", "nope", "required", str(ca)) == "refused"


def test_starttls_unverifiable(tls_prosody: tuple[ProsodyServer, Path]) -> None:
    """A certificate no trusted CA signed: undecided (never a verdict over an unchecked link),
    unless c2s_verify is off."""
    server, _ = tls_prosody
    answer = probe(c2s_of(server), "alice", "wonderland", "if_offered")
    assert answer.startswith("undecided: Unavailable"), answer
    assert probe(c2s_of(server), "alice", "wonderland", "if_offered", "-") == "accepted"
