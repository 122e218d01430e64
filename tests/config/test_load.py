"""Configuration loading and validation (gateway.config)."""

from __future__ import annotations

import ipaddress
import re
import textwrap
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from twisted.internet.endpoints import serverFromString
from twisted.internet.testing import MemoryReactor

from gateway.config import load as load_module
from gateway.config.errors import ConfigError
from gateway.config.load import find_config, load_config, parse_config
from gateway.config.model import ComponentConfig, Config, ListenerConfig
from gateway.frontends.rest.access import ip_allowed
from tests.paths import SHIPPED_CONFIG

DEFAULT_CONF = SHIPPED_CONFIG
# "key:" or "- key:" at the start of a line, the key plain or double-quoted
_YAML_KEY = re.compile(r'^(?:- )?(?:"[^"]+"|[A-Za-z_/][\w./-]*):(?:\s|$)')


def config(text: str) -> Config:
    return parse_config(textwrap.dedent(text))


def error(text: str) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        parse_config(textwrap.dedent(text))
    return info.value


MINIMAL = "hosts: [localhost]\n"


# --- the shipped file -----------------------------------------------------


def test_shipped_config_loads() -> None:
    """conf/gateway.yml is valid and describes the documented default setup."""
    cfg = load_config(str(DEFAULT_CONF))
    assert cfg.source == str(DEFAULT_CONF)
    assert cfg.hosts == ("localhost",)
    assert cfg.warnings == ()
    http, xmlrpc = cfg.listen
    assert http.endpoint() == "tcp:5280:interface=127.0.0.1"
    assert dict(http.request_handlers) == {
        "/api": "mod_http_api",
        "/rest": "mod_rest",
        "/xmlrpc": "ejabberd_xmlrpc",
        "/oauth": "ejabberd_oauth",
    }
    assert xmlrpc.module == "ejabberd_xmlrpc"
    assert xmlrpc.endpoint() == "tcp:4560:interface=127.0.0.1"
    assert [r.name for r in cfg.api_permissions or ()] == [
        "console commands",
        "admin access",
        "public commands",
    ]
    assert cfg.modules.mod_http_api is not None
    assert cfg.modules.mod_rest is not None
    assert ip_allowed(cfg.modules.mod_rest, ipaddress.ip_address("::1"))
    assert not ip_allowed(cfg.modules.mod_rest, ipaddress.ip_address("192.0.2.1"))
    assert cfg.gateway.backend == "embedded"
    assert cfg.gateway.component is not None
    assert cfg.gateway.component.jid == "rest.localhost"
    assert cfg.gateway.component.endpoint() == "tcp:host=127.0.0.1:port=5347"
    assert cfg.trusted_proxies == ()


def test_every_key_of_the_shipped_file_is_commented() -> None:
    """Each key line of conf/gateway.yml has a comment on it or on the line above."""
    previous = ""
    undocumented = []
    for line in DEFAULT_CONF.read_text(encoding="utf-8").splitlines():
        stripped = line.strip()
        is_key = _YAML_KEY.match(stripped)
        if is_key and "#" not in stripped and not previous.startswith("#"):
            undocumented.append(stripped)
        if stripped:
            previous = stripped
    assert undocumented == []


# --- top level ------------------------------------------------------------


def test_minimal_config_takes_defaults() -> None:
    """Only ``hosts`` is required; everything else has its documented default."""
    cfg = config(MINIMAL)
    assert cfg.loglevel == "info"
    assert cfg.api_permissions is None
    assert cfg.oauth_expire == 4294967
    assert cfg.listen == ()
    assert cfg.trusted_proxies == ()
    assert cfg.modules.mod_http_api is None and cfg.modules.mod_rest is None
    assert cfg.gateway.api_profile == "24.12"
    assert cfg.gateway.backend == "embedded"
    assert cfg.gateway.store == "sqlite:var/gateway.sqlite3"
    assert cfg.gateway.component is None
    assert cfg.gateway.ctl_socket == "var/gatewayctl.sock"
    assert cfg.gateway.limits.max_body_bytes == 1048576
    assert cfg.gateway.limits.max_xml_depth == 64
    assert cfg.gateway.limits.request_timeout == 60.0
    assert cfg.source is None


@pytest.mark.parametrize(
    ("text", "path", "message"),
    [
        ("loglevel: info\n", "hosts", "required"),
        ("hosts: []\n", "hosts", "non-empty list"),
        ("hosts: localhost\n", "hosts", "non-empty list"),
        ("hosts: [a.org, A.org]\n", "hosts[1]", "duplicate host"),
        ("hosts: ['a b']\n", "hosts[0]", "invalid domain"),
        ("hosts: [x]\ncertfiles: []\n", "certfiles", "unknown top-level key 'certfiles'"),
        ("hosts: [x]\nloglevel: loud\n", "loglevel", "unknown log level"),
        ("hosts: [x]\noauth_expire: soon\n", "oauth_expire", "expected an integer"),
        ("hosts: [x]\napi_permissions:\n", "api_permissions", "expected a mapping"),
        ("- hosts\n", "", "mapping of options at the top level"),
    ],
)
def test_top_level_errors(text: str, path: str, message: str) -> None:
    """Top-level problems name the key and say what is wrong."""
    err = error(text)
    assert err.path == path
    assert message in err.message


def test_hosts_are_nameprepped() -> None:
    """Host names are normalised like XMPP domains (lower case)."""
    assert config("hosts: [LocalHost, Example.ORG]\n").hosts == ("localhost", "example.org")


@pytest.mark.parametrize(
    ("raw", "level"), [("debug", "debug"), ("4", "info"), ("0", "none"), ("warning", "warning")]
)
def test_loglevel_names_and_numbers(raw: str, level: str) -> None:
    """``loglevel`` takes ejabberd's names and numbers."""
    assert config(f"{MINIMAL}loglevel: {raw}\n").loglevel == level


def test_error_text_is_path_then_message() -> None:
    """``str(ConfigError)`` reads ``<path>: <message>``."""
    err = error(f"{MINIMAL}gateway:\n  component: {{jid: c.x, secret: s, port: high}}\n")
    assert str(err) == "gateway.component.port: expected an integer, got 'high'"


def test_duplicate_keys_are_refused() -> None:
    """YAML would keep the last of two equal keys silently; the loader refuses them."""
    err = error("hosts: [a]\nhosts: [b]\n")
    assert "duplicate key 'hosts'" in err.message


def test_yaml_merge_keys_still_work() -> None:
    """Anchors and ``<<`` merges are not mistaken for duplicates."""
    cfg = config(
        """
        hosts: [x]
        listen:
          - &base {port: 5280, ip: 127.0.0.1, module: ejabberd_http}
          - <<: *base
            port: 5281
        """
    )
    assert [listener.port for listener in cfg.listen] == [5280, 5281]


def test_invalid_yaml_names_the_source() -> None:
    """A syntax error says which file it is in."""
    with pytest.raises(ConfigError) as info:
        parse_config("hosts: [x\n", source="my.yml")
    assert "invalid YAML in my.yml" in info.value.message


def test_undefined_names_only_warn() -> None:
    """Undefined ACLs and rules load (ejabberd treats them as empty) but are reported."""
    cfg = config(
        """
        hosts: [x]
        access_rules:
          c2s: [{deny: blocked}, allow]
        api_permissions:
          "admin access": {who: [admn, {access: trusted}], what: "*"}
        """
    )
    assert cfg.warnings == (
        "access_rules.c2s: ACL 'blocked' is not defined, so it matches nobody",
        "api_permissions.\"admin access\": ACL 'admn' is not defined, so it matches nobody",
        "api_permissions.\"admin access\": access rule 'trusted' is not defined, "
        "so it denies everyone",
    )


def test_acl_errors_carry_their_path_through_the_loader() -> None:
    """An unknown ACL condition is reported as ``acl.<name>.<kind>``."""
    err = error(f"{MINIMAL}acl:\n  admin:\n    usr: bob\n")
    assert err.path == "acl.admin.usr"


# --- listen ---------------------------------------------------------------


def test_listener_defaults_and_endpoint() -> None:
    """A listener needs port and module; ip defaults to 0.0.0.0 and tls to off."""
    cfg = config(f"{MINIMAL}listen:\n  - {{port: 5280, module: ejabberd_http}}\n")
    listener = cfg.listen[0]
    assert listener == ListenerConfig(index=0, port=5280)
    assert listener.endpoint() == "tcp:5280:interface=0.0.0.0"
    assert listener.describe() == "http 0.0.0.0:5280"


def test_ipv6_interface_is_escaped() -> None:
    """IPv6 colons are escaped in the endpoint string and bracketed in descriptions."""
    cfg = config(
        f"{MINIMAL}listen:\n"
        "  - {port: 5443, ip: '::1', module: ejabberd_http,\n"
        "     request_handlers: {/api: mod_http_api}}\n"
    )
    listener = cfg.listen[0]
    assert listener.endpoint() == r"tcp:5443:interface=\:\:1"
    assert listener.describe() == "http [::1]:5443 (/api: mod_http_api)"


def test_tls_listener_endpoint() -> None:
    """With tls the endpoint is ``ssl:`` using the PEM file for key and certificate."""
    cfg = config(
        f"{MINIMAL}listen:\n"
        "  - {port: 5443, ip: 127.0.0.1, module: ejabberd_http, tls: true,"
        " certfile: 'certs/c:1.pem'}\n"
    )
    assert cfg.listen[0].endpoint() == (
        r"ssl:5443:interface=127.0.0.1:privateKey=certs/c\:1.pem:certKey=certs/c\:1.pem"
    )
    assert cfg.listen[0].describe().startswith("https ")


def test_listener_options() -> None:
    """api_profile, tag and custom_headers are read; handler paths lose trailing slashes."""
    cfg = config(
        f"""\
        {MINIMAL}
        listen:
          - port: 5280
            module: ejabberd_http
            api_profile: 23.01
            tag: internal
            custom_headers: {{X-Powered-By: gateway}}
            request_handlers:
              /api/: mod_http_api
              /legacy/api/v0: mod_http_api
        """
    )
    listener = cfg.listen[0]
    assert listener.api_profile == "23.01"
    assert listener.tag == "internal"
    assert listener.custom_headers == (("X-Powered-By", "gateway"),)
    assert listener.request_handlers == (
        ("/api", "mod_http_api"),
        ("/legacy/api/v0", "mod_http_api"),
    )


@pytest.mark.parametrize(
    ("listener", "path", "message"),
    [
        ("{module: ejabberd_http}", "listen[0].port", "required"),
        ("{port: '5280', module: ejabberd_http}", "listen[0].port", "expected an integer"),
        ("{port: 70000, module: ejabberd_http}", "listen[0].port", "at most 65535"),
        ("{port: 5280}", "listen[0].module", "required"),
        ("{port: 5280, module: ejabberd_c2s}", "listen[0].module", "not served by the gateway"),
        ("{port: 5280, module: ejabberd_http, ip: localhost}", "listen[0].ip", "invalid IP"),
        (
            "{port: 5280, module: ejabberd_http, protocol_options: []}",
            "listen[0].protocol_options",
            "'protocol_options' is not supported",
        ),
        ("{port: 5280, module: ejabberd_http, tls: true}", "listen[0].certfile", "required"),
        (
            "{port: 5280, module: ejabberd_http, certfile: a.pem}",
            "listen[0].certfile",
            "only used with tls",
        ),
        ("{port: 5280, module: ejabberd_http, tls: 'yes'}", "listen[0].tls", "true or false"),
        (
            "{port: 5280, module: ejabberd_xmlrpc, request_handlers: {/x: ejabberd_xmlrpc}}",
            "listen[0].request_handlers",
            "only ejabberd_http",
        ),
        (
            "{port: 5280, module: ejabberd_http, request_handlers: {api: mod_http_api}}",
            "listen[0].request_handlers",
            "must start with '/'",
        ),
        (
            "{port: 5280, module: ejabberd_http, request_handlers: {/bosh: mod_bosh}}",
            "listen[0].request_handlers",
            "handler 'mod_bosh' is not served",
        ),
        (
            "{port: 5280, module: ejabberd_http, api_profile: '22.10'}",
            "listen[0].api_profile",
            "expected one of 24.12, 23.01",
        ),
        (
            "{port: 5280, module: ejabberd_http, custom_headers: {'X-A': \"a\\nb\"}}",
            "listen[0].custom_headers.X-A",
            "line breaks",
        ),
    ],
)
def test_listener_errors(listener: str, path: str, message: str) -> None:
    """Each listener problem is reported at its key path."""
    err = error(f"{MINIMAL}listen:\n  - {listener}\n")
    assert err.path == path
    assert message in err.message


def test_unknown_handler_is_named() -> None:
    """An unknown request handler is named, at the listener's request_handlers."""
    err = error(
        f"{MINIMAL}listen:\n"
        "  - {port: 5280, module: ejabberd_http}\n"
        "  - {port: 5281, module: ejabberd_http, request_handlers: {/foo: mod_foo}}\n"
    )
    assert str(err).startswith("listen[1].request_handlers: unknown handler 'mod_foo'")


def test_same_address_twice_is_refused() -> None:
    """Two listeners cannot share an address and port."""
    err = error(
        f"{MINIMAL}listen:\n"
        "  - {port: 5280, module: ejabberd_http}\n"
        "  - {port: 5280, module: ejabberd_xmlrpc}\n"
    )
    assert err.path == "listen[1].port"
    assert "listen[0]" in err.message


@given(
    port=st.integers(min_value=1, max_value=65535),
    ip=st.one_of(st.ip_addresses(v=4), st.ip_addresses(v=6)),
)
def test_endpoint_strings_parse_back(
    port: int, ip: ipaddress.IPv4Address | ipaddress.IPv6Address
) -> None:
    """Twisted reads every listener endpoint string back as the same port and interface."""
    listener = ListenerConfig(index=0, port=port, ip=str(ip))
    endpoint = serverFromString(MemoryReactor(), listener.endpoint())
    assert endpoint._port == port
    assert endpoint._interface == str(ip)


# --- trusted_proxies ------------------------------------------------------


def test_trusted_proxies_list() -> None:
    """``trusted_proxies`` lists addresses and networks, as in ejabberd; host bits may be set."""
    cfg = config(f'{MINIMAL}trusted_proxies: ["10.1.2.3/8", "::1", 192.0.2.1]\n')
    assert cfg.trusted_proxies == (
        ipaddress.ip_network("10.0.0.0/8"),
        ipaddress.ip_network("::1/128"),
        ipaddress.ip_network("192.0.2.1/32"),
    )
    assert cfg.warnings == ()
    assert config(f"{MINIMAL}trusted_proxies: []\n").trusted_proxies == ()


def test_trusted_proxies_all_trusts_every_peer_and_warns() -> None:
    """``trusted_proxies: all`` trusts every IPv4 and IPv6 peer, with a warning that it does."""
    cfg = config(f"{MINIMAL}trusted_proxies: all\n")
    assert cfg.trusted_proxies == (
        ipaddress.ip_network("0.0.0.0/0"),
        ipaddress.ip_network("::/0"),
    )
    (warning,) = cfg.warnings
    assert warning.startswith("trusted_proxies: every peer is trusted")
    (listed,) = config(f'{MINIMAL}trusted_proxies: ["::/0"]\n').warnings
    assert listed == warning


@pytest.mark.parametrize(
    ("value", "path", "message"),
    [
        ("everyone", "trusted_proxies", "expected 'all' or a list of addresses or networks"),
        ("{proxy: 10.0.0.1}", "trusted_proxies", "got a mapping"),
        ("[10.0.0.1, nowhere]", "trusted_proxies[1]", "invalid IP address or network"),
    ],
)
def test_trusted_proxies_errors(value: str, path: str, message: str) -> None:
    """A bad ``trusted_proxies`` value is refused with its key path."""
    err = error(f"{MINIMAL}trusted_proxies: {value}\n")
    assert err.path == path
    assert message in err.message


# --- modules --------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "version"),
    [("0", 0), ("3", 3), ('"24.06"', 2), ('"23.10"', 0), ('"24.02"', 1), ("24.06", 2)],
)
def test_default_version(value: str, version: int) -> None:
    """``default_version`` takes a number or a release string and stores the number."""
    cfg = config(f"{MINIMAL}modules:\n  mod_http_api: {{default_version: {value}}}\n")
    assert cfg.modules.mod_http_api is not None
    assert cfg.modules.mod_http_api.default_version == version


def test_unquoted_ambiguous_release_is_refused() -> None:
    """YAML reads 24.10 as 24.1; rather than guess, the loader asks for quotes."""
    err = error(f"{MINIMAL}modules:\n  mod_http_api: {{default_version: 24.10}}\n")
    assert err.path == "modules.mod_http_api.default_version"
    assert "quoted" in err.message


def test_mod_rest_options() -> None:
    """mod_rest options become networks, JIDs, stanza types and access commands."""
    cfg = config(
        f"""\
        {MINIMAL}
        modules:
          mod_rest:
            allowed_ips: ["10.0.0.0/8", "::1"]
            allowed_destinations: [Nolan@LocalHost]
            allowed_stanza_types: [message, iq]
            access_commands:
              configure:
                commands: [registered_users, "connected-users"]
                argument_restrictions: {{host: localhost}}
              everyone:
                commands: all
        """
    )
    rest = cfg.modules.mod_rest
    assert rest is not None
    assert rest.allowed_ips == (
        ipaddress.ip_network("10.0.0.0/8"),
        ipaddress.ip_network("::1/128"),
    )
    assert rest.allowed_destinations == ("nolan@localhost",)
    assert rest.allowed_stanza_types == frozenset({"message", "iq"})
    configure, everyone = rest.access_commands
    assert configure.access == "configure"
    assert configure.commands == frozenset({"registered_users", "connected_users"})
    assert dict(configure.argument_restrictions) == {"host": "localhost"}
    assert everyone.commands is None
    assert cfg.warnings == (
        "modules.mod_rest.access_commands: access rule 'configure' is not defined, "
        "so it denies everyone",
        "modules.mod_rest.access_commands: access rule 'everyone' is not defined, "
        "so it denies everyone",
    )


@pytest.mark.parametrize("value", ["all", "[]"])
def test_mod_rest_allowed_ips_all_or_empty_means_everyone(value: str) -> None:
    """``allowed_ips: all`` and an empty list both let every address in."""
    cfg = config(f"{MINIMAL}modules:\n  mod_rest: {{allowed_ips: {value}}}\n")
    assert cfg.modules.mod_rest is not None
    assert cfg.modules.mod_rest.allowed_ips is None
    assert ip_allowed(cfg.modules.mod_rest, ipaddress.ip_address("192.0.2.1"))


@pytest.mark.parametrize(
    ("modules", "path", "message"),
    [
        ("{mod_foo: {}}", "modules.mod_foo", "unknown module 'mod_foo'"),
        ("{mod_http_api: {admin_ip_access: x}}", "modules.mod_http_api.admin_ip_access", "unknown"),
        (
            "{mod_http_api: {default_version: -1}}",
            "modules.mod_http_api.default_version",
            "negative",
        ),
        (
            "{mod_rest: {allowed_stanza_types: [chat]}}",
            "modules.mod_rest.allowed_stanza_types[0]",
            "expected one of iq, message, presence",
        ),
        ("{mod_rest: {allowed_ips: [nowhere]}}", "modules.mod_rest.allowed_ips[0]", "invalid IP"),
        (
            "{mod_rest: {allowed_destinations: ['a@b@c']}}",
            "modules.mod_rest.allowed_destinations[0]",
            "invalid JID",
        ),
        (
            "{mod_rest: {access_commands: {configure: {cmds: all}}}}",
            "modules.mod_rest.access_commands.configure.cmds",
            "unknown option",
        ),
    ],
)
def test_module_errors(modules: str, path: str, message: str) -> None:
    """Module problems are reported at their key path."""
    err = error(f"{MINIMAL}modules: {modules}\n")
    assert err.path == path
    assert message in err.message


def test_other_ejabberd_modules_are_ignored_but_recorded() -> None:
    """Real ejabberd modules load without effect and are listed for the log."""
    cfg = config(f"{MINIMAL}modules:\n  mod_muc: {{host: conf.@HOST@}}\n  mod_ping: {{}}\n")
    assert cfg.ignored_modules == ("mod_muc", "mod_ping")


def test_handler_without_its_module_warns() -> None:
    """A handler whose module is not configured works with defaults, with a warning."""
    cfg = config(
        f"{MINIMAL}listen:\n"
        "  - {port: 5280, module: ejabberd_http, request_handlers: {/rest: mod_rest}}\n"
    )
    assert cfg.warnings == (
        "listen[0].request_handlers: /rest uses mod_rest, which is not listed in modules; "
        "its options take their defaults",
    )


# --- gateway --------------------------------------------------------------


def test_gateway_section() -> None:
    """Every gateway option is read into its typed field."""
    cfg = config(
        """
        hosts: [example.org]
        gateway:
          api_profile: "23.01"
          backend: ejabberd
          store: "postgresql://gw:pw@db/gateway"
          upstream: {url: "https://xmpp.example.org:5443/api", user: admin@example.org,
                     password: pw, timeout: 5}
          component: {jid: Rest.Example.org, secret: s3cret, host: "::1", port: 15347,
                      tls: true, from: reject, max_queued: 0}
          ctl_socket: /run/gw.sock
          limits: {max_body_bytes: 10, max_xml_depth: 8, request_timeout: 1.5}
        """
    )
    gw = cfg.gateway
    assert gw.api_profile == "23.01"
    assert gw.backend == "ejabberd"
    assert gw.store == "postgresql://gw:pw@db/gateway"
    assert gw.upstream is not None
    assert gw.upstream.url == "https://xmpp.example.org:5443/api"
    assert (gw.upstream.user, gw.upstream.password, gw.upstream.timeout) == (
        "admin@example.org",
        "pw",
        5.0,
    )
    assert gw.component == ComponentConfig(
        jid="rest.example.org",
        secret="s3cret",
        host="::1",
        port=15347,
        tls=True,
        from_policy="reject",
        max_queued=0,
    )
    assert gw.component.endpoint() == r"tls:host=\:\:1:port=15347"
    assert gw.ctl_socket == "/run/gw.sock"
    assert (gw.limits.max_body_bytes, gw.limits.max_xml_depth, gw.limits.request_timeout) == (
        10,
        8,
        1.5,
    )


def test_password_digests() -> None:
    """gateway.password_digests lists hash methods in order; absent or empty means none."""
    assert config(MINIMAL).gateway.password_digests == ()
    assert config(f"{MINIMAL}gateway: {{password_digests: []}}\n").gateway.password_digests == ()
    chosen = config(f"{MINIMAL}gateway: {{password_digests: [sha, md5, sha512]}}\n")
    assert chosen.gateway.password_digests == ("sha", "md5", "sha512")
    assert load_config(str(DEFAULT_CONF)).gateway.password_digests == ()


@pytest.mark.parametrize(
    ("value", "path", "message"),
    [
        ("sha", "gateway.password_digests", "expected a list of hash methods"),
        ("[sha1]", "gateway.password_digests[0]", "expected one of md5, sha, sha224"),
        ("[md5, sha, md5]", "gateway.password_digests[2]", "listed twice"),
        ("[{sha: 1}]", "gateway.password_digests[0]", "expected one of"),
    ],
)
def test_password_digests_errors(value: str, path: str, message: str) -> None:
    """Anything but a list of known, distinct methods is refused at its path."""
    err = error(f"{MINIMAL}gateway: {{password_digests: {value}}}\n")
    assert err.path == path
    assert message in err.message


def test_document_is_kept_for_dumps() -> None:
    """The YAML document read is kept beside the typed configuration (not compared)."""
    cfg = config(f"{MINIMAL}loglevel: 4\n")
    assert dict(cfg.document) == {"hosts": ["localhost"], "loglevel": 4}
    assert cfg == config("hosts: [localhost]\nloglevel: info\n")


@pytest.mark.parametrize("store", ["sqlite:var/x.db", "sqlite::memory:", "postgres://h/db"])
def test_store_locations(store: str) -> None:
    """SQLite paths, in-memory SQLite and PostgreSQL URLs are accepted."""
    assert config(f"{MINIMAL}gateway: {{store: '{store}'}}\n").gateway.store == store


@pytest.mark.parametrize(
    ("gateway", "path", "message"),
    [
        (
            "{backend: ejabberd}",
            "gateway.upstream",
            "required: the ejabberd backend is used (backend: ejabberd, auth: upstream)",
        ),
        (
            "{upstream: {url: 'http://h/api'}}",
            "gateway.upstream",
            "only used when the ejabberd backend is",
        ),
        ("{backend: remote}", "gateway.backend", "expected one of embedded, ejabberd"),
        ("{store: 'mysql://h/db'}", "gateway.store", "unsupported store"),
        ("{store: 'sqlite:'}", "gateway.store", "unsupported store"),
        ("{api_profile: '21.01'}", "gateway.api_profile", "expected one of"),
        ("{colour: blue}", "gateway.colour", "unknown option 'colour'"),
        ("{component: {jid: c.x}}", "gateway.component.secret", "required"),
        ("{component: {secret: s}}", "gateway.component.jid", "required"),
        ("{component: {jid: localhost, secret: s}}", "gateway.component.jid", "one of hosts"),
        ("{component: {jid: c.x, secret: s, from: keep}}", "gateway.component.from", "expected"),
        ("{limits: {max_body_bytes: 0}}", "gateway.limits.max_body_bytes", "at least 1"),
        ("{limits: {request_timeout: -1}}", "gateway.limits.request_timeout", "greater than 0"),
        ("{limits: {max_connections: 0}}", "gateway.limits.max_connections", "at least 1"),
        ("{limits: {receive_timeout: 0}}", "gateway.limits.receive_timeout", "greater than 0"),
        ("{limits: {shutdown_grace: x}}", "gateway.limits.shutdown_grace", "expected a number"),
        (
            "{limits: {credential_cache_ttl: -1}}",
            "gateway.limits.credential_cache_ttl",
            "must be 0 or more",
        ),
        ("{brute_force: {max_failures: 0}}", "gateway.brute_force.max_failures", "at least 1"),
        ("{brute_force: {ban_time: -5}}", "gateway.brute_force.ban_time", "greater than 0"),
        ("{brute_force: {exempt: '127.0.0.1'}}", "gateway.brute_force", "expected a list"),
        ("{brute_force: {exempt: [nonsense]}}", "gateway.brute_force.exempt[0]", ""),
        ("{brute_force: {lockout: 1}}", "gateway.brute_force.lockout", "unknown option"),
        (
            "{backend: ejabberd, upstream: {url: 'ftp://h/api'}}",
            "gateway.upstream.url",
            "http:// or https://",
        ),
        (
            "{backend: ejabberd, upstream: {url: 'http://h/api', user: admin@h}}",
            "gateway.upstream.password",
            "go together",
        ),
        (
            "{backend: ejabberd, upstream: {url: 'http://h/api', user: admin, password: p}}",
            "gateway.upstream.user",
            "full JID",
        ),
    ],
)
def test_gateway_errors(gateway: str, path: str, message: str) -> None:
    """Gateway-section problems are reported at their key path."""
    err = error(f"{MINIMAL}gateway: {gateway}\n")
    assert err.path == path
    assert message in err.message


# --- files ----------------------------------------------------------------


def test_load_config_names_a_missing_file(tmp_path: Path) -> None:
    """A missing file is a ConfigError naming the file."""
    missing = tmp_path / "nope.yml"
    with pytest.raises(ConfigError) as info:
        load_config(str(missing))
    assert str(missing) in str(info.value)


def test_find_config_prefers_the_explicit_path(tmp_path: Path) -> None:
    """An explicit path is used when it exists and refused when it does not."""
    path = tmp_path / "gw.yml"
    path.write_text(MINIMAL, encoding="utf-8")
    assert find_config(str(path)) == str(path)
    with pytest.raises(ConfigError) as info:
        find_config(str(tmp_path / "other.yml"))
    assert "other.yml" in str(info.value)


def test_find_config_looks_in_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without a path, conf/gateway.yml under the working directory is used."""
    (tmp_path / "conf").mkdir()
    (tmp_path / "conf" / "gateway.yml").write_text(MINIMAL, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert find_config(None) == "conf/gateway.yml"


def test_find_config_without_any_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """When no candidate exists the error lists where it looked."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(
        load_module, "DEFAULT_PATHS", ("conf/gateway.yml", str(tmp_path / "etc.yml"))
    )
    with pytest.raises(ConfigError) as info:
        find_config(None)
    assert "conf/gateway.yml" in info.value.message
    assert "--config" in info.value.message


def test_protective_defaults() -> None:
    """Without a ``gateway`` section the protective limits take safe defaults."""
    gw = config(MINIMAL).gateway
    assert gw.files_dir == "var/files"
    assert gw.limits.max_password_bytes == 1024
    assert (gw.limits.receive_timeout, gw.limits.idle_timeout) == (30.0, 120.0)
    assert (gw.limits.max_connections, gw.limits.shutdown_grace) == (1024, 10.0)
    assert gw.limits.credential_cache_ttl == 10.0
    assert (gw.brute_force.max_failures, gw.brute_force.window) == (20, 60.0)
    assert gw.brute_force.ban_time == 300.0
    assert gw.brute_force.exempt == ()


def test_protective_settings_are_read() -> None:
    """files_dir, the connection limits and brute_force take the configured values."""
    gw = parse_config(
        MINIMAL
        + textwrap.dedent("""\
        gateway:
          files_dir: /srv/gw-files
          limits: {max_password_bytes: 64, receive_timeout: 2.5, idle_timeout: 9,
                   max_connections: 7, shutdown_grace: 0, credential_cache_ttl: 0}
          brute_force: {max_failures: 3, window: 10, ban_time: 30, exempt: ["10.0.0.0/8"]}
        """)
    ).gateway
    assert gw.files_dir == "/srv/gw-files"
    assert (gw.limits.max_password_bytes, gw.limits.receive_timeout) == (64, 2.5)
    assert (gw.limits.idle_timeout, gw.limits.max_connections) == (9.0, 7)
    assert gw.limits.shutdown_grace == 0.0
    assert gw.limits.credential_cache_ttl == 0.0
    assert (gw.brute_force.max_failures, gw.brute_force.window) == (3, 10.0)
    assert gw.brute_force.ban_time == 30.0
    assert gw.brute_force.exempt == (ipaddress.ip_network("10.0.0.0/8"),)
