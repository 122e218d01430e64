"""One ejabberdctl command line in, ``(text, exit status)`` out.

The processor knows nothing about transports: the local control socket
feeds it the argv a ``gatewayctl`` user typed, and mod_rest feeds it the
command lines posted over HTTP.  A command line becomes one
:class:`~gateway.engine.model.CommandCall` whose positional words are read
once the engine has chosen the definition; ``help`` runs no command.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from twisted.internet.defer import CancelledError, Deferred, ensureDeferred
from twisted.logger import Logger

from gateway.engine.builtin import ctl_status_text
from gateway.engine.coercion import CoercionOptions
from gateway.engine.credentials import Credentials
from gateway.engine.dispatch import Engine
from gateway.engine.errors import CommandError, UnknownCommand
from gateway.engine.model import CommandCall, CommandDefinition, IPAddress, LateArguments
from gateway.engine.names import EJABBERD_CTL
from gateway.frontends.ctl.args import ArgumentCountError, command_name, parse_ctl_args
from gateway.frontends.ctl.json_output import json_error, json_result, json_text
from gateway.frontends.ctl.options import AuthPrefix, BadVersion, UsageError, parse_options
from gateway.frontends.ctl.text import (
    format_command_list,
    format_error,
    format_help,
    format_result,
    format_tagged,
    format_tags,
    output_style,
    usage_text,
)

__all__ = ["EXIT_ERROR", "EXIT_OK", "EXIT_USAGE", "INTERNAL_ERROR", "CtlProcessor"]

log = Logger()

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2

#: ejabberdctl requires lists where mod_http_api lets them default to []
_CTL_COERCION = CoercionOptions(missing_list_is_empty=False)

Answer = tuple[str, int]

#: what a command line that broke unexpectedly gets
INTERNAL_ERROR: Answer = ("Error: internal error", EXIT_ERROR)


class CtlProcessor:
    """Runs ejabberdctl command lines against the engine.

    Args:
        engine: the engine, speaking the API profile of this frontend; it
            checks ``--auth`` credentials (ejabberd never did).
        frontend: the ``api_permissions`` ``from`` name callers get.
        program: the program name shown in usage texts.
    """

    def __init__(
        self,
        engine: Engine,
        *,
        frontend: str = EJABBERD_CTL,
        program: str = "gatewayctl",
    ) -> None:
        self.engine = engine
        self.frontend = frontend
        self.program = program

    def process(
        self, argv: Sequence[str], ip: IPAddress | None = None, *, json: bool = False
    ) -> Deferred[Answer]:
        """Run ``argv`` (everything after the program name); never fails.

        With ``json``, a command's result or error is the JSON ``/api`` gives
        (see :mod:`.json_output`); help and usage stay text.
        """
        return ensureDeferred(self.run(argv, ip, json=json))

    async def run(
        self, argv: Sequence[str], ip: IPAddress | None = None, *, json: bool = False
    ) -> Answer:
        """Like :meth:`process`, as a coroutine."""
        try:
            return await self.answer(argv, ip, json=json)
        except CommandError as e:
            try:
                if json:
                    return json_error(e, profile=self.engine.catalogue.profile)
                return format_error(e)
            except Exception:
                # the error's own wording failed: still an answer, the internal error's
                log.failure("ctl could not word the error {error!r}", error=e)
                return INTERNAL_ERROR

    async def answer(
        self,
        argv: Sequence[str],
        ip: IPAddress | None = None,
        credentials: Credentials | None = None,
        *,
        json: bool = False,
    ) -> Answer:
        """The answer to ``argv``, or the :class:`CommandError` it ended with.

        A transport that answers some errors its own way (mod_rest) calls
        this rather than :meth:`run`.  ``credentials`` are for transports
        that read them off the command line themselves (mod_rest's leading
        ``--auth``); otherwise an ``--auth`` option gives them.  Unexpected
        errors are logged and answered as an internal error.
        """
        try:
            return await self._answer(argv, ip, credentials, json)
        except (CommandError, CancelledError):
            raise
        except Exception:
            log.failure("ctl command line {argv!r} failed unexpectedly", argv=list(argv))
            return INTERNAL_ERROR

    async def _answer(
        self,
        argv: Sequence[str],
        ip: IPAddress | None,
        credentials: Credentials | None,
        json: bool,
    ) -> Answer:
        try:
            line = parse_options(argv)
        except UsageError:
            return usage_text(self.program), EXIT_USAGE
        except BadVersion as e:
            return f'Invalid API version number: "{e.text}"', EXIT_ERROR
        if not line.words:
            return usage_text(self.program), EXIT_USAGE
        name = command_name(line.words[0])
        strings = line.words[1:]
        if name == "help":
            return self._help(strings, line.version)
        style = output_style(self.engine.catalogue.profile, line.version)

        async def read(definition: CommandDefinition) -> list[tuple[str, Any]]:
            return parse_ctl_args(definition, strings, style)

        call = CommandCall(
            name,
            LateArguments(read, raw=tuple(strings)),
            line.version,
            frontend=self.frontend,
            credentials=line.credentials if credentials is None else credentials,
            ip=ip,
            options=_CTL_COERCION,
        )
        try:
            result = await self.engine.call(call)
        except ArgumentCountError as e:
            if json:
                # like mod_http_api's argument errors: a bare JSON string
                return json_text(e.message), EXIT_ERROR
            shown = self.engine.catalogue.lookup(e.definition.name, e.definition.version)
            return f"{format_help(shown)}\n\nError: {e.message}", EXIT_ERROR
        if json:
            return json_result(result)
        text, status = format_result(result, output_style(result.profile, result.requested_version))
        if self._own_status(line.words, line.auth) and status == EXIT_OK:
            # ejabberdctl answers a bare ``status`` itself, in its own words
            text = ctl_status_text(text)
        return text, status

    def _own_status(self, words: Sequence[str], auth: AuthPrefix | None) -> bool:
        """Whether ejabberdctl itself would answer this line (``status``, nothing else)."""
        return self.frontend == EJABBERD_CTL and auth is None and list(words) == ["status"]

    def _help(self, words: list[str], version: int | None) -> Answer:
        catalogue = self.engine.catalogue
        if not words:
            return format_command_list(catalogue, self.program), EXIT_OK
        if len(words) > 1:
            return usage_text(self.program), EXIT_USAGE
        if words == ["tags"]:
            return format_tags(catalogue), EXIT_OK
        name = command_name(words[0])
        definition = catalogue.find(name, version)
        if definition is not None:
            return format_help(definition), EXIT_OK
        tagged = sorted({d.name for d in catalogue if words[0] in d.tags and not d.internal})
        if tagged:
            return format_tagged(catalogue, words[0], tagged), EXIT_OK
        return format_error(UnknownCommand(name, catalogue.suggest(name)))
