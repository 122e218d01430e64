"""The gateway keys that choose backends: backend, auth, routes, stanzas, workers, upstream …"""

from __future__ import annotations

import pytest

from gateway.config.dump import dump_yaml
from gateway.config.load import parse_config
from gateway.config.model import UpstreamTls, XmppBackendConfig
from tests.config.test_load import MINIMAL, config, error

COMPONENT = "component: {jid: admin.localhost, secret: s}"


def test_defaults_follow_the_backend() -> None:
    """auth defaults to the backend holding the accounts; workers to auto; no routes."""
    gw = config(MINIMAL).gateway
    assert (gw.backend, gw.auth, dict(gw.routes), gw.stanzas, gw.workers) == (
        "embedded",
        "embedded",
        {},
        "component",
        None,
    )
    gw = config(
        f"{MINIMAL}gateway: {{backend: ejabberd, upstream: {{url: 'http://h/api'}}}}\n"
    ).gateway
    assert gw.auth == "upstream"
    gw = config(f"{MINIMAL}gateway: {{backend: xmpp, {COMPONENT}}}\n").gateway
    assert (gw.auth, gw.xmpp, gw.workers) == ("xmpp", XmppBackendConfig(), 1)


def test_upstream_in_full() -> None:
    """Nested auth, profile, limits and TLS options of the upstream are read."""
    gw = config(
        f"""{MINIMAL}gateway:
          backend: ejabberd
          workers: 3
          routes: {{"[tag:oauth]": embedded, register: ejabberd}}
          stanzas: upstream
          upstream:
            url: https://xmpp.example.org/api
            auth: {{token: abc}}
            api_profile: 23.01
            max_connections: 4
            max_queued: 0
            tls: {{ca: /etc/ca.pem, verify: false}}
        """
    ).gateway
    up = gw.upstream
    assert up is not None
    assert (up.token, up.user, up.api_profile, up.max_connections, up.max_queued) == (
        "abc",
        None,
        "23.01",
        4,
        0,
    )
    assert up.tls == UpstreamTls(ca="/etc/ca.pem", verify=False)
    assert dict(gw.routes) == {"[tag:oauth]": "embedded", "register": "ejabberd"}
    assert (gw.workers, gw.stanzas) == (3, "upstream")


def test_xmpp_options() -> None:
    """The xmpp backend's options are read; its host must be one of hosts."""
    gw = config(
        f"""{MINIMAL}gateway:
          backend: embedded
          routes: {{connected_users: xmpp}}
          {COMPONENT}
          xmpp: {{host: localhost, timeout: 2, max_in_flight: 3, c2s: "tcp:host=::1:port=5222",
                 c2s_tls: required, c2s_verify: false}}
        """
    ).gateway
    assert gw.xmpp == XmppBackendConfig(
        host="localhost",
        timeout=2.0,
        max_in_flight=3,
        c2s="tcp:host=::1:port=5222",
        c2s_tls="required",
        c2s_verify=False,
    )


@pytest.mark.parametrize(
    ("gateway", "path", "message"),
    [
        ("{auth: upstream}", "gateway.upstream", "required: the ejabberd backend is used (auth"),
        ("{routes: {register: ejabberd}}", "gateway.upstream", "routes: register"),
        ("{stanzas: upstream}", "gateway.upstream", "stanzas: upstream"),
        ("{backend: xmpp}", "gateway.component", "over the component link"),
        ("{routes: {register: xmpp}}", "gateway.component", "routes: register"),
        ("{xmpp: {timeout: 1}}", "gateway.xmpp", "only used when the xmpp backend"),
        ("{routes: {'Register!': embedded}}", 'gateway.routes."Register!"', "command name or"),
        ("{routes: {register: other}}", "gateway.routes.register", "expected one of"),
        ("{workers: 0}", "gateway.workers", "at least 1"),
        (f"{{backend: xmpp, workers: 2, {COMPONENT}}}", "gateway.workers", "set 1 or auto"),
        ("{workers: many}", "gateway.workers", "expected an integer"),
        ("{auth: ldap}", "gateway.auth", "expected one of"),
        (
            "{backend: ejabberd, upstream: {url: 'http://h/api', auth: {user: a@h}}}",
            "gateway.upstream.auth.password",
            "go together",
        ),
        (
            "{backend: ejabberd, upstream: {url: 'http://h/api', auth: {token: t}, user: a@h}}",
            "gateway.upstream.user",
            "in auth only",
        ),
        (
            "{backend: ejabberd, upstream: {url: 'http://h/api', api_profile: '22.05'}}",
            "gateway.upstream.api_profile",
            "expected one of",
        ),
        (
            f"{{backend: xmpp, {COMPONENT}, xmpp: {{host: other.org}}}}",
            "gateway.xmpp.host",
            "not one of hosts",
        ),
    ],
)
def test_backend_errors(gateway: str, path: str, message: str) -> None:
    """Each inconsistent backend choice is reported at the key to fix."""
    err = error(f"{MINIMAL}gateway: {gateway}\n")
    assert err.path == path
    assert message in err.message


@pytest.mark.parametrize(
    "gateway",
    [
        "{backend: ejabberd, routes: {'[tag:oauth]': embedded}, stanzas: upstream, workers: 2,"
        " upstream: {url: 'https://h/api', auth: {user: a@h, password: p}, api_profile: '23.01',"
        " tls: {ca: /ca.pem, verify: false}}}",
        f"{{backend: xmpp, {COMPONENT}, xmpp: {{timeout: 3, c2s_tls: never}}}}",
    ],
)
def test_dump_reads_back_the_same(gateway: str) -> None:
    """dump_config's YAML of the backend keys loads into the same configuration."""
    loaded = config(f"{MINIMAL}gateway: {gateway}\n")
    again = parse_config(dump_yaml(loaded))
    assert again.gateway == loaded.gateway


def test_access_log_can_be_turned_off() -> None:
    """gateway.access_log is on by default and read as a boolean."""
    assert config(MINIMAL).gateway.access_log is True
    assert config(f"{MINIMAL}gateway: {{access_log: false}}\n").gateway.access_log is False
    assert error(f"{MINIMAL}gateway: {{access_log: sometimes}}\n").path == "gateway.access_log"
