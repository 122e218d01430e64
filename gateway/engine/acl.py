"""ACLs and access rules, matched the way ejabberd matches them.

An ACL is a named set of conditions (``user``, ``ip``, ``server_regexp`` ...);
a caller belongs to it when **any** condition holds.  An access rule is an
ordered list of ``allow``/``deny`` clauses; a clause applies when **all** of
its conditions hold, the first clause that applies decides, and a caller no
clause applies to is denied.

The API has no resources and no shared roster groups: ``resource`` conditions
see the empty resource of an authenticated caller, and ``shared_group``
conditions never hold (the engine cannot see group membership).
"""

from __future__ import annotations

import fnmatch
import ipaddress
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Protocol

from twisted.words.protocols.jabber.xmpp_stringprep import nameprep, nodeprep, resourceprep

from gateway.config.errors import ConfigError
from gateway.config.errors import describe_value as _show
from gateway.engine.model import Caller, IPAddress

__all__ = [
    "ACL_KINDS",
    "PREDEFINED",
    "AccessClause",
    "AccessControl",
    "AccessRef",
    "AccessRule",
    "BARE",
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
    "key_path",
    "parse_access_rule",
    "parse_access_rules",
    "parse_acls",
    "parse_conditions",
    "parse_matchers",
    "parse_network",
    "rule_names",
    "walk_entries",
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


# --- parsing --------------------------------------------------------------

_PLAIN_KEY = re.compile(r"^[A-Za-z0-9_\-]+$")


def key_path(prefix: str, key: str | int) -> str:
    """Append ``key`` to a config path, quoting names that are not plain words."""
    if isinstance(key, int):
        return f"{prefix}[{key}]"
    text = key if _PLAIN_KEY.match(key) else '"' + key.replace('"', '\\"') + '"'
    return f"{prefix}.{text}" if prefix else text


def _text(value: Any, path: str, what: str = "a string") -> str:
    # YAML turns unquoted 1234 into an int; names made of digits are still names
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise ConfigError(f"expected {what}, got {_show(value)}", path)
    return str(value)


def _name(value: Any, path: str) -> str:
    text = _text(value, path, "a name")
    if not text:
        raise ConfigError("a name cannot be empty", path)
    return text


def _items(value: Any) -> list[Any]:
    """ejabberd's ``list_or_single``: a list as is, anything else as a list of one."""
    return list(value) if isinstance(value, list) else [value]


#: the value :func:`walk_entries` gives a bare name, which has none
BARE = object()


def walk_entries(value: Any, path: str) -> Iterator[tuple[Any, Any, str]]:
    """Walk a mapping, or a list of mappings and bare names, as (key, value, path) triples.

    A bare name yields ``(name, BARE, path)``.  Nested lists are flattened,
    as ejabberd does.
    """
    if isinstance(value, Mapping):
        for k, v in value.items():
            yield k, v, key_path(path, _text(k, path, "a key"))
        return
    if isinstance(value, list):
        for i, item in enumerate(value):
            item_path = key_path(path, i)
            if isinstance(item, Mapping | list):
                yield from walk_entries(item, item_path)
            else:
                yield item, BARE, item_path
        return
    yield value, BARE, path


def _domain(value: Any, path: str) -> str:
    text = _text(value, path, "a host name")
    try:
        prepared: str = nameprep.prepare(text)
    except UnicodeError as e:
        raise ConfigError(f"invalid host name {text!r}: {e}", path) from None
    if not prepared or "@" in prepared or "/" in prepared:
        raise ConfigError(f"invalid host name {text!r}", path)
    return prepared


def _user(value: Any, path: str) -> str:
    text = _text(value, path, "a user name")
    try:
        prepared: str = nodeprep.prepare(text)
    except UnicodeError as e:
        raise ConfigError(f"invalid user name {text!r}: {e}", path) from None
    if not prepared:
        raise ConfigError("a user name cannot be empty", path)
    return prepared


def _resource(value: Any, path: str) -> str:
    text = _text(value, path, "a resource")
    try:
        prepared: str = resourceprep.prepare(text)
    except UnicodeError as e:
        raise ConfigError(f"invalid resource {text!r}: {e}", path) from None
    return prepared


def _regexp(value: Any, path: str) -> re.Pattern[str]:
    text = _text(value, path, "a regular expression")
    try:
        return re.compile(text)
    except re.error as e:
        raise ConfigError(f"invalid regular expression {text!r}: {e}", path) from None


def _glob(value: Any, path: str) -> re.Pattern[str]:
    text = _text(value, path, "a glob pattern")
    # globs match the whole name, as ejabberd's sh_to_awk anchors them
    return re.compile(r"\A" + fnmatch.translate(text))


def _plain(value: Any, path: str) -> str:
    return _text(value, path)


def parse_network(value: Any, path: str) -> Network:
    """An address or CIDR block; host bits may be set (``127.0.0.1/8``), as ejabberd allows."""
    text = _text(value, path, "an IP address or network").strip()
    try:
        return ipaddress.ip_network(text, strict=False)
    except ValueError:
        raise ConfigError(f"invalid IP address or network {text!r}", path) from None


def _user_like(value: Any, path: str, parse_user: Any, make: Any) -> list[Matcher]:
    """``user``-style values: ``"u@host"``, ``"u"``, ``{u: host}``, or a list of those."""
    found: list[Matcher] = []
    for i, item in enumerate(_items(value)):
        item_path = key_path(path, i) if isinstance(value, list) else path
        if isinstance(item, Mapping):
            for u, s in item.items():
                sub = key_path(item_path, _text(u, item_path, "a key"))
                found.append(make(parse_user(u, sub), _domain(s, sub)))
            continue
        text = _text(item, item_path)
        parts = text.split("@")
        if len(parts) > 2:
            raise ConfigError(f"invalid user {text!r}: more than one '@'", item_path)
        server = _domain(parts[1], item_path) if len(parts) == 2 else None
        found.append(make(parse_user(parts[0], item_path), server))
    return found


def _node_like(value: Any, path: str, compile_: Any) -> list[Matcher]:
    found: list[Matcher] = []
    for i, item in enumerate(_items(value)):
        item_path = key_path(path, i) if isinstance(value, list) else path
        if not isinstance(item, Mapping) or not item:
            raise ConfigError("expected a mapping of user pattern to host pattern", item_path)
        for u, s in item.items():
            sub = key_path(item_path, _text(u, item_path, "a key"))
            found.append(NodePattern(compile_(u, sub), compile_(s, sub)))
    return found


def _single(value: Any, path: str, parse: Any, make: Any) -> list[Matcher]:
    if isinstance(value, list):
        if not value:
            raise ConfigError("expected at least one value", path)
        return [make(parse(v, key_path(path, i))) for i, v in enumerate(value)]
    return [make(parse(value, path))]


#: the condition kinds of an ACL definition; ``acl`` (a reference) only inside rules
ACL_KINDS: frozenset[str] = frozenset(
    {
        "user",
        "server",
        "resource",
        "ip",
        "user_regexp",
        "server_regexp",
        "resource_regexp",
        "node_regexp",
        "user_glob",
        "server_glob",
        "resource_glob",
        "node_glob",
        "shared_group",
    }
)


def parse_matchers(kind: str, value: Any, path: str) -> list[Matcher]:
    """The conditions one ``kind: value`` entry stands for (a list gives several)."""
    if kind == "user":
        return _user_like(value, path, _user, UserMatch)
    if kind == "user_regexp":
        return _user_like(value, path, _regexp, UserPattern)
    if kind == "user_glob":
        return _user_like(value, path, _glob, UserPattern)
    if kind == "shared_group":
        return _user_like(value, path, _plain, SharedGroup)
    if kind == "server":
        return _single(value, path, _domain, ServerMatch)
    if kind == "server_regexp":
        return _single(value, path, _regexp, ServerPattern)
    if kind == "server_glob":
        return _single(value, path, _glob, ServerPattern)
    if kind == "resource":
        return _single(value, path, _resource, ResourceMatch)
    if kind == "resource_regexp":
        return _single(value, path, _regexp, ResourcePattern)
    if kind == "resource_glob":
        return _single(value, path, _glob, ResourcePattern)
    if kind == "ip":
        return _single(value, path, parse_network, IpMatch)
    if kind == "node_regexp":
        return _node_like(value, path, _regexp)
    if kind == "node_glob":
        return _node_like(value, path, _glob)
    if kind == "acl":
        return _single(value, path, _name, AclRef)
    known = ", ".join(sorted(ACL_KINDS))
    raise ConfigError(f"unknown ACL condition {kind!r}; expected one of {known}", path)


def _check_new_name(name: Any, path: str) -> str:
    text = _name(name, path)
    if text in PREDEFINED:
        raise ConfigError(f"{text!r} is predefined and cannot be redefined", key_path(path, text))
    return text


def parse_acls(raw: Any, path: str = "acl") -> dict[str, tuple[Matcher, ...]]:
    """Read the ``acl`` section: ACL name -> conditions (any of which admits a caller)."""
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise ConfigError(f"expected a mapping of ACL names, got {_show(raw)}", path)
    acls: dict[str, tuple[Matcher, ...]] = {}
    for name, spec in raw.items():
        text = _check_new_name(name, path)
        spec_path = key_path(path, text)
        found: list[Matcher] = []
        for kind, value, kind_path in walk_entries(spec, spec_path):
            if value is BARE:
                raise ConfigError(f"expected 'condition: value', got {_show(kind)}", kind_path)
            kind_name = _text(kind, kind_path, "a condition")
            if kind_name not in ACL_KINDS:
                known = ", ".join(sorted(ACL_KINDS))
                raise ConfigError(
                    f"unknown ACL condition {kind_name!r}; expected one of {known}", kind_path
                )
            if value is None:
                raise ConfigError("expected a value", kind_path)
            found.extend(parse_matchers(kind_name, value, kind_path))
        if not found:
            raise ConfigError("an ACL needs at least one condition", spec_path)
        acls[text] = tuple(found)
    return acls


def parse_conditions(raw: Any, path: str) -> tuple[Matcher, ...]:
    """The value of ``allow:``/``deny:``: ACL names and inline conditions, all required."""
    found: list[Matcher] = []
    for key, value, item_path in walk_entries(raw, path):
        if value is BARE:
            found.append(AclRef(_name(key, item_path)))
            continue
        found.extend(parse_matchers(_text(key, item_path, "a condition"), value, item_path))
    if not found:
        raise ConfigError("expected at least one ACL name or condition", path)
    return tuple(found)


_ACTIONS = {"allow": True, "deny": False}


def parse_access_rule(raw: Any, path: str) -> AccessRule:
    """One access rule: a list (or mapping) of ``allow: X`` / ``deny: X`` / bare ``allow``."""
    if not isinstance(raw, Mapping | list):
        raise ConfigError(f"expected a list of 'allow: ...'/'deny: ...', got {_show(raw)}", path)
    clauses: list[AccessClause] = []
    for key, value, item_path in walk_entries(raw, path):
        action = _text(key, item_path, "'allow' or 'deny'")
        if action not in _ACTIONS:
            raise ConfigError(f"expected 'allow' or 'deny', got {action!r}", item_path)
        if value is BARE:
            # a bare "allow" or "deny" applies to everybody
            conditions: tuple[Matcher, ...] = (AclRef("all"),)
        else:
            conditions = parse_conditions(value, item_path)
        clauses.append(AccessClause(_ACTIONS[action], conditions))
    if not clauses:
        raise ConfigError("an access rule needs at least one clause", path)
    return AccessRule(tuple(clauses))


def parse_access_rules(raw: Any, path: str = "access_rules") -> dict[str, AccessRule]:
    """Read the ``access_rules`` section: rule name -> rule."""
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise ConfigError(f"expected a mapping of access rule names, got {_show(raw)}", path)
    rules: dict[str, AccessRule] = {}
    for name, spec in raw.items():
        text = _check_new_name(name, path)
        rules[text] = parse_access_rule(spec, key_path(path, text))
    return rules


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
