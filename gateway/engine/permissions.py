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

Only evaluation lives here; :mod:`gateway.config.permissions_parse` reads
the rules from the ``api_permissions`` section.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from gateway.engine.acl import (
    PREDEFINED,
    AccessControl,
    AccessRef,
    AccessRule,
    AclRef,
    IpMatch,
    Matcher,
    acl_names,
    rule_names,
)
from gateway.engine.model import Caller, CommandDefinition
from gateway.engine.names import EJABBERD_CTL, EJABBERD_XMLRPC, MOD_HTTP_API, MOD_REST

__all__ = [
    "CONSOLE_RULE",
    "DEFAULT_RULES",
    "NETWORK_FRONTENDS",
    "ApiPermission",
    "CommandPatterns",
    "EVERYTHING",
    "NOTHING",
    "OAuthWho",
    "Permissions",
    "What",
    "WhoEntry",
    "admits_anyone",
    "network_frontends",
    "scope_covers",
]


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


# --- openness (for the config loader's warnings) ---------------------------

#: the ``from`` names of callers that reach the gateway over the network
NETWORK_FRONTENDS: frozenset[str] = frozenset({MOD_HTTP_API, EJABBERD_XMLRPC, MOD_REST})


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
    frontends=frozenset({EJABBERD_CTL}),
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

    def allows_any(self, caller: Caller, definitions: Iterable[CommandDefinition]) -> bool:
        """True when ``caller`` may run at least one of ``definitions``.

        The same answer as asking :meth:`allows` for each, but whether a rule
        admits the caller is asked once per rule, not once per command.
        """
        listed = tuple(definitions)
        return any(
            rule.applies_to(caller)
            and rule.admits(caller, self.control)
            and any(rule.what.allows(d) for d in listed)
            for rule in self.rules
        )

    def access_allows(self, rule_name: str, caller: Caller) -> bool:
        """True when the access rule called ``rule_name`` allows ``caller``."""
        return self.control.rule_allows(rule_name, caller)
