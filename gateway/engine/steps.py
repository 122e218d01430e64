"""The steps of a call through the engine, and the order each dialect takes them in.

Every call goes through the same steps.  The dialects disagree only about
the order of the first few, which decides which error a caller gets when
several apply (an unknown command with a wrong password, say); clients and
the tests that pin the dialects rely on it, so the differences live here,
in one table keyed by the frontend's ``api_permissions`` name:

- ``mod_http_api`` looks the command up first: an unknown command is 404
  whatever the credentials, and the body is only decoded once the command
  is known, so an undecodable body is 400 even with wrong credentials.
- ``ejabberd_xmlrpc`` and ``ejabberd_ctl`` check the credentials first.
- ``mod_rest`` checks the credentials first, then the permissions before it
  reads any argument: a refused caller learns nothing about the arguments.
  ``api_permissions`` are not asked about internal commands there, so they
  get the same "internal command" answer as elsewhere.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import Enum

from gateway.engine.names import EJABBERD_CTL, EJABBERD_XMLRPC, MOD_HTTP_API, MOD_REST

__all__ = [
    "AUTHENTICATE_FIRST",
    "ORDERS",
    "PERMIT_BEFORE_ARGUMENTS",
    "RESOLVE_FIRST",
    "Order",
    "Step",
    "order_for",
]


class Step(Enum):
    """One thing the engine does with a call."""

    #: the credentials become a caller (or the call is refused)
    AUTHENTICATE = "authenticate"
    #: the name and requested version become a definition
    RESOLVE = "resolve"
    #: late arguments are read with the definition (see ``LateArguments``)
    READ = "read"
    #: the ``(name, value)`` pairs become the typed arguments
    COERCE = "coerce"
    #: commands tagged internal are refused
    REFUSE_INTERNAL = "refuse_internal"
    #: the frontend's own checks, then ``api_permissions``
    PERMIT = "permit"
    #: a backend or the gateway runs the command
    EXECUTE = "execute"


Order = tuple[Step, ...]

RESOLVE_FIRST: Order = (
    Step.RESOLVE,
    Step.READ,
    Step.AUTHENTICATE,
    Step.COERCE,
    Step.REFUSE_INTERNAL,
    Step.PERMIT,
    Step.EXECUTE,
)
AUTHENTICATE_FIRST: Order = (
    Step.AUTHENTICATE,
    Step.RESOLVE,
    Step.READ,
    Step.COERCE,
    Step.REFUSE_INTERNAL,
    Step.PERMIT,
    Step.EXECUTE,
)
PERMIT_BEFORE_ARGUMENTS: Order = (
    Step.AUTHENTICATE,
    Step.RESOLVE,
    Step.PERMIT,
    Step.READ,
    Step.COERCE,
    Step.REFUSE_INTERNAL,
    Step.EXECUTE,
)

ORDERS: Mapping[str, Order] = {
    MOD_HTTP_API: RESOLVE_FIRST,
    EJABBERD_XMLRPC: AUTHENTICATE_FIRST,
    EJABBERD_CTL: AUTHENTICATE_FIRST,
    MOD_REST: PERMIT_BEFORE_ARGUMENTS,
}


def order_for(frontend: str) -> Order:
    """The order of the steps for calls from ``frontend`` (credentials first if unlisted)."""
    return ORDERS.get(frontend, AUTHENTICATE_FIRST)
