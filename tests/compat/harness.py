"""The two servers of the differential suite and the clients that talk to them.

One private ejabberd 23.01 (Debian's package, on loopback) and one gateway daemon whose HTTP and
XML-RPC listeners both speak the 23.01 profile get the same permissions, the same admin account
and the same modules' worth of commands.  ``ApiClient`` and ``XmlRpcClient`` send one call and
return the answer as plain data (an ``Answer``) that can be compared: for ``/api`` the HTTP status
and the decoded body, for XML-RPC the value or the fault's code and string, and for both the cases
where no answer came (the connection closed, or nothing arrived in time).
"""

from __future__ import annotations

import base64
import http.client
import json
import xmlrpc.client
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from tests.integration import daemon
from tests.integration.servers import LOOPBACK, EjabberdServer

__all__ = [
    "ADMIN",
    "ADMIN_PASSWORD",
    "MUC_SERVICE",
    "VHOST",
    "Answer",
    "ApiClient",
    "CompatEjabberd",
    "XmlRpcClient",
    "running_gateway",
]

VHOST = "localhost"
MUC_SERVICE = f"conference.{VHOST}"
ADMIN = "admin"
ADMIN_PASSWORD = "admin-secret"
#: how long a call may take before it counts as never answered
CALL_TIMEOUT = 10.0

# The permissions both sides run with: those of conf/gateway.yml, which the gateway uses as is.
API_PERMISSIONS: dict[str, Any] = {
    "console commands": {"from": ["ejabberd_ctl"], "who": "all", "what": "*"},
    "admin access": {
        "who": {"access": {"allow": [{"acl": "loopback"}, {"acl": "admin"}]}},
        "what": ["*", "!stop", "!start"],
    },
    "public commands": {
        "who": {"ip": "127.0.0.1/8"},
        "what": ["status", "connected_users_number"],
    },
}


class CompatEjabberd(EjabberdServer):
    """A private ejabberd with every module the compared commands need, ``/api`` and ``/xmlrpc``.

    Its permissions are the gateway's (``API_PERMISSIONS``): the admin from loopback may run
    everything but ``start``/``stop``, anyone on loopback ``status`` and
    ``connected_users_number``.
    """

    def config(self) -> dict[str, Any]:
        config = super().config()
        for listener in config["listen"]:
            if listener["module"] == "ejabberd_http":
                listener["request_handlers"] = {
                    "/api": "mod_http_api",
                    "/xmlrpc": "ejabberd_xmlrpc",
                }
        config["acl"] = {
            "admin": {"user": [f"{ADMIN}@{VHOST}"]},
            "loopback": {"ip": ["127.0.0.0/8", "::1/128"]},
        }
        config["api_permissions"] = API_PERMISSIONS
        # ejabberd's default (none) refuses every token; the gateway has no such option and
        # lets api_permissions judge what a token may do, as ejabberd does with "all".
        config["oauth_access"] = "all"
        config["modules"] = {
            "mod_admin_extra": {},
            "mod_disco": {},
            "mod_http_api": {},
            "mod_last": {},
            "mod_muc": {"host": "conference.@HOST@"},
            "mod_muc_admin": {},
            "mod_offline": {},
            "mod_ping": {},
            "mod_private": {},
            "mod_roster": {},
            "mod_shared_roster": {},
            "mod_vcard": {},
        }
        return config


@contextmanager
def running_gateway(workdir: Path) -> Iterator[daemon.Daemon]:
    """The gateway daemon with conf/gateway.yml's permissions and both listeners on 23.01.

    The unsalted digests that ``check_password_hash`` needs are kept (ejabberd 23.01 stores
    passwords in plain text, so it can always answer that command).
    """
    http_port, xmlrpc_port = daemon.free_port(), daemon.free_port()
    config = daemon.write_config(workdir, http_port, xmlrpc_port, password_digests=["md5", "sha"])
    # write_config leaves the HTTP listener on the gateway's default profile: pin both.
    data = yaml.safe_load(config.read_text())
    for listener in data["listen"]:
        listener["api_profile"] = "23.01"
    data["gateway"]["files_dir"] = str(workdir / "files")
    config.write_text(yaml.safe_dump(data))
    with daemon.serving(config, workdir, http_port, xmlrpc_port) as gateway:
        yield gateway


@dataclass(frozen=True)
class Answer:
    """What a server answered to one call, as comparable data.

    ``kind`` is ``"http"`` (``status`` and ``body``: the decoded JSON, or the text when it is
    not JSON), ``"value"`` (an XML-RPC result in ``body``), ``"fault"`` (``status`` is the
    fault code, ``body`` the fault string), ``"closed"`` (the connection closed without an
    answer) or ``"timeout"`` (nothing within ``CALL_TIMEOUT``).
    """

    kind: str
    status: int | None = None
    body: Any = None

    def show(self) -> str:
        """A one-line (or short) human-readable form for the difference report."""
        if self.kind == "http":
            body = self.body if isinstance(self.body, str) else json.dumps(self.body)
            return f"HTTP {self.status} {body}"
        if self.kind == "value":
            return f"value {self.body!r}"
        if self.kind == "fault":
            return f"fault {self.status} {self.body!r}"
        if self.kind == "closed":
            return "no answer: the connection was closed"
        return f"no answer within {CALL_TIMEOUT:g}s"


def _exchange(
    port: int, path: str, body: bytes, headers: dict[str, str]
) -> tuple[int, bytes] | Answer:
    """POST ``body``; the status and body, or an ``Answer`` saying that none came."""
    connection = http.client.HTTPConnection(LOOPBACK, port, timeout=CALL_TIMEOUT)
    try:
        connection.request("POST", path, body=body, headers=headers)
        response = connection.getresponse()
        return response.status, response.read()
    except TimeoutError:
        return Answer("timeout")
    except (http.client.RemoteDisconnected, ConnectionResetError, http.client.IncompleteRead):
        return Answer("closed")
    finally:
        connection.close()


class ApiClient:
    """Calls ``/api/<command>`` of one server (mod_http_api), as the admin unless told."""

    def __init__(self, port: int) -> None:
        self.port = port

    def call(
        self, command: str, body: Any, auth: tuple[str, str] | None, raw: bytes | None = None
    ) -> Answer:
        """POST ``body`` as JSON (or ``raw`` bytes as they are) with Basic ``auth``."""
        headers = {"Content-Type": "application/json"}
        if auth is not None:
            token = base64.b64encode(":".join(auth).encode()).decode()
            headers["Authorization"] = f"Basic {token}"
        data = raw if raw is not None else json.dumps(body).encode()
        result = _exchange(self.port, f"/api/{command}", data, headers)
        if isinstance(result, Answer):
            return result
        status, payload = result
        text = payload.decode("utf-8", errors="replace")
        try:
            decoded: Any = json.loads(text)
        except ValueError:
            decoded = text
        return Answer("http", status, decoded)


class XmlRpcClient:
    """Calls ``/xmlrpc`` of one server (ejabberd_xmlrpc), with an auth struct unless told."""

    def __init__(self, port: int, path: str = "/xmlrpc") -> None:
        self.port = port
        self.path = path

    def call(self, command: str, params: tuple[Any, ...], auth: tuple[str, str] | None) -> Answer:
        """Call ``command`` with ``params`` after an auth struct (user, server, password)."""
        if auth is not None:
            user, password = auth
            local, _, server = user.partition("@")
            params = ({"user": local, "server": server, "password": password}, *params)
        data = xmlrpc.client.dumps(params, command, allow_none=False).encode()
        result = _exchange(self.port, self.path, data, {"Content-Type": "text/xml"})
        if isinstance(result, Answer):
            return result
        status, payload = result
        if status != 200:
            return Answer("http", status, payload.decode("utf-8", errors="replace"))
        try:
            (value,), _ = xmlrpc.client.loads(payload)
        except xmlrpc.client.Fault as fault:
            return Answer("fault", fault.faultCode, fault.faultString)
        except Exception as e:  # an answer that is not XML-RPC: report it as it came
            return Answer("http", status, f"unreadable XML-RPC ({e}): {payload[:300]!r}")
        return Answer("value", None, value)
