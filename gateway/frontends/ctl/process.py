"""One ejabberdctl command line in, ``(text, exit status)`` out.

The processor knows nothing about transports: the local control socket
feeds it the argv a ``gatewayctl`` user typed, and mod_rest feeds it the
command lines posted over HTTP.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from twisted.internet.defer import Deferred, ensureDeferred
from twisted.logger import Logger

from gateway.engine.auth import Authenticator
from gateway.engine.coercion import CoercionOptions, coerce_args
from gateway.engine.dispatch import Engine
from gateway.engine.errors import CommandError, UnknownCommand
from gateway.engine.model import Caller, IPAddress
from gateway.frontends.ctl.args import ArgumentCountError, parse_ctl_args
from gateway.frontends.ctl.text import (
    format_command_list,
    format_error,
    format_help,
    format_result,
    format_tagged,
    style_for_profile,
    usage_text,
)

__all__ = ["CtlProcessor", "EXIT_ERROR", "EXIT_OK", "EXIT_USAGE"]

log = Logger()

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2

#: ejabberdctl requires lists where mod_http_api lets them default to []
_CTL_COERCION = CoercionOptions(missing_list_is_empty=False)

Answer = tuple[str, int]


class _UsageError(Exception):
    """The options before the command are malformed."""


@dataclass(frozen=True, slots=True)
class _CommandLine:
    version: int | None
    auth: tuple[str, str, str] | None
    words: list[str]


class CtlProcessor:
    """Runs ejabberdctl command lines against the engine.

    Args:
        engine: the engine, speaking the API profile of this frontend.
        authenticator: checks ``--auth`` credentials (ejabberd never did).
        style_for_profile: the output style of an API profile, see
            :mod:`gateway.frontends.ctl.text`.
        caller_frontend: the ``api_permissions`` ``from`` name callers get.
        program: the program name shown in usage texts.
    """

    def __init__(
        self,
        engine: Engine,
        authenticator: Authenticator,
        style_for_profile: Callable[[str], str] = style_for_profile,
        *,
        caller_frontend: str = "ejabberd_ctl",
        program: str = "gatewayctl",
    ) -> None:
        self.engine = engine
        self.authenticator = authenticator
        self._style_for_profile = style_for_profile
        self.caller_frontend = caller_frontend
        self.program = program

    def process(
        self, argv: Sequence[str], ip: IPAddress | None = None, caller: Caller | None = None
    ) -> Deferred[Answer]:
        """Run ``argv`` (everything after the program name); never fails.

        ``caller`` is for transports that authenticated the caller already
        (mod_rest checks ``--auth`` itself): its credentials are not checked again.
        """
        return ensureDeferred(self.run(argv, ip, caller))

    async def run(
        self, argv: Sequence[str], ip: IPAddress | None = None, caller: Caller | None = None
    ) -> Answer:
        """Like :meth:`process`, as a coroutine."""
        try:
            return await self._run(list(argv), ip, caller)
        except CommandError as e:
            return format_error(e)
        except Exception:
            log.failure("ctl command line {argv!r} failed unexpectedly", argv=list(argv))
            return "Error: internal error", EXIT_ERROR

    def style(self, version: int | None) -> str:
        """The output style for a call at ``version``."""
        style = self._style_for_profile(self.engine.catalogue.profile)
        if style == "24.12" and version == 0:
            return "24.12-v0"
        return style

    async def _run(self, argv: list[str], ip: IPAddress | None, caller: Caller | None) -> Answer:
        try:
            line = _parse_options(argv)
        except _UsageError:
            return usage_text(self.program), EXIT_USAGE
        except _BadVersion as e:
            return f'Invalid API version number: "{e.text}"', EXIT_ERROR
        if not line.words:
            return usage_text(self.program), EXIT_USAGE
        name = line.words[0].replace("-", "_")
        strings = line.words[1:]
        if name == "help":
            return self._help(strings, line.version)
        if caller is None:
            caller = await self._caller(line.auth, ip)
        definition = self.engine.resolve(name, line.version)
        style = self.style(line.version)
        try:
            pairs = parse_ctl_args(definition, strings, style)
        except ArgumentCountError as e:
            shown = self.engine.catalogue.lookup(name, line.version)
            return f"{format_help(shown)}\n\nError: {e.message}", EXIT_ERROR
        args = coerce_args(definition, pairs, _CTL_COERCION)
        result = await self.engine.execute(definition, args, caller)
        return format_result(result, style)

    async def _caller(self, auth: tuple[str, str, str] | None, ip: IPAddress | None) -> Caller:
        # mod_rest sends ``--auth "" "" ""`` for anonymous requests.
        if auth is None or auth == ("", "", ""):
            return Caller(frontend=self.caller_frontend, ip=ip)
        user, host, password = auth
        return await self.authenticator.password(user, host, password, self.caller_frontend, ip)

    def _help(self, words: list[str], version: int | None) -> Answer:
        catalogue = self.engine.catalogue
        if not words:
            return format_command_list(catalogue, self.program), EXIT_OK
        if len(words) > 1:
            return usage_text(self.program), EXIT_USAGE
        name = words[0].replace("-", "_")
        definition = catalogue.find(name, version)
        if definition is not None:
            return format_help(definition), EXIT_OK
        tagged = sorted({d.name for d in catalogue if words[0] in d.tags and not d.internal})
        if tagged:
            return format_tagged(catalogue, words[0], tagged), EXIT_OK
        return format_error(UnknownCommand(name, catalogue.suggest(name)))


class _BadVersion(Exception):
    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text


def _parse_options(argv: list[str]) -> _CommandLine:
    """Split the leading ``--version N`` and ``--auth USER HOST PASS`` off ``argv``."""
    version: int | None = None
    auth: tuple[str, str, str] | None = None
    i = 0
    while i < len(argv) and argv[i] in ("--version", "--auth"):
        if argv[i] == "--version":
            if i + 1 >= len(argv):
                raise _UsageError
            version = _read_version(argv[i + 1])
            i += 2
        else:
            if len(argv) - i < 4:
                raise _UsageError
            auth = (argv[i + 1], argv[i + 2], argv[i + 3])
            i += 4
    return _CommandLine(version, auth, argv[i:])


def _read_version(text: str) -> int:
    # Erlang's list_to_integer: an optional sign and digits, nothing else
    stripped = text[1:] if text[:1] in ("+", "-") else text
    if not stripped.isascii() or not stripped.isdigit():
        raise _BadVersion(text)
    return int(text)
