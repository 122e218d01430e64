"""The gateway in front of ejabberd 23.01 answers like ejabberd itself, in every dialect.

Each call goes to ejabberd's own interface and through the gateway (XML-RPC, ``/api``, mod_rest
command line), and the answers must be the same once per-run values are masked.  The writes the
gateway forwarded are then read back from ejabberd directly: they must be there, so the answers
cannot come from a store of the gateway's own.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.integration.upstream.compare import (
    DIALECTS,
    Call,
    Difference,
    differences,
    report,
)
from tests.integration.upstream.harness import ADMIN, ADMIN_AUTH, MUC_SERVICE, VHOST, Front

H = VHOST
CAROL = "carol_{t}"

SEQUENCE = (
    Call(
        "register", "new account", {"user": CAROL, "host": H, "password": "pw1"}, (CAROL, H, "pw1")
    ),
    Call(
        "register",
        "existing account",
        {"user": CAROL, "host": H, "password": "pw2"},
        (CAROL, H, "pw2"),
    ),
    Call("registered_users", "all", {"host": H}, (H,), sort=True),
    Call("check_account", "exists", {"user": CAROL, "host": H}, (CAROL, H)),
    Call("check_account", "missing", {"user": "nobody_{t}", "host": H}, ("nobody_{t}", H)),
    Call(
        "check_password",
        "right",
        {"user": CAROL, "host": H, "password": "pw1"},
        (CAROL, H, "pw1"),
    ),
    Call(
        "check_password",
        "wrong",
        {"user": CAROL, "host": H, "password": "nope"},
        (CAROL, H, "nope"),
    ),
    Call(
        "change_password",
        "existing account",
        {"user": CAROL, "host": H, "newpass": "pw3"},
        (CAROL, H, "pw3"),
    ),
    Call(
        "check_password",
        "changed",
        {"user": CAROL, "host": H, "password": "pw3"},
        (CAROL, H, "pw3"),
    ),
    Call("get_roster", "empty", {"user": CAROL, "host": H}, (CAROL, H)),
    Call(
        "add_rosteritem",
        "one group",
        {
            "localuser": CAROL,
            "localhost": H,
            "user": ADMIN,
            "host": H,
            "nick": "Boss",
            "group": "Work",
            "subs": "both",
        },
        (CAROL, H, ADMIN, H, "Boss", "Work", "both"),
    ),
    Call("get_roster", "one contact", {"user": CAROL, "host": H}, (CAROL, H)),
    Call(
        "set_vcard",
        "full name",
        {"user": CAROL, "host": H, "name": "FN", "content": "Carol_{t}"},
        (CAROL, H, "FN", "Carol_{t}"),
    ),
    Call("get_vcard", "full name", {"user": CAROL, "host": H, "name": "FN"}, (CAROL, H, "FN")),
    Call(
        "get_vcard",
        "unset field",
        {"user": CAROL, "host": H, "name": "NICKNAME"},
        (CAROL, H, "NICKNAME"),
    ),
    Call(
        "srg_create",
        "new group",
        {
            "group": "team_{t}",
            "host": H,
            "label": "Team",
            "description": "Everyone",
            "display": "team_{t}",
        },
        ("team_{t}", H, "Team", "Everyone", "team_{t}"),
    ),
    Call("srg_list", "all", {"host": H}, (H,), sort=True),
    Call(
        "create_room",
        "new room",
        {"name": "room_{t}", "service": MUC_SERVICE, "host": H},
        ("room_{t}", MUC_SERVICE, H),
    ),
    Call(
        "create_room",
        "existing room",
        {"name": "room_{t}", "service": MUC_SERVICE, "host": H},
        ("room_{t}", MUC_SERVICE, H),
    ),
    Call(
        "get_room_options",
        "new room",
        {"name": "room_{t}", "service": MUC_SERVICE},
        ("room_{t}", MUC_SERVICE),
    ),
    Call("stats", "registered users", {"name": "registeredusers"}, ("registeredusers",)),
    Call("stats", "online users", {"name": "onlineusers"}, ("onlineusers",)),
)


#: ejabberd closes a temporary room nobody joined 30 s after creating it (mod_muc_room's
#: CLEAN_ROOM_TIMEOUT), so the rooms online are read as soon as a dialect's sequence is done
ROOMS_SEEN: dict[str, object] = {}


@pytest.fixture(scope="module")
def runs(front: Front) -> Callable[[str], list[Difference]]:
    """``runs(dialect)`` sends SEQUENCE in ``dialect`` once (later calls reuse the result):
    the differences found.  ejabberd's rooms online right after it go to ROOMS_SEEN."""
    done: dict[str, list[Difference]] = {}

    def run(dialect: str) -> list[Difference]:
        if dialect not in done:
            done[dialect] = differences(front, SEQUENCE, dialect)
            answer = front.ejabberd_api.call(
                "muc_online_rooms", {"service": MUC_SERVICE}, ADMIN_AUTH
            )
            ROOMS_SEEN[dialect] = answer.body if answer.status == 200 else answer.show()
        return done[dialect]

    return run


@pytest.mark.parametrize("dialect", DIALECTS)
def test_answers_match_ejabberds_own(runs: Callable[[str], list[Difference]], dialect: str) -> None:
    """Every call of SEQUENCE answers through the gateway as ejabberd's own interface of the
    same dialect answers it (ejabberdctl's text for mod_rest command lines)."""
    found = runs(dialect)
    assert not found, f"{len(found)} answer(s) differ:\n\n{report(found)}"


@pytest.mark.parametrize("dialect", DIALECTS)
def test_writes_reach_ejabberd(
    front: Front, runs: Callable[[str], list[Difference]], dialect: str
) -> None:
    """What the gateway wrote in ``dialect`` is in ejabberd, read through ejabberd's /api."""
    runs(dialect)
    api = front.ejabberd_api
    carol = f"carol_gw_{dialect}"

    def ask(command: str, args: dict[str, object]) -> object:
        answer = api.call(command, args, ADMIN_AUTH)
        assert answer.status == 200, f"{command} {args}: {answer.show()}"
        return answer.body

    assert ask("check_account", {"user": carol, "host": H}) == 0
    assert ask("check_password", {"user": carol, "host": H, "password": "pw3"}) == 0
    assert ask("get_roster", {"user": carol, "host": H}) == [
        {
            "jid": f"{ADMIN}@{H}",
            "nick": "Boss",
            "subscription": "both",
            "ask": "undefined",
            "group": "Work",
        }
    ]
    assert ask("get_vcard", {"user": carol, "host": H, "name": "FN"}) == {
        "content": f"Carol_gw_{dialect}"
    }
    groups = ask("srg_list", {"host": H})
    assert isinstance(groups, list) and f"team_gw_{dialect}" in groups
    rooms = ROOMS_SEEN[dialect]
    assert isinstance(rooms, list) and f"room_gw_{dialect}@{MUC_SERVICE}" in rooms, rooms
