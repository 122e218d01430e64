"""The neutral objects that travel between frontends, engine and backends."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from ipaddress import IPv4Address, IPv6Address
from typing import Any

from gateway.engine.credentials import NO_CREDENTIALS, Credentials
from gateway.engine.names import CURRENT_PROFILE
from gateway.engine.types import Param

__all__ = [
    "DEFAULT_OPTIONS",
    "Caller",
    "CoercionOptions",
    "CommandCall",
    "CommandDefinition",
    "IPAddress",
    "LateArguments",
    "ResTuple",
    "Result",
]

IPAddress = IPv4Address | IPv6Address


@dataclass(frozen=True, slots=True)
class CommandDefinition:
    """One version of one command, as the catalogue describes it."""

    name: str
    version: int
    args: tuple[Param, ...]
    result: Param
    tags: tuple[str, ...] = ()
    policy: str = "restricted"
    args_rename: tuple[tuple[str, str], ...] = ()
    internal: bool = False
    #: the module whose command table defines it (ejabberd's ``definer``)
    definer: str = "unknown"
    #: the module that executes it in ejabberd, or ``None`` when ctl handles it
    module: str | None = None
    note: str = ""
    description: str = ""

    @property
    def arg_names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.args)

    def same_signature(self, other: CommandDefinition) -> bool:
        """True when both take and return exactly the same shapes."""
        return self.args == other.args and self.result == other.result


@dataclass(frozen=True, slots=True)
class CoercionOptions:
    """The few places where dialects disagree about arguments."""

    #: mod_http_api lets a missing list argument default to ``[]``;
    #: XML-RPC and ejabberdctl require it
    missing_list_is_empty: bool = True
    #: a list of 2-tuples whose first field is text may come as a JSON object
    object_as_pairs: bool = True
    #: apply the definition's ``args_rename``; XML-RPC applies it itself, its own way
    rename_arguments: bool = True


DEFAULT_OPTIONS = CoercionOptions()


@dataclass(frozen=True, slots=True)
class LateArguments:
    """Arguments a frontend can only read once the command's definition is known.

    ejabberdctl's positional words need the declared arguments to be paired
    with; a JSON body is decoded only once the command is known to exist.
    ``read`` is given the resolved definition and returns ``(name, value)``
    pairs; whatever it raises ends the call.
    """

    read: Callable[[CommandDefinition], Awaitable[Sequence[tuple[str, Any]]]]
    #: the arguments as the caller sent them (e.g. ejabberdctl's words), for
    #: the per-frontend permission checks that look at them
    raw: Sequence[Any] = ()


@dataclass(frozen=True, slots=True)
class CommandCall:
    """A decoded request: what to run, with which arguments, for whom, from where.

    ``args`` keeps the caller's order and any duplicates, because several
    dialects report those; values are neutral (``int``, ``str``, ``bool``,
    ``float``, ``None``, ``list`` and ``dict``).  ``frontend`` is the
    ``api_permissions`` ``from`` name and also picks the order in which the
    engine checks the call (see :mod:`gateway.engine.steps`).
    """

    name: str
    args: Sequence[tuple[str, Any]] | LateArguments = ()
    #: requested API version, ``None`` for the newest
    version: int | None = None
    frontend: str = field(kw_only=True)
    credentials: Credentials = field(default=NO_CREDENTIALS, kw_only=True)
    ip: IPAddress | None = field(default=None, kw_only=True)
    #: the HTTP listener's ``tag`` option
    tag: str | None = field(default=None, kw_only=True)
    options: CoercionOptions = field(default=DEFAULT_OPTIONS, kw_only=True)

    @property
    def raw_args(self) -> Sequence[Any]:
        """The arguments as sent, for per-frontend permission checks."""
        return self.args.raw if isinstance(self.args, LateArguments) else self.args


@dataclass(frozen=True, slots=True)
class Caller:
    """Who is calling, as ``api_permissions`` sees it."""

    frontend: str
    ip: IPAddress | None = None
    #: the authenticated account, ``None`` when anonymous
    user: str | None = None
    host: str | None = None
    #: OAuth scopes when the caller authenticated with a token, else ``None``
    oauth_scopes: frozenset[str] | None = None
    #: the HTTP listener's ``tag`` option
    tag: str | None = None

    @property
    def jid(self) -> str | None:
        if self.user is None or self.host is None:
            return None
        return f"{self.user}@{self.host}"


@dataclass(frozen=True, slots=True)
class ResTuple:
    """A ``restuple`` result: ejabberd's ``{ok, Text}`` (or another status atom)."""

    text: str
    status: str = "ok"

    @property
    def ok(self) -> bool:
        return self.status in ("ok", "true")


@dataclass(frozen=True, slots=True)
class Result:
    """A command's answer, shaped after ``definition.result``.

    Value conventions: integer ``int``; string/binary/atom ``str``; rescode
    ``bool`` (``True`` is ok) or the term ejabberd would return, as ``str``;
    restuple :class:`ResTuple`; list ``list``; tuple ``tuple`` in field order.

    ``definition``, ``profile`` and ``requested_version`` are all a frontend
    needs to choose the shape of its answer.
    """

    definition: CommandDefinition
    value: Any
    #: the API profile the call was answered in
    profile: str = CURRENT_PROFILE
    #: the API version the call asked for (``None``: the newest); some
    #: dialects shape an answer after the request, not the definition
    requested_version: int | None = None
