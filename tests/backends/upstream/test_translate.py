"""Canonical calls to an ejabberd 23.01 or 24.12 upstream, and their answers back.

The 23.01 translation is checked against the engine's own forward adapters
(23.01 caller → canonical call, canonical answer → 23.01 answer): sending a
canonical call through :func:`translate_call` and then through the forward
adapter must give the canonical call back, and the forward adapter's 23.01
answer read back by :func:`translate_result` must give the canonical answer.
"""

from __future__ import annotations

from typing import Any

import pytest

from gateway.backends.upstream.translate import (
    LEGACY_RULES,
    Inexpressible,
    UpstreamCall,
    translate_call,
    translate_result,
)
from gateway.engine.adapters import standard_adapters
from gateway.engine.catalogue import Catalogue
from gateway.engine.dispatch import with_policy_args
from gateway.engine.errors import NotSupported, UnknownCommand, mapping_for
from gateway.engine.model import CommandDefinition, ResTuple
from gateway.engine.names import CURRENT_PROFILE, LEGACY_PROFILE
from gateway.engine.types import Param, Type
from gateway.engine.versions import Adapter

CANONICAL = Catalogue.load(CURRENT_PROFILE)
LEGACY = Catalogue.load(LEGACY_PROFILE)
ADAPTERS = standard_adapters()
MUC = "conference.example.org"
NODES = ["urn:xmpp:mucsub:nodes:messages", "urn:xmpp:mucsub:nodes:affiliations"]

#: canonical commands 23.01 runs under another name
RUN_AS = {"get_roster_count": "get_roster", "srg_get_displayed": "srg_get_info"}
#: canonical commands with the 23.01 definition, whose 23.01 answers read differently
SHAPE_ONLY = {"get_room_options", "oauth_list_tokens", "srg_get_info"}

#: plausible values for arguments and fields by name (others get "<name>-value")
NAMED: dict[str, Any] = {
    "user": "alice",
    "host": "example.org",
    "localuser": "bob",
    "localhost": "example.org",
    "room": "lobby",
    "service": MUC,
    "jid": "carol@example.org",
    "node": NODES[0],
    "group": "team",
    "scope": "get_roster",
    "scopes": "get_rosterstatus",
    "priority": 5,
}


def newest(name: str) -> CommandDefinition:
    return with_policy_args(CANONICAL.newest(name))


def legacy(name: str) -> CommandDefinition:
    return with_policy_args(LEGACY.newest(name))


def sample(param: Param) -> Any:
    """A plausible value of ``param``'s type."""
    kind = param.type.kind
    if param.name in NAMED and kind not in ("list", "tuple"):
        return NAMED[param.name]
    if kind == "integer":
        return 5
    if kind == "rescode":
        return True
    if kind == "restuple":
        return ResTuple(f"{param.name}-value")
    if kind == "list":
        return [sample(param.type.element)]
    if kind == "tuple":
        return tuple(sample(field) for field in param.type.fields)
    return f"{param.name}-value"


def canonical_args(name: str) -> dict[str, Any]:
    return {param.name: sample(param) for param in newest(name).args}


def conforms(type_: Type, value: Any) -> bool:
    """Whether ``value`` is shaped as the engine's values of ``type_`` are."""
    kind = type_.kind
    if kind == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind in ("string", "binary", "atom"):
        return isinstance(value, str)
    if kind == "rescode":
        return isinstance(value, bool | str)
    if kind == "restuple":
        return isinstance(value, ResTuple)
    if kind == "list":
        return isinstance(value, list) and all(conforms(type_.element.type, v) for v in value)
    if kind == "tuple":
        return (
            isinstance(value, tuple)
            and len(value) == len(type_.fields)
            and all(conforms(f.type, v) for f, v in zip(type_.fields, value, strict=True))
        )
    return True


def forward_adapter(name: str) -> Adapter:
    """The engine's adapter from 23.01's ``name`` to the canonical one."""
    adapter = ADAPTERS.adapter_for(LEGACY_PROFILE, legacy(name), newest(name))
    assert adapter is not None, name
    return adapter


def to_2301(command: str, args: dict[str, Any]) -> UpstreamCall:
    return translate_call(LEGACY_PROFILE, command, args)


# -- every command ----------------------------------------------------------------------


@pytest.mark.parametrize("name", CANONICAL.names(include_internal=True))
def test_every_canonical_command_translates_or_is_refused(name: str) -> None:
    """Every canonical command either becomes a well-typed 23.01 call or is clearly refused.

    A command 23.01 has (or runs under another name) gives a call keyed by
    the 23.01 definition's arguments, in its order, with values of its
    types; the forward adapter turns it back into the canonical arguments.
    A command 23.01 lacks is refused with a not-supported error naming it.
    """
    args = canonical_args(name)
    if name not in LEGACY and name not in RUN_AS:
        with pytest.raises(Inexpressible) as refused:
            to_2301(name, args)
        assert refused.value.code == "not_supported"
        assert f"'{name}'" in refused.value.message
        assert "ejabberd 23.01 has no such command" in refused.value.message
        return
    call = to_2301(name, args)
    upstream = RUN_AS.get(name, name)
    assert call.name == upstream
    assert call.version is None
    assert call.definition == legacy(upstream)
    assert tuple(call.args) == call.definition.arg_names
    for param in call.definition.args:
        assert conforms(param.type, call.args[param.name]), (param, call.args[param.name])
    if name in RUN_AS:
        assert call.args == args  # the same arguments, to the other command
    else:
        assert forward_adapter(name).args(dict(call.args)) == args


@pytest.mark.parametrize(
    "name", [n for n in CANONICAL.names(include_internal=True) if n in LEGACY or n in RUN_AS]
)
def test_every_answer_reads_back_in_the_canonical_shape(name: str) -> None:
    """A 23.01 answer of the upstream definition's shape reads back as the canonical result's."""
    call = to_2301(name, canonical_args(name))
    value = translate_result(LEGACY_PROFILE, name, sample(call.definition.result))
    assert conforms(newest(name).result.type, value), value


def test_every_differing_definition_has_a_rule() -> None:
    """No command whose 23.01 definition differs from the canonical one is sent unchanged.

    The rules cover exactly those, the commands run under another name, and
    the commands whose 23.01 answers read differently under the same
    definition.
    """
    differing = {
        name
        for name in CANONICAL.names(include_internal=True)
        if name in LEGACY and not legacy(name).same_signature(newest(name))
    }
    assert set(LEGACY_RULES) == differing | set(RUN_AS) | SHAPE_ONLY


def test_unchanged_commands_pass_as_they_are() -> None:
    """A command with the same definition in both releases is sent and read back untouched."""
    args = {"user": "alice", "host": "example.org", "password": "secret"}
    call = to_2301("register", args)
    assert (call.name, call.version, call.args) == ("register", None, args)
    answer = ResTuple("User alice@example.org successfully registered")
    assert translate_result(LEGACY_PROFILE, "register", answer) is answer


def test_refusals_are_not_supported_errors() -> None:
    """Refusals answer not-supported (501 on /api) and name the backend and what is missing."""
    with pytest.raises(NotSupported) as refused:
        to_2301("srg_add", {"group": "g", "host": "example.org"})
    assert mapping_for(refused.value).http_status == 501
    assert refused.value.message == (
        "Command 'srg_add' cannot be run through an ejabberd 23.01 upstream: "
        "ejabberd 23.01 has no such command"
    )
    assert refused.value.backend == "ejabberd 23.01 upstream"


def test_unknown_commands_and_profiles() -> None:
    """A name no catalogue has is an unknown command; an unknown profile is a programming error."""
    with pytest.raises(UnknownCommand):
        to_2301("no_such_command", {})
    with pytest.raises(UnknownCommand):
        translate_call(CURRENT_PROFILE, "no_such_command", {})
    with pytest.raises(ValueError, match="unknown API profile"):
        translate_call("22.05", "status", {})
    with pytest.raises(ValueError, match="unknown API profile"):
        translate_result("22.05", "status", ResTuple("x"))


# -- 24.12 ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["set_room_affiliation", "get_roster", "status", "add_rosteritem"])
def test_a_2412_upstream_takes_canonical_calls_at_the_newest_version(name: str) -> None:
    """24.12: the same name, arguments and definition, at the newest version; answers untouched."""
    args = canonical_args(name)
    call = translate_call(CURRENT_PROFILE, name, args)
    assert call == UpstreamCall(name, CANONICAL.newest(name).version, args, newest(name))
    assert call.args is not args  # a copy: the caller's mapping is not shared
    value = sample(newest(name).result)
    assert translate_result(CURRENT_PROFILE, name, value) is value


def test_policy_user_commands_take_user_and_host_first() -> None:
    """``get_roster`` (policy user) is called with the account as its first arguments."""
    call = to_2301("get_roster", {"user": "alice", "host": "example.org"})
    assert call.definition.arg_names == ("user", "host")
    assert translate_call(CURRENT_PROFILE, "get_roster", call.args).definition.arg_names == (
        "user",
        "host",
    )
