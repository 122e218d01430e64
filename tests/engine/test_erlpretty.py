"""Erlang's ``~p`` with its line breaks, checked against real ejabberd texts and a real ``erl``.

The pinned strings were captured from Debian's ejabberd 23.01 (Erlang/OTP 25)
XML-RPC faults.  The differential tests print Hypothesis-generated terms with
the installed ``erl`` (one batch per example) and compare byte for byte; they
are skipped where no ``erl`` is installed.
"""

from __future__ import annotations

import shutil
import struct
import subprocess
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from gateway.engine.erlpretty import (
    Atom,
    Charlist,
    erlang_float,
    format_p,
    io_format,
    io_format_latin1,
    print_latin1,
    write_atom,
)

A = Atom
PROBLEM = "A problem '~p' occurred executing the command ~p with arguments~n~p"


def test_unknown_call_breaks_like_ejabberd() -> None:
    """A -112 fault's ``{call,…}`` that does not fit breaks after the tag's line.

    Captured from ejabberd 23.01: registered_users called with two structs.
    """
    term = (
        A("call"),
        A("registered_users"),
        [(A("struct"), [(A("host"), "localhost")]), (A("struct"), [])],
    )
    assert io_format("Unknown call: ~p", term) == (
        "Unknown call: {call,registered_users,\n"
        '                    [{struct,[{host,<<"localhost">>}]},{struct,[]}]}'
    )


def test_problem_arguments_one_per_line() -> None:
    """The argument list of a -118 fault puts each pair on its own line when too long.

    Captured from ejabberd 23.01: check_password_hash with an unknown method.
    """
    args = [
        (A("user"), "grace"),
        (A("host"), "localhost"),
        (A("passwordhash"), "5BAA61E4C9B93F3F0682250B6CF8331B7EE68FD8"),
        (A("hashmethod"), "whirlpool"),
    ]
    assert io_format(PROBLEM, A("unkown_hash_method"), A("check_password_hash"), args) == (
        "A problem 'unkown_hash_method' occurred executing the command check_password_hash"
        " with arguments\n"
        '[{user,<<"grace">>},\n'
        ' {host,<<"localhost">>},\n'
        ' {passwordhash,<<"5BAA61E4C9B93F3F0682250B6CF8331B7EE68FD8">>},\n'
        ' {hashmethod,<<"whirlpool">>}]'
    )


def test_a_term_starts_where_the_text_before_it_ends() -> None:
    """A ``~p`` after a multi-line term starts at the column that term's last line ends."""
    long_reason = (A("error"), [A("a" * 30), A("b" * 30), A("c" * 30)])
    text = io_format("x '~p' y ~p", long_reason, [A("d" * 40), A("e" * 40)])
    # captured from OTP 25's io_lib:format with the same template and terms
    assert text == (
        "x '{error,[" + "a" * 30 + "," + "b" * 30 + ",\n"
        "           " + "c" * 30 + "]}' y [" + "d" * 40 + ",\n"
        "                                                " + "e" * 40 + "]"
    )


@pytest.mark.parametrize(
    ("term", "printed"),
    [
        ("", "<<>>"),
        (b"", "<<>>"),
        (Charlist(""), "[]"),
        ([104, 105], '"hi"'),
        ([104, 300], "[104,300]"),
        ("é", '<<"é">>'),
        ("€", "<<226,130,172>>"),
        (Charlist("é"), '"é"'),
        (Charlist("€"), "[8364]"),
        ((), "{}"),
        ({}, "#{}"),
        ({A("a"): 1}, "#{a => 1}"),
        (None, "null"),
        (True, "true"),
        (1.0e20, "1.0e20"),
        (A("maybe"), "maybe"),
        (A("when"), "'when'"),
        (A("Caps"), "'Caps'"),
        (A("a'b"), "'a\\'b'"),
        (A("ok@node_1"), "ok@node_1"),
        (A(""), "''"),
        (A("ÿx"), "ÿx"),
        (A("a\u0100"), "'a\\x{100}'"),
        (A("a\x01"), "'a\\001'"),
    ],
)
def test_leaves(term: Any, printed: str) -> None:
    """Atoms, binaries, strings and numbers print as OTP 25's ``io_lib:format("~p")`` does."""
    assert format_p(term) == printed


def test_unsupported_control_is_refused() -> None:
    """A template control other than ``~p``, ``~n`` and ``~~`` is a programming error."""
    with pytest.raises(ValueError, match="unsupported"):
        io_format("~s", "x")
    with pytest.raises(ValueError, match="too few"):
        io_format("~p ~p", 1)
    with pytest.raises(ValueError, match="too many"):
        io_format("~p", 1, 2)
    assert io_format("~~~p~n", 1) == "~1\n"


def test_write_atom_matches_the_float_and_atom_writers() -> None:
    """The helpers other modules share write what Erlang writes."""
    assert write_atom("error") == "error"
    assert write_atom("not_found") == "not_found"
    assert erlang_float(1000.0) == "1.0e3"
    assert erlang_float(100.0) == "100.0"


# -- the differential tests against a real erl -----------------------------------------------

ERL = shutil.which("erl")
needs_erl = pytest.mark.skipif(ERL is None, reason="no erl installed")


def _etf(term: Any) -> bytes:
    """``term_to_binary`` of the term this module's conventions give ``term``."""
    if term is None:
        return _etf_atom("null")
    if isinstance(term, bool):
        return _etf_atom("true" if term else "false")
    if isinstance(term, Atom):
        return _etf_atom(term)
    if isinstance(term, Charlist):
        raw = term.encode("utf-8")
        printable = all(32 <= b <= 126 or b >= 160 or b in b"\n\r\t\v\b\f\x1b" for b in raw)
        return _etf(list(raw) if printable else [ord(c) for c in term])
    if isinstance(term, str):
        return _etf(term.encode("utf-8"))
    if isinstance(term, bytes):
        return b"m" + struct.pack(">I", len(term)) + term
    if isinstance(term, int):
        if 0 <= term < 256:
            return b"a" + bytes([term])
        if -(2**31) <= term < 2**31:
            return b"b" + struct.pack(">i", term)
        magnitude = abs(term)
        digits = magnitude.to_bytes((magnitude.bit_length() + 7) // 8, "little")
        return b"n" + bytes([len(digits), term < 0]) + digits
    if isinstance(term, float):
        return b"F" + struct.pack(">d", term)
    if isinstance(term, list):
        if not term:
            return b"j"
        return b"l" + struct.pack(">I", len(term)) + b"".join(_etf(t) for t in term) + b"j"
    if isinstance(term, tuple):
        return b"h" + bytes([len(term)]) + b"".join(_etf(t) for t in term)
    if isinstance(term, dict):
        body = b"".join(_etf(k) + _etf(v) for k, v in term.items())
        return b"t" + struct.pack(">I", len(term)) + body
    raise TypeError(term)


def _etf_atom(name: str) -> bytes:
    raw = name.encode("utf-8")
    return b"v" + struct.pack(">H", len(raw)) + raw


_ERL_BATCH = (
    '{ok,B}=file:read_file("{inp}"),'
    "Out=[[binary:encode_hex(list_to_binary(io_lib:format(binary_to_list(T),As))),$\\n]"
    " || {{T,As}} <- binary_to_term(B)],"
    'ok=file:write_file("{out}",Out),halt().'
)


def _erl_format(cases: list[tuple[str, list[Any]]], tmp: Path) -> list[str]:
    """``io_lib:format`` of each ``(template, args)`` by the installed ``erl``, as Latin-1."""
    assert ERL is not None
    inp, out = tmp / "cases.etf", tmp / "printed.hex"
    batch = [(template.encode("ascii"), args) for template, args in cases]
    body = b"l" + struct.pack(">I", len(batch))
    body += b"".join(b"h\x02" + _etf(t) + _etf(list(a)) for t, a in batch) + b"j"
    inp.write_bytes(b"\x83" + body)
    script = _ERL_BATCH.replace("{inp}", str(inp)).replace("{out}", str(out))
    script = script.replace("{{", "{").replace("}}", "}")
    subprocess.run([ERL, "-noshell", "-eval", script], check=True, timeout=120, capture_output=True)
    return [bytes.fromhex(line).decode("latin-1") for line in out.read_text().splitlines()]


_NAMES = ["ok", "error", "struct", "call", "not_found", "A", "when", "maybe", "x y", "é", "ÿ", ""]
atoms = st.one_of(
    st.sampled_from(_NAMES),
    st.text(st.characters(max_codepoint=0x17F), max_size=12),
    st.text("abcdefghijklmnopqrstuvwxyz_", min_size=1, max_size=40),
).map(Atom)
leaves = st.one_of(
    atoms,
    st.booleans(),
    st.none(),
    st.integers(),
    st.integers(min_value=-(2**80), max_value=2**80),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=30),
    st.text("abcdefghij \"\\'\n\t", max_size=60),
    st.binary(max_size=40),
    st.text(max_size=20).map(Charlist),
    st.lists(st.integers(0, 300), max_size=12),
    st.sampled_from(["", b"", [], (), {}]),
)


def _map_key(key: Any) -> tuple[int, Any]:
    return (0, key) if isinstance(key, int) else (1, str(key))


def _erlang_ordered(pairs: dict[Any, Any]) -> dict[Any, Any]:
    """A small map's keys in Erlang's term order (numbers before atoms), as ``~p`` shows them."""
    return dict(sorted(pairs.items(), key=lambda kv: _map_key(kv[0])))


map_keys = st.one_of(st.integers(-50, 50), st.text("abcdefgh", min_size=1, max_size=8).map(Atom))
terms: st.SearchStrategy[Any] = st.recursive(
    leaves,
    lambda children: st.one_of(
        st.lists(children, min_size=1, max_size=8),
        st.lists(children, min_size=1, max_size=8).map(tuple),
        st.tuples(atoms, st.lists(children, min_size=1, max_size=6)).map(lambda p: (p[0], *p[1])),
        st.dictionaries(map_keys, children, min_size=1, max_size=5).map(_erlang_ordered),
    ),
    max_leaves=40,
)


def _draw(strategy: st.SearchStrategy[Any], count: int) -> list[Any]:
    """``count`` values Hypothesis generates from ``strategy``, to print in one ``erl`` batch.

    Starting ``erl`` takes about a second, so the examples are collected first
    and checked together; a mismatch is reported with the shortest failing term.
    """
    drawn: list[Any] = []

    @settings(
        max_examples=count,
        database=None,
        deadline=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy)
    def collect(value: Any) -> None:
        drawn.append(value)

    collect()
    return drawn


def _first_mismatch(found: list[tuple[Any, str, str]]) -> tuple[Any, str, str] | None:
    """The mismatch with the shortest input, as ``(input, ours, erl's)``."""
    return min(found, key=lambda item: len(repr(item[0])), default=None)


@needs_erl
def test_p_matches_erl_at_any_column(tmp_path: Path) -> None:
    """``~p`` of generated terms at any column equals the installed ``erl``'s, byte for byte.

    Each term is printed after ``C-1`` dots by ``io_lib:format``, as a fault
    string's text before a ``~p`` puts it at column ``C``.
    """
    cases = _draw(st.tuples(st.integers(1, 90), terms), 600)
    batch = [("." * (column - 1) + "~p", [term]) for column, term in cases]
    expected = _erl_format(batch, tmp_path)
    found = [
        ((column, term), ours, theirs)
        for (column, term), theirs in zip(cases, expected, strict=True)
        if (ours := "." * (column - 1) + print_latin1(term, column)) != theirs
    ]
    assert _first_mismatch(found) is None, f"{len(found)} of {len(cases)} differ"


def _with_args(template: str) -> st.SearchStrategy[tuple[str, list[Any]]]:
    count = template.replace("~~", "").count("~p")
    return st.tuples(st.just(template), st.lists(terms, min_size=count, max_size=count))


templates = st.lists(
    st.one_of(st.just("~p"), st.just("~n"), st.just("~~"), st.text("ab '\t:", max_size=20)),
    max_size=8,
).map("".join)


@needs_erl
def test_io_format_matches_erl(tmp_path: Path) -> None:
    """Several ``~p`` in one template start where the text before them leaves off.

    Generated templates mix text, tabs, ``~n``, ``~~`` and ``~p``; each is
    formatted by ``io_lib:format`` in the installed ``erl`` and compared.
    """
    cases = _draw(templates.flatmap(_with_args), 300)
    expected = _erl_format(cases, tmp_path)
    found = [
        ((template, args), ours, theirs)
        for (template, args), theirs in zip(cases, expected, strict=True)
        if (ours := io_format_latin1(template, *args)) != theirs
    ]
    assert _first_mismatch(found) is None, f"{len(found)} of {len(cases)} differ"
