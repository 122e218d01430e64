"""The server commands the gateway answers itself (gateway.engine.server)."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from twisted.internet.defer import Deferred, fail, succeed
from twisted.internet.task import Clock
from twisted.logger import capturedLogs, formatEvent

from gateway.engine.adapters import standard_adapters
from gateway.engine.caches import CacheRegistry
from gateway.engine.catalogue import Catalogue
from gateway.engine.dispatch import Engine
from gateway.engine.errors import CommandError, CommandFailed, NotSupported, PathRefused
from gateway.engine.files import FilesDir
from gateway.engine.model import Caller, CommandCall
from gateway.engine.server import ServerCommands
from tests.engine.helpers import AllowAll

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


@contextmanager
def capture_log() -> Iterator[list[str]]:
    """The text of every event logged inside the block (filled in when it ends)."""
    texts: list[str] = []
    with capturedLogs() as events:
        yield texts
    texts.extend(formatEvent(event) for event in events)


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
    commands = ServerCommands(store, clock)
    engine = Engine(catalogue, catalogue, store, commands, AllowAll(), standard_adapters())
    clock.advance(5)
    values = []
    for name in ("uptimeseconds", "registeredusers"):
        d = engine.call(CommandCall("stats", (("name", name),), frontend=CALLER.frontend))
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


def test_clear_cache_clears_what_is_registered(clock: Clock) -> None:
    """clear_cache empties every registered cache, in order, and logs their names.

    Changed by issue 8 (item 12): the caches come from a named registry, so
    the log can say what was cleared.
    """
    cleared: list[str] = []
    caches = CacheRegistry()
    caches.register("first", lambda: cleared.append("a"))
    caches.register("second", lambda: cleared.append("b"))
    with capture_log() as events:
        assert run(ServerCommands(Store(), clock, caches=caches), "clear_cache") is True
    assert cleared == ["a", "b"]
    assert "clear_cache: cleared first, second" in events


def test_clear_cache_with_nothing_registered_says_so(clock: Clock) -> None:
    """With no cache registered clear_cache answers ok and logs that nothing was cleared."""
    with capture_log() as events:
        assert run(ServerCommands(Store(), clock), "clear_cache") is True
    assert events == ["clear_cache: nothing to clear (no cache is registered)"]


def test_clear_cache_failure_is_reported(clock: Clock) -> None:
    """A cache that fails to clear fails the command, naming it; the others are still cleared."""
    cleared: list[str] = []

    def broken() -> None:
        raise RuntimeError("locked")

    caches = CacheRegistry()
    caches.register("broken", broken)
    caches.register("fine", lambda: cleared.append("fine"))
    with capture_log() as events:
        error = error_of(ServerCommands(Store(), clock, caches=caches), "clear_cache")
    assert isinstance(error, CommandFailed)
    assert error.message == "Could not clear these caches: broken (see the log)"
    assert cleared == ["fine"]
    assert "clear_cache: could not clear broken: locked" in events
    assert "clear_cache: cleared fine" in events


def test_catalogue_cache_is_really_cleared() -> None:
    """The catalogue cache the daemon registers is emptied: the next load parses anew."""
    before = Catalogue.load("24.12")
    assert Catalogue.load("24.12") is before
    Catalogue.forget_loaded()
    after = Catalogue.load("24.12")
    assert after is not before and after.names() == before.names()


def test_cache_names_are_unique() -> None:
    """Registering a second cache under a taken name is refused."""
    caches = CacheRegistry()
    caches.register("catalogue", lambda: None)
    with pytest.raises(ValueError, match="catalogue"):
        caches.register("catalogue", lambda: None)
    assert caches.names() == ("catalogue",)


# -- reload_config ------------------------------------------------------------------------------


def test_reload_and_dump_claimed_only_when_wired(clock: Clock, tmp_path: Path) -> None:
    """Without their callables (and, for dump_config, a files directory) they are not claimed.

    Changed by issue 8 (item 2): dump_config also needs the files directory.
    """
    bare = ServerCommands(Store(), clock)
    assert bare.supports("stats") and bare.supports("gc") and bare.supports("clear_cache")
    assert not bare.supports("reload_config") and not bare.supports("dump_config")
    no_dir = ServerCommands(Store(), clock, dump=lambda: "")
    assert not no_dir.supports("dump_config")
    wired = ServerCommands(
        Store(), clock, reload=lambda: (), dump=lambda: "", files=FilesDir(str(tmp_path))
    )
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


def test_reload_failure_is_the_answer(clock: Clock) -> None:
    """The CommandFailed a reload raises (a file that does not load) is the command's answer."""

    def reload() -> Sequence[str]:
        raise CommandFailed("The configuration was not reloaded: oauth_expire: bad")

    error = error_of(ServerCommands(Store(), clock, reload=reload), "reload_config")
    assert isinstance(error, CommandFailed)
    assert error.message == "The configuration was not reloaded: oauth_expire: bad"


# -- dump_config ---------------------------------------------------------------------------------


def dumper(tmp_path: Path, clock: Clock, text: str = "hosts:\n- localhost\n") -> ServerCommands:
    """ServerCommands dumping ``text`` into the files directory ``tmp_path/files``."""
    (tmp_path / "files").mkdir(mode=0o700)
    return ServerCommands(
        Store(), clock, dump=lambda: text, files=FilesDir(str(tmp_path / "files"))
    )


def test_dump_writes_a_private_file(clock: Clock, tmp_path: Path) -> None:
    """dump_config writes the dump text to a new owner-only file, relative or absolute inside.

    Changed by issue 8 (item 2): a relative path is now relative to the files directory.
    """
    commands = dumper(tmp_path, clock)
    assert run(commands, "dump_config", out="dump.yml") is True
    out = tmp_path / "files" / "dump.yml"
    assert out.read_text() == "hosts:\n- localhost\n"
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert run(commands, "dump_config", out=str(tmp_path / "files" / "again.yml")) is True
    assert (tmp_path / "files" / "again.yml").exists()


def test_dump_never_overwrites(clock: Clock, tmp_path: Path) -> None:
    """An existing file, or a symlink planted at the path, is left alone with a clear error."""
    commands = dumper(tmp_path, clock, "new\n")
    existing = tmp_path / "files" / "gateway.yml"
    existing.write_text("old\n")
    error = error_of(commands, "dump_config", out="gateway.yml")
    assert "already exists" in error.message
    assert existing.read_text() == "old\n"
    link = tmp_path / "files" / "link.yml"
    os.symlink(tmp_path / "files" / "target.yml", link)
    assert "already exists" in error_of(commands, "dump_config", out="link.yml").message
    assert not (tmp_path / "files" / "target.yml").exists()


def test_dump_stays_in_the_files_directory(clock: Clock, tmp_path: Path) -> None:
    """Absolute paths elsewhere, '..' and links leading out are refused; nothing is written.

    Changed by issue 8 (item 2): before, any absolute path was written.
    """
    commands = dumper(tmp_path, clock)
    (tmp_path / "files" / "out").symlink_to(tmp_path)
    for out in (str(tmp_path / "dump.yml"), "../dump.yml", "out/dump.yml", "/etc/dump.yml", ""):
        error = error_of(commands, "dump_config", out=out)
        assert isinstance(error, PathRefused), (out, error)
        assert "files directory" in error.message
    assert sorted(p.name for p in tmp_path.iterdir()) == ["files"]


def test_dump_path_errors(clock: Clock, tmp_path: Path) -> None:
    """A path whose directory is missing fails without writing anything."""
    commands = dumper(tmp_path, clock, "x\n")
    error = error_of(commands, "dump_config", out="missing/dump.yml")
    assert isinstance(error, CommandFailed)
    assert error.message == "Cannot create 'missing/dump.yml': No such file or directory"
    assert list((tmp_path / "files").iterdir()) == []
