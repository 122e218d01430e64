"""The packaged catalogue holds exactly ejabberd's command tables, with our descriptions."""

from __future__ import annotations

import json

import pytest

from gateway.engine.catalogue import SUGGEST_MAX_LENGTH, Catalogue, levenshtein
from gateway.engine.errors import UnknownCommand
from tests.paths import DATA


@pytest.mark.parametrize("profile", ["24.12", "23.01"])
def test_matches_reference_table(profile: str) -> None:
    """Every definition of the reference table is in the catalogue with the same facts."""
    reference = json.loads((DATA / f"ejabberd-{profile}-commands.json").read_text())
    catalogue = Catalogue.load(profile)
    assert len(list(catalogue)) == len(reference)
    for row in reference:
        d = catalogue.lookup(row["name"], row["version"])
        assert d.version == row["version"]
        assert [[p.name, p.type.to_json()] for p in d.args] == row["args"]
        assert [d.result.name, d.result.type.to_json()] == row["result"]
        assert list(d.tags) == row["tags_registered"]
        assert d.policy == row["policy"]
        assert [list(r) for r in d.args_rename] == row["args_rename"]
        assert d.internal == row["internal"]


def test_every_command_has_a_description() -> None:
    """Each of the 202 command names has a short description of our own."""
    catalogue = Catalogue.load("24.12")
    for definition in catalogue:
        assert definition.description, definition.name
        assert len(definition.description) <= 100


def test_version_rule() -> None:
    """The newest definition at or below the requested version is chosen; none means newest."""
    catalogue = Catalogue.load("24.12")
    assert catalogue.versions("subscribe_room") == (0, 1, 3)
    assert catalogue.lookup("subscribe_room", 5).version == 3
    assert catalogue.lookup("subscribe_room", 2).version == 1
    assert catalogue.lookup("subscribe_room").version == 3


def test_only_newer_versions_hide_below() -> None:
    """A command that exists only from version 2 is unknown to version 0 and 1 callers."""
    catalogue = Catalogue.load("24.12")
    assert catalogue.lookup("get_ban_details", 2).version == 2
    with pytest.raises(UnknownCommand):
        catalogue.lookup("get_ban_details", 1)


def test_legacy_profile_has_no_versions() -> None:
    """In the 23.01 profile every command is version 0, whatever version is asked for."""
    catalogue = Catalogue.load("23.01")
    assert catalogue.lookup("subscribe_room", 3).version == 0
    assert "get_ban_details" not in catalogue


def test_suggestions_like_ejabberdctl() -> None:
    """The suggestion is the public command at the smallest edit distance, ties alphabetical."""
    assert Catalogue.load("23.01").suggest("no_such_cmd") == "dump"
    assert Catalogue.load("23.01").suggest("no_such_cmd_zz") == "module_check"
    assert levenshtein("kitten", "sitting") == 3


def test_internal_commands_not_suggested() -> None:
    """Internal commands are left out of the public names."""
    catalogue = Catalogue.load("24.12")
    assert "echo3" not in catalogue.names()
    assert "echo3" in catalogue.names(include_internal=True)
    assert catalogue.suggest("echo3") != "echo3"


def test_no_suggestion_for_an_overlong_name() -> None:
    """A name longer than SUGGEST_MAX_LENGTH gets no suggestion (and no quadratic work).

    One character less still gets one, so the bound is where it says.
    """
    catalogue = Catalogue.load("24.12")
    assert catalogue.suggest("r" * SUGGEST_MAX_LENGTH) is not None
    assert catalogue.suggest("r" * (SUGGEST_MAX_LENGTH + 1)) is None
    assert catalogue.suggest("registered_users" + "x" * 1_000_000) is None
