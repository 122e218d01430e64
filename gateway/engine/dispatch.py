"""The engine: one path from a decoded call to a result, for every frontend.

A frontend decodes its wire format into a
:class:`~gateway.engine.model.CommandCall`, hands it to :meth:`Engine.call`
and encodes the :class:`~gateway.engine.model.Result` (or the
:class:`~gateway.engine.errors.CommandError`) it gets back.  In between the
engine authenticates the caller, looks the command up, reads and types the
arguments, checks permissions and runs the command, in the order the
caller's dialect expects (see :mod:`gateway.engine.steps`).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Protocol, TypeGuard, TypeVar

from twisted.internet.defer import CancelledError, Deferred, ensureDeferred
from twisted.logger import Logger
from twisted.python.failure import Failure

from gateway.backends.interfaces import Executor, NativeExecutor
from gateway.engine.auth import Authenticator
from gateway.engine.catalogue import Catalogue
from gateway.engine.coercion import coerce_args
from gateway.engine.credentials import Credentials, NoCredentials
from gateway.engine.errors import (
    CommandError,
    Forbidden,
    InternalCommand,
    InternalError,
    NotSupported,
    Unauthorized,
)
from gateway.engine.model import (
    Caller,
    CommandCall,
    CommandDefinition,
    IPAddress,
    LateArguments,
    Result,
)
from gateway.engine.steps import Step, order_for
from gateway.engine.types import Param, Type
from gateway.engine.versions import AdapterRegistry

__all__ = ["CallObserver", "Engine", "FrontendCheck", "PermissionCheck", "with_policy_args"]

log = Logger()

T = TypeVar("T")
_BINARY = Type("binary")
_USER_ARGS = (Param("user", _BINARY), Param("host", _BINARY))
#: the rule name a :class:`Forbidden` from ``api_permissions`` carries
_API_PERMISSIONS = "api_permissions"


class PermissionCheck(Protocol):
    """``api_permissions``: may ``caller`` run ``definition``?"""

    def allows(self, caller: Caller, definition: CommandDefinition) -> bool: ...


class CallObserver(Protocol):
    """Told about every :meth:`Engine.call` once it has ended (metrics).

    ``command`` is the name called when the catalogue knows it, else ``None``
    (so a caller cannot invent names); ``outcome`` is ``"ok"``, the
    :class:`CommandError` code, ``"cancelled"`` or ``"exception"``.  Called on
    the event loop for every call: it must be cheap and must not raise.
    """

    def call_finished(
        self, frontend: str, command: str | None, outcome: str, seconds: float
    ) -> None: ...


#: A frontend's own permission check, asked before ``api_permissions`` for
#: calls from that frontend: given the caller, the definition and the
#: arguments as sent (:attr:`CommandCall.raw_args`), the name of the rule
#: that refuses the call, or ``None`` to let ``api_permissions`` decide.
FrontendCheck = Callable[[Caller, CommandDefinition, Sequence[Any]], str | None]


def with_policy_args(definition: CommandDefinition) -> CommandDefinition:
    """The definition as callers see it: ``policy: user`` commands take ``user`` and ``host`` first.

    ejabberd prepends them for API callers; the gateway does so for every
    frontend, so a command always takes the same arguments.
    """
    if definition.policy != "user":
        return definition
    return replace(definition, args=_USER_ARGS + definition.args)


class Engine:
    """Authenticates, looks commands up, coerces arguments, checks permissions and executes.

    Args:
        catalogue: the API profile callers speak.
        canonical: the newest 24.12 catalogue that executors implement.
        backend: runs every command the gateway does not run itself.
        gateway: runs the commands about the gateway itself.
        permissions: the ``api_permissions`` evaluator.
        adapters: how old definitions map onto the newest ones.
        authenticator: checks credentials; without one, only calls without
            credentials are accepted (any credentials are refused).
        checks: extra permission checks per frontend name (mod_rest's
            ``access_commands``), asked before ``api_permissions``.
        alternative: the backend name to suggest when ``backend`` cannot run a command.
        observer: told how each call ended and how long it took.
        clock: times the calls for ``observer`` (seconds, monotonic).
    """

    def __init__(
        self,
        catalogue: Catalogue,
        canonical: Catalogue,
        backend: Executor,
        gateway: Executor,
        permissions: PermissionCheck,
        adapters: AdapterRegistry,
        *,
        authenticator: Authenticator | None = None,
        checks: Mapping[str, Sequence[FrontendCheck]] | None = None,
        alternative: str | None = None,
        observer: CallObserver | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.catalogue = catalogue
        self.canonical = canonical
        self.backend = backend
        self.gateway = gateway
        self.permissions = permissions
        self.adapters = adapters
        self.authenticator = authenticator
        self.checks: Mapping[str, Sequence[FrontendCheck]] = dict(checks or {})
        self.alternative = alternative
        self.observer = observer
        self._clock = clock

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
            self.adapters,
            authenticator=self.authenticator,
            checks=self.checks,
            alternative=self.alternative,
            observer=self.observer,
            clock=self._clock,
        )

    # -- the entry --------------------------------------------------------------

    def call(self, call: CommandCall) -> Deferred[Result]:
        """Run ``call``; fails with a :class:`CommandError`.

        The error says which step failed (``step``) and, once the command was
        looked up, which definition was chosen (``definition``).  Whatever a
        :class:`LateArguments` reader raises fails the call unchanged.
        """
        if self.observer is None:
            return ensureDeferred(self._run(call))
        started = self._clock()
        done = ensureDeferred(self._run(call))
        done.addBoth(self._observe, self.observer, call, started)
        return done

    def _observe(
        self, outcome: Result | Failure, observer: CallObserver, call: CommandCall, started: float
    ) -> Result | Failure:
        """Tell ``observer`` how ``call`` ended; pass the outcome on unchanged."""
        if isinstance(outcome, Failure):
            error = outcome.value
            if isinstance(error, CommandError):
                ended = error.code
            else:
                ended = "cancelled" if isinstance(error, CancelledError) else "exception"
        else:
            ended = "ok"
        command = call.name if call.name in self.catalogue else None
        try:
            observer.call_finished(call.frontend, command, ended, self._clock() - started)
        except Exception:
            log.failure("the call observer failed")
        return outcome

    # -- for requests that are not commands ----------------------------------------

    def admit(self, ip: IPAddress | None) -> None:
        """Refuse an address banned for failing to log in too often.

        Frontends ask at the door, before reading a request.

        Raises:
            TooManyFailures: ``ip`` is banned.
        """
        if self.authenticator is not None:
            self.authenticator.admit(ip)

    def authenticate(
        self,
        credentials: Credentials,
        *,
        frontend: str,
        ip: IPAddress | None = None,
        tag: str | None = None,
    ) -> Deferred[Caller]:
        """Only check ``credentials``, for requests that run no command.

        XML-RPC's debug methods and mod_rest's ``help`` still refuse wrong
        credentials, as their dialects did.  Errors say they come from
        :attr:`Step.AUTHENTICATE`, as in a call.
        """
        return ensureDeferred(self._authenticated(credentials, frontend, ip, tag))

    def resolve(self, name: str, version: int | None = None) -> CommandDefinition:
        """The definition a call to ``name`` at ``version`` gets, with policy arguments.

        Raises:
            UnknownCommand: no such command (at that version).
        """
        return with_policy_args(self.catalogue.lookup(name, version))

    # -- the steps --------------------------------------------------------------

    async def _run(self, call: CommandCall) -> Result:
        run = _Run(call)
        for step in order_for(call.frontend):
            try:
                await self._take(step, run)
            except CommandError as e:
                if e.step is None:
                    e.step = step
                if e.definition is None:
                    e.definition = run.chosen
                raise
        return Result(run.definition, run.value, self.catalogue.profile, call.version)

    async def _take(self, step: Step, run: _Run) -> None:
        call = run.call
        if step is Step.AUTHENTICATE:
            run.caller = await self._login(call.credentials, call.frontend, call.ip, call.tag)
        elif step is Step.RESOLVE:
            run.chosen = self.resolve(call.name, call.version)
        elif step is Step.READ:
            args = call.args
            run.given = await args.read(run.definition) if isinstance(args, LateArguments) else args
        elif step is Step.COERCE:
            run.typed = coerce_args(run.definition, run.pairs, call.options)
        elif step is Step.REFUSE_INTERNAL:
            if run.definition.internal:
                raise InternalCommand(run.definition.name)
        elif step is Step.PERMIT:
            self._permit(run.who, run.definition, call.raw_args)
        elif step is Step.EXECUTE:
            run.value = await self._execute(run.definition, run.arguments, run.who)

    async def _authenticated(
        self, credentials: Credentials, frontend: str, ip: IPAddress | None, tag: str | None
    ) -> Caller:
        try:
            return await self._login(credentials, frontend, ip, tag)
        except CommandError as e:
            e.step = Step.AUTHENTICATE
            raise

    async def _login(
        self, credentials: Credentials, frontend: str, ip: IPAddress | None, tag: str | None
    ) -> Caller:
        if self.authenticator is not None:
            return await self.authenticator.login(credentials, frontend, ip, tag)
        if isinstance(credentials, NoCredentials):
            return Caller(frontend=frontend, ip=ip, tag=tag)
        raise Unauthorized()  # nothing to check them with

    def _permit(self, caller: Caller, definition: CommandDefinition, raw: Sequence[Any]) -> None:
        for check in self.checks.get(caller.frontend, ()):
            rule = check(caller, definition, raw)
            if rule is not None:
                raise Forbidden(definition.name, rule, caller)
        # internal commands are refused whatever the rules say (REFUSE_INTERNAL)
        if not definition.internal and not self.permissions.allows(caller, definition):
            raise Forbidden(definition.name, _API_PERMISSIONS, caller)

    async def _execute(
        self, definition: CommandDefinition, args: dict[str, Any], caller: Caller
    ) -> Any:
        """Run typed ``args`` of ``definition`` through its adapter; the old-shaped value.

        An executor that runs the command natively in the caller's profile
        (a forwarder to a server of that release) gets the caller's own
        definition and arguments instead, untranslated.
        """
        executor = self._choose(definition.name)
        native = self._native(executor, definition.name)
        if native is not None:
            return await self._guarded(
                definition, native.execute_definition(definition, args, caller)
            )
        newest = with_policy_args(self.canonical.newest(definition.name))
        adapter = self.adapters.adapter_for(self.catalogue.profile, definition, newest)
        if adapter is None:
            raise NotSupported(
                f"{definition.name} (API version {definition.version})", "gateway version adapter"
            )
        self._able(executor, definition.name)  # NotSupported before any argument is translated

        async def execute(name: str, canonical: dict[str, Any]) -> Any:
            # adapters may run other canonical commands than the one called
            return await self._executor(name).execute(name, canonical, caller)

        return await self._guarded(definition, adapter.apply(definition.name, args, execute))

    async def _guarded(self, definition: CommandDefinition, running: Awaitable[Any]) -> Any:
        """``running``'s value; an unexpected exception is logged and answered internal_error."""
        try:
            return await running
        except (CommandError, CancelledError):
            # a cancelled call (the client went away) is not a command failure
            raise
        except Exception:
            log.failure("command {command} failed unexpectedly", command=definition.name)
            raise InternalError() from None

    def _choose(self, name: str) -> Executor:
        """Who is asked to run canonical command ``name``: the gateway's own executor, if it can."""
        return self.gateway if self.gateway.supports(name) else self.backend

    def _native(self, executor: Executor, name: str) -> NativeExecutor | None:
        """``executor`` when it runs ``name`` in this engine's own profile unchanged."""
        if (
            _is_native(executor)
            and executor.supports(name)
            and executor.native_profile(name) == self.catalogue.profile
        ):
            return executor
        return None

    def _executor(self, name: str) -> Executor:
        """Who runs canonical command ``name``; :class:`NotSupported` when nobody can."""
        return self._able(self._choose(name), name)

    def _able(self, executor: Executor, name: str) -> Executor:
        """``executor``, when it runs ``name``; else the reason it does not, raised."""
        if not executor.supports(name):
            # a backend that knows why (routes, the xmpp backend's discovery) says so itself
            explain = getattr(executor, "not_supported", None)
            if explain is not None:
                raise explain(name)
            raise NotSupported(name, executor.name, self.alternative)
        return executor


#: executor type -> whether it is a NativeExecutor (checked once per type)
_NATIVE_TYPES: dict[type, bool] = {}


def _is_native(executor: Executor) -> TypeGuard[NativeExecutor]:
    """``isinstance(executor, NativeExecutor)``, remembered per type.

    isinstance against a runtime-checkable Protocol inspects every member on
    each call, which cost a few per cent of a cheap request.
    """
    kind = type(executor)
    known = _NATIVE_TYPES.get(kind)
    if known is None:
        known = _NATIVE_TYPES[kind] = isinstance(executor, NativeExecutor)
    return known


@dataclass
class _Run:
    """What one call has gathered so far; each step reads what earlier steps found."""

    call: CommandCall
    caller: Caller | None = None
    chosen: CommandDefinition | None = None
    given: Sequence[tuple[str, Any]] | None = None
    typed: dict[str, Any] | None = None
    value: Any = None

    @property
    def who(self) -> Caller:
        return _found(self.caller, Step.AUTHENTICATE)

    @property
    def definition(self) -> CommandDefinition:
        return _found(self.chosen, Step.RESOLVE)

    @property
    def pairs(self) -> Sequence[tuple[str, Any]]:
        return _found(self.given, Step.READ)

    @property
    def arguments(self) -> dict[str, Any]:
        return _found(self.typed, Step.COERCE)


def _found(value: T | None, step: Step) -> T:
    if value is None:
        raise RuntimeError(f"a step needs what {step.value} finds, but it has not run yet")
    return value
