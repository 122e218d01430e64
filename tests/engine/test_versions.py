"""API version selection, release strings, and the adapter registry."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest
from twisted.internet.defer import Deferred, ensureDeferred, succeed
from twisted.python.failure import Failure

from gateway.engine.catalogue import Catalogue
from gateway.engine.dispatch import Engine
from gateway.engine.errors import CommandFailed, NotSupported, UnknownCommand
from gateway.engine.model import Caller, CommandCall, CommandDefinition, Result
from gateway.engine.types import Param, Type
from gateway.engine.versions import (
    IDENTITY,
    Adapter,
    AdapterRegistry,
    version_from_release,
)

TEXT = Type("binary")
NUMBER = Type("integer")


def definition(version: int, *args: str, result: Type = TEXT) -> CommandDefinition:
    return CommandDefinition(
        name="probe",
        version=version,
        args=tuple(Param(a, TEXT) for a in args),
        result=Param("res", result),
    )


#: a command with versions 0, 2 and 3 (no 1)
GAPPY = Catalogue("test", [definition(3, "x"), definition(0, "x"), definition(2, "x")])
#: a command whose lowest version is 2
LATE = Catalogue("test", [definition(2, "x"), definition(3, "x")])


# -- choosing a version ------------------------------------------------------


@pytest.mark.parametrize(("requested", "chosen"), [(0, 0), (1, 0), (2, 2), (3, 3), (5, 3)])
def test_newest_version_not_above_the_request(requested: int, chosen: int) -> None:
    """A request for version N gets the newest definition whose version is at most N."""
    assert GAPPY.lookup("probe", requested).version == chosen


def test_no_version_means_newest() -> None:
    """Without a requested version the newest definition is used."""
    assert GAPPY.lookup("probe").version == 3
    assert Catalogue.load("24.12").lookup("subscribe_room").version == 3


def test_below_the_lowest_version_is_unknown() -> None:
    """A request older than every definition of a command is an unknown command."""
    with pytest.raises(UnknownCommand):
        LATE.lookup("probe", 1)
    with pytest.raises(UnknownCommand):
        Catalogue.load("24.12").lookup("get_ban_details", 1)


def test_real_catalogue_selection() -> None:
    """The packaged 24.12 tables pick the expected definitions for in-between versions."""
    catalogue = Catalogue.load("24.12")
    assert catalogue.lookup("subscribe_room", 2).version == 1
    assert catalogue.lookup("kick_user", 1).version == 0
    assert catalogue.lookup("kick_user", 2).version == 2
    assert catalogue.lookup("status_list", 1_000_000).version == 3


def test_23_01_profile_has_only_version_zero() -> None:
    """Every 23.01 definition is version 0, whatever version a caller asks for."""
    catalogue = Catalogue.load("23.01")
    assert catalogue.lookup("add_rosteritem", 3).version == 0
    assert {d.version for d in catalogue} == {0}


# -- default_version -----------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "version"),
    [
        (0, 0),
        (2, 2),
        (1_000_000, 1_000_000),
        ("23.01", 0),
        ("23.10", 0),
        ("23.11", 1),
        ("24.02", 1),
        ("24.06", 2),
        ("24.12", 2),
        (" 24.12.1 ", 2),
    ],
)
def test_version_from_release(value: int | str, version: int) -> None:
    """Integers are versions; a release up to 23.10 is 0, before 24.06 is 1, later is 2."""
    assert version_from_release(value) == version


@pytest.mark.parametrize("value", [-1, True, "", "v2", "24.x", "24,06", "2_4"])
def test_version_from_release_rejects_nonsense(value: Any) -> None:
    """Negative numbers, booleans and text that is not a release are refused."""
    with pytest.raises(ValueError):
        version_from_release(value)


# -- the registry --------------------------------------------------------------


def test_same_signature_gets_identity() -> None:
    """An old definition shaped like the newest needs no registered adapter."""
    registry = AdapterRegistry()
    assert registry.adapter_for("test", definition(0, "x"), definition(2, "x")) is IDENTITY


def test_changed_signature_without_adapter_has_none() -> None:
    """An old definition shaped differently has no adapter until one is registered."""
    registry = AdapterRegistry()
    assert registry.adapter_for("test", definition(0, "x"), definition(2, "y")) is None
    newest = definition(2, "x", result=NUMBER)
    assert registry.adapter_for("test", definition(0, "x"), newest) is None


def test_registered_adapter_wins() -> None:
    """A registered adapter is used, even where the identity would also fit."""
    registry = AdapterRegistry()
    assert not registry.has("test", "probe", 0)
    registry.register("test", "probe", 0, result=str.upper)
    assert registry.has("test", "probe", 0)
    assert registry.keys() == {("test", "probe", 0)}
    found = registry.adapter_for("test", definition(0, "x"), definition(2, "x"))
    assert found is not None and found is not IDENTITY
    assert found.result("ok") == "OK"


def test_registries_are_apart() -> None:
    """What one registry holds, another does not: an engine only knows the one it was given."""
    one, other = AdapterRegistry(), AdapterRegistry()
    one.register("test", "probe", 0, result=str.upper)
    assert other.adapter_for("test", definition(0, "x"), definition(2, "y")) is None


def _fired(deferred: Deferred[Any]) -> Any:
    fired: list[Any] = []
    deferred.addBoth(fired.append)
    assert fired
    if isinstance(fired[0], Failure):
        fired[0].raiseException()
    return fired[0]


def test_apply_runs_one_canonical_call() -> None:
    """Without ``run``, an adapter maps the arguments, runs the same command, maps the result."""
    seen: list[tuple[str, dict[str, Any]]] = []

    async def execute(name: str, args: dict[str, Any]) -> Any:
        seen.append((name, args))
        return 41

    adapter = Adapter(lambda a: {"y": a["x"]}, lambda v: v + 1)
    value = _fired(ensureDeferred(adapter.apply("probe", {"x": "1"}, execute)))
    assert seen == [("probe", {"y": "1"})]
    assert value == 42


def test_apply_with_run_uses_its_own_sequence() -> None:
    """With ``run``, the adapter decides which canonical commands run, with mapped arguments."""
    seen: list[str] = []

    async def execute(name: str, args: dict[str, Any]) -> Any:
        seen.append(name)
        return len(seen)

    async def run(args: dict[str, Any], execute: Any) -> Any:
        first = await execute("first", args)
        second = await execute("second", args)
        return (args["y"], first, second)

    adapter = Adapter(lambda a: {"y": a["x"]}, list, run)
    value = _fired(ensureDeferred(adapter.apply("probe", {"x": "z"}, execute)))
    assert seen == ["first", "second"]
    assert value == ["z", 1, 2]


def test_failures_are_reworded_apart_from_the_adapter() -> None:
    """register_failures rewords a listed failure text, for identity and registered adapters.

    Other texts pass unchanged, and the failure keeps its atom and whether it was thrown.
    """
    registry = AdapterRegistry()
    registry.register_failures("test", "probe", 0, {"new words": "old words"})
    assert registry.failure_keys() == {("test", "probe", 0)}
    assert registry.keys() == frozenset()  # wording is no adapter of arguments or results
    found = registry.adapter_for("test", definition(0, "x"), definition(2, "x"))
    assert found is not None and found.failure is not None

    def failing(error: CommandFailed) -> Any:
        async def execute(name: str, args: dict[str, Any]) -> Any:
            raise error

        return execute

    assert found is not None
    with pytest.raises(CommandFailed) as raised:
        _fired(
            ensureDeferred(
                found.apply("probe", {}, failing(CommandFailed("new words", thrown=True)))
            )
        )
    assert (raised.value.message, raised.value.thrown) == ("old words", True)
    other = CommandFailed("other words", atom="not_found")
    with pytest.raises(CommandFailed) as raised:
        _fired(ensureDeferred(found.apply("probe", {}, failing(other))))
    assert raised.value is other
    # a registered adapter keeps its own maps and gains the wording
    registry.register("test", "probe", 0, result=str.upper)
    found = registry.adapter_for("test", definition(0, "x"), definition(2, "y"))
    assert found is not None and found.failure is not None and found.result("ok") == "OK"
    # another profile or version is not reworded
    assert registry.adapter_for("other", definition(0, "x"), definition(2, "x")) is IDENTITY


# -- through the engine --------------------------------------------------------


class _Recorder:
    name = "fake"

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def supports(self, command: str) -> bool:
        return command == "probe"

    def execute(self, command: str, args: Mapping[str, Any], caller: Caller) -> Deferred[Any]:
        self.calls.append((command, dict(args)))
        return succeed("done")


class _Nothing:
    name = "gateway"

    def supports(self, command: str) -> bool:
        return False

    def execute(self, command: str, args: Mapping[str, Any], caller: Caller) -> Deferred[Any]:
        raise AssertionError("not reached")


class _Allow:
    def allows(self, caller: Caller, definition: CommandDefinition) -> bool:
        return True


def _engine(
    profile_catalogue: Catalogue, canonical: Catalogue, adapters: AdapterRegistry | None = None
) -> tuple[Engine, _Recorder]:
    backend = _Recorder()
    registry = adapters if adapters is not None else AdapterRegistry()
    return Engine(profile_catalogue, canonical, backend, _Nothing(), _Allow(), registry), backend


def test_engine_refuses_an_old_version_without_adapter() -> None:
    """A changed old definition with no adapter is refused, never passed through unchanged."""
    old = Catalogue("test", [definition(0, "x")])
    new = Catalogue("24.12", [definition(0, "x"), definition(1, "y")])
    engine, backend = _engine(old, new)
    with pytest.raises(NotSupported):
        _fired(engine.call(CommandCall("probe", (("x", "v"),), 0, frontend="mod_http_api")))
    assert backend.calls == []


def test_engine_uses_a_registered_adapter() -> None:
    """The engine looks the adapter up by profile, name and version and applies it."""
    old = Catalogue("test", [definition(0, "x")])
    new = Catalogue("24.12", [definition(0, "x"), definition(1, "y")])
    adapters = AdapterRegistry()
    adapters.register("test", "probe", 0, args=lambda a: {"y": a["x"]}, result=str.upper)
    engine, backend = _engine(old, new, adapters)
    result: Result = _fired(
        engine.call(CommandCall("probe", (("x", "v"),), 0, frontend="mod_http_api"))
    )
    assert backend.calls == [("probe", {"y": "v"})]
    assert result.value == "DONE"
    assert result.definition.version == 0
