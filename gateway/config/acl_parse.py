"""Reading ``acl`` and ``access_rules`` (and the conditions they hold) from YAML.

The values accepted are ejabberd's: an ACL is a mapping of condition kinds
(``user``, ``ip``, ``server_regexp`` ...) to a value or a list of values; an
access rule is a list of ``allow: ...``/``deny: ...`` clauses.  What they
build are the evaluators of :mod:`gateway.engine.acl`.
"""

from __future__ import annotations

import fnmatch
import ipaddress
import re
from collections.abc import Mapping
from typing import Any

from twisted.words.protocols.jabber.xmpp_stringprep import nameprep, nodeprep, resourceprep

from gateway.config.errors import ConfigError
from gateway.config.errors import describe_value as _show
from gateway.config.paths import BARE, key_path, name_value, text_value, walk_entries
from gateway.engine.acl import (
    PREDEFINED,
    AccessClause,
    AccessRule,
    AclRef,
    IpMatch,
    Matcher,
    Network,
    NodePattern,
    ResourceMatch,
    ResourcePattern,
    ServerMatch,
    ServerPattern,
    SharedGroup,
    UserMatch,
    UserPattern,
)

__all__ = [
    "ACL_KINDS",
    "parse_access_rule",
    "parse_access_rules",
    "parse_acls",
    "parse_conditions",
    "parse_matchers",
    "parse_network",
]


def _items(value: Any) -> list[Any]:
    """ejabberd's ``list_or_single``: a list as is, anything else as a list of one."""
    return list(value) if isinstance(value, list) else [value]


def _domain(value: Any, path: str) -> str:
    text = text_value(value, path, "a host name")
    try:
        prepared: str = nameprep.prepare(text)
    except UnicodeError as e:
        raise ConfigError(f"invalid host name {text!r}: {e}", path) from None
    if not prepared or "@" in prepared or "/" in prepared:
        raise ConfigError(f"invalid host name {text!r}", path)
    return prepared


def _user(value: Any, path: str) -> str:
    text = text_value(value, path, "a user name")
    try:
        prepared: str = nodeprep.prepare(text)
    except UnicodeError as e:
        raise ConfigError(f"invalid user name {text!r}: {e}", path) from None
    if not prepared:
        raise ConfigError("a user name cannot be empty", path)
    return prepared


def _resource(value: Any, path: str) -> str:
    text = text_value(value, path, "a resource")
    try:
        prepared: str = resourceprep.prepare(text)
    except UnicodeError as e:
        raise ConfigError(f"invalid resource {text!r}: {e}", path) from None
    return prepared


def _regexp(value: Any, path: str) -> re.Pattern[str]:
    text = text_value(value, path, "a regular expression")
    try:
        return re.compile(text)
    except re.error as e:
        raise ConfigError(f"invalid regular expression {text!r}: {e}", path) from None


def _glob(value: Any, path: str) -> re.Pattern[str]:
    text = text_value(value, path, "a glob pattern")
    # globs match the whole name, as ejabberd's sh_to_awk anchors them
    return re.compile(r"\A" + fnmatch.translate(text))


def _plain(value: Any, path: str) -> str:
    return text_value(value, path)


def parse_network(value: Any, path: str) -> Network:
    """An address or CIDR block; host bits may be set (``127.0.0.1/8``), as ejabberd allows."""
    text = text_value(value, path, "an IP address or network").strip()
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
                sub = key_path(item_path, text_value(u, item_path, "a key"))
                found.append(make(parse_user(u, sub), _domain(s, sub)))
            continue
        text = text_value(item, item_path)
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
            sub = key_path(item_path, text_value(u, item_path, "a key"))
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
        return _single(value, path, name_value, AclRef)
    known = ", ".join(sorted(ACL_KINDS))
    raise ConfigError(f"unknown ACL condition {kind!r}; expected one of {known}", path)


def _check_new_name(name: Any, path: str) -> str:
    text = name_value(name, path)
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
            kind_name = text_value(kind, kind_path, "a condition")
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
            found.append(AclRef(name_value(key, item_path)))
            continue
        found.extend(parse_matchers(text_value(key, item_path, "a condition"), value, item_path))
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
        action = text_value(key, item_path, "'allow' or 'deny'")
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
