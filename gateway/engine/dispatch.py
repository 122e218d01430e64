"""The engine: one path from a decoded call to a result, for every frontend."""

from __future__ import annotations

from typing import Any, Protocol

from twisted.internet.defer import CancelledError, Deferred, ensureDeferred
from twisted.logger import Logger

from gateway.backends.interfaces import Executor
from gateway.engine import adapters as _adapters  # noqa: F401  (registers every adapter)
from gateway.engine.catalogue import Catalogue
from gateway.engine.coercion import DEFAULT_OPTIONS, CoercionOptions, coerce_args
from gateway.engine.errors import (
    CommandError,
    Forbidden,
    InternalCommand,
    InternalError,
    NotSupported,
)
from gateway.engine.model import Caller, CommandCall, CommandDefinition, Result
from gateway.engine.types import Param, Type
from gateway.engine.versions import adapter_for

__all__ = ["Engine", "PermissionCheck", "with_policy_args"]

log = Logger()

_BINARY = Type("binary")
_USER_ARGS = (Param("user", _BINARY), Param("host", _BINARY))


class PermissionCheck(Protocol):
    def allows(self, caller: Caller, definition: CommandDefinition) -> bool: ...


def with_policy_args(definition: CommandDefinition) -> CommandDefinition:
    """The definition as callers see it: ``policy: user`` commands take ``user`` and ``host`` first.

    ejabberd prepends them for API callers; the gateway does so for every
    frontend, so a command always takes the same arguments.
    """
    if definition.policy != "user":
        return definition
    from dataclasses import replace

    return replace(definition, args=_USER_ARGS + definition.args)


class Engine:
    """Looks commands up, coerces arguments, checks permissions and executes.

    Args:
        catalogue: the API profile callers speak.
        canonical: the newest 24.12 catalogue that executors implement.
        backend: runs every command the gateway does not run itself.
        gateway: runs the commands about the gateway itself.
        permissions: the ``api_permissions`` evaluator.
        alternative: the backend name to suggest when ``backend`` cannot run a command.
    """

    def __init__(
        self,
        catalogue: Catalogue,
        canonical: Catalogue,
        backend: Executor,
        gateway: Executor,
        permissions: PermissionCheck,
        alternative: str | None = None,
    ) -> None:
        self.catalogue = catalogue
        self.canonical = canonical
        self.backend = backend
        self.gateway = gateway
        self.permissions = permissions
        self.alternative = alternative

    def for_profile(self, catalogue: Catalogue) -> Engine:
        """The same engine speaking another API profile (for per-listener profiles)."""
        if catalogue is self.catalogue:
            return self
        return Engine(
            catalogue,
            self.canonical,
            self.backend,
            self.gateway,
            self.permissions,
            self.alternative,
        )

    def resolve(self, name: str, version: int | None = None) -> CommandDefinition:
        """The definition a call to ``name`` at ``version`` gets, with policy arguments."""
        return with_policy_args(self.catalogue.lookup(name, version))

    def call(
        self, call: CommandCall, caller: Caller, options: CoercionOptions = DEFAULT_OPTIONS
    ) -> Deferred[Result]:
        """Run ``call`` for ``caller``; fails with a :class:`CommandError`."""
        return ensureDeferred(self.run(call, caller, options))

    async def run(
        self, call: CommandCall, caller: Caller, options: CoercionOptions = DEFAULT_OPTIONS
    ) -> Result:
        definition = self.resolve(call.name, call.version)
        args = coerce_args(definition, call.args, options)
        return await self.execute(definition, args, caller)

    async def execute(
        self, definition: CommandDefinition, args: dict[str, Any], caller: Caller
    ) -> Result:
        """Check access and run already-typed ``args`` of ``definition``."""
        if definition.internal:
            raise InternalCommand(definition.name)
        if not self.permissions.allows(caller, definition):
            raise Forbidden(definition.name)
        newest = with_policy_args(self.canonical.newest(definition.name))
        adapter = adapter_for(self.catalogue.profile, definition, newest)
        if adapter is None:
            raise NotSupported(
                f"{definition.name} (API version {definition.version})", "gateway version adapter"
            )
        self._executor(definition.name)  # NotSupported before any argument is translated

        async def execute(name: str, canonical: dict[str, Any]) -> Any:
            # adapters may run other canonical commands than the one called
            return await self._executor(name).execute(name, canonical, caller)

        try:
            value = await adapter.apply(definition.name, args, execute)
            return Result(definition, value)
        except (CommandError, CancelledError):
            # a cancelled call (the client went away) is not a command failure
            raise
        except Exception:
            log.failure("command {command} failed unexpectedly", command=definition.name)
            raise InternalError() from None

    def _executor(self, name: str) -> Executor:
        """Who runs canonical command ``name``; :class:`NotSupported` when nobody can."""
        executor = self.gateway if self.gateway.supports(name) else self.backend
        if not executor.supports(name):
            raise NotSupported(name, executor.name, self.alternative)
        return executor
