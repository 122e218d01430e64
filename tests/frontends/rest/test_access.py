"""``access_commands`` decisions, apart from HTTP."""

from __future__ import annotations

from types import MappingProxyType

from gateway.config.model import AccessCommand, RestOptions
from gateway.engine.catalogue import Catalogue
from gateway.engine.dispatch import with_policy_args
from gateway.engine.model import Caller
from gateway.frontends.rest.access import (
    ACCESS_COMMANDS,
    access_commands_allow,
    access_commands_checks,
)

CATALOGUE = Catalogue.load("24.12")
CHANGE_PASSWORD = with_policy_args(CATALOGUE.lookup("change_password"))
REGISTERED_USERS = with_policy_args(CATALOGUE.lookup("registered_users"))
ROBOT = Caller(frontend="mod_rest", user="robot", host="localhost")
ALICE = Caller(frontend="mod_rest", user="alice", host="localhost")


def robots_only(rule: str, caller: Caller) -> bool:
    return rule == "robots" and caller.user == "robot"


def entry(access: str, commands: set[str] | None, **restrictions: object) -> AccessCommand:
    names = None if commands is None else frozenset(commands)
    return AccessCommand(access, names, MappingProxyType(dict(restrictions)))


def test_no_entries_allow_everything() -> None:
    """Without entries there is no restriction."""
    assert access_commands_allow((), robots_only, ALICE, REGISTERED_USERS, ["localhost"])


def test_command_and_rule() -> None:
    """The command must be listed (or all) and the caller must pass the entry's rule."""
    entries = (entry("robots", {"registered_users"}),)
    assert access_commands_allow(entries, robots_only, ROBOT, REGISTERED_USERS, ["localhost"])
    assert not access_commands_allow(entries, robots_only, ALICE, REGISTERED_USERS, ["localhost"])
    assert not access_commands_allow(entries, robots_only, ROBOT, CHANGE_PASSWORD, ["a", "b", "c"])
    every = (entry("robots", None),)
    assert access_commands_allow(every, robots_only, ROBOT, CHANGE_PASSWORD, ["a", "b", "c"])


def test_argument_restrictions() -> None:
    """Restricted arguments must equal the configured value; others are free."""
    entries = (entry("robots", {"change_password"}, user="alice", unused="x"),)
    allow = access_commands_allow
    assert allow(entries, robots_only, ROBOT, CHANGE_PASSWORD, ["alice", "localhost", "pw"])
    assert not allow(entries, robots_only, ROBOT, CHANGE_PASSWORD, ["bob", "localhost", "pw"])


def test_any_entry_suffices() -> None:
    """One matching entry is enough, whatever the others say."""
    entries = (
        entry("robots", {"change_password"}, user="alice"),
        entry("robots", {"change_password"}, user="bob"),
    )
    assert access_commands_allow(entries, robots_only, ROBOT, CHANGE_PASSWORD, ["bob", "h", "p"])


def test_values_compared_as_written() -> None:
    """Configured numbers and booleans compare as they would be typed on a command line."""
    entries = (entry("robots", {"change_password"}, user=42, host=True),)
    words = ["42", "true", "pw"]
    assert access_commands_allow(entries, robots_only, ROBOT, CHANGE_PASSWORD, words)


def test_wrong_count_left_to_ctl() -> None:
    """With the wrong number of words nothing can run, so the ctl layer reports the count."""
    entries = (entry("robots", {"change_password"}, user="alice"),)
    assert access_commands_allow(entries, robots_only, ROBOT, CHANGE_PASSWORD, ["bob"])


def test_engine_checks_only_with_entries() -> None:
    """The engine gets a mod_rest check only when access_commands has entries."""
    assert access_commands_checks(RestOptions(), robots_only) == {}
    checks = access_commands_checks(
        RestOptions(access_commands=(entry("robots", {"registered_users"}),)), robots_only
    )
    assert list(checks) == ["mod_rest"]
    (check,) = checks["mod_rest"]
    assert check(ROBOT, REGISTERED_USERS, ["localhost"]) is None
    assert check(ALICE, REGISTERED_USERS, ["localhost"]) == ACCESS_COMMANDS
