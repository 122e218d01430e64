"""``api_permissions``: which caller may run which command through which frontend.

Rules are tried in order and the first whose ``from``, ``who`` and ``what``
all match allows the call; when none matches the call is denied.  Without an
``api_permissions`` option ejabberd's default applies (admins may run all but
``start`` and ``stop``), and a ``"console commands"`` rule letting
``ejabberd_ctl`` run everything is added unless one is configured.

mod_rest command lines come ``from: mod_rest`` and are decided by these
rules like every other call: as the ``--auth`` account, or as an anonymous
caller from its address.  ejabberd's mod_rest ran them as console commands,
so anyone its ``allowed_ips`` admitted could run everything; no rule is
added for mod_rest here, so an operator who wants that must write one.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from gateway.config.errors import ConfigError
from gateway.engine.acl import (
    BARE,
    PREDEFINED,
    AccessControl,
    AccessRef,
    AccessRule,
    AclRef,
    IpMatch,
    Matcher,
    acl_names,
    key_path,
    parse_access_rule,
    parse_matchers,
    rule_names,
    walk_entries,
)
from gateway.engine.model import Caller, CommandDefinition

if TYPE_CHECKING:
    from gateway.config.model import Config

__all__ = [
    "CONSOLE_RULE",
    "DEFAULT_RULES",
    "FROM_NAMES",
    "NETWORK_FRONTENDS",
    "ApiPermission",
    "CommandPatterns",
    "OAuthWho",
    "Permissions",
    "What",
    "WhoEntry",
    "admits_anyone",
    "network_frontends",
    "parse_api_permissions",
    "parse_what",
    "parse_who",
    "scope_covers",
]

#: the ``from`` names a rule may list: the gateway's frontends plus ejabberd's own
FROM_NAMES: frozenset[str] = frozenset(
    {
        "ejabberd_ctl",
        "mod_http_api",
        "ejabberd_xmlrpc",
        "mod_rest",
        "mod_cron",
        "ejabberd_web_admin",
    }
)

_COMMAND_NAME = re.compile(r"^[a-z0-9_\-]*$")


def scope_covers(granted: str, required: str) -> bool:
    """True when a token holding scope ``granted`` has the privilege ``required``.

    Scopes are dot-separated paths where ``*`` stands for every path below it,
    as in the OAuth library ejabberd uses: ``a.*`` covers ``a.b``.
    """
    have = _scope_path(granted)
    want = _scope_path(required)
    for depth, part in enumerate(want):
        if depth >= len(have):
            return False
        if have[depth] == "*":
            return True
        if part != have[depth]:
            return False
    return True


def _scope_path(scope: str) -> tuple[str, ...]:
    parts = scope.split(".")
    if "*" in parts:
        parts = parts[: parts.index("*") + 1]
    return tuple(parts)


# --- what -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CommandPatterns:
    """A set of commands: everything, or some names and ``[tag:x]`` tags."""

    everything: bool = False
    names: frozenset[str] = frozenset()
    tags: frozenset[str] = frozenset()

    def matches(self, definition: CommandDefinition) -> bool:
        return (
            self.everything
            or definition.name in self.names
            or any(tag in self.tags for tag in definition.tags)
        )


NOTHING = CommandPatterns()
EVERYTHING = CommandPatterns(everything=True)


@dataclass(frozen=True, slots=True)
class What:
    """Commands granted minus commands revoked."""

    grant: CommandPatterns = NOTHING
    revoke: CommandPatterns = NOTHING

    def allows(self, definition: CommandDefinition) -> bool:
        return self.grant.matches(definition) and not self.revoke.matches(definition)


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


# --- who ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OAuthWho:
    """Holds for token callers granted one of ``scopes`` who meet any of ``conditions``."""

    scopes: frozenset[str]
    conditions: tuple[Matcher, ...]

    def matches(self, caller: Caller, control: AccessControl) -> bool:
        granted = caller.oauth_scopes
        if granted is None:
            return False
        if not any(scope_covers(g, s) for s in self.scopes for g in granted):
            return False
        return any(c.matches(caller, control) for c in self.conditions)


WhoEntry = Matcher | OAuthWho


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


# --- rules ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ApiPermission:
    """One named ``api_permissions`` rule."""

    name: str
    #: frontends (``from`` names) it applies to; empty means every frontend
    frontends: frozenset[str] = frozenset()
    #: HTTP listener tags (``from: [{tag: x}]``) it applies to; empty means any
    tags: frozenset[str] = frozenset()
    who: tuple[WhoEntry, ...] = ()
    what: What = What()

    def applies_to(self, caller: Caller) -> bool:
        """True when ``from`` matches the caller's frontend and listener tag."""
        if self.frontends and caller.frontend not in self.frontends:
            return False
        return not self.tags or caller.tag in self.tags

    def admits(self, caller: Caller, control: AccessControl) -> bool:
        """True when ``who`` admits the caller.

        Token callers are judged only by ``oauth`` entries, everyone else
        only by the other entries.
        """
        oauth = caller.oauth_scopes is not None
        return any(
            entry.matches(caller, control)
            for entry in self.who
            if isinstance(entry, OAuthWho) == oauth
        )

    def allows(self, caller: Caller, definition: CommandDefinition, control: AccessControl) -> bool:
        return (
            self.what.allows(definition)
            and self.applies_to(caller)
            and self.admits(caller, control)
        )

    def acl_names(self) -> set[str]:
        """ACL names this rule refers to."""
        names: set[str] = set()
        for entry in self.who:
            names |= acl_names(entry.conditions if isinstance(entry, OAuthWho) else (entry,))
        return names

    def rule_names(self) -> set[str]:
        """Access rule names this rule refers to."""
        names: set[str] = set()
        for entry in self.who:
            names |= rule_names(entry.conditions if isinstance(entry, OAuthWho) else (entry,))
        return names


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


# --- openness (for the config loader's warnings) ---------------------------

#: the ``from`` names of callers that reach the gateway over the network
NETWORK_FRONTENDS: frozenset[str] = frozenset({"mod_http_api", "ejabberd_xmlrpc", "mod_rest"})


def network_frontends(rule: ApiPermission) -> frozenset[str]:
    """The network frontends ``rule`` applies to (none for ``from: ejabberd_ctl``)."""
    return NETWORK_FRONTENDS if not rule.frontends else rule.frontends & NETWORK_FRONTENDS


def admits_anyone(
    rule: ApiPermission,
    acls: Mapping[str, Sequence[Matcher]],
    access_rules: Mapping[str, AccessRule],
) -> bool:
    """True when ``rule``'s ``who`` admits every caller, credentials or not.

    ``all`` is the obvious case; an ACL or access rule that amounts to it
    (``ip: 0.0.0.0/0``, an access rule whose deciding clause is ``allow: all``)
    counts too.  ``oauth`` entries need a token, so they never count.
    """
    return any(
        _universal(entry, acls, access_rules)
        for entry in rule.who
        if not isinstance(entry, OAuthWho)
    )


def _universal(
    matcher: Matcher,
    acls: Mapping[str, Sequence[Matcher]],
    access_rules: Mapping[str, AccessRule],
) -> bool:
    # no cycles: ACLs cannot name ACLs, access rules cannot name access rules
    if isinstance(matcher, IpMatch):
        return matcher.network.prefixlen == 0
    if isinstance(matcher, AclRef):
        if matcher.name in PREDEFINED:
            return matcher.name == "all"
        return any(_universal(m, acls, access_rules) for m in acls.get(matcher.name, ()))
    if isinstance(matcher, AccessRef):
        rule = matcher.rule
        if isinstance(rule, str):
            if rule in PREDEFINED:
                return rule == "all"
            if rule not in access_rules:
                return False
            rule = access_rules[rule]
        for clause in rule.clauses:
            # the first clause that holds for everybody decides for everybody
            if all(_universal(c, acls, access_rules) for c in clause.conditions):
                return clause.allow
        return False
    return False


#: what ejabberd applies when ``api_permissions`` is not configured
DEFAULT_RULES: tuple[ApiPermission, ...] = (
    ApiPermission(
        name="admin access",
        who=(AclRef("admin"), OAuthWho(frozenset({"ejabberd:admin"}), (AclRef("admin"),))),
        what=What(EVERYTHING, CommandPatterns(names=frozenset({"start", "stop"}))),
    ),
)

#: added in front unless a rule of that name is configured
CONSOLE_RULE = ApiPermission(
    name="console commands",
    frontends=frozenset({"ejabberd_ctl"}),
    who=(AclRef("all"),),
    what=What(EVERYTHING, NOTHING),
)


class Permissions:
    """Decides whether a caller may run a command.

    Args:
        rules: the configured ``api_permissions`` in order, or ``None`` for
            ejabberd's defaults.
        acls: ACL name -> conditions.
        access_rules: access rule name -> rule.
        hosts: the served hosts (a bare ``user`` ACL matches on any of them).
    """

    def __init__(
        self,
        rules: Sequence[ApiPermission] | None,
        acls: Mapping[str, Sequence[Matcher]] | None = None,
        access_rules: Mapping[str, AccessRule] | None = None,
        hosts: Iterable[str] = (),
    ) -> None:
        chosen = DEFAULT_RULES if rules is None else tuple(rules)
        if not any(rule.name == CONSOLE_RULE.name for rule in chosen):
            chosen = (CONSOLE_RULE, *chosen)
        self.rules: tuple[ApiPermission, ...] = chosen
        self.control = AccessControl(acls, access_rules, hosts)

    @classmethod
    def from_config(cls, config: Config) -> Permissions:
        return cls(config.api_permissions, config.acl, config.access_rules, config.hosts)

    def replace(self, new: Permissions) -> None:
        """Decide every later call by ``new``'s rules (``reload_config``).

        Engines of every API profile and mod_rest share this one object, so
        the change reaches them all.  Checks and replacement both run on the
        reactor thread, so a check sees the old rules or the new, never a mix.
        """
        self.rules, self.control = new.rules, new.control

    def matching_rule(self, caller: Caller, definition: CommandDefinition) -> ApiPermission | None:
        """The first rule that allows the call, or ``None`` when the call is denied."""
        for rule in self.rules:
            if rule.allows(caller, definition, self.control):
                return rule
        return None

    def allows(self, caller: Caller, definition: CommandDefinition) -> bool:
        return self.matching_rule(caller, definition) is not None

    def access_allows(self, rule_name: str, caller: Caller) -> bool:
        """True when the access rule called ``rule_name`` allows ``caller``."""
        return self.control.rule_allows(rule_name, caller)
