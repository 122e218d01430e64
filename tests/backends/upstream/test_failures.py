"""mod_http_api's error answers read back as the engine errors they stand for."""

from __future__ import annotations

import json
from typing import Any

import pytest

from gateway.backends.upstream.failures import UpstreamRefused, error_for
from gateway.engine.errors import (
    CommandFailed,
    InternalCommand,
    InternalError,
    TypedCommandError,
    Unavailable,
    UnknownCommand,
)

URL = "http://127.0.0.1:5280/api"


def _error(status: int, body: Any, command: str = "cmd") -> Any:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return error_for(status, raw, command=command, url=URL)


def _obj(code: int, message: str) -> dict[str, Any]:
    return {"status": "error", "code": code, "message": message}


def test_unknown_command_forms() -> None:
    """404 code 40 / 44, and 400 "unknown_command", are the caller's unknown command."""
    for status, body in (
        (404, _obj(40, "Endpoint not found.")),
        (404, _obj(44, "Command not found.")),
        (400, "unknown_command"),
    ):
        error = _error(status, body, "no_such")
        assert isinstance(error, UnknownCommand)
        assert error.name == "no_such"


def test_returned_error_text() -> None:
    """400 with a text is the command's {error, Text}: CommandFailed with that text."""
    error = _error(400, "Unknown virtual host")
    assert type(error) is CommandFailed
    assert (error.message, error.atom, error.code) == (
        "Unknown virtual host",
        None,
        "command_failed",
    )


def test_returned_error_atom() -> None:
    """400 with an atom name keeps it an atom (ctl prints it bare)."""
    error = _error(400, "error_no_vcard_found")
    assert isinstance(error, CommandFailed)
    assert error.atom == "error_no_vcard_found"


def test_not_found_and_not_allowed() -> None:
    """404 / 401 with a text are the not_found / not_allowed reasons."""
    found = _error(404, "not_found")
    assert isinstance(found, CommandFailed) and found.code == "not_found"
    allowed = _error(401, "not_allowed")
    assert isinstance(allowed, CommandFailed) and allowed.code == "not_allowed"
    user = _error(404, "unknown_user")
    assert isinstance(user, CommandFailed) and (user.atom, user.message) == (
        "not_found",
        "unknown_user",
    )


def test_typed_errors() -> None:
    """409 is conflict, 404 with another code not_exists, 500 with a code the other kinds."""
    conflict = _error(409, _obj(10090, "User a@b already registered"))
    assert isinstance(conflict, TypedCommandError)
    assert (conflict.code, conflict.kind, conflict.status) == ("conflict", "conflict", 10090)
    assert conflict.message == "User a@b already registered"
    missing = _error(404, _obj(12, "gone"))
    assert isinstance(missing, TypedCommandError) and missing.code == "not_exists"
    cannot = _error(500, _obj(10001, "Unknown virtual host"))
    assert isinstance(cannot, TypedCommandError)
    assert (cannot.kind, cannot.status, cannot.code) == ("cannot_register", 10001, "typed_error")


def test_internal_command_and_crash() -> None:
    """The internal-command refusal keeps its error; a crash upstream is internal_error."""
    assert isinstance(_error(400, "frontend_cannot_call_an_internal_command"), InternalCommand)
    assert isinstance(_error(500, "internal_error"), InternalError)
    assert isinstance(_error(400, "400 Bad Request"), InternalError)


@pytest.mark.parametrize(
    ("status", "body", "words"),
    [
        (401, _obj(10, "You are not authorized to call this command."), "credentials"),
        (401, _obj(10, "Oauth Token is invalid or expired."), "credentials"),
        (
            403,
            _obj(32, "AccessRules: Account does not have the right to perform the operation."),
            "run cmd",
        ),
        (403, _obj(31, "Command need to be run with admin privilege."), "run cmd"),
    ],
)
def test_gateway_account_refused(status: int, body: Any, words: str) -> None:
    """Refusals of the gateway's own account are UpstreamRefused (503), not the caller's 401/403."""
    error = _error(status, body)
    assert isinstance(error, UpstreamRefused)
    assert error.code == "unavailable"
    assert words in error.message and "gateway's" in error.message


@pytest.mark.parametrize(
    ("status", "body"),
    [(502, b"Bad gateway"), (404, b"<html>Not Found</html>"), (400, b""), (503, _obj(1, "x"))],
)
def test_other_answers_are_unavailable(status: int, body: Any) -> None:
    """Anything that is no mod_http_api answer is Unavailable, naming the status."""
    error = _error(status, body)
    assert type(error) is Unavailable
    assert f"HTTP {status}" in error.message
