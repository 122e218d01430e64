"""Issue 8, defect 6: an impossible ``set_last`` timestamp must not break ``get_last``.

Before the fix 10^30 answered 500, and 10^17 was stored so that every later
``get_last`` of that user answered 500.  Now numbers are range-checked in
every dialect, and a value already in the store is still formatted.
"""

from __future__ import annotations

import json
import sqlite3
import xmlrpc.client

from tests.hostile import live
from tests.hostile.live import ShippedDaemon

ADMIN_AUTH = ("admin@localhost", "adminpass")
HUGE = 10**30
FAR = 10**17


def set_last(d: ShippedDaemon, timestamp: int) -> tuple[int, str]:
    status, _, raw = d.api(
        "set_last",
        {"user": "alice", "host": "localhost", "timestamp": timestamp, "status": "away"},
        auth=ADMIN_AUTH,
    )
    return status, raw.decode()


def xmlrpc_set_last(d: ShippedDaemon, timestamp: int) -> xmlrpc.client.Fault:
    """set_last over XML-RPC with an <int> wider than Python's client will marshal; the fault."""
    members = "".join(
        f"<member><name>{name}</name><value>{value}</value></member>"
        for name, value in (
            ("user", "<string>alice</string>"),
            ("host", "<string>localhost</string>"),
            ("timestamp", f"<int>{timestamp}</int>"),
            ("status", "<string>away</string>"),
        )
    )
    auth = (
        "<member><name>user</name><value>admin</value></member>"
        "<member><name>server</name><value>localhost</value></member>"
        "<member><name>password</name><value>adminpass</value></member>"
    )
    body = (
        "<?xml version='1.0'?><methodCall><methodName>set_last</methodName><params>"
        f"<param><value><struct>{auth}</struct></value></param>"
        f"<param><value><struct>{members}</struct></value></param></params></methodCall>"
    ).encode()
    status, _, raw = d.http("POST", "/", body, {"Content-Type": "text/xml"}, port=d.xmlrpc_port)
    assert status == 200, (status, raw)
    try:
        xmlrpc.client.loads(raw.decode())
    except xmlrpc.client.Fault as fault:
        return fault
    raise AssertionError(f"set_last {timestamp} was accepted: {raw!r}")


def get_last(d: ShippedDaemon) -> tuple[int, str]:
    status, _, raw = d.api("get_last", {"user": "alice", "host": "localhost"}, auth=ADMIN_AUTH)
    return status, raw.decode()


def test_out_of_range_is_an_argument_error_in_every_dialect(shipped: ShippedDaemon) -> None:
    """10^30 and 10^17 are refused with a clear argument error: /api 400, XML-RPC fault, ctl 1."""
    with live.normal_client(shipped):
        for value in (HUGE, FAR, -1, 2**63):
            status, text = set_last(shipped, value)
            assert status == 400, (value, status, text)
            assert "timestamp" in text and "9999-12-31" in text, text
        fault = xmlrpc_set_last(shipped, FAR)
        assert fault.faultCode == -122 and "timestamp" in fault.faultString, fault
        done = shipped.ctl("set_last", "alice", "localhost", str(FAR), "away")
        assert done.returncode == 1 and "timestamp" in done.stdout, done.stdout
        done = shipped.ctl("set_last", "alice", "localhost", str(HUGE), "away")
        assert done.returncode == 1 and "timestamp" in done.stdout, done.stdout
    status, text = get_last(shipped)
    assert status == 200, text


def test_largest_date_round_trips(shipped: ShippedDaemon) -> None:
    """The last second of year 9999 is accepted and read back as that date."""
    assert set_last(shipped, 253402300799) == (200, "0")
    status, text = get_last(shipped)
    assert status == 200 and "9999-12-31T23:59:59Z" in text, text


def test_stored_nonsense_never_breaks_reads(shipped: ShippedDaemon) -> None:
    """A far-future time already in the store (written by an older version) still reads back."""
    store = shipped.workdir / "var" / "gateway.sqlite3"
    with sqlite3.connect(store, timeout=30) as db:
        db.execute(
            "UPDATE last_activity SET seen_at = ? WHERE host = 'localhost' AND username = 'alice'",
            (FAR,),
        )
        if db.total_changes == 0:
            db.execute(
                "INSERT INTO last_activity (host, username, seen_at, status)"
                " VALUES ('localhost', 'alice', ?, 'away')",
                (FAR,),
            )
    db.close()
    with live.normal_client(shipped):
        status, text = get_last(shipped)
    assert status == 200, text
    assert "9999-12-31T23:59:59Z" in json.dumps(json.loads(text))
    done = shipped.ctl("get_last", "alice", "localhost")
    assert done.returncode == 0, done.stdout
