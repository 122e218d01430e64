"""Formatting stored times as dates never fails (embedded context's iso_timestamp)."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from gateway.backends.embedded.context import iso_timestamp

ISO = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?Z")


@given(st.floats(allow_nan=True, allow_infinity=True) | st.integers(-(2**63), 2**63 - 1))
def test_any_stored_time_formats(seconds: float) -> None:
    """Every number a column can hold, NaN and infinities included, gives an ISO 8601 date."""
    assert ISO.fullmatch(iso_timestamp(seconds)), seconds


@given(st.integers(min_value=-62135596800, max_value=253402300799))
def test_dates_that_exist_are_exact(seconds: int) -> None:
    """Whole seconds from year 1 to 9999 format as exactly that UTC time, year padded to 4."""
    expected = datetime.fromtimestamp(seconds, UTC).strftime("%m-%dT%H:%M:%SZ")
    text = iso_timestamp(seconds)
    assert text[5:] == expected
    assert int(text[:4]) == datetime.fromtimestamp(seconds, UTC).year


def test_out_of_range_is_clamped() -> None:
    """Times no date shows are shown as the nearest date that exists."""
    assert iso_timestamp(10**17) == "9999-12-31T23:59:59Z"
    assert iso_timestamp(253402300799.9999999) == "9999-12-31T23:59:59Z"
    assert iso_timestamp(float("inf")) == "9999-12-31T23:59:59Z"
    assert iso_timestamp(-(10**17)) == "0001-01-01T00:00:00Z"
    assert iso_timestamp(float("nan")) == "1970-01-01T00:00:00Z"
    assert iso_timestamp(-1.5) == "1969-12-31T23:59:58.500000Z"
