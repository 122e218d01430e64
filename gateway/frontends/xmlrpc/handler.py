"""What an XML-RPC method call means: authentication, debug methods, commands.

The order is ejabberd_xmlrpc's:

1. A first param that is a struct with ``user``, ``server`` and ``token`` (or
   else ``password``) authenticates the call and is removed; a wrong token or
   password is a -118 fault and counts against the caller's address (past
   the brute-force limit the fault says the address is banned).  A struct
   without those members is not authentication: every param stays and the
   call is anonymous.
2. The debug methods ``echothis``, ``echothisnew``, ``multhis`` and
   ``multhisnew`` answer when their params have exactly the expected shape.
3. No params means no arguments; one struct is the argument struct; anything
   else is fault -112 ``Unknown call: {call,Method,Params}``.  An unknown
   method gets the same fault (ejabberd drops the connection instead).
4. The command's newest definition is used; arguments are read
   (:mod:`.arguments`), the engine checks permissions and runs it, and the
   result is shaped for the release (:mod:`.results`).

A command call is one :meth:`Engine.call <gateway.engine.dispatch.Engine.call>`
(which authenticates first for this dialect); a debug method or a malformed
call, which run no command, only has its credentials checked.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from gateway.engine.credentials import NO_CREDENTIALS, Credentials, Password, Token, Unreadable
from gateway.engine.dispatch import Engine
from gateway.engine.errors import (
    ArgumentError,
    CommandError,
    CommandFailed,
    InvalidToken,
    Unauthorized,
    UnknownCommand,
    mapping_for,
)
from gateway.engine.model import CommandCall, IPAddress, LateArguments
from gateway.engine.names import EJABBERD_XMLRPC, LEGACY_PROFILE
from gateway.engine.steps import Step
from gateway.frontends.erlterm import Atom
from gateway.frontends.xmlrpc import faults
from gateway.frontends.xmlrpc.arguments import OPTIONS, ArgumentStruct
from gateway.frontends.xmlrpc.codec import MethodCall
from gateway.frontends.xmlrpc.faults import Fault
from gateway.frontends.xmlrpc.results import failure_value, result_value
from gateway.frontends.xmlrpc.values import MISSING, Struct, Value

__all__ = ["XmlRpcHandler", "auth_struct"]


def auth_struct(params: list[Value]) -> tuple[Credentials, list[Value]]:
    """The credentials of a leading auth struct, and the params after it.

    A first struct with ``user``, ``server`` and ``token`` or ``password``
    authenticates; members that are not text make the credentials
    unreadable (a failed login).  Anything else leaves the params as they are.
    """
    if not params or not isinstance(params[0], Struct):
        return NO_CREDENTIALS, params
    struct = params[0]
    user, server = struct.first("user"), struct.first("server")
    token = struct.first("token")
    is_token = token is not MISSING
    secret = token if is_token else struct.first("password")
    if user is MISSING or server is MISSING or secret is MISSING:
        return NO_CREDENTIALS, params
    rest = params[1:]
    if not (isinstance(user, str) and isinstance(server, str) and isinstance(secret, str)):
        return Unreadable(token=is_token), rest  # members that are not text name no account
    if is_token:
        return Token(secret, user, server), rest
    return Password(user, server, secret), rest


class XmlRpcHandler:
    """Answers decoded method calls; knows nothing about HTTP.

    Args:
        engine: the engine, already speaking this listener's API profile.
        tag: the listener's ``tag``, passed on to permission checks.
    """

    def __init__(self, engine: Engine, tag: str | None = None):
        self.engine = engine
        self.tag = tag

    async def handle(self, call: MethodCall, ip: IPAddress | None = None) -> Any:
        """The response value for ``call``; raises :class:`Fault` for a fault answer."""
        credentials, params = auth_struct(list(call.params))
        debug = _debug_method(call.name, params)
        if not params:
            params = [Struct()]
        if debug is not None or len(params) != 1 or not isinstance(params[0], Struct):
            # no command runs, but wrong credentials are still refused first
            await self._authenticate(credentials, ip)
            if debug is not None:
                return debug()
            raise faults.unknown_call(call.name, params)
        return await self._command(call.name, params[0], credentials, ip)

    async def _authenticate(self, credentials: Credentials, ip: IPAddress | None) -> None:
        try:
            await self.engine.authenticate(
                credentials, frontend=EJABBERD_XMLRPC, ip=ip, tag=self.tag
            )
        except CommandError as e:
            raise _login_fault(e) from None

    async def _command(
        self, name: str, struct: Struct, credentials: Credentials, ip: IPAddress | None
    ) -> Any:
        arguments = ArgumentStruct(struct, legacy=self.engine.catalogue.profile == LEGACY_PROFILE)
        call = CommandCall(
            name,
            LateArguments(arguments.read),
            None,  # XML-RPC always gets the newest
            frontend=EJABBERD_XMLRPC,
            credentials=credentials,
            ip=ip,
            tag=self.tag,
            options=OPTIONS,
        )
        try:
            result = await self.engine.call(call)
            return result_value(result, legacy=result.profile == LEGACY_PROFILE)
        except CommandError as e:
            failed = e.definition if e.step is Step.EXECUTE else None
            # a thrown failure is a fault in 24.12 too; only a returned one is a value
            if isinstance(e, CommandFailed) and not e.thrown and failed is not None:
                legacy = self.engine.catalogue.profile == LEGACY_PROFILE
                answer = failure_value(failed, e, legacy=legacy)
                if answer is not None:
                    return answer  # 24.12 answers a failed rescode or restuple with a value
            raise _fault(e, name, struct, arguments) from None


def _fault(error: CommandError, name: str, struct: Struct, arguments: ArgumentStruct) -> Fault:
    """The fault for an error of a command call, by the step that failed."""
    if error.step is Step.AUTHENTICATE:
        return _login_fault(error)
    if isinstance(error, UnknownCommand):
        return faults.unknown_call(name, [struct])
    if error.step is Step.COERCE and isinstance(error, ArgumentError):
        return arguments.fault(error)
    return faults.command_fault(error, name, struct.members)


def _login_fault(error: CommandError) -> Fault:
    if isinstance(error, InvalidToken):
        return faults.invalid_token()
    if isinstance(error, Unauthorized):
        return faults.invalid_auth()
    # e.g. a banned address, or the store holding the accounts is down
    return Fault(mapping_for(error).xmlrpc_fault, error.message)


def _debug_method(name: str, params: list[Value]) -> Callable[[], Any] | None:
    """ejabberd's test methods: what answers the call, ``None`` when it is not one of them."""
    if name == "echothis" and len(params) == 1:
        echoed = params[0]
        return lambda: echoed
    if len(params) != 1 or not isinstance(params[0], Struct):
        return None
    struct = params[0]
    if name == "echothisnew" and struct.names() == ("sentence",):
        return lambda: Struct.of(("repeated", struct.members[0][1]))
    if name in ("multhis", "multhisnew") and struct.names() == ("a", "b"):
        return lambda: _multiply(name, struct)
    return None


def _multiply(name: str, struct: Struct) -> Any:
    a, b = struct.members[0][1], struct.members[1][1]
    if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in (a, b)):
        # ejabberd crashes on this; say what went wrong instead
        raise faults.problem(Atom("badarith"), name, struct.members)
    product = a * b  # type: ignore[operator]
    return product if name == "multhis" else Struct.of(("mu", product))
