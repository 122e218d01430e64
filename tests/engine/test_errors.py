"""The error table: every error code maps once to each dialect's numbers."""

from __future__ import annotations

import pytest

from gateway.engine import errors
from gateway.engine.errors import ERROR_TABLE, CommandError, mapping_for


def all_error_classes() -> list[type[CommandError]]:
    found: list[type[CommandError]] = []
    pending: list[type[CommandError]] = [CommandError]
    while pending:
        cls = pending.pop()
        found.append(cls)
        pending.extend(cls.__subclasses__())
    return found


def test_every_class_code_is_in_the_table() -> None:
    """Each error class's stable code has a row, so no dialect meets an unmapped error."""
    for cls in all_error_classes():
        assert cls.code in ERROR_TABLE, cls


@pytest.mark.parametrize(
    ("error", "fault", "status", "json_code", "exit_code"),
    [
        (errors.UnknownCommand("x"), -112, 404, 40, 1),
        (errors.MissingArgument("c", "host"), -116, 400, None, 1),
        (errors.DuplicateArgument("c", "host"), -114, 400, None, 1),
        (errors.UnknownArguments("c", [("foo", 1)]), -120, 400, None, 1),
        (errors.BadArgumentType("c", "days", "5", "integer"), -122, 400, None, 1),
        (errors.Unauthorized(), -118, 401, 10, 1),
        (errors.InvalidToken(), -118, 401, 10, 1),
        (errors.Forbidden("c"), -118, 403, 32, 1),
        (errors.InternalCommand("c"), -118, 400, None, 1),
        (errors.CommandFailed("Unknown virtual host"), -118, 400, None, 1),
        (errors.CommandFailed("gone", atom="not_found"), -118, 404, None, 1),
        (errors.CommandFailed("no", atom="not_allowed"), -118, 401, None, 1),
        (errors.TypedCommandError("conflict", 10090, "exists"), -118, 409, 0, 1),
        (errors.TypedCommandError("not_exists", 10, "none"), -118, 404, 0, 1),
        (errors.TypedCommandError("other", 10, "x"), -118, 500, 0, 1),
        (errors.NotSupported("c", "embedded"), -118, 501, 50, 1),
        (errors.Unavailable("queue full"), -118, 503, 51, 1),
        (errors.InternalError(), -118, 500, None, 1),
    ],
)
def test_dialect_numbers(
    error: CommandError, fault: int, status: int, json_code: int | None, exit_code: int
) -> None:
    """The numbers each dialect uses for an error follow ejabberd's (fault, HTTP, ctl) codes."""
    mapping = mapping_for(error)
    assert (mapping.xmlrpc_fault, mapping.http_status, mapping.json_code, mapping.ctl_exit) == (
        fault,
        status,
        json_code,
        exit_code,
    )


def test_not_supported_message_names_backends() -> None:
    """NotSupported says which backend refused and which one can run the command."""
    error = errors.NotSupported("connected_users", "embedded", "ejabberd")
    assert error.message == (
        "Command 'connected_users' is not supported by the embedded backend; "
        "the ejabberd backend can run it"
    )


def test_thrown_failures_name_the_term_ejabberd_threw() -> None:
    """A thrown failure's term: {error, "text"}, a bare atom, or {atom, "text"}."""
    assert errors.CommandFailed("Room not found", thrown=True).thrown_term() == (
        "error",
        "Room not found",
    )
    bare = errors.CommandFailed("error_no_vcard_found", atom="error_no_vcard_found", thrown=True)
    assert bare.thrown_term() == "error_no_vcard_found"
    assert bare.code == "command_failed"
    user = errors.CommandFailed("unknown_user", atom="not_found", thrown=True)
    assert user.thrown_term() == ("not_found", "unknown_user")
    assert user.code == "not_found"
    assert not errors.CommandFailed("x").thrown


def test_reworded_keeps_atom_and_throw() -> None:
    """reworded changes only the text of a failure."""
    error = errors.CommandFailed("a", atom="not_found", thrown=True).reworded("b")
    assert (error.message, error.atom, error.thrown, error.code) == (
        "b",
        "not_found",
        True,
        "not_found",
    )
