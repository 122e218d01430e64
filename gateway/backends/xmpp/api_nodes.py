"""Catalogue commands run through ejabberd's ``api-commands/<command>`` ad-hoc nodes.

ejabberd 25.03 added ``mod_adhoc_api``: every API command the caller may run
is an ad-hoc node ``api-commands/<name>`` on the host.  Executing one answers
a form with one field per argument (named after it; ``user`` and ``host``
first for a command of policy ``user``; in a cluster also a
``mod_adhoc_api_target_node`` choice, left at its default); submitting it
answers a ``result`` form whose field named after the command's result holds
the value as mod_http_api would give it, or a field ``error`` labelled
``Error <HTTP status>`` with the message.

Values travel as text: a list as one value per element, a tuple as its
elements joined by ``:`` going in and by `` : `` coming back, a ``rescode`` as
``0`` (ok) or ``1``.  A list nested in a tuple comes back run together by
ejabberd and cannot be split again; it is read as one element.  The server
uses its own ``default_version`` of each command; the arguments sent are the
24.12 catalogue's.

No server with this module was available to us; the layout is read from
ejabberd's source (``src/mod_adhoc_api.erl``) and tested against a fake.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from gateway.backends.xmpp.adhoc import AdhocClient
from gateway.backends.xmpp.forms import Form
from gateway.backends.xmpp.requests import StanzaError
from gateway.engine.catalogue import Catalogue
from gateway.engine.errors import CommandFailed
from gateway.engine.model import CommandDefinition, ResTuple
from gateway.engine.types import Param, Type

__all__ = ["API_PREFIX", "ApiCommands", "decode_result", "encode_argument"]

API_PREFIX = "api-commands/"
_TEXT = Type("binary")


def encode_argument(value: Any, type_: Type) -> list[str]:
    """An argument's form values."""
    if type_.kind == "list":
        element = type_.element.type
        return [_scalar_or_tuple(item, element) for item in value]
    return [_scalar_or_tuple(value, type_)]


def _scalar_or_tuple(value: Any, type_: Type) -> str:
    if type_.kind == "tuple":
        items = value.values() if isinstance(value, Mapping) else value
        return ":".join(str(item) for item in items)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def decode_result(values: Sequence[str], type_: Type) -> Any:
    """The Python value the embedded store would give, from a result field's values."""
    kind = type_.kind
    if kind == "list":
        element = type_.element.type
        return [decode_result([value], element) for value in values]
    if kind == "tuple":
        parts = " : ".join(values).split(" : ")
        fields = type_.fields
        if len(parts) < len(fields):
            parts += [""] * (len(fields) - len(parts))
        head = [decode_result([part], f.type) for part, f in zip(parts, fields[:-1], strict=False)]
        rest = " : ".join(parts[len(fields) - 1 :])
        return (*head, decode_result([rest], fields[-1].type))
    text = "\n".join(values)
    if kind == "integer":
        try:
            return int(text.strip())
        except ValueError:
            raise CommandFailed(f"the server's result is not an integer: {text!r}") from None
    if kind == "rescode":
        return text.strip() in ("0", "ok", "true")
    if kind == "restuple":
        return ResTuple(text)
    return text


class ApiCommands:
    """Runs commands through ``api-commands/`` nodes the server lists."""

    def __init__(self, adhoc: AdhocClient, host: str, catalogue: Catalogue) -> None:
        self._adhoc = adhoc
        self._host = host
        self._catalogue = catalogue

    def knows(self, command: str) -> bool:
        return command in self._catalogue

    async def run(self, command: str, args: Mapping[str, Any]) -> Any:
        definition = self._catalogue.newest(command)
        types = _argument_types(definition)
        node = API_PREFIX + command

        def fill(form: Form) -> dict[str, list[str]]:
            values: dict[str, list[str]] = {}
            for field in form.fields:
                if field.var is None or field.type == "fixed":
                    continue
                if field.var in args:
                    values[field.var] = encode_argument(
                        args[field.var], types.get(field.var, _TEXT)
                    )
                else:
                    values[field.var] = list(field.values)
            missing = [name for name in args if not form.has(name)]
            if missing:
                raise CommandFailed(
                    f"The XMPP server {self._host} asks other arguments for {command}"
                    f" than the gateway's catalogue: no field {', '.join(missing)}"
                )
            return values

        try:
            outcome = await self._adhoc.run(node, fill)
        except StanzaError as e:
            raise CommandFailed(
                f"The XMPP server {self._host} refused {node}: {e.describe()}"
            ) from None
        form = outcome.form
        if outcome.error is not None:
            raise CommandFailed(outcome.error)
        if form is None:
            raise CommandFailed(f"The XMPP server {self._host} answered {node} without a result")
        error = form.get("error")
        if error is not None:
            raise CommandFailed(error.value)
        result = _result_field(form, definition.result)
        if result is None:
            raise CommandFailed(
                f"The XMPP server {self._host} answered {node} without a '{definition.result.name}'"
            )
        return decode_result(result, definition.result.type)


def _argument_types(definition: CommandDefinition) -> dict[str, Type]:
    types = {p.name: p.type for p in definition.args}
    if definition.policy == "user":
        types.setdefault("user", _TEXT)
        types.setdefault("host", _TEXT)
    return types


def _result_field(form: Form, result: Param) -> tuple[str, ...] | None:
    """The values of the result field: the last one named after the result."""
    found = [f for f in form.fields if f.var == result.name]
    return found[-1].values if found else None
