"""The server commands the gateway answers itself (gateway.engine.server)."""

from __future__ import annotations

import os
import stat
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest
from twisted.internet.defer import Deferred, fail, succeed
from twisted.internet.task import Clock

from gateway.config.errors import ConfigError
from gateway.engine.catalogue import Catalogue
from gateway.engine.dispatch import Engine
from gateway.engine.errors import CommandError, CommandFailed, NotSupported
from gateway.engine.model import Caller, CommandCall, CommandDefinition
from gateway.engine.server import ServerCommands

CALLER = Caller(frontend="ejabberd_ctl")


class Store:
    """A backend that answers ``stats`` for the names it is given."""

    name = "fake"

    def __init__(self, answers: Mapping[str, int] | None = None) -> None:
        self.answers = dict(answers or {})
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def supports(self, command: str) -> bool:
        return command == "stats" and bool(self.answers)

    def execute(self, command: str, args: Mapping[str, Any], caller: Caller) -> Deferred[Any]:
        self.calls.append((command, dict(args)))
        if args["name"] not in self.answers:
            return fail(CommandFailed("no such figure"))
        return succeed(self.answers[args["name"]])


class AllowAll:
    def allows(self, caller: Caller, definition: CommandDefinition) -> bool:
        return True


def run(executor: ServerCommands, command: str, **args: Any) -> Any:
    """The value of a command that completes at once (raising its error)."""
    results: list[Any] = []
    executor.execute(command, args, CALLER).addBoth(results.append)
    assert results, f"{command} did not complete"
    outcome = results[0]
    if hasattr(outcome, "raiseException"):
        outcome.raiseException()
    return outcome


def error_of(executor: ServerCommands, command: str, **args: Any) -> CommandError:
    with pytest.raises(CommandError) as info:
        run(executor, command, **args)
    return info.value


@pytest.fixture
def clock() -> Clock:
    clock = Clock()
    clock.advance(1_000_000)
    return clock


# -- stats ------------------------------------------------------------------------------------


def test_uptime_counts_from_construction(clock: Clock) -> None:
    """uptimeseconds is the whole seconds since the executor was built, by the given clock."""
    commands = ServerCommands(Store(), clock)
    assert run(commands, "stats", name="uptimeseconds") == 0
    clock.advance(90.7)
    assert run(commands, "stats", name="uptimeseconds") == 90


def test_processes_counts_threads(clock: Clock) -> None:
    """processes is the daemon's thread count (injected here; real by default)."""
    assert run(ServerCommands(Store(), clock, threads=lambda: 7), "stats", name="processes") == 7
    assert run(ServerCommands(Store(), clock), "stats", name="processes") >= 1


def test_store_figures_are_passed_to_the_backend(clock: Clock) -> None:
    """registeredusers goes to the backend unchanged; its answer and errors come back."""
    store = Store({"registeredusers": 12})
    commands = ServerCommands(store, clock)
    assert run(commands, "stats", name="registeredusers") == 12
    assert store.calls == [("stats", {"name": "registeredusers"})]
    error = error_of(commands, "stats", name="onlineusers")
    assert error.message == "no such figure"


def test_backend_without_stats(clock: Clock) -> None:
    """A backend that has no stats makes the store figures not_supported, naming it."""
    error = error_of(ServerCommands(Store(), clock), "stats", name="registeredusers")
    assert isinstance(error, NotSupported) and "fake" in error.message


def test_unknown_statistic(clock: Clock) -> None:
    """An unknown name (a crash in ejabberd) is a CommandFailed listing the accepted names."""
    store = Store({"registeredusers": 1})
    error = error_of(ServerCommands(store, clock), "stats", name="Uptimeseconds")
    assert isinstance(error, CommandFailed)
    assert error.message == (
        "Unknown statistic 'Uptimeseconds'; expected one of registeredusers, onlineusers, "
        "onlineusersnode, uptimeseconds, processes"
    )
    assert store.calls == []


def test_stats_through_the_engine(clock: Clock) -> None:
    """The engine routes stats to this executor, which answers uptime and delegates the rest."""
    store = Store({"registeredusers": 3})
    catalogue = Catalogue.load("24.12")
    engine = Engine(catalogue, catalogue, store, ServerCommands(store, clock), AllowAll())
    clock.advance(5)
    values = []
    for name in ("uptimeseconds", "registeredusers"):
        d = engine.call(CommandCall("stats", (("name", name),)), CALLER)
        d.addCallback(lambda result: values.append(result.value))
    assert values == [5, 3]


# -- gc and clear_cache -------------------------------------------------------------------------


def test_gc_collects(clock: Clock) -> None:
    """gc runs a full collection and answers ok."""
    runs: list[bool] = []

    def collect() -> int:
        runs.append(True)
        return 0

    commands = ServerCommands(Store(), clock, collect=collect)
    assert run(commands, "gc") is True
    assert runs == [True]
    assert run(ServerCommands(Store(), clock), "gc") is True


def test_clear_cache_clears_what_it_was_given(clock: Clock) -> None:
    """clear_cache empties every cache handed in, and succeeds when there are none."""
    cleared: list[str] = []
    commands = ServerCommands(
        Store(), clock, caches=[lambda: cleared.append("a"), lambda: cleared.append("b")]
    )
    assert run(commands, "clear_cache") is True
    assert cleared == ["a", "b"]
    assert run(ServerCommands(Store(), clock), "clear_cache") is True


# -- reload_config ------------------------------------------------------------------------------


def test_reload_and_dump_claimed_only_when_wired(clock: Clock) -> None:
    """Without their callables, reload_config and dump_config are left to the backend."""
    bare = ServerCommands(Store(), clock)
    assert bare.supports("stats") and bare.supports("gc") and bare.supports("clear_cache")
    assert not bare.supports("reload_config") and not bare.supports("dump_config")
    wired = ServerCommands(Store(), clock, reload=lambda: (), dump=lambda: "")
    assert wired.supports("reload_config") and wired.supports("dump_config")
    assert not wired.supports("stats_host")


def test_reload_success(clock: Clock) -> None:
    """reload_config runs the reload and answers ok, even when settings wait for a restart."""
    calls: list[bool] = []

    def reload() -> Sequence[str]:
        calls.append(True)
        return ("listen",)

    assert run(ServerCommands(Store(), clock, reload=reload), "reload_config") is True
    assert calls == [True]


def test_reload_failure_reports_the_config_error(clock: Clock) -> None:
    """A file that does not load is a CommandFailed carrying the ConfigError text."""

    def reload() -> Sequence[str]:
        raise ConfigError("expected an integer, got 'soon'", "oauth_expire")

    error = error_of(ServerCommands(Store(), clock, reload=reload), "reload_config")
    assert isinstance(error, CommandFailed)
    assert error.message == (
        "The configuration was not reloaded: oauth_expire: expected an integer, got 'soon'"
    )


# -- dump_config ---------------------------------------------------------------------------------


def test_dump_writes_a_private_file(clock: Clock, tmp_path: Path) -> None:
    """dump_config writes the dump text to a new file readable by the owner only."""
    out = tmp_path / "dump.yml"
    commands = ServerCommands(Store(), clock, dump=lambda: "hosts:\n- localhost\n")
    assert run(commands, "dump_config", out=str(out)) is True
    assert out.read_text() == "hosts:\n- localhost\n"
    assert stat.S_IMODE(out.stat().st_mode) == 0o600


def test_dump_never_overwrites(clock: Clock, tmp_path: Path) -> None:
    """An existing file, or a symlink planted at the path, is left alone with a clear error."""
    commands = ServerCommands(Store(), clock, dump=lambda: "new\n")
    existing = tmp_path / "gateway.yml"
    existing.write_text("old\n")
    error = error_of(commands, "dump_config", out=str(existing))
    assert "already exists" in error.message
    assert existing.read_text() == "old\n"
    link = tmp_path / "link.yml"
    os.symlink(tmp_path / "target.yml", link)
    assert "already exists" in error_of(commands, "dump_config", out=str(link)).message
    assert not (tmp_path / "target.yml").exists()


def test_dump_path_errors(clock: Clock, tmp_path: Path) -> None:
    """A relative path, or one whose directory is missing, fails without writing anything."""
    commands = ServerCommands(Store(), clock, dump=lambda: "x\n")
    error = error_of(commands, "dump_config", out="dump.yml")
    assert "absolute path" in error.message
    error = error_of(commands, "dump_config", out=str(tmp_path / "missing" / "dump.yml"))
    assert isinstance(error, CommandFailed) and error.message.startswith("Cannot create")
    assert list(tmp_path.iterdir()) == []
