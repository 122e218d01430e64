"""ACL conditions and access rules (read by gateway.config.acl_parse, matched by engine.acl)."""

from __future__ import annotations

import ipaddress
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.config.acl_parse import parse_access_rules, parse_acls, parse_network
from gateway.config.errors import ConfigError
from gateway.config.paths import key_path
from gateway.engine.acl import AccessControl, IpMatch, ip_matches
from gateway.engine.model import Caller
from tests.engine.helpers import caller as make_caller

HOSTS = ("localhost", "example.org")


def caller(jid: str | None = None, ip: str | None = None, frontend: str = "mod_http_api") -> Caller:
    """A caller as the ACL tests write one: the account first, no address unless given."""
    return make_caller(frontend, jid, ip)


def control(acl: Any = None, rules: Any = None) -> AccessControl:
    return AccessControl(parse_acls(acl), parse_access_rules(rules), HOSTS)


def in_acl(spec: Any, who: Caller) -> bool:
    return control({"x": spec}).in_acl("x", who)


# --- ACL conditions -------------------------------------------------------


def test_user_with_server_matches_only_that_account() -> None:
    """``user: "u@h"`` admits exactly that authenticated account."""
    spec = {"user": "admin@localhost"}
    assert in_acl(spec, caller("admin@localhost"))
    assert not in_acl(spec, caller("admin@example.org"))
    assert not in_acl(spec, caller("bob@localhost"))
    assert not in_acl(spec, caller(None, ip="127.0.0.1"))


def test_bare_user_matches_on_every_served_host_only() -> None:
    """A bare ``user: "u"`` admits ``u`` on any served host but not on foreign hosts."""
    spec = {"user": "admin"}
    assert in_acl(spec, caller("admin@localhost"))
    assert in_acl(spec, caller("admin@example.org"))
    assert not in_acl(spec, caller("admin@elsewhere.net"))


def test_user_mapping_form_and_lists() -> None:
    """``user: {name: server}`` and lists mixing the forms each add an account."""
    spec = {"user": [{"alice": "localhost"}, "bob@example.org", "carol"]}
    assert in_acl(spec, caller("alice@localhost"))
    assert not in_acl(spec, caller("alice@example.org"))
    assert in_acl(spec, caller("bob@example.org"))
    assert in_acl(spec, caller("carol@example.org"))
    assert not in_acl(spec, caller("dave@localhost"))


def test_user_values_are_stringprepped() -> None:
    """ACL users and servers are normalised like JIDs, so case does not matter."""
    assert in_acl({"user": "Admin@LocalHost"}, caller("admin@localhost"))


def test_server_condition_needs_an_account_on_that_host() -> None:
    """``server`` admits every authenticated account of that host and no anonymous caller."""
    spec = {"server": ["example.org"]}
    assert in_acl(spec, caller("anyone@example.org"))
    assert not in_acl(spec, caller("anyone@localhost"))
    assert not in_acl(spec, caller(None, ip="127.0.0.1"))


def test_resource_condition_sees_the_empty_resource() -> None:
    """API callers have no resource: only a pattern accepting "" can match."""
    assert not in_acl({"resource": "phone"}, caller("a@localhost"))
    assert in_acl({"resource_regexp": "^$"}, caller("a@localhost"))
    assert not in_acl({"resource_regexp": "."}, caller("a@localhost"))


def test_ip_condition_accepts_addresses_and_networks() -> None:
    """``ip`` takes single addresses and CIDR blocks of both families."""
    spec = {"ip": ["127.0.0.1/8", "::1/128", "192.0.2.7"]}
    assert in_acl(spec, caller(ip="127.4.5.6"))
    assert in_acl(spec, caller(ip="::1"))
    assert in_acl(spec, caller(ip="192.0.2.7"))
    assert not in_acl(spec, caller(ip="192.0.2.8"))
    assert not in_acl(spec, caller("admin@localhost"))


def test_ipv4_mapped_addresses_match_ipv4_networks() -> None:
    """A caller seen as ``::ffff:127.0.0.1`` (dual-stack socket) is in 127.0.0.0/8."""
    assert in_acl({"ip": "127.0.0.0/8"}, caller(ip="::ffff:127.0.0.1"))
    assert not in_acl({"ip": "127.0.0.0/8"}, caller(ip="::ffff:10.0.0.1"))
    assert in_acl({"ip": "::ffff:0:0/96"}, caller(ip="10.0.0.1"))


def test_user_regexp_is_unanchored_and_may_name_a_server() -> None:
    """``user_regexp`` searches the user name; ``re@server`` limits it to one host."""
    assert in_acl({"user_regexp": "dm"}, caller("admin@localhost"))
    assert not in_acl({"user_regexp": "^dm"}, caller("admin@localhost"))
    assert not in_acl({"user_regexp": "dm"}, caller("admin@elsewhere.net"))
    scoped = {"user_regexp": "^a@example.org"}
    assert in_acl(scoped, caller("alice@example.org"))
    assert not in_acl(scoped, caller("alice@localhost"))


def test_globs_match_whole_names() -> None:
    """``*_glob`` patterns are anchored shell patterns."""
    assert in_acl({"user_glob": "adm*"}, caller("admin@localhost"))
    assert not in_acl({"user_glob": "dm*"}, caller("admin@localhost"))
    assert in_acl({"server_glob": "*.org"}, caller("x@example.org"))
    assert not in_acl({"server_glob": "*.org"}, caller("x@localhost"))


def test_server_regexp_and_node_patterns() -> None:
    """``server_regexp`` tests the host; ``node_*`` need user and host patterns to match."""
    assert in_acl({"server_regexp": r"\.org$"}, caller("x@example.org"))
    node = {"node_regexp": {"^a": "^example"}}
    assert in_acl(node, caller("alice@example.org"))
    assert not in_acl(node, caller("bob@example.org"))
    assert not in_acl(node, caller("alice@localhost"))
    assert in_acl({"node_glob": [{"a*": "*.org"}]}, caller("alice@example.org"))


def test_shared_group_never_matches() -> None:
    """The engine cannot see shared roster groups, so ``shared_group`` holds for nobody."""
    assert not in_acl({"shared_group": "staff@localhost"}, caller("admin@localhost"))


def test_any_condition_admits() -> None:
    """An ACL admits a caller when any one of its conditions holds."""
    spec = {"user": "admin@localhost", "ip": "10.0.0.0/8"}
    assert in_acl(spec, caller("admin@localhost"))
    assert in_acl(spec, caller(ip="10.1.2.3"))
    assert not in_acl(spec, caller("bob@localhost", ip="192.0.2.1"))


def test_predefined_and_undefined_acls() -> None:
    """``all`` admits everyone, ``none`` and undefined names admit nobody."""
    ctl = control()
    anyone = caller(ip="192.0.2.1")
    assert ctl.in_acl("all", anyone)
    assert not ctl.in_acl("none", anyone)
    assert not ctl.in_acl("undefined", anyone)


@pytest.mark.parametrize(
    ("raw", "path", "text"),
    [
        ({"a": {"usr": "x"}}, "acl.a.usr", "unknown ACL condition 'usr'"),
        ({"a": {"user": "a@b@c"}}, "acl.a.user", "more than one '@'"),
        ({"a": {"ip": ["10.0.0.0/8", "nope"]}}, "acl.a.ip[1]", "invalid IP"),
        ({"a": {"user_regexp": "("}}, "acl.a.user_regexp", "invalid regular expression"),
        ({"a": {"acl": "b"}}, "acl.a.acl", "unknown ACL condition 'acl'"),
        ({"a": {}}, "acl.a", "at least one condition"),
        ({"a": {"user": None}}, "acl.a.user", "expected a value"),
        ({"all": {"user": "x"}}, "acl.all", "predefined"),
        ({"a": ["user"]}, "acl.a[0]", "expected 'condition: value'"),
        ({"a": {"node_regexp": "x"}}, "acl.a.node_regexp", "mapping of user pattern"),
        ({"a": {"user": "bad user"}}, "acl.a.user", "invalid user name"),
        (["a"], "acl", "expected a mapping"),
    ],
)
def test_acl_errors_name_the_key_path(raw: Any, path: str, text: str) -> None:
    """Malformed ACLs raise ConfigError at the path of the bad value."""
    with pytest.raises(ConfigError) as info:
        parse_acls(raw, "acl")
    assert info.value.path == path
    assert text in info.value.message


def test_acl_names_with_spaces_are_quoted_in_paths() -> None:
    """Paths quote names that are not plain words so they stay readable."""
    assert key_path("api_permissions", "admin access") == 'api_permissions."admin access"'
    assert key_path("listen", 2) == "listen[2]"
    assert key_path("acl", "admin") == "acl.admin"


# --- access rules ---------------------------------------------------------

ACLS = {
    "admin": {"user": "admin@localhost"},
    "loopback": {"ip": ["127.0.0.0/8", "::1/128"]},
    "blocked": {"user": "spammer@localhost"},
}


def allows(rules: Any, who: Caller, name: str = "r") -> bool:
    return control(ACLS, {name: rules}).rule_allows(name, who)


def test_first_applying_clause_decides() -> None:
    """Clauses are tried in order: a deny before an allow wins for those it matches."""
    rule = [{"deny": "blocked"}, {"allow": "all"}]
    assert not allows(rule, caller("spammer@localhost"))
    assert allows(rule, caller("alice@localhost"))
    reversed_rule = [{"allow": "all"}, {"deny": "blocked"}]
    assert allows(reversed_rule, caller("spammer@localhost"))


def test_nothing_applying_means_deny() -> None:
    """A caller no clause applies to is denied."""
    assert not allows([{"allow": "admin"}], caller("alice@localhost"))


def test_bare_allow_and_deny_apply_to_everyone() -> None:
    """Bare ``allow``/``deny`` entries (ejabberd's ``- allow``) match every caller."""
    assert allows([{"deny": "blocked"}, "allow"], caller("alice@localhost"))
    assert not allows(["deny", "allow"], caller("alice@localhost"))


def test_a_clause_needs_all_its_acls() -> None:
    """``allow: [a, b]`` applies only to callers in both ACLs, as in ejabberd."""
    rule = [{"allow": [{"acl": "loopback"}, {"acl": "admin"}]}]
    assert allows(rule, caller("admin@localhost", ip="127.0.0.1"))
    assert not allows(rule, caller("admin@localhost", ip="192.0.2.1"))
    assert not allows(rule, caller("bob@localhost", ip="127.0.0.1"))


def test_inline_conditions_and_names_mix() -> None:
    """A clause may mix ACL names and inline conditions."""
    rule = [{"allow": ["admin", {"ip": "127.0.0.1"}]}]
    assert allows(rule, caller("admin@localhost", ip="127.0.0.1"))
    assert not allows(rule, caller("admin@localhost", ip="127.0.0.2"))


def test_mapping_form_keeps_written_order() -> None:
    """The mapping form ``{deny: blocked, allow: all}`` is read in written order."""
    assert not allows({"deny": "blocked", "allow": "all"}, caller("spammer@localhost"))
    assert allows({"deny": "blocked", "allow": "all"}, caller("alice@localhost"))


def test_undefined_acl_in_a_rule_matches_nobody() -> None:
    """A clause naming an undefined ACL never applies (ejabberd treats it as empty)."""
    assert allows([{"deny": "ghosts"}, "allow"], caller("alice@localhost"))


def test_predefined_and_undefined_rule_names() -> None:
    """Rule ``all`` allows everyone; ``none`` and undefined rules deny everyone."""
    ctl = control()
    who = caller("alice@localhost")
    assert ctl.rule_allows("all", who)
    assert not ctl.rule_allows("none", who)
    assert not ctl.rule_allows("missing", who)


@pytest.mark.parametrize(
    ("raw", "path", "text"),
    [
        ({"r": [{"permit": "all"}]}, "access_rules.r[0].permit", "expected 'allow' or 'deny'"),
        ({"r": ["maybe"]}, "access_rules.r[0]", "expected 'allow' or 'deny'"),
        ({"r": "allow"}, "access_rules.r", "expected a list"),
        ({"r": []}, "access_rules.r", "at least one clause"),
        ({"r": [{"allow": []}]}, "access_rules.r[0].allow", "at least one ACL"),
        ({"r": [{"allow": {"ipp": "x"}}]}, "access_rules.r[0].allow.ipp", "unknown ACL"),
        ({"none": ["allow"]}, "access_rules.none", "predefined"),
    ],
)
def test_access_rule_errors_name_the_key_path(raw: Any, path: str, text: str) -> None:
    """Malformed access rules raise ConfigError at the path of the bad value."""
    with pytest.raises(ConfigError) as info:
        parse_access_rules(raw, "access_rules")
    assert info.value.path == path
    assert text in info.value.message


# --- IP matching against the standard library -----------------------------


@given(
    net=st.ip_addresses(v=4),
    prefix=st.integers(min_value=0, max_value=32),
    probe=st.ip_addresses(v=4),
)
def test_ipv4_matching_agrees_with_ipaddress(
    net: ipaddress.IPv4Address, prefix: int, probe: ipaddress.IPv4Address
) -> None:
    """``ip: A/N`` admits exactly the addresses ipaddress places in that network,
    whether the caller is seen as IPv4 or as IPv4-mapped IPv6."""
    network = parse_network(f"{net}/{prefix}", "acl.x.ip")
    expected = probe in ipaddress.ip_network(f"{net}/{prefix}", strict=False)
    assert ip_matches(probe, network) == expected
    mapped = ipaddress.IPv6Address(f"::ffff:{probe}")
    assert IpMatch(network).matches(caller(ip=str(mapped)), control()) == expected


@given(
    net=st.ip_addresses(v=6),
    prefix=st.integers(min_value=0, max_value=128),
    probe=st.ip_addresses(v=6),
)
def test_ipv6_matching_agrees_with_ipaddress(
    net: ipaddress.IPv6Address, prefix: int, probe: ipaddress.IPv6Address
) -> None:
    """IPv6 networks admit exactly the addresses ipaddress places in them."""
    network = parse_network(f"{net}/{prefix}", "acl.x.ip")
    expected = probe in ipaddress.ip_network(f"{net}/{prefix}", strict=False)
    assert ip_matches(probe, network) == expected
