"""api_permissions: reading (config.permissions_parse) and evaluation (engine.permissions)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.config.acl_parse import parse_access_rules, parse_acls
from gateway.config.errors import ConfigError
from gateway.config.load import parse_config
from gateway.config.permissions_parse import (
    parse_api_permissions,
    parse_what,
    permissions_from_config,
)
from gateway.engine.model import Caller, CommandDefinition
from gateway.engine.permissions import (
    ApiPermission,
    Permissions,
    admits_anyone,
    network_frontends,
    scope_covers,
)
from gateway.engine.types import Param, Type
from tests.engine.helpers import caller

HOSTS = ("localhost",)
ACLS = {
    "admin": {"user": "admin@localhost"},
    "loopback": {"ip": ["127.0.0.0/8", "::1/128"]},
}
RULES = {"local_admin": [{"allow": [{"acl": "loopback"}, {"acl": "admin"}]}]}


def command(name: str, *tags: str) -> CommandDefinition:
    return CommandDefinition(
        name=name, version=0, args=(), result=Param("res", Type("rescode")), tags=tags
    )


STATUS = command("status", "server")
STOP = command("stop", "server")
REGISTER = command("register", "accounts")
GET_ROSTER = command("get_roster", "roster", "v1")


def permissions(raw: Any) -> Permissions:
    rules = None if raw is None else parse_api_permissions(raw, "api_permissions")
    return Permissions(rules, parse_acls(ACLS), parse_access_rules(RULES), HOSTS)


def one_rule(**spec: Any) -> Permissions:
    return permissions({"rule": spec})


ADMIN = caller(jid="admin@localhost")
ANON = caller()
CTL = caller("ejabberd_ctl", ip=None)


# --- what -----------------------------------------------------------------


def allowed(what: Any, definition: CommandDefinition) -> bool:
    return parse_what(what, "what").allows(definition)


def test_star_grants_everything_and_negations_remove() -> None:
    """``["*", "!stop"]`` allows every command except ``stop``."""
    assert allowed(["*", "!stop"], STATUS)
    assert not allowed(["*", "!stop"], STOP)


def test_bang_star_revokes_everything() -> None:
    """``!*`` denies every command whatever else is listed."""
    assert not allowed(["*", "status", "!*"], STATUS)


def test_names_and_tags_grant() -> None:
    """Plain names and ``[tag:x]`` grant exactly the matching commands, ``vN`` tags included."""
    what = ["status", "[tag:roster]"]
    assert allowed(what, STATUS)
    assert allowed(what, GET_ROSTER)
    assert not allowed(what, REGISTER)
    assert allowed("[tag:v1]", GET_ROSTER)


def test_negated_tags_revoke() -> None:
    """``![tag:x]`` removes every command carrying that tag."""
    assert not allowed(["*", "![tag:server]"], STOP)
    assert allowed(["*", "![tag:server]"], REGISTER)


def test_without_a_positive_entry_nothing_is_granted() -> None:
    """Only negations (or no ``what`` at all) grant no command."""
    assert not allowed(["!stop"], STATUS)
    assert not allowed(None, STATUS)


@pytest.mark.parametrize(
    ("raw", "path", "text"),
    [
        (["Status"], "what[0]", "invalid command pattern"),
        (["!!stop"], "what[0]", "double negation"),
        (["[tag:roster"], "what[0]", "invalid tag"),
        (["[tag:Ro ster]"], "what[0]", "invalid tag"),
        ([""], "what[0]", "expected a command pattern"),
        ([5], "what[0]", "expected a command pattern"),
        ("stop now", "what", "invalid command pattern"),
    ],
)
def test_what_errors(raw: Any, path: str, text: str) -> None:
    """Bad ``what`` entries raise ConfigError with the entry's path."""
    with pytest.raises(ConfigError) as info:
        parse_what(raw, "what")
    assert info.value.path == path
    assert text in info.value.message


_NAMES = ["status", "stop", "register", "get_roster"]
_TAGS = ["server", "accounts", "roster", "v1"]
_ENTRY = st.builds(
    lambda neg, body: ("!" if neg else "") + body,
    st.booleans(),
    st.one_of(
        st.just("*"),
        st.sampled_from(_NAMES),
        st.sampled_from(_TAGS).map(lambda t: f"[tag:{t}]"),
    ),
)


def _entry_matches(body: str, definition: CommandDefinition) -> bool:
    if body == "*":
        return True
    if body.startswith("[tag:"):
        return body[5:-1] in definition.tags
    return body == definition.name


@given(entries=st.lists(_ENTRY, max_size=6))
def test_what_means_some_positive_and_no_negative_entry(entries: list[str]) -> None:
    """Whatever the order, a command is allowed exactly when some positive entry
    matches it and no negative entry does (ejabberd's add/remove sets)."""
    what = parse_what(entries, "what")
    for definition in (STATUS, STOP, REGISTER, GET_ROSTER):
        positive = any(_entry_matches(e, definition) for e in entries if not e.startswith("!"))
        negative = any(_entry_matches(e[1:], definition) for e in entries if e.startswith("!"))
        assert what.allows(definition) == (positive and not negative)


# --- from -----------------------------------------------------------------


def test_from_limits_the_frontend() -> None:
    """``from`` restricts a rule to the listed frontends; absent means all."""
    only_xmlrpc = one_rule(**{"from": "ejabberd_xmlrpc", "who": "all", "what": "*"})
    assert only_xmlrpc.allows(caller("ejabberd_xmlrpc"), STATUS)
    assert not only_xmlrpc.allows(caller("mod_http_api"), STATUS)
    anywhere = one_rule(who="all", what="*")
    for frontend in ("mod_http_api", "ejabberd_xmlrpc", "mod_rest"):
        assert anywhere.allows(caller(frontend), STATUS)


def test_from_list_and_mod_rest() -> None:
    """A ``from`` list admits any frontend it names, ``mod_rest`` included."""
    perms = one_rule(**{"from": ["mod_rest", "mod_http_api"], "who": "all", "what": "*"})
    assert perms.allows(caller("mod_rest"), STATUS)
    assert perms.allows(caller("mod_http_api"), STATUS)
    assert not perms.allows(caller("ejabberd_xmlrpc"), STATUS)


def test_from_tag_matches_the_listener_tag() -> None:
    """``from: [{tag: x}]`` only admits calls through listeners tagged ``x``."""
    perms = one_rule(**{"from": [{"tag": "internal"}], "who": "all", "what": "*"})
    assert perms.allows(caller(tag="internal"), STATUS)
    assert not perms.allows(caller(tag="public"), STATUS)
    assert not perms.allows(caller(), STATUS)


@pytest.mark.parametrize(
    ("raw", "path"),
    [
        ("mod_foo", "api_permissions.rule.from"),
        (["mod_http_api", "nope"], "api_permissions.rule.from[1]"),
        ([{"label": "x"}], "api_permissions.rule.from[0]"),
    ],
)
def test_from_errors(raw: Any, path: str) -> None:
    """Unknown frontends and keys in ``from`` are refused with their path."""
    with pytest.raises(ConfigError) as info:
        parse_api_permissions({"rule": {"from": raw}}, "api_permissions")
    assert info.value.path == path


# --- who ------------------------------------------------------------------


def test_who_acl_name() -> None:
    """``who: admin`` admits members of the ``admin`` ACL."""
    perms = one_rule(who="admin", what="*")
    assert perms.allows(ADMIN, REGISTER)
    assert not perms.allows(caller(jid="bob@localhost"), REGISTER)


def test_who_inline_conditions_are_alternatives() -> None:
    """Inline conditions in ``who`` each admit on their own (a list value gives several)."""
    perms = one_rule(who={"ip": ["10.0.0.0/8", "192.0.2.1"], "user": "bob@localhost"}, what="*")
    assert perms.allows(caller(ip="10.9.9.9"), STATUS)
    assert perms.allows(caller(ip="192.0.2.1"), STATUS)
    assert perms.allows(caller(jid="bob@localhost", ip="198.51.100.1"), STATUS)
    assert not perms.allows(caller(ip="198.51.100.1"), STATUS)


def test_who_list_mixing_forms() -> None:
    """A ``who`` list may mix ACL names, ``acl:`` references and inline conditions."""
    perms = one_rule(who=["admin", {"acl": "loopback"}, {"ip": "192.0.2.0/24"}], what="*")
    assert perms.allows(caller(jid="admin@localhost", ip="198.51.100.1"), STATUS)
    assert perms.allows(caller(ip="127.0.0.1"), STATUS)
    assert perms.allows(caller(ip="192.0.2.9"), STATUS)
    assert not perms.allows(caller(ip="198.51.100.1"), STATUS)


def test_who_access_rule_by_name_and_inline() -> None:
    """``access:`` takes a rule name or an inline rule; the rule must allow the caller."""
    for rule in ("local_admin", {"allow": [{"acl": "loopback"}, {"acl": "admin"}]}):
        perms = one_rule(who={"access": rule}, what="*")
        assert perms.allows(caller(jid="admin@localhost", ip="127.0.0.1"), STATUS)
        assert not perms.allows(caller(jid="admin@localhost", ip="192.0.2.1"), STATUS)
        assert not perms.allows(caller(ip="127.0.0.1"), STATUS)


def test_who_absent_admits_nobody() -> None:
    """A rule without ``who`` allows no caller."""
    assert not one_rule(what="*").allows(ADMIN, STATUS)


def test_oauth_callers_match_only_oauth_entries() -> None:
    """A token caller is judged by ``oauth`` entries alone, even when a plain
    entry would admit it; the scope must be granted and the inner rule hold."""
    perms = one_rule(
        who=["admin", {"oauth": {"scope": ["ejabberd:admin", "sasl_auth"], "acl": "admin"}}],
        what="*",
    )
    token_admin = caller(jid="admin@localhost", scopes={"ejabberd:admin"})
    assert perms.allows(token_admin, REGISTER)
    assert not perms.allows(caller(jid="admin@localhost", scopes={"other"}), REGISTER)
    assert not perms.allows(caller(jid="bob@localhost", scopes={"ejabberd:admin"}), REGISTER)
    plain_only = one_rule(who="admin", what="*")
    assert not plain_only.allows(token_admin, REGISTER)


def test_plain_callers_never_match_oauth_entries() -> None:
    """Callers without a token are not admitted by an ``oauth`` entry."""
    perms = one_rule(who={"oauth": {"scope": "ejabberd:admin", "acl": "all"}}, what="*")
    assert not perms.allows(ADMIN, STATUS)
    assert perms.allows(caller(scopes={"ejabberd:admin"}), STATUS)


def test_oauth_inner_access_rule() -> None:
    """Inside ``oauth``, ``access:`` works as outside."""
    perms = one_rule(who={"oauth": {"scope": "ejabberd:admin", "access": "local_admin"}}, what="*")
    assert perms.allows(caller(jid="admin@localhost", scopes={"ejabberd:admin"}), STATUS)
    far = caller(jid="admin@localhost", ip="192.0.2.1", scopes={"ejabberd:admin"})
    assert not perms.allows(far, STATUS)


def test_scope_paths() -> None:
    """Scopes compare as dot paths, ``*`` covering everything below it."""
    assert scope_covers("ejabberd:admin", "ejabberd:admin")
    assert not scope_covers("ejabberd:admin", "ejabberd:user")
    assert scope_covers("a.*", "a.b.c")
    assert scope_covers("*", "ejabberd:admin")
    assert not scope_covers("a", "a.b")


@pytest.mark.parametrize(
    ("who", "path", "text"),
    [
        ({"oauth": {"acl": "admin"}}, "api_permissions.rule.who.oauth.scope", "required"),
        ({"oauth": {"scope": []}}, "api_permissions.rule.who.oauth.scope", "at least one"),
        ({"oauth": {"scope": "s", "oauth": {}}}, "api_permissions.rule.who.oauth.oauth", "nested"),
        ({"group": "x"}, "api_permissions.rule.who.group", "unknown entry 'group'"),
        ({"ip": "300.1.1.1"}, "api_permissions.rule.who.ip", "invalid IP"),
        ({"access": []}, "api_permissions.rule.who.access", "at least one clause"),
    ],
)
def test_who_errors(who: Any, path: str, text: str) -> None:
    """Malformed ``who`` entries raise ConfigError at their path."""
    with pytest.raises(ConfigError) as info:
        parse_api_permissions({"rule": {"who": who}}, "api_permissions")
    assert info.value.path == path
    assert text in info.value.message


def test_rule_errors() -> None:
    """Unknown rule keys and non-mapping sections are refused, naming the path."""
    with pytest.raises(ConfigError) as info:
        parse_api_permissions({"admin access": {"whom": "all"}}, "api_permissions")
    assert info.value.path == 'api_permissions."admin access".whom'
    with pytest.raises(ConfigError) as info:
        parse_api_permissions(None, "api_permissions")
    assert info.value.path == "api_permissions"


# --- evaluation, defaults, console rule ------------------------------------


def test_rules_are_tried_in_order_and_first_match_allows() -> None:
    """The first rule whose from, who and what match is the one that allows."""
    perms = permissions(
        {
            "xmlrpc admins": {"from": "ejabberd_xmlrpc", "who": "admin", "what": "*"},
            "loopback status": {"who": "loopback", "what": ["status"]},
            "everyone status": {"who": "all", "what": ["status", "register"]},
        }
    )

    def winner(who: Caller, definition: CommandDefinition) -> str | None:
        rule = perms.matching_rule(who, definition)
        return None if rule is None else rule.name

    assert winner(caller(jid="admin@localhost"), STATUS) == "loopback status"
    assert winner(caller(ip="192.0.2.1"), STATUS) == "everyone status"
    assert winner(caller(ip="192.0.2.1"), STOP) is None
    xmlrpc_admin = caller("ejabberd_xmlrpc", jid="admin@localhost", ip="192.0.2.1")
    assert winner(xmlrpc_admin, STOP) == "xmlrpc admins"


def test_defaults_when_unconfigured() -> None:
    """Without api_permissions, admins (password or ejabberd:admin token) may run
    everything but start and stop; others nothing; ctl everything.

    No rule is added for mod_rest any more (it used to get an allow-all one).
    """
    perms = permissions(None)
    assert [r.name for r in perms.rules] == ["console commands", "admin access"]
    assert perms.allows(ADMIN, REGISTER)
    assert not perms.allows(ADMIN, STOP)
    assert perms.allows(caller(jid="admin@localhost", scopes={"ejabberd:admin"}), REGISTER)
    assert not perms.allows(caller(jid="admin@localhost", scopes={"other"}), REGISTER)
    assert not perms.allows(ANON, STATUS)
    assert perms.allows(CTL, STOP)


def test_console_rule_is_added_to_configured_rules() -> None:
    """Configured rules get the ctl "console commands" rule in front of them, and nothing else.

    (An allow-all "mod_rest commands" rule used to be added as well.)
    """
    perms = permissions({"only": {"who": "admin", "what": "status"}})
    assert [r.name for r in perms.rules] == ["console commands", "only"]
    assert perms.allows(CTL, STOP)
    assert not perms.allows(ADMIN, STOP)


def test_empty_permissions_leave_only_the_console() -> None:
    """``api_permissions: {}`` allows nothing but ctl."""
    perms = permissions({})
    assert perms.allows(CTL, REGISTER)
    assert not perms.allows(ADMIN, REGISTER)


def test_configured_console_rule_replaces_the_builtin_one() -> None:
    """A rule named "console commands" is used as written and nothing is added.

    (An allow-all "mod_rest commands" rule used to be added in front of it.)
    """
    perms = permissions(
        {"console commands": {"from": "ejabberd_ctl", "who": "all", "what": ["*", "!stop"]}}
    )
    assert [r.name for r in perms.rules] == ["console commands"]
    assert perms.allows(CTL, STATUS)
    assert not perms.allows(CTL, STOP)


def test_access_allows_evaluates_named_rules() -> None:
    """``access_allows`` answers for a named access rule (used by mod_rest access_commands)."""
    perms = permissions(None)
    assert perms.access_allows("local_admin", caller(jid="admin@localhost"))
    assert not perms.access_allows("local_admin", caller(jid="admin@localhost", ip="192.0.2.1"))
    assert perms.access_allows("all", ANON)
    assert not perms.access_allows("missing", ANON)


def test_from_config_uses_every_section() -> None:
    """``permissions_from_config`` combines acl, access_rules, api_permissions and hosts."""
    config = parse_config(
        """
hosts: [example.org]
acl:
  admin: {user: boss}
access_rules:
  trusted: [{allow: {ip: "10.0.0.0/8"}}]
api_permissions:
  staff:
    who: [admin, {access: trusted}]
    what: ["*", "!stop"]
"""
    )
    perms = permissions_from_config(config)
    assert perms.allows(caller(jid="boss@example.org", ip="192.0.2.1"), REGISTER)
    assert not perms.allows(caller(jid="boss@elsewhere.net", ip="192.0.2.1"), REGISTER)
    assert perms.allows(caller(ip="10.1.1.1"), REGISTER)
    assert not perms.allows(caller(ip="10.1.1.1"), STOP)


def test_mod_rest_gets_no_implicit_rule() -> None:
    """mod_rest command lines are decided by the configured rules like any other call.

    Before issue 8 an allow-all "mod_rest commands" rule was added unless a rule
    mentioned mod_rest, so an anonymous POST to /rest could change any password.
    """
    from gateway.engine.catalogue import Catalogue

    definition = Catalogue.load("24.12").lookup("change_password")
    anonymous = caller("mod_rest")
    assert not Permissions(None).allows(anonymous, definition)
    assert not permissions(None).allows(anonymous, definition)
    assert permissions(None).allows(caller("mod_rest", jid="admin@localhost"), definition)
    assert not permissions(None).allows(caller("mod_rest", jid="alice@localhost"), definition)


def test_mod_rest_decided_like_api() -> None:
    """An anonymous mod_rest caller may run exactly what an anonymous /api caller may."""
    perms = permissions(
        {
            "public": {"who": {"ip": "127.0.0.1/8"}, "what": ["status"]},
            "admins": {"who": "admin", "what": ["*", "!stop"]},
        }
    )
    for frontend in ("mod_rest", "mod_http_api"):
        assert perms.allows(caller(frontend), STATUS)
        assert not perms.allows(caller(frontend), REGISTER)
        assert not perms.allows(caller(frontend, ip="192.0.2.1"), STATUS)
        assert perms.allows(caller(frontend, jid="admin@localhost"), REGISTER)


def test_explicit_mod_rest_rule_trusts_the_address() -> None:
    """The opt-in rule ``from: mod_rest, who: {ip: ...}, what: "*"`` admits anonymous callers
    from that address through mod_rest only."""
    perms = one_rule(**{"from": "mod_rest", "who": {"ip": "127.0.0.1"}, "what": "*"})
    assert perms.allows(caller("mod_rest"), REGISTER)
    assert not perms.allows(caller("mod_rest", ip="127.0.0.2"), REGISTER)
    assert not perms.allows(caller("mod_http_api"), REGISTER)


# --- openness ---------------------------------------------------------------


def _rule(raw: dict[str, Any]) -> ApiPermission:
    [rule] = parse_api_permissions({"rule": raw}, "api_permissions")
    return rule


@pytest.mark.parametrize(
    "who",
    [
        "all",
        ["loopback", "all"],
        {"ip": "0.0.0.0/0"},
        {"ip": "::/0"},
        {"access": "all"},
        {"access": "open"},
        {"access": [{"deny": "none"}, {"allow": "all"}]},
        "everyone",
    ],
)
def test_admits_anyone(who: Any) -> None:
    """``who: all`` and what amounts to it (an ACL, network or access rule letting
    everybody in) admit anyone."""
    acls = parse_acls({"everyone": {"ip": "0.0.0.0/0"}, **ACLS})
    rules = parse_access_rules({"open": [{"allow": "all"}], **RULES})
    assert admits_anyone(_rule({"who": who, "what": "*"}), acls, rules)


@pytest.mark.parametrize(
    "who",
    [
        None,
        "admin",
        "loopback",
        "none",
        {"ip": "127.0.0.1/8"},
        {"access": "local_admin"},
        {"access": "missing"},
        {"access": [{"deny": "all"}, {"allow": "all"}]},
        {"oauth": {"scope": "ejabberd:admin", "acl": "all"}},
        "undefined_acl",
    ],
)
def test_does_not_admit_anyone(who: Any) -> None:
    """Rules limited to accounts, addresses, tokens or nobody do not admit anyone."""
    acls = parse_acls(ACLS)
    rules = parse_access_rules(RULES)
    assert not admits_anyone(_rule({"who": who, "what": "*"}), acls, rules)


def test_network_frontends() -> None:
    """A rule without ``from`` (or with HTTP tags) reaches every network frontend;
    ``from: ejabberd_ctl`` none."""
    every = {"mod_http_api", "ejabberd_xmlrpc", "mod_rest"}
    assert network_frontends(_rule({})) == every
    assert network_frontends(_rule({"from": [{"tag": "admin"}]})) == every
    assert network_frontends(_rule({"from": "ejabberd_ctl"})) == set()
    assert network_frontends(_rule({"from": ["ejabberd_ctl", "mod_rest"]})) == {"mod_rest"}
