"""Small stand-ins the engine's tests (and the embedded backend's) build engines with.

:class:`AllowAll` permits every call, :class:`NoCommands` is a gateway
executor that claims no command, :func:`caller` makes a :class:`Caller` from
a JID and an address, and :func:`canonical_calls` reads what a
:class:`gateway.testing.FakeBackend` was asked, without the callers.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence
from typing import Any

from twisted.internet.defer import Deferred, fail

from gateway.backends.interfaces import Executor
from gateway.engine.adapters import standard_adapters
from gateway.engine.builtin import GatewayCommands
from gateway.engine.catalogue import Catalogue
from gateway.engine.dispatch import Engine, PermissionCheck
from gateway.engine.model import Caller, CommandDefinition
from gateway.logs import LogLevelControl
from gateway.testing import FakeBackend

#: the Erlang node name ``status`` reports in these tests
NODE = "gw@test"


class AllowAll:
    """Permissions that let every caller run every command."""

    def allows(self, caller: Caller, definition: CommandDefinition) -> bool:
        return True


class NoCommands:
    """The engine's gateway executor, claiming no command."""

    name = "gateway"

    def supports(self, command: str) -> bool:
        return False

    def execute(self, command: str, args: Mapping[str, Any], caller: Caller) -> Deferred[Any]:
        return fail(AssertionError(f"unexpected gateway command {command}"))


def make_engine(
    backend: Executor,
    permissions: PermissionCheck | None = None,
    *,
    profile: str = "24.12",
    catalogue: Catalogue | None = None,
    gateway: Executor | None = None,
    levels: LogLevelControl | None = None,
    hosts: Sequence[str] = ("localhost",),
    node: str = NODE,
    **options: Any,
) -> Engine:
    """A real engine for ``profile`` over ``backend``, as the service builds one.

    The packaged catalogues (or ``catalogue`` for both the profile and the
    canonical commands), the standard adapters, and the gateway's own
    commands for ``hosts`` unless another ``gateway`` executor is given;
    ``permissions`` default to :class:`AllowAll`.  ``options`` (``authenticator``,
    ``checks`` ...) go to the engine.
    """
    if gateway is None:
        gateway = GatewayCommands(list(hosts), levels or LogLevelControl(), node=node)
    return Engine(
        catalogue if catalogue is not None else Catalogue.load(profile),
        catalogue if catalogue is not None else Catalogue.load("24.12"),
        backend,
        gateway,
        permissions if permissions is not None else AllowAll(),
        standard_adapters(),
        **options,
    )


def caller(
    frontend: str = "mod_http_api",
    jid: str | None = None,
    ip: str | None = "127.0.0.1",
    scopes: set[str] | None = None,
    tag: str | None = None,
) -> Caller:
    """A caller of ``frontend``: the account ``jid`` (anonymous without), from ``ip``."""
    user = host = None
    if jid is not None:
        user, _, host = jid.partition("@")
    return Caller(
        frontend=frontend,
        ip=ipaddress.ip_address(ip) if ip else None,
        user=user,
        host=host,
        oauth_scopes=frozenset(scopes) if scopes is not None else None,
        tag=tag,
    )


def canonical_calls(backend: FakeBackend) -> list[tuple[str, dict[str, Any]]]:
    """The canonical calls ``backend`` received, in order, without their callers."""
    return [(command, args) for command, args, _ in backend.calls]
