"""Reading the ``scope`` parameter of OAuth requests."""

from __future__ import annotations

import pytest

from gateway.engine.scopes import MAX_SCOPES, ScopeError, parse_scope


def test_scopes_are_split_at_spaces_in_order_once() -> None:
    """Scopes are separated by spaces (any number); order is kept and repeats dropped."""
    assert parse_scope("  ejabberd:admin  get_roster ejabberd:admin ") == [
        "ejabberd:admin",
        "get_roster",
    ]
    assert parse_scope("") == []


@pytest.mark.parametrize("text", ['a"b', "a\\b", "caf\u00e9", "tab\there", "nul\x00"])
def test_characters_rfc_6749_forbids_are_refused(text: str) -> None:
    """Quotes, backslashes, controls and non-ASCII are not scope-token characters."""
    with pytest.raises(ScopeError):
        parse_scope(text)


def test_too_many_scopes_are_refused() -> None:
    """More than MAX_SCOPES distinct scopes are refused before any is looked at."""
    assert len(parse_scope(" ".join(f"s{i}" for i in range(MAX_SCOPES)))) == MAX_SCOPES
    with pytest.raises(ScopeError, match="at most"):
        parse_scope(" ".join(f"s{i}" for i in range(MAX_SCOPES + 1)))
