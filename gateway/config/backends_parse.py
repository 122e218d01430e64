"""The ``gateway`` keys that choose and reach backends: ``backend``, ``auth``, ``routes`` …

Which backends a configuration uses decides which sections it needs: an
``ejabberd`` target anywhere (``backend``, ``auth: upstream``, a route,
``stanzas: upstream``) needs ``upstream``; an ``xmpp`` one needs ``component``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any
from urllib.parse import urlsplit

from gateway.config.errors import ConfigError
from gateway.config.model import UpstreamConfig, UpstreamTls, XmppBackendConfig
from gateway.config.paths import key_path
from gateway.config.scalars import (
    boolean,
    choice,
    domain,
    integer,
    known_keys,
    mapping,
    number,
    optional,
    text,
)
from gateway.engine.names import PROFILES

__all__ = ["BACKENDS", "BackendChoice", "parse_backends"]

#: every backend a command can be sent to
BACKENDS = ("embedded", "ejabberd", "xmpp")
#: who checks passwords, by the backend that holds the accounts
_AUTH_FOR_BACKEND = {"embedded": "embedded", "ejabberd": "upstream", "xmpp": "xmpp"}
_AUTH_BACKEND = {value: key for key, value in _AUTH_FOR_BACKEND.items()}
_TAG_ROUTE = re.compile(r"\[tag:([a-z0-9_]+)\]\Z")
_COMMAND = re.compile(r"[a-z0-9_]+\Z")
#: ``gateway.xmpp.c2s_tls`` values
C2S_TLS_MODES = ("if_offered", "required", "never")


def route_tag(key: str) -> str | None:
    """The tag a ``gateway.routes`` key names (``[tag:NAME]``), ``None`` for a command name."""
    match = _TAG_ROUTE.match(key)
    return match.group(1) if match else None


@dataclass(frozen=True, slots=True)
class BackendChoice:
    """What :func:`parse_backends` read."""

    backend: str
    auth: str
    routes: Mapping[str, str]
    stanzas: str
    workers: int | None
    upstream: UpstreamConfig | None
    xmpp: XmppBackendConfig | None


def parse_backends(section: Mapping[Any, Any], path: str, *, has_component: bool) -> BackendChoice:
    """The backend keys of the ``gateway`` section at ``path``."""
    backend = choice(section.get("backend", "embedded"), f"{path}.backend", BACKENDS)
    auth = choice(
        section.get("auth", _AUTH_FOR_BACKEND[backend]), f"{path}.auth", tuple(_AUTH_BACKEND)
    )
    routes = _routes(section.get("routes"), f"{path}.routes")
    stanzas = choice(
        section.get("stanzas", "component"), f"{path}.stanzas", ("component", "upstream")
    )
    used = {backend, _AUTH_BACKEND[auth], *routes.values()}
    if stanzas == "upstream":
        used.add("ejabberd")
    upstream = optional(section, "upstream", path, _upstream)
    if "ejabberd" in used and upstream is None:
        raise ConfigError(
            "required: the ejabberd backend is used "
            f"({_uses('ejabberd', backend, auth, routes, stanzas)})",
            f"{path}.upstream",
        )
    if "ejabberd" not in used and upstream is not None:
        raise ConfigError(
            "only used when the ejabberd backend is (backend, auth: upstream, a route "
            "or stanzas: upstream)",
            f"{path}.upstream",
        )
    xmpp = optional(section, "xmpp", path, _xmpp)
    if "xmpp" in used and not has_component:
        raise ConfigError(
            "the xmpp backend runs commands over the component link: "
            f"configure gateway.component ({_uses('xmpp', backend, auth, routes, stanzas)})",
            f"{path}.component",
        )
    if "xmpp" in used and xmpp is None:
        xmpp = XmppBackendConfig()
    if "xmpp" not in used and xmpp is not None:
        raise ConfigError("only used when the xmpp backend is", f"{path}.xmpp")
    workers_value = section.get("workers", "auto")
    workers = (
        None
        if workers_value == "auto"
        else integer(workers_value, f"{path}.workers", low=1, high=256)
    )
    if "xmpp" in used:
        # its requests, link-up and privilege messages need the link in the same process
        if workers is not None and workers > 1:
            raise ConfigError(
                "the xmpp backend runs in one process with the component link: "
                f"set 1 or auto ({_uses('xmpp', backend, auth, routes, stanzas)})",
                f"{path}.workers",
            )
        workers = 1
    return BackendChoice(backend, auth, routes, stanzas, workers, upstream, xmpp)


def _uses(name: str, backend: str, auth: str, routes: Mapping[str, str], stanzas: str) -> str:
    """Where the configuration sends work to backend ``name``, for error messages."""
    places = []
    if backend == name:
        places.append(f"backend: {name}")
    if _AUTH_BACKEND[auth] == name:
        places.append(f"auth: {auth}")
    places += [f"routes: {key}" for key, target in routes.items() if target == name]
    if name == "ejabberd" and stanzas == "upstream":
        places.append("stanzas: upstream")
    return ", ".join(places)


def _routes(value: Any, path: str) -> Mapping[str, str]:
    section = mapping(value, path)
    routes: dict[str, str] = {}
    for key, target in section.items():
        where = key_path(path, str(key))
        if not isinstance(key, str) or not (_COMMAND.match(key) or route_tag(key)):
            raise ConfigError(f"expected a command name or [tag:NAME], got {key!r}", where)
        routes[key] = choice(target, where, BACKENDS)
    return MappingProxyType(routes)


def _upstream(value: Any, path: str) -> UpstreamConfig:
    section = mapping(value, path, allow_none=False)
    known_keys(
        section,
        path,
        (
            "url",
            "auth",
            "user",
            "password",
            "token",
            "api_profile",
            "timeout",
            "max_connections",
            "max_queued",
            "tls",
        ),
    )
    if "url" not in section:
        raise ConfigError(
            "required: the URL of ejabberd's mod_http_api, e.g. http://127.0.0.1:5280/api",
            f"{path}.url",
        )
    url = text(section["url"], f"{path}.url", "a URL")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"expected an http:// or https:// URL, got {url!r}", f"{path}.url")
    user, password, token = _upstream_auth(section, path)
    tls_section = mapping(section.get("tls"), f"{path}.tls")
    known_keys(tls_section, f"{path}.tls", ("ca", "verify"))
    tls = UpstreamTls(
        ca=optional(tls_section, "ca", f"{path}.tls", text),
        verify=boolean(tls_section.get("verify", True), f"{path}.tls.verify"),
    )
    defaults = UpstreamConfig(url=url)
    return UpstreamConfig(
        url=url,
        user=user,
        password=password,
        token=token,
        api_profile=choice(
            section.get("api_profile", "auto"), f"{path}.api_profile", ("auto", *PROFILES)
        ),
        timeout=number(section.get("timeout", defaults.timeout), f"{path}.timeout"),
        max_connections=integer(
            section.get("max_connections", defaults.max_connections),
            f"{path}.max_connections",
            low=1,
        ),
        max_queued=integer(
            section.get("max_queued", defaults.max_queued), f"{path}.max_queued", low=0
        ),
        tls=tls,
    )


def _upstream_auth(
    section: Mapping[Any, Any], path: str
) -> tuple[str | None, str | None, str | None]:
    """``auth: {user, password} | {token}`` (the keys may also sit in ``upstream`` itself)."""
    flat = [key for key in ("user", "password", "token") if key in section]
    if "auth" in section and flat:
        raise ConfigError("give the credentials in auth only", key_path(path, flat[0]))
    where = f"{path}.auth" if "auth" in section else path
    auth = mapping(section.get("auth"), where, allow_none=False) if "auth" in section else section
    if "auth" in section:
        known_keys(auth, where, ("user", "password", "token"))
    user = optional(auth, "user", where, text)
    password = optional(auth, "password", where, text)
    token = optional(auth, "token", where, text)
    if (user is None) != (password is None):
        missing = "password" if password is None else "user"
        raise ConfigError("user and password go together", key_path(where, missing))
    if user is not None and "@" not in user:
        raise ConfigError(
            f"expected a full JID like admin@example.org, got {user!r}", key_path(where, "user")
        )
    if user is not None and token is not None:
        raise ConfigError(
            "give either user and password or a token, not both", key_path(where, "token")
        )
    return user, password, token


def _xmpp(value: Any, path: str) -> XmppBackendConfig:
    section = mapping(value, path)
    known_keys(
        section,
        path,
        ("host", "timeout", "max_in_flight", "c2s", "c2s_tls", "c2s_verify", "c2s_ca"),
    )
    defaults = XmppBackendConfig()
    return XmppBackendConfig(
        host=optional(section, "host", path, domain),
        timeout=number(section.get("timeout", defaults.timeout), f"{path}.timeout"),
        max_in_flight=integer(
            section.get("max_in_flight", defaults.max_in_flight), f"{path}.max_in_flight", low=1
        ),
        c2s=text(section.get("c2s", defaults.c2s), f"{path}.c2s", "a client endpoint string"),
        c2s_tls=choice(
            section.get("c2s_tls", defaults.c2s_tls),
            f"{path}.c2s_tls",
            C2S_TLS_MODES,
        ),
        c2s_verify=boolean(section.get("c2s_verify", True), f"{path}.c2s_verify"),
        c2s_ca=optional(section, "c2s_ca", path, text),
    )
