"""ejabberd 23.01 and the gateway's 23.01 profile answer the same calls the same way.

The same sequence of calls (tests/compat/calls.py) goes to a real ejabberd 23.01 and to the
gateway, once over ``/api`` and once over XML-RPC; the answers are compared after
normalising what differs from run to run.  Every difference left must be listed, with its
reason, in docs/compatibility.md; a listed difference that no longer occurs fails too, so the
document stays true.  Set ``COMPAT_REPORT=<path>`` to write every difference of a run (listed
or not) to ``<path>.api.txt`` and ``<path>.xmlrpc.txt`` (and as data, to ``.json``).
"""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path

import pytest

from tests.compat.calls import DIALECTS, steps
from tests.compat.compare import documented, report, run_sequence
from tests.compat.conftest import Pair

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "compatibility.md"
CATALOGUE_2301 = ROOT / "gateway" / "catalogue" / "ejabberd-23.01.json"
MIN_CALLS = 200


def _embedded_2301_commands() -> set[str]:
    from gateway.backends.embedded.backend import HANDLERS

    legacy = {entry["name"] for entry in json.loads(CATALOGUE_2301.read_text())}
    return set(HANDLERS) & legacy


def test_sequence_covers_every_embedded_command(tmp_path: Path) -> None:
    """Every command that the embedded backend runs and 23.01 has is called in both dialects;
    each dialect makes at least MIN_CALLS calls, each under a name of its own."""
    sequence = steps(tmp_path)
    for dialect in DIALECTS:
        mine = [step for step in sequence if step.only in (None, dialect)]
        assert len(mine) >= MIN_CALLS, f"{dialect}: only {len(mine)} calls"
        ids = [step.id(dialect) for step in mine]
        assert len(ids) == len(set(ids)), sorted({i for i in ids if ids.count(i) > 1})
        missing = _embedded_2301_commands() - {step.command for step in mine}
        assert not missing, f"{dialect}: never called: {sorted(missing)}"


def test_documented_ids_name_calls_of_the_sequence(tmp_path: Path) -> None:
    """Every id in docs/compatibility.md names a call of the sequence (no typos, no leftovers)."""
    known = {step.id(d) for step in steps(tmp_path) for d in DIALECTS if step.only in (None, d)}
    listed = documented(DOC)
    strangers = {ident: line for ident, line in listed.items() if ident not in known}
    assert not strangers, f"docs/compatibility.md lists calls the suite never makes: {strangers}"


def test_differences_are_the_documented_ones(pair: Pair) -> None:
    """The normalised answers of ejabberd 23.01 and the gateway differ exactly where
    docs/compatibility.md says they do, for every call of the sequence in the pair's dialect."""
    dialect = pair.dialect
    differences, calls = run_sequence(steps(pair.files), dialect, pair.ejabberd, pair.gateway)
    assert calls >= MIN_CALLS
    if os.environ.get("COMPAT_REPORT"):
        path = Path(os.environ["COMPAT_REPORT"]).with_suffix(f".{dialect}.txt")
        path.write_text(
            f"{len(differences)} differences in {calls} calls\n\n{report(differences)}\n"
        )
        path.with_suffix(".json").write_text(
            json.dumps([dataclasses.asdict(d) for d in differences], indent=1, default=str)
        )
    listed = {ident for ident in documented(DOC) if ident.split(" ", 1)[0] == dialect}
    found = {difference.id for difference in differences}
    undocumented = [d for d in differences if d.id not in listed]
    gone = sorted(listed - found)
    problems = []
    if undocumented:
        problems.append(
            f"{len(undocumented)} of {calls} {dialect} calls answer differently from ejabberd "
            f"23.01 and are not in docs/compatibility.md:\n\n{report(undocumented)}"
        )
    if gone:
        problems.append(
            "listed in docs/compatibility.md but answered like ejabberd now (remove them):\n  "
            + "\n  ".join(gone)
        )
    if problems:
        pytest.fail("\n\n".join(problems), pytrace=False)
