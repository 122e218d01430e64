"""The one error tree of the engine, with stable codes.

Each error class has a stable ``code``.  :data:`ERROR_TABLE` maps every code,
once, to what each dialect answers: an XML-RPC fault code, an HTTP status with
the ``code`` member of mod_http_api's JSON error body, and an ejabberdctl exit
status.  Frontends render the message text in their own words; the numbers
come from here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    from gateway.engine.model import Caller, CommandDefinition
    from gateway.engine.steps import Step

__all__ = [
    "ERROR_TABLE",
    "ArgumentError",
    "ArgumentOutOfRange",
    "BadArgumentType",
    "BadCall",
    "BadRequest",
    "CommandError",
    "CommandFailed",
    "DuplicateArgument",
    "ErrorMapping",
    "GatewayTimeout",
    "Forbidden",
    "InternalCommand",
    "InternalError",
    "InvalidToken",
    "MissingArgument",
    "NotSupported",
    "PathRefused",
    "TooManyFailures",
    "TypedCommandError",
    "Unauthorized",
    "Unavailable",
    "UnknownArguments",
    "UnknownCommand",
    "mapping_for",
]


@dataclass(frozen=True, slots=True)
class ErrorMapping:
    """How one error code looks in each dialect."""

    xmlrpc_fault: int
    http_status: int
    #: ``code`` member of the JSON error object, or ``None`` where
    #: mod_http_api answers with a bare JSON string instead
    json_code: int | None
    ctl_exit: int


ERROR_TABLE: dict[str, ErrorMapping] = {
    "unknown_command": ErrorMapping(-112, 404, 40, 1),
    "bad_call": ErrorMapping(-112, 400, None, 2),
    "bad_request": ErrorMapping(-112, 400, None, 2),
    "missing_argument": ErrorMapping(-116, 400, None, 1),
    "duplicate_argument": ErrorMapping(-114, 400, None, 1),
    "unknown_arguments": ErrorMapping(-120, 400, None, 1),
    "bad_argument_type": ErrorMapping(-122, 400, None, 1),
    "unauthorized": ErrorMapping(-118, 401, 10, 1),
    "invalid_token": ErrorMapping(-118, 401, 10, 1),
    "forbidden": ErrorMapping(-118, 403, 32, 1),
    "internal_command": ErrorMapping(-118, 400, None, 1),
    "command_failed": ErrorMapping(-118, 400, None, 1),
    "not_found": ErrorMapping(-118, 404, None, 1),
    "not_allowed": ErrorMapping(-118, 401, None, 1),
    "conflict": ErrorMapping(-118, 409, 0, 1),
    "not_exists": ErrorMapping(-118, 404, 0, 1),
    "typed_error": ErrorMapping(-118, 500, 0, 1),
    "not_supported": ErrorMapping(-118, 501, 50, 1),
    "unavailable": ErrorMapping(-118, 503, 51, 1),
    "gateway_timeout": ErrorMapping(-118, 504, 54, 1),
    "too_many_failures": ErrorMapping(-118, 429, 29, 1),
    "path_refused": ErrorMapping(-118, 400, None, 1),
    "internal_error": ErrorMapping(-118, 500, None, 1),
}


def mapping_for(error: CommandError) -> ErrorMapping:
    """The dialect numbers for ``error``."""
    return ERROR_TABLE[error.code]


class CommandError(Exception):
    """Base of every error a command call can end with.

    When the engine passes an error on, it notes where the call was: the
    step that failed (``step``) and, once the command was looked up, the
    definition it had chosen (``definition``), so a dialect can answer in
    the shape that definition asks for.  Both are ``None`` outside a call.
    """

    code: ClassVar[str] = "internal_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
        self.step: Step | None = None
        self.definition: CommandDefinition | None = None

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r})"


class InternalError(CommandError):
    """Something unexpected broke; details are in the log, not on the wire."""

    code = "internal_error"

    def __init__(self, message: str = "internal_error") -> None:
        super().__init__(message)


class UnknownCommand(CommandError):
    """No command of that name (in the requested API version)."""

    code = "unknown_command"

    def __init__(self, name: str, suggestion: str | None = None) -> None:
        super().__init__(f"Unknown command '{name}'")
        self.name = name
        self.suggestion = suggestion


class BadCall(CommandError):
    """The request's shape is not a command call (e.g. XML-RPC params that are not a struct)."""

    code = "bad_call"


class BadRequest(CommandError):
    """The request body cannot be decoded at all."""

    code = "bad_request"


class ArgumentError(CommandError):
    """Base of the argument errors; ``remaining`` is what was not consumed yet."""

    code = "bad_argument_type"

    def __init__(
        self, message: str, command: str, remaining: Sequence[tuple[str, Any]] = ()
    ) -> None:
        super().__init__(message)
        self.command = command
        self.remaining = tuple(remaining)


class MissingArgument(ArgumentError):
    code = "missing_argument"

    def __init__(
        self, command: str, argument: str, remaining: Sequence[tuple[str, Any]] = ()
    ) -> None:
        super().__init__(f"Missing argument: {argument}", command, remaining)
        self.argument = argument


class DuplicateArgument(ArgumentError):
    code = "duplicate_argument"

    def __init__(
        self, command: str, argument: str, remaining: Sequence[tuple[str, Any]] = ()
    ) -> None:
        super().__init__(f"Duplicate argument: {argument}", command, remaining)
        self.argument = argument


class UnknownArguments(ArgumentError):
    code = "unknown_arguments"

    def __init__(self, command: str, leftovers: Sequence[tuple[str, Any]]) -> None:
        names = ", ".join(name for name, _ in leftovers)
        super().__init__(f"Unknown arguments: {names}", command, leftovers)
        self.names = tuple(name for name, _ in leftovers)


class BadArgumentType(ArgumentError):
    """A value that cannot be read as the argument's declared type."""

    code = "bad_argument_type"

    def __init__(
        self,
        command: str,
        argument: str,
        value: Any,
        expected: Any,
        remaining: Sequence[tuple[str, Any]] = (),
    ) -> None:
        super().__init__(f"Argument '{argument}' must be {_describe(expected)}", command, remaining)
        self.argument = argument
        self.value = value
        #: the :class:`~gateway.engine.types.Type` the value should have had
        self.expected = expected


class ArgumentOutOfRange(ArgumentError):
    """An integer of the right type but outside what the command can store or show.

    ``low``/``high`` are the inclusive bounds; ``meaning`` says what they are
    (e.g. a POSIX time that can be shown as a date).
    """

    code = "bad_argument_type"

    def __init__(
        self,
        command: str,
        argument: str,
        low: int,
        high: int,
        meaning: str,
        remaining: Sequence[tuple[str, Any]] = (),
    ) -> None:
        super().__init__(
            f"Argument '{argument}' must be an integer from {low} to {high} ({meaning})",
            command,
            remaining,
        )
        self.argument = argument
        self.low = low
        self.high = high


def _describe(expected: Any) -> str:
    render = getattr(expected, "render", None)
    return render() if callable(render) else str(expected)


class Unauthorized(CommandError):
    """Credentials were given but are wrong (or unusable)."""

    code = "unauthorized"

    def __init__(self, message: str = "Invalid authentication data") -> None:
        super().__init__(message)


class InvalidToken(CommandError):
    """An OAuth token that is unknown, expired or not the caller's."""

    code = "invalid_token"

    def __init__(self, message: str = "Oauth Token is invalid or expired.") -> None:
        super().__init__(message)


class Forbidden(CommandError):
    """A permission check does not let this caller run this command.

    ``rule`` names the check that refused: ``"api_permissions"``, or a
    frontend's own (mod_rest's ``"access_commands"``); ``caller`` is who was
    refused, so a dialect can say so.
    """

    code = "forbidden"

    def __init__(
        self, command: str, rule: str = "api_permissions", caller: Caller | None = None
    ) -> None:
        super().__init__("access_rules_unauthorized")
        self.command = command
        self.rule = rule
        self.caller = caller


class InternalCommand(CommandError):
    """The command is tagged ``internal``: no frontend may call it."""

    code = "internal_command"

    def __init__(self, command: str) -> None:
        super().__init__("frontend_cannot_call_an_internal_command")
        self.command = command


class CommandFailed(CommandError):
    """The command ran and answered ``{error, Reason}``, or threw its reason.

    ``reason`` is ejabberd's reason term in neutral form: a plain string for a
    text reason, or one of the atoms ``not_found`` / ``not_allowed`` (their
    ``code`` changes so each dialect maps them right).

    ``thrown`` says that ejabberd does not return the failure but throws it,
    which XML-RPC and ejabberdctl show differently (a fault even for a
    rescode, and the thrown term printed as it is).  The thrown term is
    :meth:`thrown_term`'s: ``{error, "text"}`` without ``atom`` (what
    mod_muc_admin throws), the bare atom when ``message`` is the atom itself
    (``error_no_vcard_found``), else ``{atom, "text"}``
    (``{not_found, "unknown_user"}``).
    """

    code = "command_failed"

    def __init__(self, message: str, *, atom: str | None = None, thrown: bool = False) -> None:
        super().__init__(message)
        #: set when ejabberd's reason is an atom rather than text
        self.atom = atom
        #: ejabberd throws this failure instead of returning ``{error, Reason}``
        self.thrown = thrown
        if atom == "not_found":
            self.code = "not_found"  # type: ignore[misc]
        elif atom == "not_allowed":
            self.code = "not_allowed"  # type: ignore[misc]

    def thrown_term(self) -> tuple[str, ...] | str:
        """The thrown term, in neutral form: a tuple of atom names ending with the text.

        ``("error", "text")`` stands for ``{error, "text"}``, ``("not_found",
        "unknown_user")`` for ``{not_found, "unknown_user"}`` (the first
        element is an atom, the last a string); a plain ``str`` is a bare atom.
        """
        if self.atom is None:
            return ("error", self.message)
        if self.atom == self.message:
            return self.atom
        return (self.atom, self.message)

    def reworded(self, message: str) -> CommandFailed:
        """The same failure (atom, thrown or returned) with another text."""
        return CommandFailed(message, atom=self.atom, thrown=self.thrown)


class TypedCommandError(CommandError):
    """The command answered ``{error, Type, Code, Message}``.

    ``kind`` is ejabberd's type atom (``conflict``, ``not_exists``, …) and
    ``status`` its numeric code, which mod_http_api puts in the JSON body.
    """

    code = "typed_error"

    def __init__(self, kind: str, status: int, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.status = status
        if kind == "conflict":
            self.code = "conflict"  # type: ignore[misc]
        elif kind == "not_exists":
            self.code = "not_exists"  # type: ignore[misc]


class NotSupported(CommandError):
    """The active backend cannot honestly perform this command."""

    code = "not_supported"

    def __init__(self, command: str, backend: str, alternative: str | None = None) -> None:
        text = f"Command '{command}' is not supported by the {backend} backend"
        if alternative:
            text += f"; the {alternative} backend can run it"
        super().__init__(text)
        self.command = command
        self.backend = backend


class Unavailable(CommandError):
    """A resource the command needs is down or full (upstream, XMPP link, queue)."""

    code = "unavailable"


class GatewayTimeout(Unavailable):
    """A backend the command was sent to did not answer in time.

    The command may or may not have run there; the message says which
    backend and how long the gateway waited.
    """

    code = "gateway_timeout"


class TooManyFailures(CommandError):
    """The caller's IP failed to authenticate too often and is banned for a while.

    ``retry_after`` is the number of whole seconds until the ban ends; HTTP
    dialects send it as ``Retry-After``.
    """

    code = "too_many_failures"

    def __init__(self, retry_after: int) -> None:
        super().__init__(
            f"Too many failed authentications from this address; try again in {retry_after} s"
        )
        self.retry_after = retry_after


class PathRefused(CommandError):
    """A file argument points outside ``gateway.files_dir`` (or cannot be used there).

    The message names the argument and the rule, never the content of any file.
    """

    code = "path_refused"
