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
"""

from __future__ import annotations

from typing import Any

from twisted.logger import Logger

from gateway.engine.auth import Authenticator
from gateway.engine.dispatch import Engine
from gateway.engine.errors import (
    CommandError,
    CommandFailed,
    InvalidToken,
    Unauthorized,
    UnknownCommand,
    mapping_for,
)
from gateway.engine.model import Caller, IPAddress
from gateway.frontends.erlterm import Atom
from gateway.frontends.xmlrpc import faults
from gateway.frontends.xmlrpc.arguments import typed_arguments
from gateway.frontends.xmlrpc.codec import MethodCall
from gateway.frontends.xmlrpc.faults import Fault
from gateway.frontends.xmlrpc.results import failure_value, result_value
from gateway.frontends.xmlrpc.values import MISSING, Struct, Value

__all__ = ["FRONTEND", "LEGACY_PROFILE", "XmlRpcHandler"]

#: the ``from`` name of this frontend in ``api_permissions``
FRONTEND = "ejabberd_xmlrpc"
#: the profile whose list/tuple/restuple shapes differ
LEGACY_PROFILE = "23.01"

log = Logger()


class XmlRpcHandler:
    """Answers decoded method calls; knows nothing about HTTP.

    Args:
        engine: the engine, already speaking this listener's API profile.
        authenticator: checks auth structs.
        tag: the listener's ``tag``, passed on to permission checks.
    """

    def __init__(self, engine: Engine, authenticator: Authenticator, tag: str | None = None):
        self.engine = engine
        self.authenticator = authenticator
        self.tag = tag

    @property
    def legacy(self) -> bool:
        return self.engine.catalogue.profile == LEGACY_PROFILE

    async def handle(self, call: MethodCall, ip: IPAddress | None = None) -> Any:
        """The response value for ``call``; raises :class:`Fault` for a fault answer."""
        params = list(call.params)
        caller = None
        if params and isinstance(params[0], Struct):
            caller = await self._authenticate(params[0], ip)
            if caller is not None:
                params = params[1:]
        if caller is None:
            caller = Caller(frontend=FRONTEND, ip=ip, tag=self.tag)
        matched, answer = _debug(call.name, params)
        if matched:
            return answer
        if not params:
            params = [Struct()]
        if len(params) != 1 or not isinstance(params[0], Struct):
            raise faults.unknown_call(call.name, params)
        return await self._command(call.name, params[0], caller)

    async def _authenticate(self, struct: Struct, ip: IPAddress | None) -> Caller | None:
        user, server = struct.first("user"), struct.first("server")
        token, password = struct.first("token"), struct.first("password")
        if user is MISSING or server is MISSING:
            return None
        try:
            if token is not MISSING:
                if not (
                    isinstance(user, str) and isinstance(server, str) and isinstance(token, str)
                ):
                    self.authenticator.admit(ip)
                    self.authenticator.failed(ip)
                    raise InvalidToken()  # a non-text member cannot name an account
                return await self.authenticator.token(
                    token, FRONTEND, ip, self.tag, user=user, host=server
                )
            if password is not MISSING:
                if not (
                    isinstance(user, str) and isinstance(server, str) and isinstance(password, str)
                ):
                    self.authenticator.admit(ip)
                    self.authenticator.failed(ip)  # malformed credentials count as a failure
                    raise Unauthorized()
                return await self.authenticator.password(
                    user, server, password, FRONTEND, ip, self.tag
                )
        except InvalidToken:
            raise faults.invalid_token() from None
        except Unauthorized:
            raise faults.invalid_auth() from None
        except CommandError as e:  # e.g. the store holding the accounts is down
            raise Fault(mapping_for(e).xmlrpc_fault, e.message) from None
        return None

    async def _command(self, name: str, struct: Struct, caller: Caller) -> Any:
        try:
            definition = self.engine.resolve(name)  # XML-RPC always gets the newest
        except UnknownCommand:
            raise faults.unknown_call(name, [struct]) from None
        args = typed_arguments(definition, struct, legacy=self.legacy)
        try:
            result = await self.engine.execute(definition, args, caller)
            return result_value(result, legacy=self.legacy)
        except CommandFailed as e:
            answer = failure_value(definition, e, legacy=self.legacy)
            if answer is None:
                raise faults.command_fault(e, name, struct.members) from None
            return answer
        except CommandError as e:
            raise faults.command_fault(e, name, struct.members) from None


def _debug(name: str, params: list[Value]) -> tuple[bool, Any]:
    """ejabberd's test methods; ``(False, None)`` when the call is not one of them."""
    if name == "echothis" and len(params) == 1:
        return True, params[0]
    if len(params) != 1 or not isinstance(params[0], Struct):
        return False, None
    struct = params[0]
    if name == "echothisnew" and struct.names() == ("sentence",):
        return True, Struct.of(("repeated", struct.members[0][1]))
    if name in ("multhis", "multhisnew") and struct.names() == ("a", "b"):
        a, b = struct.members[0][1], struct.members[1][1]
        if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in (a, b)):
            # ejabberd crashes on this; say what went wrong instead
            raise faults.problem(Atom("badarith"), name, struct.members)
        product = a * b  # type: ignore[operator]
        return True, product if name == "multhis" else Struct.of(("mu", product))
    return False, None
