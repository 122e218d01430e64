"""Example requests and answers for the API description, made from the catalogue's types.

The values follow the argument's or field's name where a plausible one is obvious (``user``
is ``"alice"``, ``host`` is ``"localhost"``), else the name itself.  Example answers are
written by mod_http_api's own encoder, so they have exactly the shape a real answer has.
"""

from __future__ import annotations

from typing import Any

from gateway.engine.model import CommandDefinition, ResTuple, Result
from gateway.engine.ranges import bounds_for
from gateway.engine.types import Param
from gateway.frontends.jsonapi.response import encode_result

__all__ = ["example_arguments", "example_result"]

_TEXT_EXAMPLES = {
    "user": "alice",
    "username": "alice",
    "localuser": "alice",
    "host": "localhost",
    "server": "localhost",
    "localhost": "localhost",
    "grouphost": "localhost",
    "vhost": "localhost",
    "domain": "localhost",
    "jid": "alice@localhost",
    "from": "alice@localhost",
    "to": "bob@localhost",
    "roomjid": "lobby@conference.localhost",
    "password": "s3cret",
    "newpass": "n3w-s3cret",
    "room": "lobby",
    "service": "conference.localhost",
    "nick": "alice",
    "nickname": "alice",
    "usernick": "alice",
    "group": "friends",
    "resource": "laptop",
    "body": "Hello!",
    "subject": "Greetings",
    "reason": "Spring cleaning",
    "lang": "en",
    "node": "ejabberd@localhost",
    "affiliation": "member",
    "role": "participant",
    "subscription": "both",
    "show": "away",
    "status": "Out for lunch",
    "type": "chat",
    "file": "/var/backups/ejabberd.backup",
    "dir": "/var/backups",
    "token": "Vj3aKp9sLq2WmZx8",
    "stanza": '<message to="bob@localhost"><body>Hi</body></message>',
    "timestamp": "2024-12-24T18:00:00Z",
}

_INTEGER_EXAMPLES = {"days": 30, "timestamp": 1735063200, "port": 5222, "priority": 5}


def example_arguments(definition: CommandDefinition) -> dict[str, Any]:
    """A JSON body calling ``definition``, every argument given."""
    return {p.name: _argument(p, definition.name) for p in definition.args}


def _argument(param: Param, command: str = "") -> Any:
    kind = param.type.kind
    if kind == "integer":
        value = _INTEGER_EXAMPLES.get(param.name, 10)
        return value if not command or value in bounds_for(command, param.name) else 0
    if kind == "list":
        return [_argument(param.type.element)]
    if kind == "tuple":
        return {f.name: _argument(f) for f in param.type.fields}
    return _TEXT_EXAMPLES.get(param.name, param.name)


def example_result(
    definition: CommandDefinition, profile: str, *, legacy: bool, requested_version: int | None
) -> Any:
    """The JSON value a successful call answers with (status 200)."""
    result = Result(definition, _value(definition.result), profile, requested_version)
    wrap = legacy or requested_version == 0
    _, value = encode_result(result, legacy=legacy, wrap=wrap)
    return value


def _value(param: Param) -> Any:
    """A result value in the engine's conventions (see :class:`Result`)."""
    kind = param.type.kind
    if kind == "integer":
        return _INTEGER_EXAMPLES.get(param.name, 3)
    if kind == "rescode":
        return True
    if kind == "restuple":
        return ResTuple("Done")
    if kind == "list":
        return [_value(param.type.element)]
    if kind == "tuple":
        return tuple(_value(f) for f in param.type.fields)
    if kind == "any":
        return None
    return _TEXT_EXAMPLES.get(param.name, param.name)
