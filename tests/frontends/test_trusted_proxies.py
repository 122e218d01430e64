"""``trusted_proxies`` as the service wires it: X-Forwarded-For counts only from those proxies.

Each HTTP dialect is built by the service's own :class:`~gateway.service.Frontends`
from a parsed configuration, and asked by a client that names itself in
``X-Forwarded-For``: through a trusted proxy the header decides the caller's
address (for ``api_permissions`` ``ip`` rules, mod_rest's ``allowed_ips`` and
brute-force bans); from any other peer the same header is ignored.
"""

from __future__ import annotations

import ipaddress
import xmlrpc.client
from typing import cast

from twisted.internet.testing import Clock
from twisted.trial.unittest import SynchronousTestCase
from twisted.web.iweb import IRequest
from twisted.web.resource import IResource
from twisted.web.test.requesthelper import DummyRequest

from gateway.config.load import parse_config
from gateway.config.permissions_parse import permissions_from_config
from gateway.engine.auth import Authenticator
from gateway.engine.bruteforce import FailureLimiter
from gateway.service import Frontends
from tests.engine.helpers import make_engine
from tests.frontends.helpers import NODE, basic, make_request
from tests.frontends.jsonapi import helpers as jsonapi_helpers

CLIENT = "192.0.2.7"  # the only address the rules below let in
PROXY = "10.0.0.5"  # inside trusted_proxies
STRANGER = "198.51.100.1"  # anybody else, claiming to be CLIENT

CONFIG = f"""\
hosts: [localhost]
trusted_proxies: ["10.0.0.0/8"]
api_permissions:
  "one client":
    who: {{ip: "{CLIENT}"}}
    what: [status]
modules:
  mod_rest:
    allowed_ips: ["{CLIENT}"]
listen:
  - port: 5280
    ip: "127.0.0.1"
    module: ejabberd_http
    request_handlers: {{/api: mod_http_api, /rest: mod_rest, /xmlrpc: ejabberd_xmlrpc}}
"""


def forwarded_for(client: str) -> tuple[bytes, bytes]:
    return (b"X-Forwarded-For", client.encode("ascii"))


class TrustedProxyTests(SynchronousTestCase):
    """One service-built resource per dialect, asked through a proxy and by a spoofer."""

    def setUp(self) -> None:
        config = parse_config(CONFIG)
        self.listener = config.listen[0]
        self.limiter = FailureLimiter(lambda: 0.0, max_failures=5, window=60.0, ban_time=60.0)
        backend = jsonapi_helpers.make_backend()
        permissions = permissions_from_config(config)
        authenticator = Authenticator(backend, clock=lambda: 0.0, limiter=self.limiter)
        self.engine = make_engine(
            backend, permissions, hosts=config.hosts, node=NODE, authenticator=authenticator
        )
        self.frontends = Frontends(config, self.engine, Clock())

    def render(
        self,
        handler: str,
        mount: str,
        path: str,
        body: bytes,
        peer: str,
        *headers: tuple[bytes, bytes],
    ) -> DummyRequest:
        """POST ``body`` from ``peer`` to the service-built resource of ``handler``."""
        resource: IResource = self.frontends.handler(handler, self.engine, self.listener)
        request = make_request(
            b"POST", path, body, headers=[(b"Host", b"localhost"), *headers], mount=mount, ip=peer
        )
        resource.render(cast(IRequest, request))
        return request

    def api_status(self, peer: str, *headers: tuple[bytes, bytes]) -> int | None:
        request = self.render("mod_http_api", "/api", "/api/status", b"{}", peer, *headers)
        return cast(int | None, request.responseCode)

    def test_api_permissions_see_the_client_behind_a_trusted_proxy(self) -> None:
        """/api: an ``ip`` rule admits the client named by a trusted proxy, not a spoofer."""
        self.assertEqual(self.api_status(CLIENT), 200)
        self.assertEqual(self.api_status(PROXY, forwarded_for(CLIENT)), 200)
        self.assertEqual(self.api_status(PROXY), 403)
        self.assertEqual(self.api_status(STRANGER, forwarded_for(CLIENT)), 403)

    def test_xmlrpc_permissions_see_the_client_behind_a_trusted_proxy(self) -> None:
        """XML-RPC: the same rule, the same outcome: the spoofed header gets a fault."""
        body = xmlrpc.client.dumps((), methodname="status").encode("utf-8")

        def status(peer: str, *headers: tuple[bytes, bytes]) -> bool:
            request = self.render("ejabberd_xmlrpc", "/xmlrpc", "/xmlrpc", body, peer, *headers)
            try:
                xmlrpc.client.loads(b"".join(request.written).decode("utf-8"))
            except xmlrpc.client.Fault:
                return False
            return True

        self.assertTrue(status(PROXY, forwarded_for(CLIENT)))
        self.assertFalse(status(STRANGER, forwarded_for(CLIENT)))

    def test_rest_allowed_ips_see_the_client_behind_a_trusted_proxy(self) -> None:
        """mod_rest: ``allowed_ips`` admits the forwarded client and refuses the spoofer."""

        def post(peer: str, *headers: tuple[bytes, bytes]) -> tuple[int | None, str]:
            request = self.render("mod_rest", "/rest", "/rest", b"status", peer, *headers)
            return request.responseCode, b"".join(request.written).decode("utf-8")

        status, _ = post(PROXY, forwarded_for(CLIENT))
        self.assertEqual(status, 200)
        status, text = post(STRANGER, forwarded_for(CLIENT))
        self.assertEqual(status, 406)
        self.assertIn(f"{STRANGER} is not in allowed_ips", text)

    def test_failed_logins_count_against_the_real_address(self) -> None:
        """Brute-force failures count against the forwarded client, or the spoofer itself."""
        wrong = basic("admin@localhost", "guess")
        self.api_status(PROXY, forwarded_for(CLIENT), wrong)
        self.api_status(STRANGER, forwarded_for(CLIENT), wrong)
        failures = {
            name: self.limiter.failures(ipaddress.ip_address(name))
            for name in (CLIENT, PROXY, STRANGER)
        }
        self.assertEqual(failures, {CLIENT: 1, PROXY: 0, STRANGER: 1})
