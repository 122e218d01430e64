"""Sending one call to ejabberd itself and through the gateway, in one dialect, and comparing.

A ``Call`` is dialect-neutral: ``args`` is the ``/api`` body and the XML-RPC struct, ``ctl``
the ejabberdctl arguments (also the mod_rest command line).  Calls that write use a tag in
their names (``{t}``), different for the two sides so that both writes happen, and the tag is
masked before comparing.  The reference for each gateway dialect is ejabberd's own:

- ``api``: ejabberd's ``/api`` (mod_http_api);
- ``xmlrpc``: ejabberd's ``/xmlrpc`` (ejabberd_xmlrpc);
- ``rest``: ejabberdctl on the node, whose text mod_rest answers (without the final newline,
  or the exit status when it prints nothing).

Answers are normalised with the differential suite's rules (tests/compat/compare.py: times near
now, the node name, masks), nothing else.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from tests.compat.calls import Step
from tests.compat.compare import normalise
from tests.compat.harness import Answer
from tests.integration.upstream.harness import ADMIN_AUTH, Front

__all__ = ["DIALECTS", "Call", "Difference", "compare", "differences", "report"]

DIALECTS = ("api", "xmlrpc", "rest")


@dataclass(frozen=True)
class Call:
    """One call as both sides receive it; ``{t}`` in a value stands for the side's tag."""

    command: str
    case: str
    args: Mapping[str, Any]
    ctl: tuple[str, ...]
    sort: bool = False
    masks: tuple[tuple[str, str], ...] = field(default=())
    #: struct members whose values differ between two calls (e.g. a session's uptime)
    varying: tuple[str, ...] = ()

    @property
    def tagged(self) -> bool:
        return "{t}" in json.dumps(self.args) or any("{t}" in arg for arg in self.ctl)


def _fill(value: Any, tag: str) -> Any:
    if isinstance(value, str):
        return value.replace("{t}", tag)
    if isinstance(value, list):
        return [_fill(item, tag) for item in value]
    if isinstance(value, dict):
        return {key: _fill(item, tag) for key, item in value.items()}
    return value


def _untag(value: Any, tag: str) -> Any:
    if isinstance(value, str):
        return value.replace(tag, "<tag>")
    if isinstance(value, list):
        return [_untag(item, tag) for item in value]
    if isinstance(value, dict):
        return {key: _untag(item, tag) for key, item in value.items()}
    return value


def _mask_members(value: Any, names: tuple[str, ...]) -> Any:
    if isinstance(value, list):
        return [_mask_members(item, names) for item in value]
    if isinstance(value, dict):
        return {
            key: "<varies>" if key in names else _mask_members(item, names)
            for key, item in value.items()
        }
    return value


def ctl_text(stdout: str, code: int) -> str:
    """What mod_rest answers for an ejabberdctl run that printed ``stdout`` and exited ``code``."""
    text = stdout[:-1] if stdout.endswith("\n") else stdout
    return text or str(code)


def reference(front: Front, call: Call, dialect: str, tag: str) -> Answer:
    """ejabberd's own answer to ``call`` in ``dialect``."""
    if dialect == "api":
        return front.ejabberd_api.call(call.command, _fill(dict(call.args), tag), ADMIN_AUTH)
    if dialect == "xmlrpc":
        return front.ejabberd_xmlrpc.call(call.command, (_fill(dict(call.args), tag),), ADMIN_AUTH)
    done = front.ejabberd.ctl_result(call.command, *_fill(list(call.ctl), tag))
    return Answer("http", 200, ctl_text(done.stdout, done.returncode))


def through_gateway(front: Front, call: Call, dialect: str, tag: str) -> Answer:
    """The gateway's answer to ``call`` in ``dialect``."""
    if dialect == "api":
        return front.gateway_api.call(call.command, _fill(dict(call.args), tag), ADMIN_AUTH)
    if dialect == "xmlrpc":
        return front.gateway_xmlrpc.call(call.command, (_fill(dict(call.args), tag),), ADMIN_AUTH)
    return front.gateway_rest.call(" ".join([call.command, *_fill(list(call.ctl), tag)]))


def _normal(answer: Answer, call: Call, tag: str, node: str) -> Answer:
    step = Step(call.command, call.case, masks=call.masks, sort=call.sort)
    answer = normalise(answer, step, node)
    answer = Answer(answer.kind, answer.status, _mask_members(answer.body, call.varying))
    if call.tagged:
        answer = Answer(answer.kind, answer.status, _untag(answer.body, tag))
    return answer


@dataclass(frozen=True)
class Difference:
    call: str
    ejabberd: Answer
    gateway: Answer

    def show(self) -> str:
        return (
            f"{self.call}\n    ejabberd: {self.ejabberd.show()}"
            f"\n    gateway:  {self.gateway.show()}"
        )


def compare(front: Front, call: Call, dialect: str) -> Difference | None:
    """Send ``call`` to ejabberd (tag ``ej_<dialect>``), then through the gateway (tag
    ``gw_<dialect>``); the difference of the normalised answers, if any."""
    ours, theirs = f"gw_{dialect}", f"ej_{dialect}"
    expected = _normal(reference(front, call, dialect, theirs), call, theirs, front.ejabberd.node)
    got = _normal(through_gateway(front, call, dialect, ours), call, ours, front.ejabberd.node)
    if expected == got:
        return None
    return Difference(f"{dialect} {call.command} {call.case}", expected, got)


def differences(front: Front, calls: Iterable[Call], dialect: str) -> list[Difference]:
    """Every call of ``calls`` compared in turn."""
    return [d for d in (compare(front, call, dialect) for call in calls) if d is not None]


def report(found: Iterable[Difference]) -> str:
    return "\n\n".join(d.show() for d in found)
