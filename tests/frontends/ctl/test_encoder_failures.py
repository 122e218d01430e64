"""Every gatewayctl request gets an answer, even when wording the answer breaks.

A crash in the result encoder or in the error encoder (text or ``--json``) must still answer
ejabberdctl's internal error, ``Error: internal error`` with exit status 1, over the control
socket, never a connection left waiting.
"""

from __future__ import annotations

import json
from typing import Any, NoReturn

import pytest
from twisted.internet.testing import StringTransport

from gateway.frontends.ctl import process as ctl_process
from gateway.frontends.ctl.server import CtlFactory
from gateway.testing import FakeBackend
from tests.engine.helpers import make_engine
from tests.frontends.ctl.helpers import make
from tests.frontends.helpers import ACCOUNTS

PROFILES = ("23.01", "24.12")
INTERNAL = {"output": "Error: internal error", "exit": 1}


def broken(*args: Any, **kwargs: Any) -> NoReturn:
    """An encoder with a bug."""
    raise AttributeError("encoder bug")


def over_the_socket(profile: str, request: dict[str, Any]) -> dict[str, Any]:
    """What the control socket answers ``request`` with, on a processor for ``profile``."""
    processor, _ = make(profile)
    protocol = CtlFactory(processor).buildProtocol(None)
    transport = StringTransport()
    protocol.makeConnection(transport)
    protocol.dataReceived(json.dumps(request).encode() + b"\n")
    data = transport.value()
    assert data.endswith(b"\n") and transport.disconnecting, "no answer"
    answer: dict[str, Any] = json.loads(data)
    return answer


@pytest.mark.parametrize("profile", PROFILES)
@pytest.mark.parametrize(("encoder", "as_json"), [("format_result", False), ("json_result", True)])
def test_result_encoder_crash_answers_the_internal_error(
    profile: str, encoder: str, as_json: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A result that cannot be written, as text or as JSON, is the internal error."""
    monkeypatch.setattr(ctl_process, encoder, broken)
    assert over_the_socket(profile, {"argv": ["status"], "json": as_json}) == INTERNAL


@pytest.mark.parametrize("profile", PROFILES)
@pytest.mark.parametrize(("encoder", "as_json"), [("format_error", False), ("json_error", True)])
def test_error_encoder_crash_answers_the_internal_error(
    profile: str, encoder: str, as_json: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An error that cannot be worded, as text or as JSON, is the internal error."""
    monkeypatch.setattr(ctl_process, encoder, broken)
    request = {"argv": ["register", "admin", "localhost", "again"], "json": as_json}
    assert over_the_socket(profile, request) == INTERNAL


@pytest.mark.parametrize("user", ["@@", "not a jid"])
def test_malformed_jid_gets_ejabberds_error(user: str) -> None:
    """subscribe_room (23.01) with a user that is no JID prints the term mod_muc_admin
    throws, exactly as ejabberdctl 23.01 prints it, and exits 1."""
    backend = FakeBackend(ACCOUNTS, answers={"subscribe_room": []})
    processor = ctl_process.CtlProcessor(make_engine(backend, profile="23.01"))
    answers: list[tuple[str, int]] = []
    processor.process(["subscribe_room", user, "n", "lobby@conference.localhost", ""]).addCallback(
        answers.append
    )
    assert answers == [('{error,"Malformed user JID"}', 1)]
    assert backend.calls == []
