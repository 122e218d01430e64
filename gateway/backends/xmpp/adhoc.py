"""XEP-0050 ad-hoc command sessions, from the client side.

A session is run to its end: ``execute``; while the server answers
``executing`` with a form, the caller's filler gives the values to submit and
the form goes back under the session id, with the action the server offers;
the last answer (``completed``, or ``canceled``) is the :class:`Outcome`, with
its notes and its form.  Some nodes complete at once (ejabberd's user lists
answer the first ``execute`` with the values).

A session abandoned half-way (no answer in time, or a form we cannot fill) is
cancelled on the server, without waiting for that answer.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from lxml import etree
from twisted.internet.defer import ensureDeferred
from twisted.logger import Logger

from gateway.backends.xmpp.forms import NS_DATA, Form, read_form, submit_form
from gateway.backends.xmpp.requests import IqRequests
from gateway.engine.errors import CommandError, CommandFailed
from gateway.stanza import default_ns

__all__ = ["NS_COMMANDS", "AdhocClient", "Filler", "Outcome"]

NS_COMMANDS = "http://jabber.org/protocol/commands"

#: a server that keeps asking after this many forms is not finishing
MAX_STAGES = 8

log = Logger()

#: given a stage's form, the values to submit (field name -> values)
Filler = Callable[[Form], Mapping[str, Sequence[str]]]


@dataclass(frozen=True, slots=True)
class Outcome:
    """How a session ended: its status, its notes ``(type, text)`` and its last form."""

    status: str
    notes: tuple[tuple[str, str], ...] = ()
    form: Form | None = None

    @property
    def error(self) -> str | None:
        """The text of the error notes, ``None`` when there is none."""
        texts = [text for kind, text in self.notes if kind == "error"]
        return "\n".join(texts) if texts else None

    @property
    def info(self) -> str:
        """The text of the other notes."""
        return "\n".join(text for kind, text in self.notes if kind != "error")


@dataclass(frozen=True, slots=True)
class _Answer:
    status: str
    sessionid: str | None
    action: str
    notes: tuple[tuple[str, str], ...]
    form: Form | None


class AdhocClient:
    """Runs ad-hoc commands on the served host."""

    def __init__(self, requests: IqRequests, host: str) -> None:
        self._requests = requests
        self._host = host

    async def run(self, node: str, fill: Filler) -> Outcome:
        """Run ``node`` to its end, filling each form the server asks with ``fill``.

        Raises:
            StanzaError: the server answered a stage with an IQ error.
            CommandError: ``fill`` refused the form, or the link failed.
        """
        answer = await self._stage(node, "execute", None, None)
        stages = 0
        while answer.status == "executing":
            stages += 1
            if answer.form is None or stages > MAX_STAGES:
                self._cancel(node, answer.sessionid)
                raise CommandFailed(
                    f"the XMPP server {self._host} did not finish the ad-hoc command {node}"
                )
            try:
                values = fill(answer.form)
                answer = await self._stage(
                    node,
                    answer.action,
                    answer.sessionid,
                    submit_form(values, answer.form.form_type),
                )
            except CommandError:
                self._cancel(node, answer.sessionid)
                raise
        return Outcome(answer.status, answer.notes, answer.form)

    async def _stage(
        self, node: str, action: str, sessionid: str | None, form: etree._Element | None
    ) -> _Answer:
        command = etree.Element(f"{{{NS_COMMANDS}}}command", nsmap=default_ns(NS_COMMANDS))
        command.set("node", node)
        command.set("action", action)
        if sessionid is not None:
            command.set("sessionid", sessionid)
        if form is not None:
            command.append(form)
        result = await self._requests.send("set", self._host, command)
        return _read_answer(result)

    def _cancel(self, node: str, sessionid: str | None) -> None:
        """Tell the server to drop the session; nobody waits for its answer."""
        if sessionid is None:
            return
        cancelled = ensureDeferred(self._stage(node, "cancel", sessionid, None))
        cancelled.addErrback(
            lambda failure: log.debug(
                "ad-hoc session {sessionid} of {node} not cancelled: {why}",
                sessionid=sessionid,
                node=node,
                why=failure.getErrorMessage(),
            )
        )


def _read_answer(iq: etree._Element) -> _Answer:
    command = iq.find(f"{{{NS_COMMANDS}}}command")
    if command is None:
        raise CommandFailed("the XMPP server answered an ad-hoc command without <command/>")
    notes = tuple(
        (note.get("type", "info"), (note.text or "").strip())
        for note in command.iterchildren(f"{{{NS_COMMANDS}}}note")
    )
    x = command.find(f"{{{NS_DATA}}}x")
    return _Answer(
        status=command.get("status", "completed"),
        sessionid=command.get("sessionid"),
        action=_next_action(command.find(f"{{{NS_COMMANDS}}}actions")),
        notes=notes,
        form=read_form(x) if x is not None else None,
    )


def _next_action(actions: etree._Element | None) -> str:
    """The action that goes forward: the server's default, else the first it offers."""
    if actions is None:
        return "execute"
    default = actions.get("execute")
    if default in ("next", "complete"):
        return default
    offered = [etree.QName(a).localname for a in actions if isinstance(a.tag, str)]
    for action in ("complete", "next"):
        if action in offered:
            return action
    return "execute"
