"""``help COMMAND`` through the ctl processor, checked against ejabberd's own tables.

The expected Arguments/Returns blocks are rendered here, straight from the
reference JSON tables, by a renderer written independently of
:mod:`gateway.frontends.ctl.text`; that renderer is itself checked against
the help text a real ejabberd 23.01 printed.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

import pytest
from twisted.internet.defer import Deferred, succeed

from gateway.backends.interfaces import TokenGrant
from gateway.engine.auth import Authenticator
from gateway.engine.catalogue import Catalogue
from gateway.engine.model import Caller
from gateway.frontends.ctl.process import CtlProcessor
from tests.engine.helpers import make_engine
from tests.paths import DATA

# -- an engine with nothing behind it (help never executes anything) ----------


class _NoBackend:
    name = "none"

    def supports(self, command: str) -> bool:
        return False

    def execute(self, command: str, args: Mapping[str, Any], caller: Caller) -> Deferred[Any]:
        raise AssertionError("help must not execute commands")

    def check_password(self, user: str, host: str, password: str) -> Deferred[bool]:
        return succeed(False)

    def check_token(self, token: str) -> Deferred[TokenGrant | None]:
        return succeed(None)


def _processor(profile: str) -> CtlProcessor:
    backend = _NoBackend()
    engine = make_engine(backend, profile=profile, authenticator=Authenticator(backend))
    return CtlProcessor(engine)


def _run(processor: CtlProcessor, argv: list[str]) -> tuple[str, int]:
    results: list[tuple[str, int]] = []
    processor.process(argv).addCallback(results.append)
    assert results, "the processor should answer synchronously here"
    return results[0]


# -- the independent renderer -------------------------------------------------


def _lines(name: str, raw: Any) -> list[str]:
    """``name::type`` as lines, each continuation relative to column 0 of the first."""
    head = f"{name}::"
    if isinstance(raw, str):
        return [head + raw]
    if "list" in raw:
        elem_name, elem_type = raw["list"]
        inner = _lines(elem_name, elem_type)
        pad = " " * (len(head) + 2)
        out = [head + "[ " + inner[0]] + [pad + line for line in inner[1:]]
        out[-1] += " ]"
        return out
    pad = " " * (len(head) + 2)
    out = []
    fields = raw["tuple"]
    for index, (field_name, field_type) in enumerate(fields):
        block = _lines(field_name, field_type)
        if index < len(fields) - 1:
            block[-1] += ","
        out += block
    out = [head + "{ " + out[0]] + [pad + line for line in out[1:]]
    out[-1] += " }"
    return out


def expected_arguments(args: list[Any]) -> list[str]:
    if not args:
        return ["  Arguments: ", ""]
    margin = " " * len("  Arguments: ")
    lines: list[str] = []
    for index, (name, raw) in enumerate(args):
        block = _lines(name, raw)
        prefix = "  Arguments: " if index == 0 else margin
        lines += [prefix + block[0]] + [margin + line for line in block[1:]]
    return lines + [margin]


def expected_returns(result: Any) -> list[str]:
    name, raw = result
    block = _lines(name, raw)
    margin = " " * len("  Returns: ")
    return ["  Returns: " + block[0]] + [margin + line for line in block[1:]]


# -- reading help texts -------------------------------------------------------


def blocks(help_text: str) -> tuple[list[str], list[str]]:
    """The Arguments and Returns blocks of one help text, as lines."""
    lines = help_text.split("\n")
    start = next(i for i, line in enumerate(lines) if line.startswith("  Arguments:"))
    returns = next(i for i, line in enumerate(lines) if line.startswith("  Returns:"))
    end = lines.index("", returns)
    return lines[start:returns], lines[returns:end]


def reference_help() -> dict[str, str]:
    text = (DATA / "ejabberd-23.01-ctl-help.txt").read_text("utf-8")
    parts = re.split(r"^=============== (\S+)\n", text, flags=re.M)
    return dict(zip(parts[1::2], parts[2::2], strict=True))


def table(name: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = json.loads((DATA / name).read_text("utf-8"))
    return rows


ROWS_2412 = table("ejabberd-24.12-commands.json")
REFERENCE = reference_help()


# -- tests --------------------------------------------------------------------


def test_renderer_matches_ejabberd_2301() -> None:
    """The test's own renderer reproduces ejabberd 23.01's help blocks from its table."""
    rows = {row["name"]: row for row in table("ejabberd-23.01-commands.json")}
    assert len(REFERENCE) > 150
    for name, text in REFERENCE.items():
        args, returns = blocks(text)
        assert expected_arguments(rows[name]["args"]) == args, name
        assert expected_returns(rows[name]["result"]) == returns, name


@pytest.mark.parametrize(
    "row", ROWS_2412, ids=[f"{row['name']}-v{row['version']}" for row in ROWS_2412]
)
def test_help_shows_every_2412_definition(row: dict[str, Any]) -> None:
    """``--version N help CMD`` shows exactly that definition's arguments, result and tags."""
    output, status = _run(
        _processor("24.12"), ["--version", str(row["version"]), "help", row["name"]]
    )
    assert status == 0
    assert output.startswith(f"  Command Name: {row['name']}\n")
    args, returns = blocks(output)
    assert args == expected_arguments(row["args"])
    assert returns == expected_returns(row["result"])
    assert f"\n  Tags: {' '.join(row['tags_registered'])}\n" in output


def test_every_2412_definition_is_covered() -> None:
    """The table walked above holds every definition: all names and all their versions."""
    pairs = {(row["name"], row["version"]) for row in ROWS_2412}
    catalogue = Catalogue.load("24.12")
    assert pairs == {(d.name, d.version) for d in catalogue}
    assert len(pairs) == len(ROWS_2412) == 221


@pytest.mark.parametrize("name", sorted(REFERENCE))
def test_help_blocks_match_ejabberd_2301(name: str) -> None:
    """In the 23.01 profile, ``help CMD`` prints ejabberd 23.01's Arguments/Returns blocks."""
    output, status = _run(_processor("23.01"), ["help", name])
    assert status == 0
    assert blocks(output) == blocks(REFERENCE[name])
    args_start = output.index("  Arguments:")
    end = output.index("\n\n", output.index("  Returns:"))
    reference = REFERENCE[name]
    ref_start = reference.index("  Arguments:")
    ref_end = reference.index("\n\n", reference.index("  Returns:"))
    assert output[args_start:end] == reference[ref_start:ref_end]


def test_help_layout() -> None:
    """Help follows ejabberdctl's layout: name, arguments, returns, tags, module, description."""
    output, status = _run(_processor("23.01"), ["help", "registered-users"])
    assert status == 0
    description = Catalogue.load("23.01").lookup("registered_users").description
    assert description
    assert output == (
        "  Command Name: registered_users\n"
        "\n"
        "  Arguments: host::binary\n"
        "             \n"
        "  Returns: users::[ username::string ]\n"
        "\n"
        "  Tags: accounts\n"
        "\n"
        "  Module: ejabberd_admin\n"
        "\n"
        f"  Description: {description}"
    )
