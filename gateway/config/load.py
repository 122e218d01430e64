"""Read the YAML configuration into :class:`~gateway.config.model.Config`.

Operators paste parts of their ``ejabberd.yml``: ``hosts``, ``loglevel``,
``acl``, ``access_rules``, ``api_permissions``, ``oauth_expire``, ``listen``,
``trusted_proxies`` and ``modules`` keep ejabberd's meaning, and the ``gateway`` section holds
the rest.  Every problem raises :class:`ConfigError` naming the key path;
nothing unknown is silently ignored, except ejabberd modules the gateway has
no use for, which are recorded in ``Config.ignored_modules``.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any, TypeVar

import yaml
from twisted.words.protocols.jabber.jid import JID, InvalidFormat

from gateway.config.acl_parse import parse_access_rules, parse_acls, parse_network
from gateway.config.backends_parse import parse_backends
from gateway.config.errors import ConfigError
from gateway.config.errors import describe_value as _show
from gateway.config.model import (
    DEFAULT_OAUTH_EXPIRE,
    KNOWN_MODULES,
    AccessCommand,
    BruteForceConfig,
    ComponentConfig,
    Config,
    GatewaySection,
    HttpApiOptions,
    LimitsConfig,
    ListenerConfig,
    ModulesConfig,
    RestOptions,
)
from gateway.config.paths import key_path
from gateway.config.permissions_parse import parse_api_permissions
from gateway.config.scalars import boolean as _bool
from gateway.config.scalars import choice as _choice
from gateway.config.scalars import domain as _domain
from gateway.config.scalars import integer as _int
from gateway.config.scalars import known_keys as _known_keys
from gateway.config.scalars import mapping as _mapping
from gateway.config.scalars import number as _float
from gateway.config.scalars import optional as _optional
from gateway.config.scalars import text as _str
from gateway.engine.acl import AccessRule, Network, acl_names
from gateway.engine.names import (
    CURRENT_PROFILE,
    EJABBERD_OAUTH,
    EJABBERD_XMLRPC,
    MOD_HTTP_API,
    MOD_REST,
    PROFILES,
)
from gateway.engine.permissions import ApiPermission, admits_anyone, network_frontends
from gateway.engine.versions import version_from_release
from gateway.logs import parse_level
from gateway.stanza import FROM_POLICIES, STANZA_KINDS

__all__ = [
    "API_PROFILES",
    "DEFAULT_PATHS",
    "HANDLERS",
    "PASSWORD_DIGESTS",
    "find_config",
    "load_config",
    "parse_config",
]

#: where :func:`find_config` looks when no path is given, in order
DEFAULT_PATHS: tuple[str, ...] = ("conf/gateway.yml", "/etc/xmpp-gateway/gateway.yml")
API_PROFILES: tuple[str, ...] = PROFILES
HANDLERS: tuple[str, ...] = (MOD_HTTP_API, MOD_REST, EJABBERD_XMLRPC, EJABBERD_OAUTH)
LISTENER_MODULES: tuple[str, ...] = ("ejabberd_http", EJABBERD_XMLRPC)
#: ``gateway.log_format`` values
LOG_FORMATS = ("text", "json")
#: ``gateway.password_digests`` values: ejabberd's names of the hash methods
PASSWORD_DIGESTS: tuple[str, ...] = ("md5", "sha", "sha224", "sha256", "sha384", "sha512")

# request handlers of ejabberd's HTTP listener the gateway does not serve
_OTHER_HANDLERS = frozenset(
    {
        "ejabberd_web_admin",
        "ejabberd_http_ws",
        "ejabberd_captcha",
        "mod_bosh",
        "mod_http_upload",
        "mod_http_fileserver",
        "mod_host_meta",
        "mod_conversejs",
        "mod_register_web",
        "mod_matrix_gw",
        "mod_mqtt",
    }
)

_TOP_LEVEL = (
    "hosts",
    "loglevel",
    "acl",
    "access_rules",
    "api_permissions",
    "oauth_expire",
    "listen",
    "trusted_proxies",
    "modules",
    "gateway",
)

T = TypeVar("T")


# --- files ----------------------------------------------------------------


def find_config(explicit: str | None) -> str:
    """The configuration file to read.

    ``explicit`` when given (it must exist), else ``conf/gateway.yml`` relative
    to the working directory, else ``/etc/xmpp-gateway/gateway.yml``.
    """
    if explicit:
        if not os.path.isfile(explicit):
            raise ConfigError(f"configuration file {explicit} does not exist")
        return explicit
    for candidate in DEFAULT_PATHS:
        if os.path.isfile(candidate):
            return candidate
    raise ConfigError(
        "no configuration file found: tried " + ", ".join(DEFAULT_PATHS) + "; pass --config PATH"
    )


def load_config(path: str) -> Config:
    """Read and validate the file at ``path``."""
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except OSError as e:
        raise ConfigError(f"cannot read configuration file {path}: {e.strerror or e}") from None
    except UnicodeDecodeError as e:
        raise ConfigError(f"configuration file {path} is not UTF-8: {e}") from None
    return parse_config(text, source=path)


class _Loader(yaml.SafeLoader):
    """``safe_load`` that refuses duplicate keys instead of keeping the last one."""


def _construct_mapping(loader: _Loader, node: yaml.MappingNode) -> dict[Any, Any]:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        if key_node.tag == "tag:yaml.org,2002:merge":
            continue
        key = loader.construct_object(key_node, deep=True)
        try:
            duplicate = key in seen
            seen.add(key)
        except TypeError:
            continue  # unhashable: construct_mapping reports it
        if duplicate:
            raise yaml.constructor.ConstructorError(
                "while reading a mapping",
                node.start_mark,
                f"found duplicate key {key!r}",
                key_node.start_mark,
            )
    return loader.construct_mapping(node, deep=True)


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def parse_config(text: str, source: str | None = None) -> Config:
    """Validate a configuration given as YAML text (``source`` names it in messages)."""
    try:
        data = yaml.load(text, Loader=_Loader)  # a SafeLoader subclass
    except yaml.YAMLError as e:
        where = f" in {source}" if source else ""
        raise ConfigError(f"invalid YAML{where}: {e}") from None
    if data is None:
        data = {}
    if not isinstance(data, Mapping):
        raise ConfigError("expected a mapping of options at the top level")
    for key in data:
        if key not in _TOP_LEVEL:
            raise ConfigError(
                f"unknown top-level key {key!r}; expected one of {', '.join(_TOP_LEVEL)}",
                str(key),
            )

    hosts = _hosts(data.get("hosts"))
    loglevel = _loglevel(data.get("loglevel", "info"))
    acls = parse_acls(data.get("acl"), "acl")
    access_rules = parse_access_rules(data.get("access_rules"), "access_rules")
    api_permissions = (
        parse_api_permissions(data["api_permissions"], "api_permissions")
        if "api_permissions" in data
        else None
    )
    oauth_expire = _int(data.get("oauth_expire", DEFAULT_OAUTH_EXPIRE), "oauth_expire", low=0)
    listen = _listen(data.get("listen"))
    trusted_proxies = _trusted_proxies(data.get("trusted_proxies"))
    modules, ignored = _modules(data.get("modules"))
    gateway = _gateway(data.get("gateway"), hosts)

    warnings = [
        *_reference_warnings(acls, access_rules, api_permissions, modules),
        *_handler_warnings(listen, modules),
        *_open_permission_warnings(acls, access_rules, api_permissions),
        *_proxy_warnings(trusted_proxies),
    ]
    return Config(
        hosts=hosts,
        loglevel=loglevel,
        acl=MappingProxyType(acls),
        access_rules=MappingProxyType(access_rules),
        api_permissions=api_permissions,
        oauth_expire=oauth_expire,
        listen=listen,
        trusted_proxies=trusted_proxies,
        modules=modules,
        gateway=gateway,
        ignored_modules=ignored,
        source=source,
        warnings=tuple(warnings),
        document=MappingProxyType(dict(data)),
    )


# --- top-level scalars ----------------------------------------------------


def _hosts(value: Any) -> tuple[str, ...]:
    if value is None:
        raise ConfigError("required: the XMPP domains the gateway administers", "hosts")
    if not isinstance(value, list) or not value:
        raise ConfigError(f"expected a non-empty list of domain names, got {_show(value)}", "hosts")
    hosts: list[str] = []
    for i, item in enumerate(value):
        host = _domain(item, f"hosts[{i}]")
        if host in hosts:
            raise ConfigError(f"duplicate host {host!r}", f"hosts[{i}]")
        hosts.append(host)
    return tuple(hosts)


def _loglevel(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise ConfigError(f"expected a log level, got {_show(value)}", "loglevel")
    try:
        return parse_level(value)
    except ValueError as e:
        raise ConfigError(str(e), "loglevel") from None


# --- listen ---------------------------------------------------------------

_LISTENER_KEYS = (
    "port",
    "ip",
    "module",
    "tls",
    "certfile",
    "request_handlers",
    "api_profile",
    "tag",
    "custom_headers",
)


def _listen(value: Any) -> tuple[ListenerConfig, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise ConfigError(f"expected a list of listeners, got {_show(value)}", "listen")
    listeners: list[ListenerConfig] = []
    seen: dict[tuple[str, int], int] = {}
    for i, raw in enumerate(value):
        listener = _listener(i, raw, f"listen[{i}]")
        key = (listener.ip, listener.port)
        if key in seen:
            raise ConfigError(
                f"{listener.ip} port {listener.port} is already used by listen[{seen[key]}]",
                f"listen[{i}].port",
            )
        seen[key] = i
        listeners.append(listener)
    return tuple(listeners)


def _listener(index: int, raw: Any, path: str) -> ListenerConfig:
    section = _mapping(raw, path, allow_none=False)
    for key in section:
        if key not in _LISTENER_KEYS:
            raise ConfigError(
                f"listener option {key!r} is not supported by the gateway; "
                f"supported: {', '.join(_LISTENER_KEYS)}",
                key_path(path, str(key)),
            )
    if "port" not in section:
        raise ConfigError("required", f"{path}.port")
    port = _int(section["port"], f"{path}.port", low=1, high=65535)
    ip = _ip(section.get("ip", "0.0.0.0"), f"{path}.ip")
    if "module" not in section:
        raise ConfigError(f"required: one of {', '.join(LISTENER_MODULES)}", f"{path}.module")
    module = section["module"]
    if module not in LISTENER_MODULES:
        raise ConfigError(
            f"listener module {module!r} is not served by the gateway; "
            f"expected one of {', '.join(LISTENER_MODULES)}",
            f"{path}.module",
        )
    tls = _bool(section.get("tls", False), f"{path}.tls")
    certfile = _optional(section, "certfile", path, _str)
    if tls and certfile is None:
        raise ConfigError(
            "required when tls is true: a PEM file with key and certificate", f"{path}.certfile"
        )
    if certfile is not None and not tls:
        raise ConfigError("certfile is only used with tls: true", f"{path}.certfile")
    handlers: tuple[tuple[str, str], ...] = ()
    if "request_handlers" in section:
        if module != "ejabberd_http":
            raise ConfigError(
                "only ejabberd_http listeners take request_handlers; a standalone "
                "ejabberd_xmlrpc listener answers on every path",
                f"{path}.request_handlers",
            )
        handlers = _handlers(section["request_handlers"], f"{path}.request_handlers")
    headers: tuple[tuple[str, str], ...] = ()
    if "custom_headers" in section:
        if module != "ejabberd_http":
            raise ConfigError(
                "only ejabberd_http listeners take custom_headers", f"{path}.custom_headers"
            )
        headers = _headers(section["custom_headers"], f"{path}.custom_headers")
    api_profile = _optional(section, "api_profile", path, _profile)
    tag = _optional(section, "tag", path, _str)
    return ListenerConfig(
        index=index,
        port=port,
        ip=ip,
        module=module,
        tls=tls,
        certfile=certfile,
        request_handlers=handlers,
        api_profile=api_profile,
        tag=tag,
        custom_headers=headers,
    )


def _ip(value: Any, path: str) -> str:
    text = _str(value, path, "an IP address")
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        raise ConfigError(f"invalid IP address {text!r}", path) from None


def _profile(value: Any, path: str) -> str:
    return _choice(value, path, API_PROFILES)


def _handlers(value: Any, path: str) -> tuple[tuple[str, str], ...]:
    section = _mapping(value, path, allow_none=False)
    handlers: list[tuple[str, str]] = []
    for raw_prefix, handler in section.items():
        prefix = _str(raw_prefix, path, "a path")
        if not prefix.startswith("/"):
            raise ConfigError(f"handler path {prefix!r} must start with '/'", path)
        # ejabberd compares path segments, so a trailing slash changes nothing
        normal = "/" + "/".join(part for part in prefix.split("/") if part)
        if any(normal == p for p, _ in handlers):
            raise ConfigError(f"handler path {prefix!r} is listed twice", path)
        if handler not in HANDLERS:
            if handler in _OTHER_HANDLERS:
                reason = f"handler {handler!r} is not served by the gateway"
            else:
                reason = f"unknown handler {handler!r}"
            raise ConfigError(
                f"{reason} (at {prefix!r}); expected one of {', '.join(HANDLERS)}", path
            )
        handlers.append((normal, handler))
    return tuple(handlers)


def _headers(value: Any, path: str) -> tuple[tuple[str, str], ...]:
    section = _mapping(value, path)
    headers: list[tuple[str, str]] = []
    for name, text in section.items():
        header_path = key_path(path, str(name))
        name = _str(name, header_path, "a header name")
        if isinstance(text, bool) or not isinstance(text, str | int | float):
            raise ConfigError(f"expected a header value, got {_show(text)}", header_path)
        value_text = str(text)
        if any(c in name for c in ":\r\n ") or any(c in value_text for c in "\r\n"):
            raise ConfigError("header names and values cannot hold line breaks", header_path)
        headers.append((name, value_text))
    return tuple(headers)


# --- trusted_proxies ------------------------------------------------------

#: what ``trusted_proxies: all`` stands for
_EVERY_ADDRESS = (ipaddress.ip_network("0.0.0.0/0"), ipaddress.ip_network("::/0"))


def _trusted_proxies(value: Any) -> tuple[Network, ...]:
    """ejabberd's ``trusted_proxies``: ``all``, or a list of addresses and networks."""
    path = "trusted_proxies"
    if value is None:
        return ()
    if value == "all":
        return _EVERY_ADDRESS
    if not isinstance(value, list):
        raise ConfigError(
            f"expected 'all' or a list of addresses or networks, got {_show(value)}", path
        )
    return tuple(parse_network(item, key_path(path, i)) for i, item in enumerate(value))


# --- modules --------------------------------------------------------------


def _modules(value: Any) -> tuple[ModulesConfig, tuple[str, ...]]:
    section = _mapping(value, "modules")
    http_api: HttpApiOptions | None = None
    rest: RestOptions | None = None
    ignored: list[str] = []
    for name, options in section.items():
        path = key_path("modules", str(name))
        if name == "mod_http_api":
            http_api = _http_api(_mapping(options, path), path)
        elif name == "mod_rest":
            rest = _rest(_mapping(options, path), path)
        elif name in KNOWN_MODULES:
            ignored.append(name)
        else:
            raise ConfigError(
                f"unknown module {name!r}: the gateway implements mod_http_api and mod_rest "
                "and ignores ejabberd's other modules",
                path,
            )
    return ModulesConfig(mod_http_api=http_api, mod_rest=rest), tuple(ignored)


def _http_api(section: Mapping[Any, Any], path: str) -> HttpApiOptions:
    _known_keys(section, path, ("default_version",))
    version = _optional(section, "default_version", path, _version)
    return HttpApiOptions(default_version=version)


def _version(value: Any, path: str) -> int:
    if isinstance(value, float):
        # YAML reads an unquoted 24.10 as 24.1: only two-digit minors survive
        text = str(value)
        if len(text.partition(".")[2]) != 2:
            raise ConfigError(f'ambiguous release {value!r}: write it quoted, e.g. "24.10"', path)
        value = text
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ConfigError(
            f'expected an API version number or a release like "24.06", got {_show(value)}', path
        )
    try:
        return version_from_release(value)
    except ValueError as e:
        raise ConfigError(str(e), path) from None


def _all_or_list(value: Any, path: str, parse: Callable[[Any, str], T]) -> tuple[T, ...] | None:
    if value is None or value == "all":
        return None
    items = value if isinstance(value, list) else [value]
    return tuple(
        parse(item, key_path(path, i) if isinstance(value, list) else path)
        for i, item in enumerate(items)
    )


def _jid(value: Any, path: str) -> str:
    text = _str(value, path, "a JID")
    try:
        return JID(text).full()
    except (InvalidFormat, UnicodeError) as e:
        raise ConfigError(f"invalid JID {text!r}: {e}", path) from None


def _stanza_type(value: Any, path: str) -> str:
    return _choice(value, path, sorted(STANZA_KINDS))


def _rest(section: Mapping[Any, Any], path: str) -> RestOptions:
    _known_keys(
        section,
        path,
        ("allowed_ips", "allowed_destinations", "allowed_stanza_types", "access_commands"),
    )
    ips = _all_or_list(section.get("allowed_ips"), key_path(path, "allowed_ips"), parse_network)
    types = _all_or_list(
        section.get("allowed_stanza_types"), key_path(path, "allowed_stanza_types"), _stanza_type
    )
    return RestOptions(
        # an empty allowed_ips list lets everyone in, as in mod_rest
        allowed_ips=ips or None,
        allowed_destinations=_all_or_list(
            section.get("allowed_destinations"), key_path(path, "allowed_destinations"), _jid
        ),
        allowed_stanza_types=None if types is None else frozenset(types),
        access_commands=_access_commands(
            section.get("access_commands"), key_path(path, "access_commands")
        ),
    )


def _access_commands(value: Any, path: str) -> tuple[AccessCommand, ...]:
    if value is None or value == []:
        return ()
    section = _mapping(value, path, allow_none=False)
    found: list[AccessCommand] = []
    for access, spec in section.items():
        entry_path = key_path(path, str(access))
        access_name = _str(access, entry_path, "an access rule name")
        body = _mapping(spec, entry_path)
        _known_keys(body, entry_path, ("commands", "argument_restrictions"))
        commands_path = key_path(entry_path, "commands")
        names = _all_or_list(body.get("commands", "all"), commands_path, _command_name)
        restrictions = body.get("argument_restrictions")
        restrictions_path = key_path(entry_path, "argument_restrictions")
        if restrictions is None or restrictions == []:
            restrictions = {}
        restrictions = _mapping(restrictions, restrictions_path)
        for key in restrictions:
            _str(key, restrictions_path, "an argument name")
        found.append(
            AccessCommand(
                access=access_name,
                commands=None if names is None else frozenset(names),
                argument_restrictions=MappingProxyType(dict(restrictions)),
            )
        )
    return tuple(found)


def _command_name(value: Any, path: str) -> str:
    text = _str(value, path, "a command name")
    if not all(c.isascii() and (c.isalnum() or c in "_-") for c in text):
        raise ConfigError(f"invalid command name {text!r}", path)
    return text.replace("-", "_")


# --- gateway --------------------------------------------------------------

_GATEWAY_KEYS = (
    "api_profile",
    "backend",
    "auth",
    "routes",
    "stanzas",
    "workers",
    "store",
    "upstream",
    "xmpp",
    "component",
    "ctl_socket",
    "limits",
    "brute_force",
    "files_dir",
    "password_digests",
    "log_format",
    "access_log",
)


def _gateway(value: Any, hosts: tuple[str, ...]) -> GatewaySection:
    path = "gateway"
    section = _mapping(value, path)
    _known_keys(section, path, _GATEWAY_KEYS)
    component = _optional(section, "component", path, _component)
    if component is not None and component.jid in hosts:
        raise ConfigError(
            f"{component.jid!r} is one of hosts; a component needs a domain of its own",
            f"{path}.component.jid",
        )
    chosen = parse_backends(section, path, has_component=component is not None)
    if chosen.xmpp is not None and chosen.xmpp.host is not None and chosen.xmpp.host not in hosts:
        raise ConfigError(f"{chosen.xmpp.host!r} is not one of hosts", f"{path}.xmpp.host")
    defaults = GatewaySection()
    return GatewaySection(
        api_profile=_profile(section.get("api_profile", CURRENT_PROFILE), f"{path}.api_profile"),
        backend=chosen.backend,
        auth=chosen.auth,
        routes=chosen.routes,
        stanzas=chosen.stanzas,
        workers=chosen.workers,
        store=_store(section.get("store", defaults.store), f"{path}.store"),
        upstream=chosen.upstream,
        xmpp=chosen.xmpp,
        component=component,
        ctl_socket=_str(section.get("ctl_socket", defaults.ctl_socket), f"{path}.ctl_socket"),
        limits=_limits(section.get("limits"), f"{path}.limits"),
        brute_force=_brute_force(section.get("brute_force"), f"{path}.brute_force"),
        files_dir=_str(section.get("files_dir", defaults.files_dir), f"{path}.files_dir", "a path"),
        password_digests=_password_digests(
            section.get("password_digests"), f"{path}.password_digests"
        ),
        access_log=_bool(section.get("access_log", True), f"{path}.access_log"),
        log_format=_choice(
            section.get("log_format", defaults.log_format), f"{path}.log_format", LOG_FORMATS
        ),
    )


def _password_digests(value: Any, path: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise ConfigError(
            f"expected a list of hash methods ({', '.join(PASSWORD_DIGESTS)}), got {_show(value)}",
            path,
        )
    methods: list[str] = []
    for i, item in enumerate(value):
        method = _choice(item, key_path(path, i), PASSWORD_DIGESTS)
        if method in methods:
            raise ConfigError(f"{method!r} is listed twice", key_path(path, i))
        methods.append(method)
    return tuple(methods)


def _store(value: Any, path: str) -> str:
    text = _str(value, path, "a store location")
    if text.startswith("sqlite:") and len(text) > len("sqlite:"):
        return text
    for prefix in ("postgresql://", "postgres://"):
        if text.startswith(prefix) and len(text) > len(prefix):
            return text
    raise ConfigError(
        f"unsupported store {text!r}; expected sqlite:PATH, sqlite::memory: or a postgresql:// URL",
        path,
    )


def _component(value: Any, path: str) -> ComponentConfig:
    section = _mapping(value, path, allow_none=False)
    _known_keys(section, path, ("jid", "secret", "host", "port", "tls", "from", "max_queued"))
    for required in ("jid", "secret"):
        if required not in section:
            raise ConfigError("required", f"{path}.{required}")
    return ComponentConfig(
        jid=_domain(section["jid"], f"{path}.jid"),
        secret=_str(section["secret"], f"{path}.secret", "a shared secret"),
        host=_str(section.get("host", "127.0.0.1"), f"{path}.host", "a host name or address"),
        port=_int(section.get("port", 5347), f"{path}.port", low=1, high=65535),
        tls=_bool(section.get("tls", False), f"{path}.tls"),
        from_policy=_choice(section.get("from", "rewrite"), f"{path}.from", FROM_POLICIES),
        max_queued=_int(section.get("max_queued", 10000), f"{path}.max_queued", low=0),
    )


def _limits(value: Any, path: str) -> LimitsConfig:
    section = _mapping(value, path)
    _known_keys(
        section,
        path,
        (
            "max_body_bytes",
            "max_xml_depth",
            "request_timeout",
            "max_password_bytes",
            "receive_timeout",
            "idle_timeout",
            "max_connections",
            "shutdown_grace",
            "credential_cache_ttl",
        ),
    )
    defaults = LimitsConfig()

    def number(key: str, low: int = 1) -> int:
        return _int(section.get(key, getattr(defaults, key)), f"{path}.{key}", low=low)

    def seconds(key: str) -> float:
        return _float(section.get(key, getattr(defaults, key)), f"{path}.{key}")

    cache_ttl = _float(
        section.get("credential_cache_ttl", defaults.credential_cache_ttl),
        f"{path}.credential_cache_ttl",
        positive=False,
    )
    if cache_ttl < 0:
        raise ConfigError(f"must be 0 or more, got {cache_ttl:g}", f"{path}.credential_cache_ttl")
    return LimitsConfig(
        max_body_bytes=number("max_body_bytes"),
        max_xml_depth=number("max_xml_depth"),
        request_timeout=seconds("request_timeout"),
        max_password_bytes=number("max_password_bytes"),
        receive_timeout=seconds("receive_timeout"),
        idle_timeout=seconds("idle_timeout"),
        max_connections=number("max_connections"),
        shutdown_grace=_float(
            section.get("shutdown_grace", defaults.shutdown_grace),
            f"{path}.shutdown_grace",
            positive=False,
        ),
        credential_cache_ttl=cache_ttl,
    )


def _brute_force(value: Any, path: str) -> BruteForceConfig:
    section = _mapping(value, path)
    _known_keys(section, path, ("max_failures", "window", "ban_time", "exempt"))
    defaults = BruteForceConfig()
    exempt = section.get("exempt") or []
    if not isinstance(exempt, list):
        raise ConfigError(f"expected a list of addresses or networks, got {_show(exempt)}", path)
    return BruteForceConfig(
        max_failures=_int(
            section.get("max_failures", defaults.max_failures), f"{path}.max_failures", low=1
        ),
        window=_float(section.get("window", defaults.window), f"{path}.window"),
        ban_time=_float(section.get("ban_time", defaults.ban_time), f"{path}.ban_time"),
        exempt=tuple(
            parse_network(item, key_path(f"{path}.exempt", i)) for i, item in enumerate(exempt)
        ),
    )


# --- cross-checks ---------------------------------------------------------


def _reference_warnings(
    acls: Mapping[str, Any],
    access_rules: Mapping[str, AccessRule],
    api_permissions: tuple[ApiPermission, ...] | None,
    modules: ModulesConfig,
) -> list[str]:
    """Names used but never defined: ejabberd treats them as empty, so only warn."""
    known_acls = set(acls) | {"all", "none"}
    known_rules = set(access_rules) | {"all", "none"}
    found: list[str] = []
    for name, rule in access_rules.items():
        used: set[str] = set()
        for clause in rule.clauses:
            used |= acl_names(clause.conditions)
        for missing in sorted(used - known_acls):
            found.append(
                f"access_rules.{name}: ACL {missing!r} is not defined, so it matches nobody"
            )
    for permission in api_permissions or ():
        where = key_path("api_permissions", permission.name)
        for missing in sorted(permission.acl_names() - known_acls):
            found.append(f"{where}: ACL {missing!r} is not defined, so it matches nobody")
        for missing in sorted(permission.rule_names() - known_rules):
            found.append(f"{where}: access rule {missing!r} is not defined, so it denies everyone")
    if modules.mod_rest is not None:
        for entry in modules.mod_rest.access_commands:
            if entry.access not in known_rules:
                found.append(
                    f"modules.mod_rest.access_commands: access rule {entry.access!r} is not "
                    "defined, so it denies everyone"
                )
    return found


def _open_permission_warnings(
    acls: Mapping[str, Any],
    access_rules: Mapping[str, AccessRule],
    api_permissions: tuple[ApiPermission, ...] | None,
) -> list[str]:
    """Rules letting anybody who reaches a listener run every command.

    Such a rule hands the server to any process that can connect (an
    anonymous ``change_password`` of the admin, say).  ``from: ejabberd_ctl``
    alone is fine: only the owner of the 0600 control socket gets there.
    """
    found: list[str] = []
    for permission in api_permissions or ():
        frontends = network_frontends(permission)
        if not (
            frontends
            and permission.what.grant.everything
            and admits_anyone(permission, acls, access_rules)
        ):
            continue
        found.append(
            f'{key_path("api_permissions", permission.name)}: grants every command ("*") '
            f"to anybody, without credentials, through {', '.join(sorted(frontends))}; "
            "any process that can connect may run any command, such as changing an "
            "administrator's password. Limit 'who' and 'what', or use 'from: ejabberd_ctl'"
        )
    return found


def _proxy_warnings(trusted_proxies: tuple[Network, ...]) -> list[str]:
    """Trusting every peer lets any client pick the address it is judged by."""
    if not any(network.prefixlen == 0 for network in trusted_proxies):
        return []
    return [
        "trusted_proxies: every peer is trusted, so any client can choose the address "
        "that api_permissions, mod_rest's allowed_ips and brute-force bans see by sending "
        "X-Forwarded-For; list only the reverse proxies in front of the gateway"
    ]


def _handler_warnings(listen: tuple[ListenerConfig, ...], modules: ModulesConfig) -> list[str]:
    found: list[str] = []
    for listener in listen:
        for prefix, handler in listener.request_handlers:
            if handler in ("mod_http_api", "mod_rest") and getattr(modules, handler) is None:
                found.append(
                    f"listen[{listener.index}].request_handlers: {prefix} uses {handler}, "
                    f"which is not listed in modules; its options take their defaults"
                )
    return found
