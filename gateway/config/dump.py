"""The effective configuration as YAML, for ``dump_config``.

The dump is a complete configuration file the gateway can load again: every
option the daemon uses is written out, defaults included, in the same
vocabulary as ``gateway.yml``.  Hosts, listeners, modules and the ``gateway``
section come from the validated :class:`~gateway.config.model.Config`;
``acl``, ``access_rules`` and ``api_permissions`` are copied as they were
written in the file (their parsed form has no YAML spelling of its own), so
they are only present for a configuration read from a file.  ejabberd modules
the gateway ignores are left out: they have no effect here.

The text holds secrets (the component's shared secret, upstream credentials,
a PostgreSQL password), so whoever writes it should make the file private.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import yaml

from gateway.config.model import (
    AccessCommand,
    ComponentConfig,
    Config,
    GatewaySection,
    ListenerConfig,
    ModulesConfig,
    UpstreamConfig,
    XmppBackendConfig,
)

__all__ = ["config_document", "dump_yaml"]

#: sections copied from the file as written
RAW_SECTIONS = ("acl", "access_rules", "api_permissions")

_HEADER = (
    "# Effective configuration of xmpp-api-gateway, written by dump_config.\n"
    "# Defaults are spelled out; ejabberd modules the gateway ignores are left out.\n"
    "# It holds secrets: keep it private.\n"
)


def _plain(value: Any) -> Any:
    """``value`` with mappings as dicts and sequences as lists, for the YAML dumper."""
    if isinstance(value, Mapping):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    return value


def _listener(listener: ListenerConfig) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "port": listener.port,
        "ip": listener.ip,
        "module": listener.module,
        "tls": listener.tls,
    }
    if listener.certfile is not None:
        entry["certfile"] = listener.certfile
    if listener.request_handlers:
        entry["request_handlers"] = dict(listener.request_handlers)
    if listener.api_profile is not None:
        entry["api_profile"] = listener.api_profile
    if listener.tag is not None:
        entry["tag"] = listener.tag
    if listener.custom_headers:
        entry["custom_headers"] = dict(listener.custom_headers)
    return entry


def _all_or(values: Any) -> Any:
    return "all" if values is None else sorted(str(v) for v in values)


def _access_command(entry: AccessCommand) -> dict[str, Any]:
    return {
        "commands": _all_or(entry.commands),
        "argument_restrictions": _plain(entry.argument_restrictions),
    }


def _modules(modules: ModulesConfig) -> dict[str, Any]:
    found: dict[str, Any] = {}
    if modules.mod_http_api is not None:
        version = modules.mod_http_api.default_version
        found["mod_http_api"] = {} if version is None else {"default_version": version}
    if modules.mod_rest is not None:
        rest = modules.mod_rest
        found["mod_rest"] = {
            "allowed_ips": _all_or(rest.allowed_ips),
            "allowed_destinations": _all_or(rest.allowed_destinations),
            "allowed_stanza_types": _all_or(rest.allowed_stanza_types),
            "access_commands": {e.access: _access_command(e) for e in rest.access_commands},
        }
    return found


def _upstream(upstream: UpstreamConfig) -> dict[str, Any]:
    entry: dict[str, Any] = {"url": upstream.url}
    auth = {
        key: getattr(upstream, key)
        for key in ("user", "password", "token")
        if getattr(upstream, key) is not None
    }
    if auth:
        entry["auth"] = auth
    entry["api_profile"] = upstream.api_profile
    entry["timeout"] = upstream.timeout
    entry["max_connections"] = upstream.max_connections
    entry["max_queued"] = upstream.max_queued
    entry["tls"] = {"ca": upstream.tls.ca, "verify": upstream.tls.verify}
    return entry


def _xmpp(options: XmppBackendConfig) -> dict[str, Any]:
    return {name: getattr(options, name) for name in options.__dataclass_fields__}


def _component(component: ComponentConfig) -> dict[str, Any]:
    return {
        "jid": component.jid,
        "secret": component.secret,
        "host": component.host,
        "port": component.port,
        "tls": component.tls,
        "from": component.from_policy,
        "max_queued": component.max_queued,
    }


def _gateway(section: GatewaySection) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "api_profile": section.api_profile,
        "backend": section.backend,
        "auth": section.auth,
        "routes": dict(section.routes),
        "stanzas": section.stanzas,
        "workers": "auto" if section.workers is None else section.workers,
        "store": section.store,
    }
    if section.upstream is not None:
        entry["upstream"] = _upstream(section.upstream)
    if section.xmpp is not None:
        entry["xmpp"] = _xmpp(section.xmpp)
    if section.component is not None:
        entry["component"] = _component(section.component)
    entry["ctl_socket"] = section.ctl_socket
    entry["limits"] = {
        name: getattr(section.limits, name) for name in section.limits.__dataclass_fields__
    }
    brute_force = section.brute_force
    entry["brute_force"] = {
        "max_failures": brute_force.max_failures,
        "window": brute_force.window,
        "ban_time": brute_force.ban_time,
        "exempt": [str(network) for network in brute_force.exempt],
    }
    entry["files_dir"] = section.files_dir
    entry["password_digests"] = list(section.password_digests)
    entry["log_format"] = section.log_format
    entry["access_log"] = section.access_log
    return entry


def config_document(config: Config) -> dict[str, Any]:
    """The configuration as plain YAML data, keys in ``gateway.yml``'s order."""
    document: dict[str, Any] = {"hosts": list(config.hosts), "loglevel": config.loglevel}
    for key in RAW_SECTIONS:
        if key in config.document:
            document[key] = _plain(config.document[key])
    document["oauth_expire"] = config.oauth_expire
    document["listen"] = [_listener(listener) for listener in config.listen]
    document["trusted_proxies"] = [str(network) for network in config.trusted_proxies]
    document["modules"] = _modules(config.modules)
    document["gateway"] = _gateway(config.gateway)
    return document


class _Dumper(yaml.SafeDumper):
    """Writes repeated values out in full instead of as ``&id``/``*id`` aliases."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def dump_yaml(config: Config) -> str:
    """The configuration as the text of a YAML file."""
    body = yaml.dump(
        config_document(config),
        Dumper=_Dumper,
        sort_keys=False,
        default_flow_style=False,
        allow_unicode=True,
    )
    return _HEADER + body
