"""ACLs and access rules, matched the way ejabberd matches them.

An ACL is a named set of conditions (``user``, ``ip``, ``server_regexp`` ...);
a caller belongs to it when **any** condition holds.  An access rule is an
ordered list of ``allow``/``deny`` clauses; a clause applies when **all** of
its conditions hold, the first clause that applies decides, and a caller no
clause applies to is denied.

The API has no resources and no shared roster groups: ``resource`` conditions
see the empty resource of an authenticated caller, and ``shared_group``
conditions never hold (the engine cannot see group membership).

Only evaluation lives here; :mod:`gateway.config.acl_parse` reads these
objects from the ``acl`` and ``access_rules`` sections.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Protocol

from gateway.engine.model import Caller, IPAddress

__all__ = [
    "PREDEFINED",
    "AccessClause",
    "AccessControl",
    "AccessRef",
    "AccessRule",
    "AclRef",
    "IpMatch",
    "Matcher",
    "Network",
    "NodePattern",
    "ResourceMatch",
    "ResourcePattern",
    "ServerMatch",
    "ServerPattern",
    "SharedGroup",
    "UserMatch",
    "UserPattern",
    "acl_names",
    "ip_matches",
    "rule_names",
]

#: ACL and access rule names that always exist and cannot be redefined
PREDEFINED: frozenset[str] = frozenset({"all", "none"})

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class Matcher(Protocol):
    """One condition about a caller."""

    def matches(self, caller: Caller, control: AccessControl) -> bool: ...


# --- conditions -----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AclRef:
    """Membership of a named ACL (``all`` and ``none`` are built in)."""

    name: str

    def matches(self, caller: Caller, control: AccessControl) -> bool:
        return control.in_acl(self.name, caller)


@dataclass(frozen=True, slots=True)
class AccessRef:
    """An access rule, by name or inline, that must ``allow`` the caller."""

    rule: str | AccessRule

    def matches(self, caller: Caller, control: AccessControl) -> bool:
        return control.rule_allows(self.rule, caller)


@dataclass(frozen=True, slots=True)
class IpMatch:
    """The caller's address lies in ``network``."""

    network: Network

    def matches(self, caller: Caller, control: AccessControl) -> bool:
        return caller.ip is not None and ip_matches(caller.ip, self.network)


@dataclass(frozen=True, slots=True)
class UserMatch:
    """An account: ``user@server``, or ``user`` on any host the gateway serves."""

    user: str
    server: str | None = None

    def matches(self, caller: Caller, control: AccessControl) -> bool:
        if caller.user != self.user or caller.host is None:
            return False
        return caller.host == self.server if self.server else control.serves(caller.host)


@dataclass(frozen=True, slots=True)
class ServerMatch:
    """Any account of ``server``."""

    server: str

    def matches(self, caller: Caller, control: AccessControl) -> bool:
        return caller.user is not None and caller.host == self.server


@dataclass(frozen=True, slots=True)
class ResourceMatch:
    """The caller's resource; API callers authenticate without one."""

    resource: str

    def matches(self, caller: Caller, control: AccessControl) -> bool:
        return caller.user is not None and self.resource == ""


@dataclass(frozen=True, slots=True)
class UserPattern:
    """A user name pattern (``user_regexp``/``user_glob``), on ``server`` or any served host."""

    pattern: re.Pattern[str]
    server: str | None = None

    def matches(self, caller: Caller, control: AccessControl) -> bool:
        if caller.user is None or caller.host is None:
            return False
        if self.server is not None and caller.host != self.server:
            return False
        if self.server is None and not control.serves(caller.host):
            return False
        return self.pattern.search(caller.user) is not None


@dataclass(frozen=True, slots=True)
class ServerPattern:
    """A host name pattern (``server_regexp``/``server_glob``)."""

    pattern: re.Pattern[str]

    def matches(self, caller: Caller, control: AccessControl) -> bool:
        return (
            caller.user is not None
            and caller.host is not None
            and self.pattern.search(caller.host) is not None
        )


@dataclass(frozen=True, slots=True)
class ResourcePattern:
    """A resource pattern, tried against the empty resource of an authenticated caller."""

    pattern: re.Pattern[str]

    def matches(self, caller: Caller, control: AccessControl) -> bool:
        return caller.user is not None and self.pattern.search("") is not None


@dataclass(frozen=True, slots=True)
class NodePattern:
    """A user pattern and a host pattern that must both match (``node_regexp``/``node_glob``)."""

    user: re.Pattern[str]
    server: re.Pattern[str]

    def matches(self, caller: Caller, control: AccessControl) -> bool:
        if caller.user is None or caller.host is None:
            return False
        return (
            self.user.search(caller.user) is not None
            and self.server.search(caller.host) is not None
        )


@dataclass(frozen=True, slots=True)
class SharedGroup:
    """Membership of a shared roster group: never true, the engine cannot see groups."""

    group: str
    server: str | None = None

    def matches(self, caller: Caller, control: AccessControl) -> bool:
        return False


def ip_matches(ip: IPAddress, network: Network) -> bool:
    """True when ``ip`` is in ``network``, treating IPv4-mapped IPv6 addresses as IPv4."""
    if ip.version == network.version:
        return ip in network
    if isinstance(ip, ipaddress.IPv6Address):
        mapped = ip.ipv4_mapped
        return mapped is not None and mapped in network
    return ipaddress.IPv6Address(f"::ffff:{ip}") in network


# --- access rules ---------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AccessClause:
    """``allow: ...`` or ``deny: ...``: applies when every condition holds."""

    allow: bool
    conditions: tuple[Matcher, ...]

    def applies(self, caller: Caller, control: AccessControl) -> bool:
        return bool(self.conditions) and all(c.matches(caller, control) for c in self.conditions)


@dataclass(frozen=True, slots=True)
class AccessRule:
    """Ordered clauses; the first that applies decides, none means deny."""

    clauses: tuple[AccessClause, ...]

    def allows(self, caller: Caller, control: AccessControl) -> bool:
        for clause in self.clauses:
            if clause.applies(caller, control):
                return clause.allow
        return False


class AccessControl:
    """Evaluates conditions against the configured ACLs, access rules and hosts.

    Names that are not defined behave as in ejabberd: an undefined ACL holds
    for nobody and an undefined access rule denies everybody.  The config
    loader warns about them.
    """

    def __init__(
        self,
        acls: Mapping[str, Sequence[Matcher]] | None = None,
        access_rules: Mapping[str, AccessRule] | None = None,
        hosts: Iterable[str] = (),
    ) -> None:
        self.acls: Mapping[str, tuple[Matcher, ...]] = MappingProxyType(
            {name: tuple(m) for name, m in (acls or {}).items()}
        )
        self.access_rules: Mapping[str, AccessRule] = MappingProxyType(dict(access_rules or {}))
        self.hosts = frozenset(hosts)

    def serves(self, host: str) -> bool:
        return host in self.hosts

    def in_acl(self, name: str, caller: Caller) -> bool:
        """True when ``caller`` belongs to the ACL called ``name``."""
        if name == "all":
            return True
        if name == "none":
            return False
        return any(m.matches(caller, self) for m in self.acls.get(name, ()))

    def rule_allows(self, rule: str | AccessRule, caller: Caller) -> bool:
        """True when the access rule (a name or an inline rule) allows ``caller``."""
        if isinstance(rule, str):
            if rule in PREDEFINED:
                return rule == "all"
            found = self.access_rules.get(rule)
            if found is None:
                return False
            rule = found
        return rule.allows(caller, self)


# --- references -----------------------------------------------------------


def acl_names(conditions: Iterable[Matcher]) -> set[str]:
    """The ACL names that ``conditions`` refer to, inline access rules included."""
    names: set[str] = set()
    for condition in conditions:
        if isinstance(condition, AclRef):
            names.add(condition.name)
        elif isinstance(condition, AccessRef) and isinstance(condition.rule, AccessRule):
            for clause in condition.rule.clauses:
                names |= acl_names(clause.conditions)
    return names


def rule_names(conditions: Iterable[Matcher]) -> set[str]:
    """The access rule names that ``conditions`` refer to."""
    return {c.rule for c in conditions if isinstance(c, AccessRef) and isinstance(c.rule, str)}
