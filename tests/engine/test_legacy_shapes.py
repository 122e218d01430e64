"""23.01's own result shapes under unchanged definitions (``gateway.engine.legacy_shapes``).

Each test calls the 23.01 profile of a real engine over a
:class:`~gateway.testing.FakeBackend` answering canonical (24.12) values.  The
expected texts were captured from Debian's ejabberd 23.01.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest
from twisted.internet.defer import Deferred
from twisted.python.failure import Failure

from gateway.engine.erlprint import TermText
from gateway.engine.errors import CommandError, CommandFailed
from gateway.engine.model import CommandCall, ResTuple, Result
from gateway.testing import FakeBackend
from tests.captured_2301 import ROOM_OPTIONS_2301
from tests.engine.helpers import NoCommands, canonical_calls, make_engine

MUC = "conference.localhost"


def _canonical_options(allowpm: str) -> list[tuple[str, str]]:
    """The 24.12 answer for the same room: ``allowpm``, and no options after vcard."""
    out = []
    for name, value in ROOM_OPTIONS_2301:
        if name == "allow_private_messages":
            out.append(("allowpm", allowpm))
        elif name not in ("vcard_xupdate", "captcha_whitelist"):
            out.append((name, value))
    return out


def _outcome(deferred: Deferred[Result]) -> Result:
    """The result of an already fired Deferred, raising its failure."""
    fired: list[Any] = []
    deferred.addBoth(fired.append)
    assert fired, "the call did not complete synchronously"
    if isinstance(fired[0], Failure):
        fired[0].raiseException()
    result: Result = fired[0]
    return result


def _call(
    name: str, args: Mapping[str, Any], answers: Mapping[str, Any]
) -> tuple[Any, FakeBackend]:
    backend = FakeBackend(answers=answers)
    engine = make_engine(backend, profile="23.01", gateway=NoCommands())
    call = CommandCall(name, tuple(args.items()), frontend="mod_http_api")
    return _outcome(engine.call(call)).value, backend


def _fails(name: str, args: Mapping[str, Any]) -> tuple[CommandError, FakeBackend]:
    backend = FakeBackend(answers={name: True})
    engine = make_engine(backend, profile="23.01", gateway=NoCommands())
    call = CommandCall(name, tuple(args.items()), frontend="mod_http_api")
    with pytest.raises(CommandError) as raised:
        _outcome(engine.call(call))
    return raised.value, backend


# -- room options ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("allowpm", "shown"),
    [("anyone", "true"), ("participants", "true"), ("moderators", "true"), ("none", "false")],
)
def test_room_options_in_2301_names_and_order(allowpm: str, shown: str) -> None:
    """get_room_options lists 23.01's options: allow_private_messages, vcard_xupdate ..."""
    value, backend = _call(
        "get_room_options",
        {"name": "lobby", "service": MUC},
        {"get_room_options": _canonical_options(allowpm)},
    )
    expected = [
        (name, shown if name == "allow_private_messages" else option)
        for name, option in ROOM_OPTIONS_2301
    ]
    assert value == expected
    assert canonical_calls(backend) == [("get_room_options", {"room": "lobby", "service": MUC})]


@pytest.mark.parametrize(
    "failure",
    [
        "The room does not exist",
        "Invalid value of room name",
        "Invalid value of 'service'",
        "Unknown host passed in 'service'",
    ],
)
def test_room_options_of_a_room_2301_cannot_find(failure: str) -> None:
    """Where 24.12 fails to find the room or its service, 23.01 answers no options.

    Captured from Debian's ejabberd 23.01: ``{}`` over /api and ``[]`` over
    XML-RPC for an unknown room, a destroyed one and an unknown service.
    """
    value, _ = _call(
        "get_room_options",
        {"name": "lobby", "service": MUC},
        {"get_room_options": CommandFailed(failure, thrown=True)},
    )
    assert value == []


def test_room_options_other_failures_stay() -> None:
    """A failure that does not mean "no such room" is passed on."""
    backend = FakeBackend(answers={"get_room_options": CommandFailed("database is away")})
    engine = make_engine(backend, profile="23.01", gateway=NoCommands())
    call = CommandCall(
        "get_room_options", (("name", "lobby"), ("service", MUC)), frontend="mod_http_api"
    )
    with pytest.raises(CommandFailed, match="database is away"):
        _outcome(engine.call(call))


@pytest.mark.parametrize(("given", "stored"), [("true", "anyone"), ("FALSE", "none")])
def test_allow_private_messages_is_set_as_allowpm(given: str, stored: str) -> None:
    """change_room_option takes 23.01's option and value; the backend gets 24.12's."""
    _, backend = _call(
        "change_room_option",
        {"name": "lobby", "service": MUC, "option": "allow_private_messages", "value": given},
        {"change_room_option": True},
    )
    assert canonical_calls(backend) == [
        (
            "change_room_option",
            {"room": "lobby", "service": MUC, "option": "allowpm", "value": stored},
        )
    ]


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("allowpm", "none", "Unknown room option 'allowpm'"),
        (
            "allow_private_messages",
            "moderators",
            "Invalid value 'moderators' for room option allow_private_messages: use true or false",
        ),
    ],
)
def test_24x_option_names_and_values_are_refused(option: str, value: str, message: str) -> None:
    """allowpm is no 23.01 option, and allow_private_messages is true or false."""
    for command, args in (
        ("change_room_option", {"name": "r", "service": MUC, "option": option, "value": value}),
        (
            "create_room_with_opts",
            {
                "name": "r",
                "service": MUC,
                "host": "localhost",
                "options": [{"name": option, "value": value}],
            },
        ),
    ):
        error, backend = _fails(command, args)
        assert isinstance(error, CommandFailed) and error.message == message, command
        assert backend.calls == []


# -- shared roster groups -------------------------------------------------------------------------


def test_srg_get_info_keys_in_2301_order_with_empty_values() -> None:
    """Without displayed groups 23.01 still shows them; empty texts print as ``[]``.

    Captured from Debian's ejabberd 23.01 for a group created with an empty label
    and no displayed groups: /api shows ``""`` for both, XML-RPC and ejabberdctl
    ``[]``.
    """
    value, backend = _call(
        "srg_get_info",
        {"group": "g1", "host": "localhost"},
        {"srg_get_info": [("label", ""), ("description", "d")]},
    )
    assert value == [("label", ""), ("displayed_groups", ""), ("description", "d")]
    assert [v.printed for _, v in value if isinstance(v, TermText)] == ["[]", "[]"]
    assert isinstance(value[0][1], TermText) and isinstance(value[1][1], TermText)
    # no displayed groups in the canonical answer: they are not asked for
    assert [name for name, _ in canonical_calls(backend)] == ["srg_get_info"]


def test_srg_get_info_displayed_groups_per_dialect() -> None:
    """Displayed groups: joined by line breaks for /api, ``~p`` for XML-RPC and ctl.

    Captured from Debian's ejabberd 23.01 (``display`` ``g1\\ng3``): /api
    ``"g1\\ng3"``, XML-RPC and ejabberdctl ``["g1","g3"]``.
    """
    value, _ = _call(
        "srg_get_info",
        {"group": "g2", "host": "localhost"},
        {
            "srg_get_info": [
                ("label", "L"),
                ("description", "d2"),
                ("displayed_groups", "g1, g3"),
                ("all_users", "true"),
                ("online_users", "true"),
            ],
            "srg_get_displayed": ["g1", "g3"],
        },
    )
    assert value == [
        ("label", "L"),
        ("displayed_groups", "g1\ng3"),
        ("description", "d2"),
        ("all_users", "true"),
        ("online_users", "true"),
    ]
    displayed = value[1][1]
    assert isinstance(displayed, TermText) and displayed.printed == '["g1","g3"]'
    assert not isinstance(value[0][1], TermText)


def test_srg_get_info_of_unknown_group_is_empty() -> None:
    """An unknown group has no information, as in 23.01."""
    value, backend = _call(
        "srg_get_info", {"group": "nope", "host": "localhost"}, {"srg_get_info": []}
    )
    assert value == []
    assert len(backend.calls) == 1


# -- accounts -------------------------------------------------------------------------------------


def test_delete_old_users_prints_erlang_terms() -> None:
    """The deleted accounts are ``~p`` of ``{User, Host}`` binaries, broken like ejabberd's.

    The expected text was captured from Debian's ejabberd 23.01 (over /api).
    """
    jids = ", ".join(
        f'"{user}@localhost"'
        for user in ("alice", "bob", "u1", "u2", "josé", "longusername_abcdefghijkl")
    )
    value, _ = _call(
        "delete_old_users_vhost",
        {"host": "localhost", "days": 0},
        {"delete_old_users_vhost": ResTuple(f"Deleted 6 users: [{jids}]")},
    )
    assert value == ResTuple(
        'Deleted 6 users: [{<<"alice">>,<<"localhost">>},\n'
        '                  {<<"bob">>,<<"localhost">>},\n'
        '                  {<<"u1">>,<<"localhost">>},\n'
        '                  {<<"u2">>,<<"localhost">>},\n'
        '                  {<<"josé">>,<<"localhost">>},\n'
        '                  {<<"longusername_abcdefghijkl">>,<<"localhost">>}]'
    )


@pytest.mark.parametrize(
    "answer",
    [
        ResTuple('Deleted 1 users: [{<<"a">>,<<"b">>}]'),  # already Erlang terms
        ResTuple("days must not be negative", "error"),
        ResTuple('Deleted 1 users: ["no-at-sign"]'),
    ],
)
def test_delete_old_users_other_texts_stay(answer: ResTuple) -> None:
    """A text that is not the canonical list of JIDs is passed on unchanged."""
    value, _ = _call("delete_old_users", {"days": 1}, {"delete_old_users": answer})
    assert value == answer


def test_room_options_from_an_upstream_that_lists_them_are_not_doubled() -> None:
    """A real 24.12 upstream lists vcard_xupdate and captcha_whitelist itself: each shows once."""
    canonical = _canonical_options("anyone")
    at = next(i for i, (name, _) in enumerate(canonical) if name == "vcard") + 1
    listed = [
        *canonical[:at],
        ("vcard_xupdate", '<<"abc">>'),
        ("captcha_whitelist", "{0,nil}"),
        *canonical[at:],
    ]
    value, _ = _call(
        "get_room_options", {"name": "lobby", "service": MUC}, {"get_room_options": listed}
    )
    names = [name for name, _ in value]
    assert names.count("vcard_xupdate") == 1 and names.count("captcha_whitelist") == 1
    assert ("vcard_xupdate", '<<"abc">>') in value
