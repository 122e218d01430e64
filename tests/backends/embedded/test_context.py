"""Name preparation and timestamps shared by the embedded backend's handlers."""

from __future__ import annotations

import pytest

from gateway.backends.embedded.context import iso_timestamp, prep_host, prep_user, split_jid


@pytest.mark.parametrize(
    ("raw", "prepared"),
    [
        ("Bob", "bob"),
        ("ÉLAN", "élan"),
        ("a@b", None),
        ("a b", None),
        ("", None),
        ("x" * 1024, None),
    ],
)
def test_prep_user(raw: str, prepared: str | None) -> None:
    """User names are nodeprepped (case-folded); characters JIDs forbid give None."""
    assert prep_user(raw) == prepared


@pytest.mark.parametrize(
    ("raw", "prepared"),
    [("LocalHost", "localhost"), ("", None), ("a..b", None), (".a", None), ("a b", None)],
)
def test_prep_host(raw: str, prepared: str | None) -> None:
    """Hosts are nameprepped; empty labels and forbidden characters give None."""
    assert prep_host(raw) == prepared


@pytest.mark.parametrize(
    ("jid", "parts"),
    [
        ("Bob@LocalHost/Res", ("bob", "localhost")),
        ("localhost", ("", "localhost")),
        ("@localhost", None),
        ("a b@localhost", None),
        ("bob@", None),
    ],
)
def test_split_jid(jid: str, parts: tuple[str, str] | None) -> None:
    """A bare or full JID splits into prepared user and host; malformed ones give None."""
    assert split_jid(jid) == parts


def test_iso_timestamp() -> None:
    """UTC with Z; microseconds appear only when the time has a fraction."""
    assert iso_timestamp(1_700_000_000) == "2023-11-14T22:13:20Z"
    assert iso_timestamp(1_700_000_000.25) == "2023-11-14T22:13:20.250000Z"
    assert iso_timestamp(1_700_000_000.9999999) == "2023-11-14T22:13:21Z"
