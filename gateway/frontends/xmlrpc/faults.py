"""XML-RPC faults: ejabberd_xmlrpc's fault codes and message texts.

Fault numbers come from :data:`~gateway.engine.errors.ERROR_TABLE`; the texts
are the ones legacy clients parse, built from ejabberd_xmlrpc's own
``io_lib:format`` templates, so the caller's values print as Erlang terms
(``~p``) broken over lines exactly where ejabberd breaks them.  A fault's
``faultString`` is ``"Error <code>\\n"`` followed by the message.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from gateway.engine.errors import (
    ERROR_TABLE,
    CommandError,
    CommandFailed,
    Forbidden,
    InternalCommand,
    InternalError,
    TypedCommandError,
    mapping_for,
)
from gateway.engine.types import Type
from gateway.frontends.erlterm import Atom, Charlist, io_format, thrown_term
from gateway.frontends.typeterm import type_as_term
from gateway.frontends.xmlrpc.values import Value, pairs_term, to_term

__all__ = [
    "Fault",
    "bad_type",
    "command_fault",
    "duplicated",
    "internal_error",
    "invalid_auth",
    "invalid_token",
    "missing",
    "out_of_range",
    "problem",
    "unknown_call",
    "unused",
]


class Fault(Exception):
    """An answer that is an XML-RPC fault rather than a result."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(code, message)
        self.code = code
        self.message = message

    @property
    def fault_string(self) -> str:
        return f"Error {self.code}\n{self.message}"

    def __repr__(self) -> str:
        return f"Fault({self.code}, {self.message!r})"


def _code(key: str) -> int:
    return ERROR_TABLE[key].xmlrpc_fault


def unknown_call(method: str, params: Iterable[Value]) -> Fault:
    """-112: the method/params pair is no call we know (``{call,Method,Params}``)."""
    term = (Atom("call"), Atom(method), [to_term(p) for p in params])
    return Fault(_code("bad_call"), io_format("Unknown call: ~p", term))


def duplicated(name: str, remaining: Iterable[tuple[str, Value]]) -> Fault:
    """-114: an argument given twice; ``remaining`` is what was still unconsumed."""
    return Fault(
        _code("duplicate_argument"),
        io_format("Attribute '~p' duplicated:~n~p", Atom(name), pairs_term(remaining)),
    )


def missing(name: str, remaining: Iterable[tuple[str, Value]]) -> Fault:
    """-116: a required argument is absent."""
    return Fault(
        _code("missing_argument"),
        io_format("Required attribute '~p' not found:~n~p", Atom(name), pairs_term(remaining)),
    )


def unused(leftovers: Iterable[tuple[str, Value]]) -> Fault:
    """-120: members that match no declared argument."""
    return Fault(
        _code("unknown_arguments"),
        io_format("The call provided additional unused arguments:~n~p", pairs_term(leftovers)),
    )


def bad_type(value: Value, type_: Type) -> Fault:
    """-122: a value that cannot be read as its declared type."""
    return Fault(
        _code("bad_argument_type"),
        io_format(
            "Parameter '~p' can't be coerced to type '~p'", to_term(value), type_as_term(type_)
        ),
    )


def out_of_range(message: str) -> Fault:
    """-122: an integer of the right type but outside what the command can use."""
    return Fault(_code("bad_argument_type"), message)


def problem(reason: Any, command: str, args: Iterable[tuple[str, Value]]) -> Fault:
    """-118 in its general form: ``reason`` (a term) stopped ``command``.

    ``args`` are the caller's argument members as sent (before any renaming).
    """
    return Fault(
        _code("command_failed"),
        io_format(
            "A problem '~p' occurred executing the command ~p with arguments~n~p",
            reason,
            Atom(command),
            pairs_term(args),
        ),
    )


def internal_error(method: str | None) -> Fault:
    """-118 for something that broke unexpectedly (details are logged, not sent)."""
    if method is None:
        return Fault(_code("internal_error"), "A problem 'internal_error' occurred")
    return problem(Atom("internal_error"), method, ())


def invalid_auth() -> Fault:
    return Fault(_code("unauthorized"), "Invalid authentication data")


def invalid_token() -> Fault:
    return Fault(_code("invalid_token"), "Invalid oauth token")


def _error_term(error: CommandFailed | TypedCommandError) -> Any:
    if isinstance(error, CommandFailed) and error.thrown:
        # the term ejabberd threw, printed as it is: {error,"text"},
        # {not_found,"unknown_user"} or a bare atom such as error_no_vcard_found
        return thrown_term(error.thrown_term())
    if isinstance(error, CommandFailed) and error.atom:
        return (Atom("error"), Atom(error.atom))
    return (Atom("error"), Charlist(error.message))


def command_fault(error: CommandError, command: str, args: Iterable[tuple[str, Value]]) -> Fault:
    """The fault for an error the engine raised while running ``command``."""
    if isinstance(error, Forbidden):
        return problem((Atom("error"), Atom("access_rules_unauthorized")), command, args)
    if isinstance(error, InternalCommand):
        reason = (Atom("error"), Atom("frontend_cannot_call_an_internal_command"))
        return problem(reason, command, args)
    if isinstance(error, CommandFailed | TypedCommandError):
        return problem(_error_term(error), command, args)
    if isinstance(error, InternalError):
        return problem(Atom("internal_error"), command, args)
    # not-supported, unavailable and the rest: our own message, stated plainly
    return Fault(mapping_for(error).xmlrpc_fault, error.message)
