"""Service assembly: the only module that imports every layer.

``build_service(config, reactor)`` wires configuration into a
:class:`GatewayService`: the backend, the engine per API profile, one
``Site`` per ``listen`` entry, the ``gatewayctl`` control socket and the
XMPP component link.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from twisted.application.service import MultiService, Service
from twisted.internet.defer import Deferred
from twisted.internet.endpoints import serverFromString
from twisted.internet.interfaces import IListeningPort, IProtocolFactory
from twisted.logger import (
    FilteringLogObserver,
    ILogObserver,
    Logger,
    textFileLogObserver,
)
from twisted.python.failure import Failure
from twisted.web.resource import IResource

from gateway.backend_assembly import Backends, HealthCheck, assemble_backends
from gateway.backends.chain import ExecutorChain
from gateway.backends.embedded.backend import EmbeddedBackend
from gateway.backends.embedded.outbox import StoreOutbox
from gateway.backends.embedded.startup import open_embedded
from gateway.backends.embedded.store import Store
from gateway.backends.interfaces import OutboundQueue, TokenIssuer
from gateway.backends.upstream.stanzas import UpstreamStanzas
from gateway.config.model import Config, ListenerConfig, RestOptions
from gateway.config.permissions_parse import permissions_from_config
from gateway.engine.adapters import standard_adapters
from gateway.engine.auth import Authenticator
from gateway.engine.bans import BanCommands
from gateway.engine.bruteforce import FailureLimiter
from gateway.engine.builtin import GatewayCommands
from gateway.engine.caches import CacheRegistry
from gateway.engine.catalogue import Catalogue
from gateway.engine.credential_cache import CredentialCache
from gateway.engine.dispatch import Engine
from gateway.engine.docgen import DocumentationCommands
from gateway.engine.files import FilesDir, prepare_files_dir
from gateway.engine.names import (
    CURRENT_PROFILE,
    EJABBERD_OAUTH,
    EJABBERD_XMLRPC,
    MOD_HTTP_API,
    MOD_REST,
)
from gateway.engine.oauth import TokenGrants
from gateway.engine.server import ServerCommands
from gateway.frontends.apidoc import ApiDescriptionResource
from gateway.frontends.connections import Admission, Drainable, GuardedFactory, drain_all
from gateway.frontends.ctl.process import CtlProcessor
from gateway.frontends.ctl.server import CtlFactory
from gateway.frontends.health import HealthResource
from gateway.frontends.http_guard import GuardedSite
from gateway.frontends.jsonapi import JsonApiResource
from gateway.frontends.metrics import MetricsResource
from gateway.frontends.oauth import OAuthResource
from gateway.frontends.rest import RestResource
from gateway.frontends.rest.access import access_commands_checks
from gateway.frontends.router import PrefixRouter
from gateway.frontends.xmlrpc import XmlRpcResource
from gateway.hangup import HangupReload
from gateway.jsonlog import json_lines_observer
from gateway.logreopen import LogReopen
from gateway.logs import LogLevelControl
from gateway.metrics import GatewayMetrics
from gateway.offload import Offload, ThreadOffload, run_inline
from gateway.owner_only import ensure_private_dir
from gateway.reload import ConfigReloader
from gateway.workers.metrics import ClusterMetrics
from gateway.workers.proxy import LinkProxy
from gateway.workers.role import WorkerRole
from gateway.workers.sockets import adopt_port
from gateway.xmpp.commands import StanzaCommands
from gateway.xmpp.link import ComponentLink, health_check

__all__ = [
    "GatewayService",
    "StoreCloser",
    "build_service",
    "component_link",
    "ctl_socket_endpoint",
    "prepare_socket_dir",
]

log = Logger()


class ListenFailed(SystemExit):
    """A listener could not be opened: the daemon exits non-zero with a clear message."""


class GatewayService(MultiService):
    """The daemon: opens its listeners before anything else starts.

    Listeners are bound in :meth:`privilegedStartService`, synchronously, so a
    port that is in use stops the daemon at once with a one-line message and
    exit status 1 instead of a traceback.  Stopping (SIGTERM) closes them
    first and waits up to ``shutdown_grace`` seconds for the requests in
    flight to be answered before anything else stops.
    """

    def __init__(
        self,
        reactor: Any,
        levels: LogLevelControl,
        twistd_options: Any = None,
        *,
        shutdown_grace: float = 10.0,
        log_format: str = "text",
        adopted: Mapping[str, tuple[int, int]] | None = None,
    ) -> None:
        super().__init__()
        self._reactor = reactor
        self._log_format = log_format
        self._levels = levels
        self._twistd = twistd_options
        #: the file the log goes to, when it is one (reopened on SIGUSR1)
        self._log_file: Any = None
        self._listeners: list[tuple[str, str, Callable[[], IProtocolFactory]]] = []
        self._ports: list[IListeningPort] = []
        #: listeners' factories that finish their requests before the daemon stops
        self._drainable: list[Drainable] = []
        self._shutdown_grace = shutdown_grace
        self.before_listen: list[Callable[[], None]] = []
        #: a worker's sockets, opened by its supervisor: endpoint string -> (fd, family)
        self._adopted = adopted or {}

    def add_listener(
        self, name: str, description: str, factory: Callable[[], IProtocolFactory]
    ) -> None:
        """Register a listener: ``description`` is a Twisted server endpoint string."""
        self._listeners.append((name, description, factory))

    def setServiceParent(self, parent: Any) -> None:
        super().setServiceParent(parent)
        observer = self._log_observer()
        if observer is not None and hasattr(parent, "setComponent"):
            parent.setComponent(ILogObserver, observer)

    def _log_observer(self) -> Any:
        """twistd's usual log destination, filtered by the configurable log level.

        With ``log_format: json`` each event is written as one line of JSON.
        """
        options = self._twistd
        if options is None or options.get("logger"):
            return None
        logfile = options.get("logfile")
        if logfile == "-" or (not logfile and options.get("nodaemon")):
            stream: Any = sys.stdout
        else:
            from twisted.python.logfile import LogFile

            # no rotation of its own: logrotate moves the file, SIGUSR1 reopens it
            stream = LogFile.fromFullPath(logfile or "twistd.log", rotateLength=None)
            self._log_file = stream
        if self._log_format == "json":
            return FilteringLogObserver(json_lines_observer(stream), [self._levels])
        return FilteringLogObserver(textFileLogObserver(stream), [self._levels])

    def reopen_log(self) -> str | None:
        """Reopen the log file at its path (see :mod:`gateway.logreopen`); ``None`` for stdout."""
        if self._log_file is None:
            return None
        self._log_file.reopen()
        path: str = self._log_file.path
        return path

    def privilegedStartService(self) -> None:
        for hook in self.before_listen:
            hook()
        for name, description, factory in self._listeners:
            built = factory()
            self._ports.append(self._listen(name, description, built))
            if isinstance(built, Drainable):
                self._drainable.append(built)
        super().privilegedStartService()

    def _listen(self, name: str, description: str, factory: IProtocolFactory) -> IListeningPort:
        if description in self._adopted:
            fd, family = self._adopted[description]
            port = adopt_port(self._reactor, description, fd, family, factory)
            log.info("serving: {name} ({description})", name=name, description=description)
            return port
        result: list[Any] = []
        d: Deferred[IListeningPort] = serverFromString(self._reactor, description).listen(factory)
        d.addBoth(result.append)
        if not result:
            raise ListenFailed(f"xmpp-gateway: {name}: listening on {description} did not complete")
        outcome = result[0]
        if isinstance(outcome, Failure):
            for port in self._ports:
                port.stopListening()
            reason = outcome.getErrorMessage()
            log.critical(
                "could not open {name} ({description}): {reason}",
                name=name,
                description=description,
                reason=reason,
            )
            raise ListenFailed(f"xmpp-gateway: cannot open {name} ({description}): {reason}")
        log.info("listening: {name} ({description})", name=name, description=description)
        return outcome

    def stopService(self) -> Deferred[Any]:
        """Stop accepting, let requests in flight finish (up to the grace period), then stop.

        The store, the component link and the rest stop only afterwards, so
        the last requests are answered with everything still working.
        """
        for port in self._ports:
            port.stopListening()
        self._ports.clear()
        drainable, self._drainable = self._drainable, []
        drained = drain_all(drainable, self._shutdown_grace, self._reactor)

        def stop_the_rest(_: None) -> Deferred[Any] | None:
            stopped: Deferred[Any] | None = super(GatewayService, self).stopService()
            return stopped

        return drained.addCallback(stop_the_rest)


@dataclass(frozen=True)
class Frontends:
    """What every HTTP request handler is built from."""

    config: Config
    engine: Engine
    reactor: Any
    #: where /rest stanzas go: the component link, or the upstream's send_stanza
    sink: ComponentLink | LinkProxy | UpstreamStanzas | None = None
    #: the component link, whose state /health reports
    link: ComponentLink | LinkProxy | None = None
    #: decodes large bodies off the event loop
    offload: Offload = run_inline
    #: served at /metrics on every ejabberd_http listener
    metrics: GatewayMetrics | ClusterMetrics | None = None
    #: issues the tokens of ejabberd_oauth handlers
    tokens: TokenIssuer | None = None
    #: the backends' own checks for /health, beside the component link's
    health: Mapping[str, HealthCheck] = field(default_factory=dict)

    def handler(self, name: str, engine: Engine, listener: ListenerConfig) -> IResource:
        """The resource for request handler ``name`` on ``listener``."""
        limits = self.config.gateway.limits
        if name == MOD_HTTP_API:
            options = self.config.modules.mod_http_api
            default_version = options.default_version if options else None
            api = JsonApiResource(
                engine,
                default_version=default_version,
                tag=listener.tag,
                custom_headers=listener.custom_headers,
                max_body_bytes=limits.max_body_bytes,
                trusted_proxies=self.config.trusted_proxies,
                offload=self.offload,
            )
            # GET <path>/openapi.json and <path>/docs describe the commands served there
            return ApiDescriptionResource(
                api,
                engine.catalogue,
                default_version=default_version,
                custom_headers=listener.custom_headers,
            )
        if name == EJABBERD_XMLRPC:
            return XmlRpcResource(
                engine,
                tag=listener.tag,
                max_body_bytes=limits.max_body_bytes,
                max_depth=limits.max_xml_depth,
                trusted_proxies=self.config.trusted_proxies,
                offload=self.offload,
            )
        if name == MOD_REST:
            return RestResource(
                CtlProcessor(engine, frontend=MOD_REST),
                self.sink,
                self.config.modules.mod_rest or RestOptions(),
                hosts=self.config.hosts,
                max_body_bytes=limits.max_body_bytes,
                max_depth=limits.max_xml_depth,
                iq_timeout=limits.request_timeout,
                clock=self.reactor,
                trusted_proxies=self.config.trusted_proxies,
                offload=self.offload,
            )
        if name == EJABBERD_OAUTH and self.tokens is not None:
            grants = TokenGrants(
                engine,
                self.tokens,
                # a token is good on every listener: its scopes may be for any of them
                tags=[other.tag for other in self.config.listen],
                max_secret_bytes=limits.max_password_bytes,
            )
            return OAuthResource(
                grants,
                tag=listener.tag,
                custom_headers=listener.custom_headers,
                max_body_bytes=limits.max_body_bytes,
                trusted_proxies=self.config.trusted_proxies,
            )
        raise ValueError(f"unknown request handler {name!r}")

    def site(self, listener: ListenerConfig) -> GuardedSite:
        """One ``Site`` for one ``listen`` entry, speaking its API profile, with its limits."""
        profile = listener.api_profile or self.config.gateway.api_profile
        engine = self.engine.for_profile(Catalogue.load(profile))
        if listener.module == EJABBERD_XMLRPC:
            root: IResource = self.handler(EJABBERD_XMLRPC, engine, listener)
        else:
            handlers = [
                (path, self.handler(name, engine, listener))
                for path, name in listener.request_handlers
            ]
            if not any(path.rstrip("/") == "/health" for path, _ in listener.request_handlers):
                health = HealthResource({"xmpp_component": health_check(self.link), **self.health})
                handlers.append(("/health", health))
            if self.metrics is not None and not any(
                path.rstrip("/") == "/metrics" for path, _ in listener.request_handlers
            ):
                handlers.append(("/metrics", MetricsResource(self.metrics)))
            root = PrefixRouter(handlers)
        limits = self.config.gateway.limits
        site = GuardedSite(
            root,
            name=f"listen[{listener.index}] {listener.describe()}",
            reactor=self.reactor,
            receive_timeout=limits.receive_timeout,
            idle_timeout=limits.idle_timeout,
            max_connections=limits.max_connections,
            access_log=self.config.gateway.access_log,
        )
        site.displayTracebacks = False
        return site


def _make_backend(
    config: Config, reactor: Any, service: GatewayService, files: FilesDir
) -> tuple[EmbeddedBackend, Store]:
    backend, store = open_embedded(config, reactor, "xmpp-gateway", files)
    service.addService(StoreCloser(store))
    return backend, store


def component_link(
    config: Config, queue: OutboundQueue, reactor: Any, offload: Offload
) -> ComponentLink:
    """The component link of ``config`` (which has one), sending what ``queue`` holds."""
    component = config.gateway.component
    assert component is not None
    limits = config.gateway.limits
    return ComponentLink(
        component,
        queue,
        reactor,
        max_bytes=limits.max_body_bytes,
        max_depth=limits.max_xml_depth,
        offload=offload,
    )


class StoreCloser(Service):
    """Closes the store's connections when the daemon stops."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def stopService(self) -> None:
        super().stopService()
        self._store.close()


def build_service(
    config: Config, reactor: Any, twistd_options: Any = None, *, worker: WorkerRole | None = None
) -> GatewayService:
    """Wire ``config`` into a ready-to-start service; with ``worker``, one of several workers."""
    levels = LogLevelControl(config.loglevel)
    limits = config.gateway.limits
    service = GatewayService(
        reactor,
        levels,
        twistd_options,
        shutdown_grace=limits.shutdown_grace,
        log_format=config.gateway.log_format,
        adopted=worker.adopted if worker is not None else None,
    )
    # large bodies and stanzas are decoded in a thread of their own
    offload = ThreadOffload(reactor)
    offload.setServiceParent(service)
    for module in config.ignored_modules:
        log.info("modules.{module}: not used by the gateway, ignored", module=module)
    for warning in config.warnings:
        log.warn("configuration: {warning}", warning=warning)

    files = _prepare_files_dir(config.gateway.files_dir)
    backend, store = _make_backend(config, reactor, service, files)
    metrics = GatewayMetrics()
    store.time_transactions(metrics.store_timed)
    # what clear_cache empties; parts that cache something register here
    caches = CacheRegistry() if worker is None else worker.shared.caches()
    caches.register("command catalogue", Catalogue.forget_loaded)
    link: ComponentLink | LinkProxy | None = None
    component = config.gateway.component
    if component is not None:
        outbox = StoreOutbox(store)
        if worker is not None:
            # the supervisor holds the link; this worker queues through it into the shared store
            link = worker.link(
                component,
                outbox,
                max_bytes=limits.max_body_bytes,
                max_depth=limits.max_xml_depth,
                offload=offload,
            )
        else:
            link = component_link(config, outbox, reactor, offload)
            # with workers the supervisor exports the link's metrics, once for all of them
            metrics.watch_link(link, outbox)
        # added after the store, so it stops before the store closes
        service.addService(link)
    backends = assemble_backends(
        config,
        reactor,
        service,
        embedded=backend,
        store=store,
        link=link,
        offload=offload,
        caches=caches,
    )
    # one permissions object for every engine and frontend: reload_config replaces its rules
    permissions = permissions_from_config(config)
    reloader = ConfigReloader(config, levels=levels, permissions=permissions)
    service.addService(HangupReload(reloader.reload, reactor))
    service.addService(LogReopen(service.reopen_log, reactor))

    brute_force = config.gateway.brute_force
    limiter = (FailureLimiter if worker is None else worker.shared.limiter)(
        reactor.seconds,
        max_failures=brute_force.max_failures,
        window=brute_force.window,
        ban_time=brute_force.ban_time,
        exempt=brute_force.exempt,
    )
    metrics.watch_limiter(limiter)

    def extra_status() -> list[str]:
        return [
            *(link.status_lines() if link else ()),
            *backends.status_lines(),
            *reloader.status_lines(),
            *limiter.status_lines(),
        ]

    gateway_commands = ExecutorChain(
        "gateway",
        [
            GatewayCommands(
                config.hosts,
                levels if worker is None else worker.shared.levels(levels),
                extra_status=extra_status,
            ),
            ServerCommands(
                backends.executor,
                reactor,
                reload=(
                    reloader.reload_command if worker is None else worker.shared.reload(reloader)
                ),
                dump=reloader.dump,
                files=files,
                caches=caches,
            ),
            StanzaCommands(_stanza_route(backends, link), max_depth=limits.max_xml_depth),
            BanCommands(limiter),
            DocumentationCommands(
                Catalogue.load(config.gateway.api_profile),
                files,
                reactor.seconds,
                # regexp "runtime": what this gateway runs, itself or through its backend
                runs=lambda name: (
                    gateway_commands.supports(name) or backends.executor.supports(name)
                ),
                offload=offload,
            ),
        ],
    )
    credential_cache = CredentialCache(limits.credential_cache_ttl, reactor.seconds)
    if credential_cache.enabled:
        caches.register("verified credentials", credential_cache.clear)
    authenticator = Authenticator(
        backends.accounts,
        clock=reactor.seconds,
        limiter=limiter,
        max_password_bytes=config.gateway.limits.max_password_bytes,
        cache=credential_cache,
    )
    engine = Engine(
        Catalogue.load(config.gateway.api_profile),
        Catalogue.load(CURRENT_PROFILE),
        backends.executor,
        gateway_commands,
        permissions,
        standard_adapters(),
        authenticator=authenticator,
        # mod_rest's access_commands, asked before api_permissions
        checks=access_commands_checks(
            config.modules.mod_rest or RestOptions(), permissions.access_allows
        ),
        observer=metrics,
    )
    frontends = Frontends(
        config,
        engine,
        reactor,
        sink=backends.stanzas or link,
        link=link,
        offload=offload,
        metrics=metrics if worker is None else worker.metrics(metrics),
        tokens=backend,
        health=backends.health,
    )

    for listener in config.listen:
        service.add_listener(
            f"listen[{listener.index}] {listener.describe()}",
            listener.endpoint(),
            partial(frontends.site, listener),
        )

    socket_path = config.gateway.ctl_socket
    service.before_listen.append(lambda: prepare_socket_dir(socket_path))
    processor = CtlProcessor(engine)
    service.add_listener(
        "gatewayctl socket",
        ctl_socket_endpoint(socket_path),
        lambda: GuardedFactory(
            CtlFactory(processor, reactor),
            Admission("gatewayctl socket", limits.max_connections, reactor),
        ),
    )
    return service


def _stanza_route(backends: Backends, link: Any) -> Any:
    """Where the send_* commands' stanzas go: the upstream, the link, or the link as a user."""
    if backends.stanzas is not None:
        return backends.stanzas
    if backends.xmpp is not None and link is not None:
        # messages from a served user go out as that user when the server grants it (XEP-0356)
        return backends.xmpp.sender(link)
    return link


def ctl_socket_endpoint(path: str) -> str:
    """The server endpoint string of the ``gatewayctl`` socket at ``path`` (owner-only, locked)."""
    return f"unix:{path.replace(':', chr(92) + ':')}:mode=600:lockfile=1"


def prepare_socket_dir(path: str) -> None:
    directory = os.path.dirname(path)
    if directory:
        # an existing directory is only reported: it may hold other things
        ensure_private_dir(directory, tighten_existing=False)


def _prepare_files_dir(path: str) -> FilesDir:
    try:
        return prepare_files_dir(path)
    except OSError as e:
        raise SystemExit(
            f"xmpp-gateway: gateway.files_dir: cannot prepare {path}: {e.strerror or e}"
        ) from None
