"""Reading argument structs: names, renames, and list/tuple shapes per release (§1)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from gateway.engine.catalogue import Catalogue
from gateway.engine.coercion import coerce_args
from gateway.engine.dispatch import with_policy_args
from gateway.engine.errors import ArgumentError
from gateway.frontends.xmlrpc.arguments import OPTIONS, ArgumentStruct, rename_like_ejabberd
from gateway.frontends.xmlrpc.faults import Fault
from gateway.frontends.xmlrpc.values import Struct, Value
from tests.frontends.xmlrpc.helpers import (
    ADMIN,
    call,
    i,
    make_resource,
    raw_call,
    s,
    shape_catalogue,
    struct_xml,
)


def typed(profile: str, command: str, struct: Struct, catalogue: Catalogue | None = None) -> Any:
    """The struct read and coerced as the engine does it for XML-RPC; a Fault when refused."""
    catalogue = catalogue or Catalogue.load(profile)
    definition = with_policy_args(catalogue.newest(command))
    arguments = ArgumentStruct(struct, legacy=profile == "23.01")
    try:
        return coerce_args(definition, arguments.pairs(definition), OPTIONS)
    except ArgumentError as e:
        raise arguments.fault(e) from None


def fault_of(profile: str, command: str, struct: Struct, catalogue: Catalogue | None = None) -> str:
    with pytest.raises(Fault) as caught:
        typed(profile, command, struct, catalogue)
    return f"{caught.value.code} {caught.value.message}"


# ------------------------------------------------------------------ renames


def test_rename_moves_the_first_match_to_the_front() -> None:
    """``args_rename`` renames only the first old-named member and moves it first."""
    members: list[tuple[str, Value]] = [("a", 1), ("server", "x"), ("server", "y")]
    assert rename_like_ejabberd(members, [("server", "host")]) == [
        ("host", "x"),
        ("a", 1),
        ("server", "y"),
    ]


def test_renamed_argument_is_accepted() -> None:
    """``get_roster {user, server}`` reads ``server`` as the renamed ``host``."""
    struct = Struct.of(("user", "alice"), ("server", "localhost"))
    assert typed("24.12", "get_roster", struct) == {"user": "alice", "host": "localhost"}


def test_second_old_name_is_left_over() -> None:
    """A second ``server`` keeps its name and is reported as unused (-120)."""
    struct = Struct.of(("user", "a"), ("server", "h1"), ("server", "h2"))
    assert fault_of("24.12", "get_roster", struct) == (
        '-120 The call provided additional unused arguments:\n[{server,<<"h2">>}]'
    )


def test_new_and_old_name_together_are_duplicates() -> None:
    """``host`` and ``server`` together are a duplicate ``host`` (-114), renamed one first."""
    struct = Struct.of(("user", "a"), ("host", "h1"), ("server", "h2"))
    assert fault_of("24.12", "get_roster", struct) == (
        '-114 Attribute \'host\' duplicated:\n[{host,<<"h2">>},{host,<<"h1">>}]'
    )


# ------------------------------------------------------------------ scalars


@pytest.mark.parametrize("profile", ["24.12", "23.01"])
@pytest.mark.parametrize(
    ("value", "printed"),
    [
        (5, "5"),
        (True, "true"),
        (None, "nil"),
        (Struct(), "{struct,[]}"),
        (["x"], '{array,[<<"x">>]}'),
    ],
)
def test_text_arguments_need_strings(profile: str, value: Any, printed: str) -> None:
    """§1: a binary argument takes only strings; anything else is -122 naming the value."""
    assert fault_of(profile, "registered_users", Struct.of(("host", value))) == (
        f"-122 Parameter '{printed}' can't be coerced to type 'binary'"
    )


@pytest.mark.parametrize("value", [2.0, True, "5"])
def test_integer_arguments_need_ints(value: Any) -> None:
    """§1: an integer argument takes only ``<int>``/``<i4>``."""
    assert fault_of("24.12", "delete_old_users", Struct.of(("days", value))).startswith("-122 ")


def test_integers_out_of_range_are_fault_122() -> None:
    """An ``<int>`` too large for the argument is fault -122 naming it and its bounds (issue 8)."""
    struct = Struct.of(("user", "a"), ("host", "h"), ("timestamp", 10**17), ("status", ""))
    assert fault_of("24.12", "set_last", struct) == (
        "-122 Argument 'timestamp' must be an integer from 0 to 253402300799 "
        "(seconds since 1970-01-01, at most 9999-12-31T23:59:59Z)"
    )
    assert fault_of("24.12", "delete_old_users", Struct.of(("days", 2**64))).startswith(
        "-122 Argument 'days' must be an integer from -9223372036854775808"
    )


def test_errors_follow_declared_order() -> None:
    """A type error in the first argument is reported before a missing later one."""
    struct = Struct.of(("user", 1))
    assert fault_of("24.12", "check_account", struct) == (
        "-122 Parameter '1' can't be coerced to type 'binary'"
    )


def test_missing_lists_unconsumed_members() -> None:
    """-116 shows the members still unconsumed when the argument was looked for."""
    struct = Struct.of(("user", "a"), ("extra", 1))
    assert fault_of("24.12", "check_account", struct) == (
        "-116 Required attribute 'host' not found:\n[{extra,1}]"
    )


# ------------------------------------------------------------------ lists


def test_list_24_12_plain_values() -> None:
    """24.12: a list argument is an array of plain values."""
    struct = Struct.of(
        ("user", "u"), ("host", "h"), ("name", "n"), ("subname", "s"), ("contents", ["a", "b"])
    )
    assert typed("24.12", "set_vcard2_multi", struct)["contents"] == ["a", "b"]


def test_list_24_12_refuses_one_member_structs() -> None:
    """24.12: ``[{group: x}]`` elements are -122 (they are 23.01's shape)."""
    struct = Struct.of(("groups", [Struct.of(("group", "a"))]), ("days", 1))
    assert fault_of("24.12", "take_groups", struct, shape_catalogue("24.12")) == (
        "-122 Parameter '{struct,[{group,<<\"a\">>}]}' can't be coerced to type 'binary'"
    )


def test_list_23_01_one_member_structs() -> None:
    """23.01: a list argument is an array of one-member structs named after the element."""
    struct = Struct.of(
        ("groups", [Struct.of(("group", "a")), Struct.of(("group", "b"))]), ("days", 1)
    )
    assert typed("23.01", "take_groups", struct, shape_catalogue("23.01")) == {
        "groups": ["a", "b"],
        "days": 1,
    }


@pytest.mark.parametrize(
    "element",
    [Struct.of(("other", "a")), Struct.of(("group", "a"), ("group", "b")), "a"],
    ids=["wrong name", "two members", "plain value"],
)
def test_list_23_01_other_shapes_are_faults(element: Any) -> None:
    """23.01: any other element is -122 for the list type (ejabberd drops the connection).

    The type term may break over lines as ``~p`` breaks it past 80 columns; read flat,
    it names the list type.
    """
    struct = Struct.of(("groups", [element]), ("days", 1))
    message = fault_of("23.01", "take_groups", struct, shape_catalogue("23.01"))
    flat = re.sub(r"\n *", "", message)
    assert flat.startswith("-122 Parameter '{array,[")
    assert flat.endswith("can't be coerced to type '{list,{group,binary}}'")


def test_list_23_01_inner_type_error_names_the_element() -> None:
    """23.01: a well-shaped element of the wrong type names the element value and type."""
    struct = Struct.of(("groups", [Struct.of(("group", 7))]), ("days", 1))
    assert fault_of("23.01", "take_groups", struct, shape_catalogue("23.01")) == (
        "-122 Parameter '7' can't be coerced to type 'binary'"
    )


def test_list_is_not_optional() -> None:
    """§1: a missing list argument is -116 (the HTTP API would default it to ``[]``)."""
    assert fault_of("24.12", "take_groups", Struct.of(("days", 1)), shape_catalogue("24.12")) == (
        "-116 Required attribute 'groups' not found:\n[{days,1}]"
    )


def test_list_needs_an_array() -> None:
    """A scalar for a list argument is -122 naming the list type."""
    struct = Struct.of(("groups", "a;b"), ("days", 1))
    assert fault_of("24.12", "take_groups", struct, shape_catalogue("24.12")) == (
        "-122 Parameter '<<\"a;b\">>' can't be coerced to type '{list,{group,binary}}'"
    )


# ------------------------------------------------------------------ tuples

POINT = {"x": 1, "label": "p"}


@pytest.mark.parametrize(
    "value",
    [
        Struct.of(("label", "p"), ("x", 1)),
        [Struct.of(("x", 1), ("label", "p"))],
        [Struct.of(("x", 1)), Struct.of(("label", "p"))],
    ],
    ids=["struct any order", "array of one struct", "array of one-member structs"],
)
def test_tuple_24_12_shapes(value: Any) -> None:
    """24.12: a tuple is a struct of its fields, or the 23.10 array form."""
    struct = Struct.of(("point", value))
    assert typed("24.12", "take_point", struct, shape_catalogue("24.12")) == {"point": (1, "p")}


@pytest.mark.parametrize(
    "value",
    [[Struct.of(("x", 1), ("label", "p"))], [Struct.of(("x", 1)), Struct.of(("label", "p"))]],
    ids=["array of one struct", "array of one-member structs"],
)
def test_tuple_23_01_shapes(value: Any) -> None:
    """23.01: a tuple is an array holding its fields."""
    struct = Struct.of(("point", value))
    assert typed("23.01", "take_point", struct, shape_catalogue("23.01")) == {"point": (1, "p")}


def test_tuple_23_01_refuses_a_bare_struct() -> None:
    """23.01: a bare struct for a tuple is -122.

    The type term starts past column 70, so ``~p`` breaks it as Erlang/OTP 25's
    io_lib:format does (checked against it).
    """
    struct = Struct.of(("point", Struct.of(("x", 1), ("label", "p"))))
    indent = " " * 72
    assert fault_of("23.01", "take_point", struct, shape_catalogue("23.01")) == (
        "-122 Parameter '{struct,[{x,1},{label,<<\"p\">>}]}' can't be coerced to type "
        f"'{{tuple,\n{indent}[{{x,\n{indent}  integer}},\n{indent} {{label,\n{indent}  binary}}]}}'"
    )


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        (
            (("x", 1),),
            "-116 Required attribute 'label' not found:\n[]",
        ),
        (
            (("x", 1), ("x", 2), ("label", "p")),
            "-114 Attribute 'x' duplicated:\n[{x,1},{x,2},{label,<<\"p\">>}]",
        ),
        (
            (("x", 1), ("label", "p"), ("z", 0)),
            "-120 The call provided additional unused arguments:\n[{z,0}]",
        ),
        (
            (("x", "1"), ("label", "p")),
            "-122 Parameter '<<\"1\">>' can't be coerced to type 'integer'",
        ),
    ],
    ids=["missing", "duplicate", "unused", "type"],
)
def test_tuple_field_errors(fields: tuple[tuple[str, Any], ...], expected: str) -> None:
    """Tuple fields are matched like arguments: faults name the field."""
    struct = Struct.of(("point", Struct(fields)))
    assert fault_of("24.12", "take_point", struct, shape_catalogue("24.12")) == expected


def test_list_of_tuples_both_profiles() -> None:
    """A list of tuples: 24.12 an array of structs, 23.01 ``[{point: [{…}]}]``."""
    modern = Struct.of(("points", [Struct.of(("x", 1), ("label", "a"))]))
    legacy = Struct.of(("points", [Struct.of(("point", [Struct.of(("x", 1), ("label", "a"))]))]))
    assert typed("24.12", "take_points", modern, shape_catalogue("24.12")) == {"points": [(1, "a")]}
    assert typed("23.01", "take_points", legacy, shape_catalogue("23.01")) == {"points": [(1, "a")]}


def test_list_of_tuples_through_a_real_command() -> None:
    """24.12 ``create_room_with_opts`` reads ``options`` as a list of ``{name, value}`` structs."""
    resource, backend = make_resource("24.12")
    args = {
        "room": "r",
        "service": "conference.localhost",
        "host": "localhost",
        "options": [{"name": "persistent", "value": "true"}],
    }
    assert call(resource, "create_room_with_opts", ADMIN, args).loads() == {"res": 0}
    assert backend.calls[0][1]["options"] == [("persistent", "true")]


def test_arguments_reach_the_backend_23_01() -> None:
    """23.01: one-member-struct list arguments reach the backend as a plain list."""
    resource, backend = make_resource("23.01")
    contents = struct_xml(("value", s("a")))
    reply = raw_call(
        resource,
        "set_vcard2_multi",
        struct_xml(*[(k, s(v)) for k, v in ADMIN.items()]),
        struct_xml(
            ("user", s("alice")),
            ("host", s("localhost")),
            ("name", s("TEL")),
            ("subname", s("NUMBER")),
            ("contents", f"<value><array><data>{contents}</data></array></value>"),
        ),
    )
    assert reply.loads() == {"res": 0}
    assert backend.calls[0][1]["contents"] == ["a"]


def test_integer_argument_reaches_the_backend() -> None:
    """An ``<i4>`` integer argument reaches the backend as an int."""
    resource, backend = make_resource("24.12")
    reply = raw_call(
        resource,
        "delete_old_users",
        struct_xml(*[(k, s(v)) for k, v in ADMIN.items()]),
        struct_xml(("days", i(30))),
    )
    assert reply.loads() == {"text": "Deleted 0 users: []"}
    assert backend.calls[0][1] == {"days": 30}
