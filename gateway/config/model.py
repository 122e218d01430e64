"""The validated configuration: frozen, typed, one class per section.

:mod:`gateway.config.load` builds these from YAML; nothing here reads files.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from twisted.internet.endpoints import quoteStringArgument

from gateway.engine.acl import AccessRule, Matcher, Network
from gateway.engine.names import CURRENT_PROFILE, EJABBERD_XMLRPC
from gateway.engine.permissions import ApiPermission

__all__ = [
    "DEFAULT_OAUTH_EXPIRE",
    "KNOWN_MODULES",
    "AccessCommand",
    "BruteForceConfig",
    "ComponentConfig",
    "Config",
    "GatewaySection",
    "HttpApiOptions",
    "LimitsConfig",
    "ListenerConfig",
    "ModulesConfig",
    "RestOptions",
    "UpstreamConfig",
    "UpstreamTls",
    "XmppBackendConfig",
]

DEFAULT_OAUTH_EXPIRE = 4294967

_EMPTY: Mapping[str, Any] = MappingProxyType({})

#: ejabberd modules the gateway accepts in ``modules`` and ignores, so that a
#: pasted ``modules`` section loads; anything else there is a typo or foreign
KNOWN_MODULES: frozenset[str] = frozenset(
    {
        "mod_adhoc",
        "mod_admin_extra",
        "mod_admin_update_sql",
        "mod_announce",
        "mod_antispam",
        "mod_auth_fast",
        "mod_avatar",
        "mod_block_strangers",
        "mod_blocking",
        "mod_bosh",
        "mod_caps",
        "mod_carboncopy",
        "mod_client_state",
        "mod_configure",
        "mod_conversejs",
        "mod_delegation",
        "mod_disco",
        "mod_fail2ban",
        "mod_host_meta",
        "mod_http_fileserver",
        "mod_http_upload",
        "mod_http_upload_quota",
        "mod_last",
        "mod_legacy_auth",
        "mod_mam",
        "mod_matrix_gw",
        "mod_metrics",
        "mod_mix",
        "mod_mix_pam",
        "mod_mqtt",
        "mod_mqtt_bridge",
        "mod_muc",
        "mod_muc_admin",
        "mod_muc_log",
        "mod_muc_occupantid",
        "mod_muc_rtbl",
        "mod_multicast",
        "mod_offline",
        "mod_ping",
        "mod_pres_counter",
        "mod_privacy",
        "mod_private",
        "mod_privilege",
        "mod_proxy65",
        "mod_pubsub",
        "mod_push",
        "mod_push_keepalive",
        "mod_register",
        "mod_register_web",
        "mod_roster",
        "mod_s2s_bidi",
        "mod_s2s_dialback",
        "mod_scram_upgrade",
        "mod_service_log",
        "mod_shared_roster",
        "mod_shared_roster_ldap",
        "mod_sic",
        "mod_sip",
        "mod_stats",
        "mod_stream_mgmt",
        "mod_stun_disco",
        "mod_time",
        "mod_vcard",
        "mod_vcard_ldap",
        "mod_vcard_xupdate",
        "mod_version",
    }
)


def _host_port(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


@dataclass(frozen=True, slots=True)
class ListenerConfig:
    """One ``listen`` entry the gateway serves."""

    #: position in the ``listen`` list, for messages
    index: int
    port: int
    ip: str = "0.0.0.0"
    #: ``ejabberd_http`` or ``ejabberd_xmlrpc`` (the standalone XML-RPC listener)
    module: str = "ejabberd_http"
    tls: bool = False
    #: PEM file holding the private key and the certificate chain
    certfile: str | None = None
    #: (path prefix, handler) pairs: handler is mod_http_api, mod_rest, ejabberd_xmlrpc
    #: or ejabberd_oauth
    request_handlers: tuple[tuple[str, str], ...] = ()
    #: the API profile this listener speaks, ``None`` for the gateway's default
    api_profile: str | None = None
    #: matched by ``api_permissions`` ``from: [{tag: ...}]``
    tag: str | None = None
    #: extra headers on every HTTP reply
    custom_headers: tuple[tuple[str, str], ...] = ()

    def endpoint(self) -> str:
        """A Twisted server endpoint string for this listener."""
        interface = quoteStringArgument(self.ip)
        if self.tls:
            assert self.certfile is not None
            pem = quoteStringArgument(self.certfile)
            return f"ssl:{self.port}:interface={interface}:privateKey={pem}:certKey={pem}"
        return f"tcp:{self.port}:interface={interface}"

    def describe(self) -> str:
        """A one-line summary for logs."""
        scheme = "https" if self.tls else "http"
        if self.module == EJABBERD_XMLRPC:
            scheme = "xmlrpcs" if self.tls else "xmlrpc"
        text = f"{scheme} {_host_port(self.ip, self.port)}"
        if self.request_handlers:
            text += " (" + ", ".join(f"{p}: {h}" for p, h in self.request_handlers) + ")"
        return text


@dataclass(frozen=True, slots=True)
class HttpApiOptions:
    """``modules.mod_http_api``."""

    #: API version used when a URL names none; ``None`` means the profile's default
    #: (the newest for 24.12, 0 for 23.01)
    default_version: int | None = None


@dataclass(frozen=True, slots=True)
class AccessCommand:
    """One ``access_commands`` entry: callers allowed by ``access`` may run ``commands``."""

    access: str
    #: ``None`` means every command
    commands: frozenset[str] | None
    #: argument name -> the only value callers may pass
    argument_restrictions: Mapping[str, Any] = field(default_factory=lambda: _EMPTY)


@dataclass(frozen=True, slots=True)
class RestOptions:
    """``modules.mod_rest``; ``None`` in a field means "all"."""

    allowed_ips: tuple[Network, ...] | None = None
    allowed_destinations: tuple[str, ...] | None = None
    allowed_stanza_types: frozenset[str] | None = None
    access_commands: tuple[AccessCommand, ...] = ()


@dataclass(frozen=True, slots=True)
class ModulesConfig:
    """The modules the gateway implements; ``None`` when not configured."""

    mod_http_api: HttpApiOptions | None = None
    mod_rest: RestOptions | None = None


@dataclass(frozen=True, slots=True)
class UpstreamTls:
    """How an ``https://`` upstream's certificate is checked."""

    #: a PEM file of the certificate authorities to trust instead of the system's
    ca: str | None = None
    #: ``False`` accepts any certificate (loudly warned about at start-up)
    verify: bool = True


@dataclass(frozen=True, slots=True)
class UpstreamConfig:
    """How to reach a real ejabberd's ``/api`` (the ``ejabberd`` backend)."""

    url: str
    #: the gateway's own account at the upstream, a full JID (with ``password``)
    user: str | None = None
    password: str | None = None
    #: an OAuth token of the gateway's account (instead of ``user``/``password``)
    token: str | None = None
    #: ``auto`` asks the upstream's ``status`` for its release
    api_profile: str = "auto"
    #: seconds one forwarded request may take
    timeout: float = 30.0
    #: requests in flight to the upstream at once
    max_connections: int = 16
    #: requests waiting for a free slot; more are refused at once
    max_queued: int = 256
    tls: UpstreamTls = UpstreamTls()


@dataclass(frozen=True, slots=True)
class XmppBackendConfig:
    """Options of the ``xmpp`` backend (the link itself is ``gateway.component``)."""

    #: the host administered; ``None`` is the first of ``hosts``
    host: str | None = None
    #: seconds one XMPP request may take
    timeout: float = 15.0
    max_in_flight: int = 32
    #: where ``gateway.auth: xmpp`` logs in to check a password (client endpoint string)
    c2s: str = "tcp:host=127.0.0.1:port=5222"
    #: STARTTLS: ``if_offered``, ``required`` or ``never``
    c2s_tls: str = "if_offered"
    c2s_verify: bool = True
    c2s_ca: str | None = None


@dataclass(frozen=True, slots=True)
class ComponentConfig:
    """The XEP-0114 component link used to send stanzas."""

    jid: str
    secret: str
    host: str = "127.0.0.1"
    port: int = 5347
    tls: bool = False
    #: what to do with a stanza whose ``from`` is outside the component's domain:
    #: ``pass`` it unchanged, ``rewrite`` it, or ``reject`` the request
    from_policy: str = "rewrite"
    #: stanzas kept while the link is down
    max_queued: int = 10000

    def endpoint(self) -> str:
        """A Twisted client endpoint string for the link."""
        scheme = "tls" if self.tls else "tcp"
        return f"{scheme}:host={quoteStringArgument(self.host)}:port={self.port}"

    def where(self) -> str:
        """The server's address as logs and ``status`` name it."""
        return f"{self.host}:{self.port}" + (" (TLS)" if self.tls else "")


@dataclass(frozen=True, slots=True)
class LimitsConfig:
    """Protective limits on requests."""

    max_body_bytes: int = 1048576
    max_xml_depth: int = 64
    request_timeout: float = 60.0
    #: longest password accepted anywhere, in UTF-8 bytes (checked before any preparation)
    max_password_bytes: int = 1024
    #: seconds a client has to send a whole request (head and body) once it starts one
    receive_timeout: float = 30.0
    #: seconds an open connection may stay silent between requests
    idle_timeout: float = 120.0
    #: open connections per listener; more are closed at once
    max_connections: int = 1024
    #: seconds in-flight requests get to finish after SIGTERM
    shutdown_grace: float = 10.0
    #: seconds a verified password is remembered (by salted digest); 0 turns that off
    credential_cache_ttl: float = 10.0


@dataclass(frozen=True, slots=True)
class BruteForceConfig:
    """Limits on failed authentications, like ejabberd's mod_fail2ban for the API."""

    #: failures from one IP within ``window`` seconds that get it banned
    max_failures: int = 20
    window: float = 60.0
    #: seconds a banned IP is refused
    ban_time: float = 300.0
    #: addresses or networks never banned (none by default, loopback included)
    exempt: tuple[Network, ...] = ()


@dataclass(frozen=True, slots=True)
class GatewaySection:
    """The ``gateway`` section: everything ejabberd's config has no word for."""

    api_profile: str = CURRENT_PROFILE
    backend: str = "embedded"
    #: who checks callers' passwords: ``embedded``, ``upstream`` or ``xmpp``
    auth: str = "embedded"
    #: command name or ``[tag:x]`` → the backend that runs it (others go to ``backend``)
    routes: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    #: how stanzas leave: over the ``component`` link or the ``upstream``'s send_stanza
    stanzas: str = "component"
    #: processes serving requests; ``None`` is one per CPU
    workers: int | None = None
    store: str = "sqlite:var/gateway.sqlite3"
    upstream: UpstreamConfig | None = None
    xmpp: XmppBackendConfig | None = None
    component: ComponentConfig | None = None
    ctl_socket: str = "var/gatewayctl.sock"
    limits: LimitsConfig = LimitsConfig()
    brute_force: BruteForceConfig = BruteForceConfig()
    #: the only directory commands may read or write files in
    files_dir: str = "var/files"
    #: hash methods (``md5``, ``sha`` …) whose unsalted password digests the
    #: embedded store keeps for ``check_password_hash``; weaker than SCRAM alone
    password_digests: tuple[str, ...] = ()
    #: how the daemon writes its log: ``text`` lines, or ``json`` (one object per line)
    log_format: str = "text"
    #: a line per HTTP request in the log (written in batches)
    access_log: bool = True


@dataclass(frozen=True, slots=True)
class Config:
    """The whole configuration."""

    hosts: tuple[str, ...]
    loglevel: str = "info"
    acl: Mapping[str, tuple[Matcher, ...]] = field(default_factory=lambda: MappingProxyType({}))
    access_rules: Mapping[str, AccessRule] = field(default_factory=lambda: MappingProxyType({}))
    #: ``None`` means ejabberd's default rules
    api_permissions: tuple[ApiPermission, ...] | None = None
    oauth_expire: int = DEFAULT_OAUTH_EXPIRE
    listen: tuple[ListenerConfig, ...] = ()
    #: proxies whose ``X-Forwarded-For`` names the caller (``all`` is ``0.0.0.0/0`` and ``::/0``)
    trusted_proxies: tuple[Network, ...] = ()
    modules: ModulesConfig = ModulesConfig()
    gateway: GatewaySection = GatewaySection()
    #: ejabberd modules listed in ``modules`` that the gateway does not implement
    ignored_modules: tuple[str, ...] = ()
    #: the file it was read from
    source: str | None = None
    #: things worth logging that do not stop the daemon (e.g. undefined ACL names)
    warnings: tuple[str, ...] = ()
    #: the YAML document as read (for ``dump_config``); empty when built in code
    document: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}), compare=False)
