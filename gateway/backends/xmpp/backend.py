"""The ``xmpp`` executor: ejabberd's commands, run with standard XMPP on the served host.

Commands go over the component link as IQs from the component JID:

- ejabberd's ``api-commands/<command>`` nodes, when the server lists them,
  run any catalogue command exactly as ejabberd would (:mod:`.api_nodes`);
- otherwise XEP-0133 administration nodes (:mod:`.admin`) and XEP-0356
  roster IQs (:mod:`.privilege`).

What is claimed is what the server offered the last time the link came up:
its command nodes (XEP-0030 items of the commands node) and the privileges it
announced.  Discovery reruns after each reconnect; until it has answered once,
the commands this backend may run answer ``Unavailable`` and the others "not
supported".  Stanza commands keep the durable queue; :meth:`XmppBackend.sender`
gives the stanza commands a submitter that sends messages as the host's users
when the server grants it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from twisted.internet.defer import Deferred, ensureDeferred
from twisted.internet.interfaces import IReactorTime
from twisted.logger import Logger
from twisted.python.failure import Failure

from gateway.backends.flight import Flight
from gateway.backends.interfaces import IqChannel
from gateway.backends.xmpp.adhoc import AdhocClient
from gateway.backends.xmpp.admin import ADMIN_COMMANDS, AdminRun, admin_node
from gateway.backends.xmpp.api_nodes import API_PREFIX, ApiCommands
from gateway.backends.xmpp.discovery import command_nodes
from gateway.backends.xmpp.privilege import (
    NONE,
    PrivilegedSender,
    Privileges,
    RosterCommands,
    StanzaSubmitter,
    read_privileges,
)
from gateway.backends.xmpp.requests import IqRequests, StanzaError
from gateway.backends.xmpp.texts import NotOffered
from gateway.engine.catalogue import Catalogue
from gateway.engine.errors import CommandError, Unavailable
from gateway.engine.model import Caller

__all__ = ["ROSTER_COMMANDS", "XmppBackend"]

log = Logger()

#: roster commands and whether each needs the roster ``get`` (else ``set``) privilege
ROSTER_COMMANDS = {"get_roster": True, "add_rosteritem": False, "delete_rosteritem": False}


class XmppBackend:
    """Executor ``xmpp`` over an :class:`~gateway.backends.interfaces.IqChannel`.

    Args:
        channel: the component link.
        host: the served host (the server JID the admin commands go to).
        component: the component JID.
        clock: times requests and the wait for a free slot.
        timeout: seconds each IQ may take (``gateway.xmpp.timeout``).
        max_in_flight: IQs awaiting an answer at once (``gateway.xmpp.max_in_flight``).
        catalogue: the 24.12 catalogue (for ``api-commands/`` argument and result types).

    Cached logins are not this class's business: wrap it in
    :class:`~gateway.backends.remote_accounts.InvalidatingExecutor`, which bumps
    the credential generations after every command that changes a password or
    an account's existence.
    """

    name = "xmpp"

    def __init__(
        self,
        channel: IqChannel,
        host: str,
        component: str,
        clock: IReactorTime,
        *,
        timeout: float = 15.0,
        max_in_flight: int = 32,
        catalogue: Catalogue | None = None,
    ) -> None:
        self.host = host
        self.component = component
        self._requests = IqRequests(
            channel, host, clock, timeout=timeout, max_in_flight=max_in_flight
        )
        self._adhoc = AdhocClient(self._requests, host)
        self._roster = RosterCommands(self._requests, host)
        self._api = ApiCommands(self._adhoc, host, catalogue or Catalogue.load())
        #: the command nodes found at the last discovery; ``None`` before the first
        self._nodes: frozenset[str] | None = None
        self._privileges: Privileges = NONE
        self._problem: str | None = None
        #: the callers waiting for the discovery under way (a superseded one hands them on)
        self._waiting: Flight[None] = Flight()
        #: the round of the discovery running now
        self._running: int | None = None
        self._round = 0
        channel.on_up(self._link_up)
        channel.on_message(self._message)

    # -- what the server offers --------------------------------------------------------------

    @property
    def privileges(self) -> Privileges:
        """What the server granted on the current stream."""
        return self._privileges

    def discover(self) -> Deferred[None]:
        """Ask the server which command nodes it offers; one discovery serves every caller."""
        view = self._waiting.join()
        if self._running is None:
            self._start()
        return view

    def _start(self) -> None:
        self._round += 1
        self._running = round_ = self._round
        ensureDeferred(self._discover(round_)).addBoth(self._finished, round_)

    def _finished(self, result: Any, round_: int) -> None:
        if round_ != self._round:  # superseded: its callers wait for the newer round
            return
        self._running = None
        waiting, self._waiting = self._waiting, Flight()
        waiting.land(result if isinstance(result, Failure) else None)

    async def _discover(self, round_: int) -> None:
        try:
            nodes = await command_nodes(self._requests, self.host)
        except StanzaError as e:
            # a server without disco#items for us offers nothing we can find
            nodes = frozenset()
            self._problem = f"disco#items refused: {e.describe()}"
        except CommandError as e:
            self._problem = f"discovery failed: {e.message}"
            log.warn(
                "xmpp backend: discovery on {host} failed: {why}", host=self.host, why=e.message
            )
            raise
        else:
            self._problem = None
        if round_ != self._round:  # a newer link-up is discovering already
            return
        self._nodes = nodes
        log.info(
            "xmpp backend: {host} offers {count} command nodes",
            host=self.host,
            count=len(nodes),
        )

    def _link_up(self) -> None:
        # privileges belong to a stream: the server announces them again on the new one
        self._privileges = NONE
        self._roster.set_broken = None
        self._start()

    def _message(self, text: str) -> None:
        granted = read_privileges(text, self.host)
        if granted is not None:
            self._privileges = granted
            log.info(
                "xmpp backend: {host} grants {privileges}",
                host=self.host,
                privileges=granted.describe(),
            )

    # -- Executor ----------------------------------------------------------------------------

    def supports(self, command: str) -> bool:
        return self._missing(command) is None

    def not_supported(self, command: str) -> CommandError:
        """Why ``command`` cannot run here, naming what the server does not offer."""
        return NotOffered(command, self.host, self._missing(command) or "unknown reason")

    def _missing(self, command: str) -> str | None:
        """What the server lacks for ``command``; ``None`` when it can run (or may, once known)."""
        if self._nodes is None:
            if command in ADMIN_COMMANDS or command in ROSTER_COMMANDS:
                return None  # answered Unavailable until discovery has run
            return "the server's command nodes are not known yet (the component link is not up)"
        if API_PREFIX + command in self._nodes and self._api.knows(command):
            return None
        admin = ADMIN_COMMANDS.get(command)
        if admin is not None:
            if any(admin_node(node) in self._nodes for node in admin.nodes):
                return None
            return f"the server offers no {admin_node(admin.nodes[0])}"
        needs_get = ROSTER_COMMANDS.get(command)
        if needs_get is not None:
            if not needs_get and self._privileges.roster_set and self._roster.set_broken:
                return self._roster.set_broken
            granted = self._privileges.roster_get if needs_get else self._privileges.roster_set
            if granted:
                return None
            what = "get" if needs_get else "set"
            return f"the server offers no XEP-0356 roster privilege ({what}) to the component"
        return f"the server offers no {API_PREFIX}{command}"

    def execute(self, command: str, args: Mapping[str, Any], caller: Caller) -> Deferred[Any]:
        return ensureDeferred(self._run(command, args))

    async def _run(self, command: str, args: Mapping[str, Any]) -> Any:
        if self._nodes is None:
            try:
                await self.discover()
            except CommandError as e:
                raise Unavailable(
                    f"the xmpp backend does not know yet what {self.host} offers: {e.message}"
                ) from None
        missing = self._missing(command)
        if missing is not None:
            raise NotOffered(command, self.host, missing)
        assert self._nodes is not None
        if API_PREFIX + command in self._nodes and self._api.knows(command):
            result = await self._api.run(command, args)
        elif command in ADMIN_COMMANDS:
            run = AdminRun(self._adhoc, self.host, self._nodes)
            result = await ADMIN_COMMANDS[command].run(run, args)
        else:
            result = await getattr(self._roster, command)(args)
        return result

    # -- for the stanza commands and status --------------------------------------------------

    def sender(self, link: StanzaSubmitter) -> PrivilegedSender:
        """A submitter for the stanza commands: messages as the host's users when granted."""
        return PrivilegedSender(link, self.host, self.component, lambda: self._privileges)

    def status_lines(self) -> list[str]:
        """What was discovered, for the ``status`` command."""
        head = f"XMPP backend on {self.host}"
        if self._nodes is None:
            why = f" ({self._problem})" if self._problem else ""
            return [f"{head}: the server's commands are not known yet{why}"]
        runnable = sorted(
            c for c in (*ADMIN_COMMANDS, *ROSTER_COMMANDS) if self._missing(c) is None
        )
        api = sorted(n[len(API_PREFIX) :] for n in self._nodes if n.startswith(API_PREFIX))
        lines = [
            f"{head}: {len(self._nodes)} command nodes offered;"
            f" privileges: {self._privileges.describe()}"
            + (f" ({self._privileges.namespace})" if self._privileges is not NONE else ""),
            f"{head} runs: {', '.join(runnable) if runnable else 'nothing'}",
        ]
        if api:
            lines.append(f"{head} runs through api-commands/: {len(api)} commands")
        if self._problem:
            lines.append(f"{head}: {self._problem}")
        return lines
