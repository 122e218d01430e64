"""The neutral objects that travel between frontends, engine and backends."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from ipaddress import IPv4Address, IPv6Address
from typing import Any, Literal

from gateway.engine.types import Param

__all__ = [
    "FRONTENDS",
    "Caller",
    "CommandCall",
    "CommandDefinition",
    "Frontend",
    "ResTuple",
    "Result",
]

#: The ``from`` names of ``api_permissions``, one per frontend.
Frontend = Literal[
    "ejabberd_ctl", "mod_http_api", "ejabberd_xmlrpc", "mod_rest", "ejabberd_web_admin"
]
FRONTENDS: frozenset[str] = frozenset(
    {"ejabberd_ctl", "mod_http_api", "ejabberd_xmlrpc", "mod_rest", "ejabberd_web_admin"}
)

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
class CommandCall:
    """A decoded request: what to run, with which arguments, in which API version.

    ``args`` keeps the caller's order and any duplicates, because several
    dialects report those; values are neutral (``int``, ``str``, ``bool``,
    ``float``, ``None``, ``list`` and ``dict``).
    """

    name: str
    args: Sequence[tuple[str, Any]] = ()
    #: requested API version, ``None`` for the newest
    version: int | None = None


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
    """

    definition: CommandDefinition
    value: Any
    extra: dict[str, Any] = field(default_factory=dict)
