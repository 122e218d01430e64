"""Every /api request gets an answer, even when wording the answer breaks.

A crash in the result encoder or in the error encoder must still produce mod_http_api's
internal-error answer (500, the JSON string ``"internal_error"``), never a request left
hanging until the client's own timeout.  A malformed JID, whose error once crashed the error
encoder, gets ejabberd's own error.
"""

from __future__ import annotations

from typing import Any, NoReturn

import pytest

from gateway.engine.errors import BadArgumentType
from gateway.frontends.jsonapi import resource as jsonapi_resource
from gateway.frontends.jsonapi.response import encode_error
from gateway.testing import FakeBackend
from tests.frontends.helpers import ACCOUNTS, basic
from tests.frontends.jsonapi.helpers import Answer, make_resource, post

ADMIN = basic("admin@localhost", "secret")


def broken(*args: Any, **kwargs: Any) -> NoReturn:
    """An encoder with a bug."""
    raise AttributeError("encoder bug")


def assert_internal_error(answer: Answer) -> None:
    """mod_http_api's answer to a crash: 500 with the JSON string "internal_error"."""
    assert answer.finished
    assert (answer.status, answer.body) == (500, b'"internal_error"')
    assert answer.header("content-type") == "application/json"


@pytest.mark.parametrize("profile", ["23.01", "24.12"])
def test_result_encoder_crash_is_an_internal_error(
    profile: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A result that the encoder cannot write is answered 500 "internal_error"."""
    monkeypatch.setattr(jsonapi_resource, "encode_result", broken)
    assert_internal_error(post(make_resource(profile), "/api/status", {}))


@pytest.mark.parametrize("profile", ["23.01", "24.12"])
def test_error_encoder_crash_is_an_internal_error(
    profile: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An error that the error encoder cannot write is still answered, with the dialect's
    internal error rather than a bare 500 or nothing at all."""
    monkeypatch.setattr(jsonapi_resource, "encode_error", broken)
    answer = post(make_resource(profile), "/api/no_such_command", {}, headers=[ADMIN])
    assert_internal_error(answer)


@pytest.mark.parametrize("profile", ["23.01", "24.12"])
@pytest.mark.parametrize("user", ["@@", "not a jid"])
def test_malformed_jid_gets_ejabberds_error(profile: str, user: str) -> None:
    """subscribe_room (v0 in both profiles) with a user that is no JID answers 400 with
    mod_muc_admin's text, as ejabberd 23.01 does, instead of crashing the error encoder."""
    args = {
        "user": user,
        "nick": "n",
        "room": "lobby@conference.localhost",
        "nodes": "urn:xmpp:mucsub:nodes:messages",
    }
    backend = FakeBackend(ACCOUNTS, answers={"subscribe_room": []})
    # 23.01 takes the command alone in the path (and version 0); 24.12 takes /v0
    path = "/api/subscribe_room" if profile == "23.01" else "/api/subscribe_room/v0"
    answer = post(make_resource(profile, backend), path, args, headers=[ADMIN])
    assert answer.finished
    assert (answer.status, answer.json()) == (400, "Malformed user JID")
    assert backend.calls == []


def test_type_error_without_a_declared_type_answers_its_message() -> None:
    """An argument error that names no declared type (an adapter's own check) is worded
    by its message instead of crashing the encoder."""
    error = BadArgumentType("set_presence", "priority", "high", "an integer")
    for legacy in (True, False):
        assert encode_error(error, legacy=legacy) == (400, error.message)
