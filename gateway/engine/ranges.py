"""The ranges integer arguments must lie in, so no number can break a later command.

Every integer argument must fit a signed 64-bit column (SQLite's INTEGER,
PostgreSQL's BIGINT): a larger one would fail inside the store with an
internal error.  Some arguments are tighter because of what is done with
them later: ``set_last``'s timestamp is shown by ``get_last`` as an ISO 8601
date, which only exists for years 1970 (the POSIX epoch) to 9999.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["ARGUMENT_BOUNDS", "INT64", "POSIX_DATE", "Bounds", "bounds_for"]


@dataclass(frozen=True, slots=True)
class Bounds:
    """Inclusive bounds of an integer, and what they mean for the caller."""

    low: int
    high: int
    meaning: str

    def __contains__(self, value: int) -> bool:
        return self.low <= value <= self.high


INT64 = Bounds(-(2**63), 2**63 - 1, "a signed 64-bit integer")

#: POSIX times that can be written as dates: 1970-01-01T00:00:00Z to 9999-12-31T23:59:59Z
POSIX_DATE = Bounds(0, 253402300799, "seconds since 1970-01-01, at most 9999-12-31T23:59:59Z")

#: (command, argument) -> bounds tighter than :data:`INT64`
ARGUMENT_BOUNDS: dict[tuple[str, str], Bounds] = {
    ("set_last", "timestamp"): POSIX_DATE,
}


def bounds_for(command: str, argument: str) -> Bounds:
    """The bounds of a top-level integer argument of ``command``."""
    return ARGUMENT_BOUNDS.get((command, argument), INT64)
