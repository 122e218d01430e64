"""The ``ejabberd`` backend: every command runs on a real ejabberd, through its ``/api``.

A canonical (24.12) call goes out in the upstream's own profile and version:
unchanged to a 24.12 upstream (``/api/<command>/v<N>``), translated by
:mod:`.translate` for a 23.01 one.  The JSON answer is decoded into the
values the engine's backends return (:mod:`.decode`) and, for a 23.01
upstream, translated back to the canonical shape.

When the caller speaks the upstream's own profile the engine skips all that
(:meth:`UpstreamBackend.native_profile`): the caller's definition and
arguments go out as they are and the answer is decoded per that definition,
so a 23.01 client in front of a 23.01 ejabberd gets ejabberd's answer.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Protocol

from twisted.internet.defer import Deferred, ensureDeferred
from twisted.logger import Logger

from gateway.backends.upstream import translate
from gateway.backends.upstream.client import UpstreamClient
from gateway.backends.upstream.decode import ShapeError, decode_result, encode_value
from gateway.backends.upstream.translate import UpstreamCall
from gateway.engine.catalogue import Catalogue
from gateway.engine.errors import (
    CommandError,
    CommandFailed,
    InternalError,
    TypedCommandError,
    UnknownCommand,
)
from gateway.engine.model import Caller, CommandDefinition, ResTuple
from gateway.engine.names import CURRENT_PROFILE
from gateway.engine.types import Type

__all__ = ["BACKEND_NAME", "Translator", "UpstreamBackend"]

log = Logger()

BACKEND_NAME = "ejabberd"

#: mod_muc_admin throws its failures (``throw({error, Text})``) rather than
#: returning them; /api answers both alike, XML-RPC and ejabberdctl do not
_THROWING_MODULES = frozenset({"mod_muc_admin"})


class Translator(Protocol):
    """Canonical 24.12 calls to an older upstream profile and back (:mod:`.translate`)."""

    def translate_call(
        self, profile: str, command: str, args: Mapping[str, Any]
    ) -> UpstreamCall: ...

    def translate_result(self, profile: str, command: str, value: Any) -> Any: ...


class UpstreamBackend:
    """Runs the catalogue's commands on the upstream ejabberd behind ``client``.

    Args:
        client: the upstream's HTTP client (it knows the upstream's profile).
        translator: maps canonical calls to the upstream's profile and back
            (:mod:`.translate`; a fake in tests).
        catalogues: the catalogue of a profile (for tests; the packaged ones by default).
    """

    name = BACKEND_NAME

    def __init__(
        self,
        client: UpstreamClient,
        translator: Translator = translate,
        *,
        catalogues: Callable[[str], Catalogue] = Catalogue.load,
    ) -> None:
        self.client = client
        self._translator = translator
        self._catalogues = catalogues
        self._canonical = catalogues(CURRENT_PROFILE)

    def supports(self, command: str) -> bool:
        # every command is forwarded; one the upstream lacks is its unknown command
        if command in self._canonical:
            return True
        profile = self.client.profile  # a command only the upstream's older release has
        return profile is not None and command in self._catalogues(profile)

    def execute(self, command: str, args: Mapping[str, Any], caller: Caller) -> Deferred[Any]:
        return ensureDeferred(self._execute(command, dict(args)))

    async def _execute(self, command: str, args: dict[str, Any]) -> Any:
        profile = await self.client.ensure_profile()
        upstream = self._catalogues(profile)
        try:
            outgoing = self._translator.translate_call(profile, command, args)
        except CommandError:
            if command not in upstream:
                # what the upstream itself answers for a command it does not have
                raise UnknownCommand(command, upstream.suggest(command)) from None
            raise
        value = await self._forward(outgoing.definition, outgoing.args, outgoing.version)
        return self._translator.translate_result(profile, command, value)

    # -- the engine's fidelity seam ---------------------------------------------

    def native_profile(self, command: str) -> str | None:
        """The profile this backend runs ``command`` in natively, when known.

        The engine hands a caller speaking that profile straight to
        :meth:`execute_definition`.  ``None`` until the upstream's profile is
        known, or when the upstream lacks the command.
        """
        profile = self.client.profile
        if profile is None or command not in self._catalogues(profile):
            return None
        return profile

    def execute_definition(
        self, definition: CommandDefinition, args: Mapping[str, Any], caller: Caller
    ) -> Deferred[Any]:
        """Run the caller's own ``definition`` (of :meth:`native_profile`'s profile) unchanged."""
        # 23.01 knows no versions in the path
        version = definition.version if self.client.profile == CURRENT_PROFILE else None
        return ensureDeferred(self._forward(definition, dict(args), version))

    # -- one request --------------------------------------------------------------

    async def _forward(
        self, definition: CommandDefinition, args: dict[str, Any], version: int | None
    ) -> Any:
        declared: dict[str, Type] = {p.name: p.type for p in definition.args}
        body = {
            name: encode_value(declared[name], value) if name in declared else value
            for name, value in args.items()
        }
        try:
            raw = await self.client.call(definition.name, body, version=version)
        except CommandError as e:
            return _failure_value(definition, e)
        try:
            return decode_result(definition.result, raw)
        except ShapeError as e:
            log.error(
                "the upstream answered {command} in an unexpected shape: {problem}",
                command=definition.name,
                problem=str(e),
            )
            raise InternalError() from None


def _failure_value(definition: CommandDefinition, error: CommandError) -> Any:
    """What an error answer stands for, given the command that got it.

    A restuple's non-ok status other than ``error`` comes as a 500 with code
    0: that is a value, not an error.  Failures of commands that throw them
    are marked thrown, so XML-RPC and ejabberdctl show them as ejabberd does.
    """
    kind = definition.result.type.kind
    if (
        kind == "restuple"
        and isinstance(error, TypedCommandError)
        and error.status == 0
        and error.kind == "error"
    ):
        return ResTuple(error.message, "failed")
    if isinstance(error, CommandFailed) and not error.thrown:
        throws = definition.module in _THROWING_MODULES or (
            error.atom is not None and error.atom.startswith("error_")
        )
        if throws:
            raise CommandFailed(error.message, atom=error.atom, thrown=True)
    raise error
