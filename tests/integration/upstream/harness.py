"""Servers and clients for the gateway in front of a real ejabberd 23.01.

The ejabberd node is the differential suite's (``tests.compat.harness.CompatEjabberd``: every
module the compared commands need, ``/api`` and its own ``/xmlrpc``, the admin may run
everything from loopback) plus what an operator adds for the gateway: an account of its own
(``api-gateway@localhost``) and an ``api_permissions`` rule letting that account run every
command through ``mod_http_api``.  The gateway runs with ``gateway.backend: ejabberd`` and
``gateway.auth: upstream``: callers log in to the gateway with their ejabberd passwords and the
gateway's own ``api_permissions`` (those of conf/gateway.yml) decide what they may run.
"""

from __future__ import annotations

import http.client
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from tests.compat.harness import (
    ADMIN,
    ADMIN_PASSWORD,
    CALL_TIMEOUT,
    MUC_SERVICE,
    VHOST,
    Answer,
    ApiClient,
    CompatEjabberd,
    XmlRpcClient,
)
from tests.integration import daemon
from tests.integration.servers import LOOPBACK

__all__ = [
    "ADMIN",
    "ADMIN_AUTH",
    "ADMIN_PASSWORD",
    "Front",
    "GATEWAY_PASSWORD",
    "GATEWAY_USER",
    "MUC_SERVICE",
    "VHOST",
    "RestClient",
    "UpstreamEjabberd",
    "component_of",
    "ejabberd_upstream",
    "gateway_config",
    "running_gateway",
]

#: the gateway's own account at ejabberd, which every forwarded call authenticates as
GATEWAY_USER = "api-gateway"
GATEWAY_PASSWORD = "gateway-account-secret"
ADMIN_AUTH = (f"{ADMIN}@{VHOST}", ADMIN_PASSWORD)

#: the rule an operator adds to ejabberd.yml for the gateway (README "In front of ejabberd")
GATEWAY_RULE: dict[str, Any] = {
    "from": ["mod_http_api"],
    "who": {"access": {"allow": [{"acl": "loopback"}, {"acl": "api_gateway"}]}},
    "what": "*",
}


class UpstreamEjabberd(CompatEjabberd):
    """CompatEjabberd with the gateway's account allowed to run every command over ``/api``.

    The gateway's account is registered by ``start`` like the other ``users``.
    """

    def __init__(self, *, users: Mapping[str, str] | None = None, **options: Any) -> None:
        accounts = {ADMIN: ADMIN_PASSWORD, GATEWAY_USER: GATEWAY_PASSWORD, **(users or {})}
        super().__init__(users=accounts, **options)

    def config(self) -> dict[str, Any]:
        config = super().config()
        config["acl"]["api_gateway"] = {"user": [f"{GATEWAY_USER}@{VHOST}"]}
        config["api_permissions"] = {**config["api_permissions"], "api gateway": GATEWAY_RULE}
        return config

    @property
    def api_url(self) -> str:
        return f"http://{LOOPBACK}:{self.http_port}/api"


def gateway_config(
    workdir: Path,
    *,
    upstream: Mapping[str, Any],
    profile: str = "23.01",
    component: Mapping[str, Any] | None = None,
    **gateway: Any,
) -> tuple[Path, int, int]:
    """Write a gateway.yml (conf/gateway.yml's permissions) in upstream mode.

    Both listeners speak ``profile``; ``upstream`` is the ``gateway.upstream`` section;
    ``component`` replaces the component link's settings; without it the gateway has no
    component link (so ``/health`` speaks of the upstream alone).  Returns the file and the
    HTTP and XML-RPC ports.
    """
    http_port, xmlrpc_port = daemon.free_port(), daemon.free_port()
    settings: dict[str, Any] = {
        "backend": "ejabberd",
        "auth": "upstream",
        "upstream": dict(upstream),
        **gateway,
    }
    path = daemon.write_config(workdir, http_port, xmlrpc_port, **settings)
    data = yaml.safe_load(path.read_text())
    for listener in data["listen"]:
        listener["api_profile"] = profile
    if component is None:
        del data["gateway"]["component"]
    else:
        data["gateway"]["component"] = {**data["gateway"]["component"], **component}
    path.write_text(yaml.safe_dump(data))
    return path, http_port, xmlrpc_port


def ejabberd_upstream(ejabberd: UpstreamEjabberd, **more: Any) -> dict[str, Any]:
    """The ``gateway.upstream`` section reaching ``ejabberd`` as the gateway's account."""
    return {
        "url": ejabberd.api_url,
        "auth": {"user": f"{GATEWAY_USER}@{VHOST}", "password": GATEWAY_PASSWORD},
        **more,
    }


@contextmanager
def running_gateway(
    workdir: Path,
    *,
    upstream: Mapping[str, Any],
    profile: str = "23.01",
    component: Mapping[str, Any] | None = None,
    **gateway: Any,
) -> Iterator[daemon.Daemon]:
    """The daemon of ``gateway_config(...)``, running until the block ends."""
    config, http_port, xmlrpc_port = gateway_config(
        workdir, upstream=upstream, profile=profile, component=component, **gateway
    )
    with daemon.serving(config, workdir, http_port, xmlrpc_port) as gateway_daemon:
        yield gateway_daemon


def component_of(ejabberd: UpstreamEjabberd) -> dict[str, Any]:
    """``gateway.component`` settings for ejabberd's own XEP-0114 listener."""
    component = ejabberd.component
    assert component is not None
    return {
        "jid": component.domain,
        "secret": component.secret,
        "host": component.host,
        "port": component.port,
    }


class RestClient:
    """Posts mod_rest command lines to ``/rest`` of one gateway."""

    def __init__(self, port: int) -> None:
        self.port = port

    def call(self, line: str, auth: tuple[str, str] | None = ADMIN_AUTH) -> Answer:
        """POST ``line`` (after ``--auth USER HOST PASSWORD`` for ``auth``); the answer as
        ``Answer("http", status, text)``, or a no-answer ``Answer``."""
        if auth is not None:
            user, password = auth
            local, _, host = user.partition("@")
            line = f"--auth {local} {host} {password} {line}"
        connection = http.client.HTTPConnection(LOOPBACK, self.port, timeout=CALL_TIMEOUT)
        try:
            connection.request("POST", "/rest", body=line.encode())
            response = connection.getresponse()
            return Answer("http", response.status, response.read().decode(errors="replace"))
        except TimeoutError:
            return Answer("timeout")
        except (http.client.RemoteDisconnected, ConnectionResetError):
            return Answer("closed")
        finally:
            connection.close()


@dataclass(frozen=True)
class Front:
    """ejabberd, the gateway in front of it, and a client of each dialect for both."""

    ejabberd: UpstreamEjabberd
    gateway: daemon.Daemon
    ejabberd_api: ApiClient
    ejabberd_xmlrpc: XmlRpcClient
    gateway_api: ApiClient
    gateway_xmlrpc: XmlRpcClient
    gateway_rest: RestClient
