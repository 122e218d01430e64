"""Reading ``api_permissions`` from YAML, and the permissions a configuration grants.

Each named rule's ``from``, ``who`` and ``what`` are read as ejabberd reads
them; what they build are the evaluators of :mod:`gateway.engine.permissions`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from gateway.config.acl_parse import parse_access_rule, parse_matchers
from gateway.config.errors import ConfigError
from gateway.config.model import Config
from gateway.config.paths import BARE, key_path, walk_entries
from gateway.engine.acl import AccessRef, AccessRule, AclRef, Matcher
from gateway.engine.names import FRONTENDS, MOD_CRON
from gateway.engine.permissions import (
    EVERYTHING,
    NOTHING,
    ApiPermission,
    CommandPatterns,
    OAuthWho,
    Permissions,
    What,
    WhoEntry,
)

__all__ = [
    "FROM_NAMES",
    "parse_api_permissions",
    "parse_what",
    "parse_who",
    "permissions_from_config",
]


#: the ``from`` names a rule may list: the gateway's frontends plus ejabberd's own
FROM_NAMES: frozenset[str] = FRONTENDS | {MOD_CRON}

_COMMAND_NAME = re.compile(r"^[a-z0-9_\-]*$")


def _what_entry(raw: Any, path: str) -> tuple[bool, str | None, str | None]:
    """One ``what`` entry as (negated, name, tag); both ``None`` means ``*``."""
    if not isinstance(raw, str) or not raw:
        raise ConfigError(f"expected a command pattern, got {raw!r}", path)
    text = raw
    negated = text.startswith("!")
    if negated:
        text = text[1:]
        if text.startswith("!"):
            raise ConfigError(f"double negation in {raw!r}", path)
    if text == "*":
        return negated, None, None
    if text.startswith("[tag:"):
        tag = text[len("[tag:") : -1] if text.endswith("]") else None
        if tag is None or not _COMMAND_NAME.match(tag) or "]" in tag:
            raise ConfigError(f"invalid tag pattern {raw!r}; expected '[tag:name]'", path)
        return negated, None, tag
    if not _COMMAND_NAME.match(text):
        raise ConfigError(
            f"invalid command pattern {raw!r}; names use only a-z, 0-9, '_' and '-'", path
        )
    return negated, text, None


def parse_what(raw: Any, path: str) -> What:
    """Read ``what``: ``*``, ``!*``, names, ``[tag:x]`` and their ``!`` negations.

    As in ejabberd, ``!*`` revokes everything whatever else is listed, and a
    list without a positive entry grants nothing.
    """
    if raw is None:
        return What()
    entries = raw if isinstance(raw, list) else [raw]
    grant_all = revoke_all = False
    grant_names: set[str] = set()
    grant_tags: set[str] = set()
    revoke_names: set[str] = set()
    revoke_tags: set[str] = set()
    for i, entry in enumerate(entries):
        negated, name, tag = _what_entry(
            entry, key_path(path, i) if isinstance(raw, list) else path
        )
        if name is None and tag is None:
            if negated:
                revoke_all = True
            else:
                grant_all = True
        elif negated:
            (revoke_tags if tag is not None else revoke_names).add(tag or name or "")
        else:
            (grant_tags if tag is not None else grant_names).add(tag or name or "")
    if revoke_all:
        return What(NOTHING, EVERYTHING)
    grant = (
        EVERYTHING
        if grant_all
        else CommandPatterns(False, frozenset(grant_names), frozenset(grant_tags))
    )
    revoke = CommandPatterns(False, frozenset(revoke_names), frozenset(revoke_tags))
    return What(grant, revoke)


def _who_entries(raw: Any, path: str, *, inside_oauth: bool) -> list[WhoEntry | tuple[str, Any]]:
    """Read who-style entries; ``scope`` (inside ``oauth``) comes back as a raw pair."""
    found: list[WhoEntry | tuple[str, Any]] = []
    for key, value, item_path in walk_entries(raw, path):
        if value is BARE:
            if not isinstance(key, str) or not key:
                raise ConfigError(f"expected an ACL name, got {key!r}", item_path)
            found.append(AclRef(key))
            continue
        kind = str(key)
        if kind == "access":
            rule: str | AccessRule
            if isinstance(value, str):
                rule = value
            else:
                rule = parse_access_rule(value, item_path)
            found.append(AccessRef(rule))
        elif kind == "oauth" and not inside_oauth:
            found.append(_parse_oauth(value, item_path))
        elif kind == "scope" and inside_oauth:
            found.append(("scope", (value, item_path)))
        elif kind == "oauth":
            raise ConfigError("'oauth' cannot be nested", item_path)
        else:
            try:
                found.extend(parse_matchers(kind, value, item_path))
            except ConfigError as e:
                if not e.message.startswith("unknown ACL condition"):
                    raise
                extra = "access, scope" if inside_oauth else "access, oauth"
                raise ConfigError(
                    f"unknown entry {kind!r}; expected an ACL name, an ACL condition or {extra}",
                    item_path,
                ) from None
    return found


def _parse_oauth(raw: Any, path: str) -> OAuthWho:
    if not isinstance(raw, Mapping | list):
        raise ConfigError("expected a mapping with 'scope' and conditions", path)
    scopes: set[str] = set()
    conditions: list[Matcher] = []
    for entry in _who_entries(raw, path, inside_oauth=True):
        if isinstance(entry, tuple):
            value, scope_path = entry[1]
            values = value if isinstance(value, list) else [value]
            if not values:
                raise ConfigError("expected at least one scope", scope_path)
            for i, scope in enumerate(values):
                if not isinstance(scope, str) or not scope:
                    where = key_path(scope_path, i) if isinstance(value, list) else scope_path
                    raise ConfigError(f"expected a scope name, got {scope!r}", where)
                scopes.add(scope)
        elif isinstance(entry, OAuthWho):  # pragma: no cover - refused while reading
            raise ConfigError("'oauth' cannot be nested", path)
        else:
            conditions.append(entry)
    if not scopes:
        raise ConfigError("'scope' is required", key_path(path, "scope"))
    return OAuthWho(frozenset(scopes), tuple(conditions))


def parse_who(raw: Any, path: str) -> tuple[WhoEntry, ...]:
    """Read ``who``: ACL names, inline conditions, ``access: rule`` and ``oauth: {...}``.

    Any one entry admits a caller.  Absent, it admits nobody.
    """
    if raw is None:
        return ()
    found: list[WhoEntry] = []
    for entry in _who_entries(raw, path, inside_oauth=False):
        assert not isinstance(entry, tuple)
        found.append(entry)
    return tuple(found)


def _parse_from(raw: Any, path: str) -> tuple[frozenset[str], frozenset[str]]:
    if raw is None:
        return frozenset(), frozenset()
    frontends: set[str] = set()
    tags: set[str] = set()
    items = raw if isinstance(raw, list) else [raw]
    for i, item in enumerate(items):
        item_path = key_path(path, i) if isinstance(raw, list) else path
        if isinstance(item, Mapping):
            for key, value in item.items():
                if key != "tag":
                    raise ConfigError(f"expected 'tag: name', got key {key!r}", item_path)
                if not isinstance(value, str | int) or isinstance(value, bool):
                    raise ConfigError(f"expected a tag name, got {value!r}", item_path)
                tags.add(str(value))
        elif isinstance(item, str) and item in FROM_NAMES:
            frontends.add(item)
        else:
            known = ", ".join(sorted(FROM_NAMES))
            raise ConfigError(f"unknown frontend {item!r}; expected one of {known}", item_path)
    return frozenset(frontends), frozenset(tags)


_RULE_KEYS = frozenset({"from", "who", "what"})


def parse_api_permissions(raw: Any, path: str = "api_permissions") -> tuple[ApiPermission, ...]:
    """Read the ``api_permissions`` section, keeping the rules' order."""
    if not isinstance(raw, Mapping):
        raise ConfigError(
            "expected a mapping of rule names to {from, who, what} "
            "(leave the option out to get ejabberd's defaults)",
            path,
        )
    rules: list[ApiPermission] = []
    for name, spec in raw.items():
        if not isinstance(name, str | int) or isinstance(name, bool) or not str(name):
            raise ConfigError(f"expected a rule name, got {name!r}", path)
        rule_path = key_path(path, str(name))
        if spec is None:
            spec = {}
        if not isinstance(spec, Mapping):
            raise ConfigError("expected a mapping with 'from', 'who' and 'what'", rule_path)
        for key in spec:
            if key not in _RULE_KEYS:
                raise ConfigError(
                    f"unknown key {key!r}; expected from, who or what",
                    key_path(rule_path, str(key)),
                )
        frontends, tags = _parse_from(spec.get("from"), key_path(rule_path, "from"))
        rules.append(
            ApiPermission(
                name=str(name),
                frontends=frontends,
                tags=tags,
                who=parse_who(spec.get("who"), key_path(rule_path, "who")),
                what=parse_what(spec.get("what"), key_path(rule_path, "what")),
            )
        )
    return tuple(rules)


def permissions_from_config(config: Config) -> Permissions:
    """What ``config`` grants: its ``api_permissions``, ``acl``, ``access_rules`` and hosts."""
    return Permissions(config.api_permissions, config.acl, config.access_rules, config.hosts)
