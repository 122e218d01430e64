"""The options before an ejabberdctl command: ``--version`` and the one ``--auth`` reader."""

from __future__ import annotations

import pytest

from gateway.engine.credentials import NO_CREDENTIALS, Password
from gateway.frontends.ctl.options import (
    AuthPrefix,
    BadAuthPrefix,
    BadVersion,
    UsageError,
    parse_options,
    split_auth,
)


def test_split_auth() -> None:
    """A leading ``--auth`` takes the next three words; elsewhere it is just a word."""
    assert split_auth(["--auth", "u", "h", "p", "status"]) == (
        AuthPrefix("u", "h", "p"),
        ["status"],
    )
    assert split_auth(["status", "--auth"]) == (None, ["status", "--auth"])
    assert AuthPrefix("", "", "").anonymous
    assert not AuthPrefix("u", "", "").anonymous


def test_split_auth_short() -> None:
    """``--auth`` with fewer than three values is refused."""
    with pytest.raises(BadAuthPrefix):
        split_auth(["--auth", "u", "h"])


def test_auth_credentials() -> None:
    """``--auth`` gives a password login; ``--auth "" "" ""`` gives no credentials at all."""
    assert AuthPrefix("u", "h", "p").credentials == Password("u", "h", "p")
    assert AuthPrefix("", "", "").credentials == NO_CREDENTIALS


def test_options_in_any_order() -> None:
    """``--version`` and ``--auth`` may come in either order, before the command."""
    line = parse_options(["--auth", "u", "h", "p", "--version", "0", "get_roster", "a"])
    assert (line.version, line.credentials, line.words) == (
        0,
        Password("u", "h", "p"),
        ["get_roster", "a"],
    )
    line = parse_options(["status", "--version", "2"])
    assert (line.version, line.credentials, line.words) == (
        None,
        NO_CREDENTIALS,
        ["status", "--version", "2"],
    )


@pytest.mark.parametrize(
    "argv", [["--version"], ["--auth", "u", "h"], ["--version", "1", "--auth"]]
)
def test_options_without_values(argv: list[str]) -> None:
    """An option without its values is a usage error."""
    with pytest.raises(UsageError):
        parse_options(argv)


def test_version_must_be_an_integer() -> None:
    """``--version`` takes what Erlang's list_to_integer reads, nothing else."""
    assert parse_options(["--version", "+2", "status"]).version == 2
    with pytest.raises(BadVersion) as caught:
        parse_options(["--version", "1.5", "status"])
    assert caught.value.text == "1.5"
