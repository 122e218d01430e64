"""Which backends run commands and check passwords, as ``gateway`` configures them.

Part of the service assembly (:mod:`gateway.service` calls it): it builds the
embedded store's companions, the upstream ejabberd client and backend, the
XMPP-native backend and the password checkers, and puts them behind one
executor that follows ``gateway.routes``.  The embedded store is always
open: it keeps the component link's queue, the gateway's OAuth tokens and
the credential generations every worker reads.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from twisted.application.service import MultiService, Service
from twisted.internet.defer import Deferred
from twisted.logger import Logger

from gateway.backends.embedded.backend import EmbeddedBackend
from gateway.backends.embedded.generations import StoreGenerations
from gateway.backends.embedded.store import Store
from gateway.backends.interfaces import Accounts, Executor, IqChannel
from gateway.backends.remote_accounts import InvalidatingExecutor, RemoteAccounts
from gateway.backends.routes import RoutedExecutor
from gateway.backends.upstream.backend import UpstreamBackend
from gateway.backends.upstream.client import UpstreamClient
from gateway.backends.upstream.stanzas import UpstreamStanzas
from gateway.backends.xmpp.backend import XmppBackend
from gateway.backends.xmpp.login import XmppLoginVerifier
from gateway.backends.xmpp.login_accounts import xmpp_accounts
from gateway.config.model import Config
from gateway.engine.caches import CacheRegistry
from gateway.engine.catalogue import Catalogue
from gateway.engine.names import CURRENT_PROFILE
from gateway.offload import Offload

__all__ = ["Backends", "assemble_backends"]

log = Logger()

HealthCheck = Callable[[], tuple[bool, dict[str, Any]]]


@dataclass
class Backends:
    """What the rest of the service needs from the backends."""

    #: runs every command the gateway does not run itself
    executor: Executor
    #: checks callers' passwords and tokens
    accounts: Accounts
    #: the XMPP-native backend, when in use (it sends messages as users)
    xmpp: XmppBackend | None = None
    #: where stanzas go instead of the component link (``stanzas: upstream``)
    stanzas: UpstreamStanzas | None = None
    status: list[Callable[[], list[str]]] = field(default_factory=list)
    health: dict[str, HealthCheck] = field(default_factory=dict)

    def status_lines(self) -> list[str]:
        return [line for lines in self.status for line in lines()]


def assemble_backends(
    config: Config,
    reactor: Any,
    service: MultiService,
    *,
    embedded: EmbeddedBackend,
    store: Store,
    link: Any,
    offload: Offload,
    caches: CacheRegistry,
) -> Backends:
    """Build the configured backends; a bad setting stops the daemon with a clear message."""
    gw = config.gateway
    generations = StoreGenerations(store)
    canonical = Catalogue.load(CURRENT_PROFILE)
    executors: dict[str, Executor] = {"embedded": embedded}
    built = Backends(executor=embedded, accounts=embedded)
    client: UpstreamClient | None = None
    if gw.upstream is not None:
        try:
            client = UpstreamClient(gw.upstream, reactor, offload=offload)
        except ValueError as e:
            raise SystemExit(f"xmpp-gateway: gateway.upstream: {e}") from None
        service.addService(_UpstreamService(client))
        # a change forwarded upstream ends cached logins at once, in every worker
        executors["ejabberd"] = InvalidatingExecutor(UpstreamBackend(client), generations)
        built.status.append(client.status_lines)
        built.health["upstream"] = _upstream_health(client)
        if gw.stanzas == "upstream":
            built.stanzas = UpstreamStanzas(client, config.hosts[0])
    if gw.xmpp is not None:
        if not isinstance(link, IqChannel):
            # a worker's link proxy relays no link-up or privilege messages yet
            raise SystemExit(
                "xmpp-gateway: the xmpp backend needs the component link in its own process "
                "(gateway.workers: 1)"
            )
        component = config.gateway.component
        assert component is not None  # the configuration requires it with the xmpp backend
        xmpp = XmppBackend(
            link,
            gw.xmpp.host or config.hosts[0],
            component.jid,
            reactor,
            timeout=gw.xmpp.timeout,
            max_in_flight=gw.xmpp.max_in_flight,
            catalogue=canonical,
        )
        # drops cached logins after password changes, removals, bans and registrations
        executors["xmpp"] = InvalidatingExecutor(xmpp, generations)
        built.xmpp = xmpp
        built.status.append(xmpp.status_lines)
    built.executor = RoutedExecutor(
        gw.backend,
        executors,
        gw.routes,
        lambda command: canonical.newest(command).tags if command in canonical else (),
        # any catalogue command can be forwarded to an ejabberd, configured or not
        could_run=lambda command: ("ejabberd",) if command in canonical else (),
    )
    built.accounts = _accounts(config, reactor, embedded, generations, client, offload, caches)
    return built


def _accounts(
    config: Config,
    reactor: Any,
    embedded: EmbeddedBackend,
    generations: StoreGenerations,
    client: UpstreamClient | None,
    offload: Offload,
    caches: CacheRegistry,
) -> Accounts:
    """Who checks passwords (``gateway.auth``); the gateway's own OAuth tokens stay local."""
    auth = config.gateway.auth
    if auth == "upstream":
        assert client is not None  # the configuration requires gateway.upstream
        accounts = RemoteAccounts(client, generations, reactor.seconds, tokens=embedded)
        caches.register("upstream credential generations", accounts.clear, shared=True)
        embedded.use_accounts_elsewhere(accounts.account_exists)
        return accounts
    if auth == "xmpp":
        options = config.gateway.xmpp
        assert options is not None  # the configuration fills it in with auth: xmpp
        served = options.host or config.hosts[0]
        try:
            verifier = XmppLoginVerifier.from_endpoint_string(
                reactor,
                options.c2s,
                [served, *(host for host in config.hosts if host != served)],
                tls_mode=options.c2s_tls,
                verify=options.c2s_verify,
                ca=options.c2s_ca,
                timeout=options.timeout,
                offload=offload,
            )
        except (ValueError, OSError) as e:
            raise SystemExit(f"xmpp-gateway: gateway.xmpp.c2s: {e}") from None
        login = xmpp_accounts(verifier, generations, reactor.seconds, tokens=embedded)
        caches.register("xmpp credential generations", login.clear, shared=True)
        # XMPP offers no "does this account exist" without its password: /oauth/token
        # has just checked it by logging in; oauth_issue_token trusts the admin who runs it
        embedded.use_accounts_elsewhere(_anyone)
        return login
    return embedded


async def _anyone(user: str, host: str) -> bool:
    return True


def _upstream_health(client: UpstreamClient) -> HealthCheck:
    def check() -> tuple[bool, dict[str, Any]]:
        health = client.health()
        details = {
            "url": health.url,
            "reachable": health.reachable,
            "profile": health.profile,
            "in_flight": health.in_flight,
            "queued": health.queued,
        }
        if health.last_error:
            details["last_error"] = health.last_error
        # unknown before the first call: not a reason to take the gateway out of rotation
        return health.reachable is not False, details

    return check


class _UpstreamService(Service):
    """Asks the upstream's release at start-up; closes its connection pool at the end."""

    def __init__(self, client: UpstreamClient) -> None:
        self._client = client

    def startService(self) -> None:
        super().startService()
        detected = self._client.ensure_profile()
        detected.addErrback(
            lambda failure: log.warn(
                "the upstream ejabberd's release is not known yet ({why}); asked again "
                "before the next command",
                why=failure.getErrorMessage(),
            )
        )

    def stopService(self) -> Deferred[None]:
        super().stopService()
        return self._client.close()
