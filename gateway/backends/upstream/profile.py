"""Which API profile an upstream speaks, from the release its ``status`` names."""

from __future__ import annotations

import re

__all__ = ["PROFILE_CHOICES", "profile_for_release", "release_from_status"]

#: the ``api_profile`` values an upstream may be given; ``auto`` asks it
PROFILE_CHOICES = ("auto", "23.01", "24.12")

# "... Status: started[  ]ejabberd 23.01 is running in that node"
_RELEASE = re.compile(r"ejabberd (\d+)\.(\d+)\S* is running in that node")


def release_from_status(text: str) -> tuple[int, int] | None:
    """``(major, minor)`` of the release a ``status`` text names, if it names one."""
    found = _RELEASE.search(text)
    if found is None:
        return None
    return int(found[1]), int(found[2])


def profile_for_release(release: tuple[int, int]) -> str:
    """24.x and later speak the versioned 24.12 API; older releases the 23.01 one.

    (23.10 and 24.02 differ from both in places; they are read as the
    nearest profile, which is what their command tables mostly are.)
    """
    return "24.12" if release[0] >= 24 else "23.01"
