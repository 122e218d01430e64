"""Result nesting per release (§1 result table) and command errors as faults."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.engine.catalogue import Catalogue
from gateway.engine.erlprint import TermText
from gateway.engine.errors import CommandFailed
from gateway.engine.model import ResTuple, Result
from gateway.frontends.xmlrpc.results import failure_value, result_value
from gateway.frontends.xmlrpc.values import Struct
from tests.frontends.xmlrpc.helpers import ADMIN, call, make_resource, shape_catalogue

NESTED = [("a@localhost", 2, ["Friends", "Team"], True)]


def shaped(profile: str, command: str, value: Any, catalogue: Catalogue | None = None) -> Any:
    catalogue = catalogue or Catalogue.load(profile)
    result = Result(catalogue.newest(command), value)
    return result_value(result, legacy=profile == "23.01")


def test_nested_24_12() -> None:
    """24.12: a list of tuples is an array of structs; inner lists stay plain arrays."""
    assert shaped("24.12", "give_nested", NESTED, shape_catalogue("24.12")) == Struct.of(
        (
            "items",
            [
                Struct.of(
                    ("jid", "a@localhost"),
                    ("count", 2),
                    ("groups", ["Friends", "Team"]),
                    ("ok", 0),
                )
            ],
        )
    )


def test_nested_23_01() -> None:
    """23.01: every list element and tuple field is a one-member struct, at every level."""
    assert shaped("23.01", "give_nested", NESTED, shape_catalogue("23.01")) == Struct.of(
        (
            "items",
            [
                Struct.of(
                    (
                        "item",
                        [
                            Struct.of(("jid", "a@localhost")),
                            Struct.of(("count", 2)),
                            Struct.of(
                                (
                                    "groups",
                                    [Struct.of(("group", "Friends")), Struct.of(("group", "Team"))],
                                )
                            ),
                            Struct.of(("ok", 0)),
                        ],
                    )
                )
            ],
        )
    )


@pytest.mark.parametrize("profile", ["24.12", "23.01"])
def test_integer_result(profile: str) -> None:
    """An integer result is ``{name: int}`` in both releases."""
    resource, _ = make_resource(profile)
    assert call(resource, "connected_users_number", {}).loads() == {"num_sessions": 0}


def test_tuple_result_24_12() -> None:
    """24.12: a tuple result is ``{name: {f1: v, f2: v}}``."""
    resource, _ = make_resource("24.12")
    reply = call(resource, "get_last", {"user": "alice", "host": "localhost"})
    assert reply.loads() == {
        "last_activity": {"timestamp": "2024-05-01T10:00:00Z", "status": "Away"}
    }


def test_tuple_result_23_01() -> None:
    """23.01: a tuple result is ``{name: [{f1: v}, {f2: v}]}``."""
    resource, _ = make_resource("23.01")
    reply = call(resource, "get_last", {"user": "alice", "host": "localhost"})
    assert reply.loads() == {
        "last_activity": [{"timestamp": "2024-05-01T10:00:00Z"}, {"status": "Away"}]
    }


def test_list_of_tuples_with_inner_list_both_profiles() -> None:
    """``get_user_subscriptions``: 24.12 structs with a plain ``nodes`` array; 23.01 nested."""
    modern, _ = make_resource("24.12")
    legacy, _ = make_resource("23.01")
    args = {"user": "alice", "host": "localhost"}
    assert call(modern, "get_user_subscriptions", ADMIN, args).loads() == {
        "rooms": [{"roomjid": "room@conference.localhost", "usernick": "al", "nodes": ["n1", "n2"]}]
    }
    assert call(legacy, "get_user_subscriptions", ADMIN, args).loads() == {
        "rooms": [
            {
                "room": [
                    {"roomjid": "room@conference.localhost"},
                    {"usernick": "al"},
                    {"nodes": [{"node": "n1"}, {"node": "n2"}]},
                ]
            }
        ]
    }


def test_restuple_failure_24_12_is_text() -> None:
    """24.12: a restuple command answering ``{error, Msg}`` is ``{text: Msg}``, not a fault."""
    resource, _ = make_resource("24.12")
    assert call(resource, "delete_old_users", ADMIN, {"days": -1}).loads() == {
        "text": "Days must be positive"
    }


def test_restuple_failure_23_01_is_a_fault() -> None:
    """23.01: a restuple command answering ``{error, Msg}`` is -118 ``'{error,"Msg"}'``."""
    resource, _ = make_resource("23.01")
    fault = call(resource, "delete_old_users", ADMIN, {"days": -1}).fault()
    assert fault.faultString == (
        "Error -118\nA problem '{error,\"Days must be positive\"}' occurred executing the "
        "command delete_old_users with arguments\n[{days,-1}]"
    )


@pytest.mark.parametrize("profile", ["24.12", "23.01"])
def test_list_result_failure_is_a_fault(profile: str) -> None:
    """A list command answering ``{error, Msg}`` is a -118 fault in both releases."""
    resource, _ = make_resource(profile)
    fault = call(resource, "registered_users", ADMIN, {"host": "nohost"}).fault()
    assert fault.faultString == (
        "Error -118\nA problem '{error,\"Unknown virtual host\"}' occurred executing the "
        'command registered_users with arguments\n[{host,<<"nohost">>}]'
    )


def test_atom_reason_prints_as_an_atom() -> None:
    """A failure whose reason is an atom prints ``{error,not_found}``."""
    definition = Catalogue.load("23.01").newest("check_account")
    assert failure_value(definition, CommandFailed("x", atom="not_found"), legacy=True) is None
    resource, backend = make_resource("23.01")
    backend.answer("check_account", CommandFailed("gone", atom="not_found"))
    fault = call(resource, "check_account", ADMIN, {"user": "a", "host": "b"}).fault()
    assert "'{error,not_found}'" in fault.faultString


@pytest.mark.parametrize(
    ("failure", "printed"),
    [
        (CommandFailed("Room doesn't exists", thrown=True), '{error,"Room doesn\'t exists"}'),
        (
            CommandFailed("error_no_vcard_found", atom="error_no_vcard_found", thrown=True),
            "error_no_vcard_found",
        ),
        (
            CommandFailed("unknown_user", atom="not_found", thrown=True),
            '{not_found,"unknown_user"}',
        ),
    ],
)
@pytest.mark.parametrize("profile", ["24.12", "23.01"])
def test_thrown_failure_is_a_fault_printing_the_thrown_term(
    profile: str, failure: CommandFailed, printed: str
) -> None:
    """A failure ejabberd throws is a -118 fault naming the thrown term, rescode or not.

    24.12 answers a *returned* failure of a rescode command with ``res: 1``, but a
    thrown one never reaches that encoder: ejabberd_xmlrpc reports it as a fault.
    """
    resource, backend = make_resource(profile)
    backend.answer("destroy_room", failure)
    fault = call(resource, "destroy_room", ADMIN, {"name": "r", "service": "m"}).fault()
    assert fault.faultCode == -118
    assert fault.faultString == (
        f"Error -118\nA problem '{printed}' occurred executing the command destroy_room"
        ' with arguments\n[{name,<<"r">>},{service,<<"m">>}]'
    )


def test_restuple_status_23_01() -> None:
    """23.01: a restuple's status other than ok is ``res: 1``; ``error`` is a failure."""
    assert shaped("23.01", "status", ResTuple("t", "warning")) == Struct.of(
        ("res", 1), ("text", "t")
    )
    with pytest.raises(CommandFailed):
        shaped("23.01", "status", ResTuple("t", "error"))
    assert shaped("24.12", "status", ResTuple("t", "error")) == Struct.of(("text", "t"))


def test_rescode_values() -> None:
    """Rescode is 0 for True, ``ok`` and ``true``, and 1 for anything else."""
    for value, expected in [(True, 0), ("ok", 0), ("true", 0), (False, 1), ("error", 1)]:
        assert shaped("24.12", "check_account", value) == Struct.of(("res", expected))


def test_string_result_of_other_python_types() -> None:
    """String results that arrive as numbers or bytes are written as strings."""
    assert shaped("24.12", "get_loglevel", "info") == Struct.of(("levelatom", "info"))
    assert shaped("24.12", "registered_users", [1, b"b"]) == Struct.of(("users", ["1", "b"]))


def test_term_text_prints_its_erlang_term_in_2301() -> None:
    """A 23.01 srg_get_info value carrying an Erlang term shows its ``~p`` text.

    Captured from Debian's ejabberd 23.01 over XML-RPC: a group with an empty
    label and no displayed groups shows both as ``[]``.
    """
    value = [
        ("label", TermText("", "[]")),
        ("displayed_groups", TermText("", "[]")),
        ("description", "d"),
    ]
    assert shaped("23.01", "srg_get_info", value) == Struct.of(
        (
            "informations",
            [
                Struct.of(
                    ("information", [Struct.of(("key", "label")), Struct.of(("value", "[]"))])
                ),
                Struct.of(
                    (
                        "information",
                        [Struct.of(("key", "displayed_groups")), Struct.of(("value", "[]"))],
                    )
                ),
                Struct.of(
                    ("information", [Struct.of(("key", "description")), Struct.of(("value", "d"))])
                ),
            ],
        )
    )
