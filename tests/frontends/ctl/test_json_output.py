"""``gatewayctl --json``: results and errors as /api's JSON, exit statuses as ejabberdctl's."""

from __future__ import annotations

import json
from typing import Any, cast

import pytest
from twisted.web.iweb import IRequest

from gateway.engine.auth import Authenticator
from gateway.engine.model import ResTuple
from gateway.frontends.ctl.process import CtlProcessor
from gateway.frontends.jsonapi import JsonApiResource
from gateway.testing import FakeBackend
from tests.engine.helpers import make_engine
from tests.frontends.ctl.helpers import ROSTER, FakePermissions
from tests.frontends.helpers import ACCOUNTS, make_request

ANSWERS: dict[str, Any] = {
    "get_roster": ROSTER,
    "get_last": ("2024-12-19T10:00:00Z", "NOT FOUND"),
    "num_resources": 2,
    "delete_old_users": ResTuple("Removed 0 users"),
    "kick_user": ResTuple("no such session", status="error"),
}


def both(profile: str = "24.12") -> tuple[CtlProcessor, JsonApiResource]:
    """A ctl processor and an /api resource on one engine (everything allowed)."""
    backend = FakeBackend(ACCOUNTS, answers=ANSWERS)
    engine = make_engine(
        backend, FakePermissions(), profile=profile, authenticator=Authenticator(backend)
    )
    return CtlProcessor(engine), JsonApiResource(engine)


def ctl_json(processor: CtlProcessor, *argv: str) -> tuple[str, int]:
    answers: list[tuple[str, int]] = []
    processor.process(list(argv), json=True).addCallback(answers.append)
    assert answers, "the fakes answer synchronously"
    return answers[0]


def api(resource: JsonApiResource, path: str, body: dict[str, Any]) -> tuple[int, bytes]:
    request = make_request(b"POST", path, json.dumps(body).encode())
    resource.render(cast(IRequest, request))
    return cast(int, request.responseCode), b"".join(request.written)


CASES = [
    # (ctl argv, /api path, /api body, exit status)
    (
        ["get_roster", "alice", "localhost"],
        "/api/get_roster",
        {"user": "alice", "host": "localhost"},
        0,
    ),
    (
        ["--version", "0", "num_resources", "alice", "localhost"],
        "/api/num_resources/v0",
        {"user": "alice", "host": "localhost"},
        0,
    ),
    (
        ["num_resources", "alice", "localhost"],
        "/api/num_resources",
        {"user": "alice", "host": "localhost"},
        0,
    ),
    (
        ["get_last", "alice", "localhost"],
        "/api/get_last",
        {"user": "alice", "host": "localhost"},
        0,
    ),
    (["registered_users", "localhost"], "/api/registered_users", {"host": "localhost"}, 0),
    (
        ["check_account", "alice", "localhost"],
        "/api/check_account",
        {"user": "alice", "host": "localhost"},
        0,
    ),
    (
        ["check_account", "carol", "localhost"],
        "/api/check_account",
        {"user": "carol", "host": "localhost"},
        1,
    ),
    (["delete_old_users", "30"], "/api/delete_old_users", {"days": 30}, 0),
    (
        ["kick_user", "alice", "localhost"],
        "/api/kick_user",
        {"user": "alice", "host": "localhost"},
        1,
    ),
    (
        ["set_last", "alice", "localhost", "x", "away"],
        "/api/set_last",
        {"user": "alice", "host": "localhost", "timestamp": "x", "status": "away"},
        1,
    ),
    (["no_such_command"], "/api/no_such_command", {}, 1),
]


@pytest.mark.parametrize(("argv", "path", "body", "status"), CASES)
def test_same_json_as_api(argv: list[str], path: str, body: dict[str, Any], status: int) -> None:
    """The output is byte for byte /api's body for the same call; the exit status ejabberdctl's.

    Results of every shape (list, wrapped scalar at version 0, bare scalar,
    tuple, rescode, restuple) and errors (a failed restuple, a bad
    argument, an unknown command) alike.
    """
    processor, resource = both()
    output, exit_status = ctl_json(processor, *argv)
    _, expected = api(resource, path, body)
    assert output.encode() == expected
    assert exit_status == status


def test_legacy_profile_shapes() -> None:
    """In the 23.01 profile scalars are wrapped, as /api does there."""
    processor, resource = both("23.01")
    output, status = ctl_json(processor, "num_resources", "alice", "localhost")
    assert (output, status) == ('{"resources":2}', 0)
    assert (
        api(resource, "/api/num_resources", {"user": "alice", "host": "localhost"})[1]
        == b'{"resources":2}'
    )


def test_argument_count_is_a_json_string() -> None:
    """Too few words get ejabberdctl's message as a JSON string, exit 1, without the help text."""
    processor, _ = both()
    output, status = ctl_json(processor, "check_account", "alice")
    assert json.loads(output) == "the command 'check_account' requires 1 more argument."
    assert status == 1


def test_help_stays_text() -> None:
    """``help`` is no command result: it is printed as text even with ``--json``."""
    processor, _ = both()
    output, status = ctl_json(processor, "help", "check_account")
    assert output.startswith("  Command Name: check_account\n") and status == 0


def test_text_without_json() -> None:
    """Without the flag the same call prints ejabberdctl's text."""
    processor, _ = both()
    answers: list[tuple[str, int]] = []
    processor.process(["get_last", "alice", "localhost"]).addCallback(answers.append)
    assert answers == [("2024-12-19T10:00:00Z\tNOT FOUND", 0)]
