"""Issue 8, defect 12: answers must never claim what did not happen.

Before the fix ``muc_online_rooms`` listed stored room records as online,
``rooms_empty_destroy`` destroyed every MAM-enabled room "since the store
archives nothing", ``clear_cache`` answered ok while clearing nothing, and
every not-supported error pointed to an ejabberd backend that refuses to
start.
"""

from __future__ import annotations

import json
import time

from tests.hostile import live
from tests.hostile.live import ShippedDaemon

ADMIN_AUTH = ("admin@localhost", "adminpass")
SERVICE = "conference.localhost"


def test_room_liveness_is_not_made_up(shipped: ShippedDaemon) -> None:
    """Online/empty/unused room commands are not supported (501) and destroy nothing."""
    for args in (("lobby", SERVICE, "localhost"), ("archive", SERVICE, "localhost")):
        done = shipped.ctl("create_room", *args)
        assert done.returncode == 0, done.stdout
    done = shipped.ctl("change_room_option", "archive", SERVICE, "mam", "true")
    assert done.returncode == 0, done.stdout
    with live.normal_client(shipped):
        for command, body in (
            ("muc_online_rooms", {"service": SERVICE}),
            ("muc_online_rooms", {"service": "global"}),
            ("muc_online_rooms_by_regex", {"service": SERVICE, "regex": "."}),
            ("rooms_empty_list", {"service": SERVICE}),
            ("rooms_empty_destroy", {"service": SERVICE}),
            ("rooms_unused_list", {"service": SERVICE, "days": 0}),
            ("rooms_unused_destroy", {"service": SERVICE, "days": 0}),
        ):
            status, _, raw = shipped.api(command, body, auth=ADMIN_AUTH)
            assert status == 501, (command, status, raw)
            assert "not supported" in raw.decode(), raw
    for room in ("lobby", "archive"):
        kept = shipped.ctl("get_room_options", room, SERVICE)
        assert kept.returncode == 0, (room, kept.stdout)


def test_not_supported_points_only_to_what_exists(shipped: ShippedDaemon) -> None:
    """A not-supported error names another backend only where it can run the command.

    connected_users needs a live server: the ejabberd backend (which now exists) forwards it.
    """
    status, _, raw = shipped.api("connected_users", {}, auth=ADMIN_AUTH)
    assert status == 501, raw
    text = json.loads(raw)["message"]
    assert "not supported by the embedded backend; the ejabberd backend can run it" in text, text
    done = shipped.ctl("stats", "onlineusers")
    assert done.returncode == 1, done.stdout
    assert "XMPP server" in done.stdout, done.stdout


def test_clear_cache_says_what_it_cleared(shipped: ShippedDaemon) -> None:
    """clear_cache answers ok and the log names each cache it emptied."""
    status, _, raw = shipped.api("clear_cache", {}, auth=ADMIN_AUTH)
    assert (status, raw) == (200, b"0"), raw
    deadline = time.monotonic() + 15
    while "clear_cache: cleared" not in shipped.output() and time.monotonic() < deadline:
        time.sleep(0.05)
    line = next((x for x in shipped.output().splitlines() if "clear_cache: cleared" in x), None)
    assert line is not None, shipped.output()[-2000:]
    assert "catalogue" in line, line
