"""The documentation commands write their files from the catalogue (gateway.engine.docgen)."""

from __future__ import annotations

import re
import shutil
import stat
import subprocess
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from twisted.internet.defer import Deferred

from gateway.engine.adapters import standard_adapters
from gateway.engine.catalogue import Catalogue
from gateway.engine.dispatch import Engine
from gateway.engine.docgen import DocumentationCommands
from gateway.engine.errors import CommandError, CommandFailed, PathRefused
from gateway.engine.files import FilesDir
from gateway.engine.model import Caller, CommandCall, ResTuple
from gateway.testing import FakeBackend
from tests.engine.helpers import AllowAll

CALLER = Caller(frontend="ejabberd_ctl")
#: 2024-12-19T00:00:00Z, the day the manual page is dated
DAY = 1734566400.0
CATALOGUE = Catalogue.load("24.12")


@pytest.fixture
def files(tmp_path: Path) -> Path:
    directory = tmp_path / "files"
    directory.mkdir(mode=0o700)
    return directory


def commands(files: Path, **kwargs: Any) -> DocumentationCommands:
    return DocumentationCommands(CATALOGUE, FilesDir(str(files)), lambda: DAY, **kwargs)


def run(executor: DocumentationCommands, command: str, **args: Any) -> Any:
    """The value of a command (which completes at once with the inline offload)."""
    results: list[Any] = []
    d: Deferred[Any] = executor.execute(command, args, CALLER)
    d.addBoth(results.append)
    assert results, f"{command} did not complete"
    if hasattr(results[0], "raiseException"):
        results[0].raiseException()
    return results[0]


def error_of(executor: DocumentationCommands, command: str, **args: Any) -> CommandError:
    with pytest.raises(CommandError) as info:
        run(executor, command, **args)
    return info.value


def sections(markdown: str, level: str = "##") -> dict[str, str]:
    """The text under each heading of ``level``, by heading."""
    parts = re.split(rf"^{level} (.+)$", markdown, flags=re.M)
    return dict(zip(parts[1::2], parts[2::2], strict=True))


# -- gen_markdown_doc_for_commands ---------------------------------------------------------------


def test_markdown_has_a_section_per_command(files: Path) -> None:
    """Every public command gets a ``##`` section with description, tags, arguments and result.

    The file is new and owner-only (0600); internal commands are left out.
    """
    executor = commands(files)
    assert run(executor, "gen_markdown_doc_for_commands", file="api.md", regexp="", examples="")
    path = files / "api.md"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    text = path.read_text("utf-8")
    assert text.startswith("# xmpp-api-gateway commands (API profile 24.12)\n")
    found = sections(text)
    assert sorted(found) == list(CATALOGUE.names())
    register = found["register"]
    assert CATALOGUE.newest("register").description in register
    assert "- **Tags:** accounts" in register
    assert "- `user :: binary`\n- `host :: binary`\n- `password :: binary`" in register
    assert "- `res :: restuple`" in register
    assert "### Examples" not in register


def test_markdown_shows_versions_and_policy_arguments(files: Path) -> None:
    """A command with several versions lists them and shows the earlier signatures that differ.

    ``add_rosteritem`` took one ``group`` before version 1's ``groups`` list;
    ``policy: user`` commands (``get_roster``) show ``user`` and ``host`` first.
    """
    executor = commands(files)
    run(executor, "gen_markdown_doc_for_commands", file="r.md", regexp="roster", examples="")
    found = sections((files / "r.md").read_text("utf-8"))
    rosteritem = found["add_rosteritem"]
    assert "- **Versions:** 0, 1 (this section shows version 1)" in rosteritem
    newest, version0 = rosteritem.split("### Version 0")
    assert "`groups :: [group::binary]`" in newest
    assert "`group :: binary`" in version0 and "groups" not in version0
    assert "- `user :: binary`\n- `host :: binary`" in found["get_roster"]


def test_markdown_regexp_matches_names_and_modules(files: Path) -> None:
    """``regexp`` is searched in names and modules; ``runtime`` takes what the gateway runs."""
    executor = commands(files, runs=lambda name: name in ("status", "register"))
    run(executor, "gen_markdown_doc_for_commands", file="a.md", regexp="^check_pass", examples="")
    assert sorted(sections((files / "a.md").read_text())) == [
        "check_password",
        "check_password_hash",
    ]
    run(executor, "gen_markdown_doc_for_commands", file="b.md", regexp="^ejabberd_sm$", examples="")
    names = sorted(sections((files / "b.md").read_text()))
    definitions = [CATALOGUE.newest(n) for n in CATALOGUE.names()]
    assert names == [d.name for d in definitions if "ejabberd_sm" in (d.module, d.definer)]
    assert "kick_user" in names and "register" not in names
    run(executor, "gen_markdown_doc_for_commands", file="c.md", regexp="runtime", examples="")
    assert sorted(sections((files / "c.md").read_text())) == ["register", "status"]


def test_markdown_examples(files: Path) -> None:
    """``examples`` adds example calls in each language named, in a fixed order."""
    executor = commands(files)
    run(
        executor,
        "gen_markdown_doc_for_commands",
        file="ex.md",
        regexp="^register$",
        examples="ctl, json,xmlrpc,java,perl",
    )
    register = sections((files / "ex.md").read_text())["register"]
    titles = re.findall(r"^(.+):\n\n```", register, flags=re.M)
    assert titles == [
        "JSON /api",
        "XML-RPC",
        "Java (Apache XML-RPC)",
        "Perl (RPC::XML)",
        "gatewayctl",
    ]
    assert 'POST http://127.0.0.1:5280/api/register\n{\n  "user": "alice",' in register
    assert 'HTTP/1.1 200 OK\n"Success"\n' in register
    assert "<methodName>register</methodName>" in register
    assert 'client.execute("register",' in register
    assert "$client->send_request('register'," in register
    assert "gatewayctl register alice localhost secret" in register


def test_markdown_escapes_descriptions(files: Path) -> None:
    """Markup characters in a description are escaped, so the text reads as written."""
    from gateway.engine.docgen.markdown import escape_markdown

    assert escape_markdown("a_b *c* <d> [e]") == r"a\_b \*c\* \<d\> \[e\]"
    assert escape_markdown("# not a heading\n1. not a list") == "\\# not a heading\n1\\. not a list"


def test_bad_arguments_write_nothing(files: Path) -> None:
    """An unknown example language, a bad regexp or one matching nothing fail; no file appears."""
    executor = commands(files)
    cases = [
        {"regexp": "", "examples": "json,cobol"},
        {"regexp": "(", "examples": ""},
        {"regexp": "^no_such_command$", "examples": ""},
    ]
    messages = []
    for args in cases:
        error = error_of(executor, "gen_markdown_doc_for_commands", file="x.md", **args)
        assert isinstance(error, CommandFailed)
        messages.append(error.message)
    assert "cobol" in messages[0] and "json, xmlrpc, java, perl, ctl" in messages[0]
    assert messages[1].startswith("Invalid regexp '('")
    assert messages[2] == "No command matches '^no_such_command$'; nothing was written"
    assert list(files.iterdir()) == []


# -- files ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("command", "args"),
    [
        ("gen_markdown_doc_for_commands", {"regexp": "", "examples": ""}),
        ("gen_html_doc_for_commands", {"regexp": "", "examples": ""}),
        ("gen_markdown_doc_for_tags", {}),
    ],
)
def test_paths_outside_are_refused(files: Path, tmp_path: Path, command: str, args: Any) -> None:
    """A path outside the files directory (absolute or through ``..``) is refused, unwritten."""
    executor = commands(files)
    for path in (str(tmp_path / "out.txt"), "../out.txt", "/etc/passwd"):
        error = error_of(executor, command, file=path, **args)
        assert isinstance(error, PathRefused)
    assert not (tmp_path / "out.txt").exists()
    assert list(files.iterdir()) == []


def test_existing_files_are_kept(files: Path) -> None:
    """A document is never written over an existing file; the file keeps its content."""
    (files / "api.md").write_text("mine")
    error = error_of(
        commands(files), "gen_markdown_doc_for_commands", file="api.md", regexp="", examples=""
    )
    assert isinstance(error, CommandFailed) and "already exists" in error.message
    assert (files / "api.md").read_text() == "mine"


# -- gen_html_doc_for_commands -------------------------------------------------------------------


class Outline(HTMLParser):
    """The ids of the sections, the h2 texts and every text of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.ids: list[str] = []
        self.h2: list[str] = []
        self.text: list[str] = []
        self.tags: set[str] = set()
        self._in_h2 = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        self._in_h2 = tag == "h2"
        self.ids += [value or "" for name, value in attrs if name == "id"]

    def handle_endtag(self, tag: str) -> None:
        self._in_h2 = False

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        if self._in_h2:
            self.h2.append(data)


def test_html_page(files: Path) -> None:
    """The page has a section per selected command, escaped text and no script or external asset."""
    executor = commands(files)
    run(executor, "gen_html_doc_for_commands", file="api.html", regexp="roster", examples="xmlrpc")
    page = (files / "api.html").read_text("utf-8")
    assert page.startswith("<!DOCTYPE html>")
    outline = Outline()
    outline.feed(page)
    expected = [n for n in CATALOGUE.names() if "roster" in n]
    assert outline.h2 == expected
    assert [i for i in outline.ids if i.startswith("cmd-")] == [f"cmd-{n}" for n in expected]
    assert "script" not in outline.tags and "link" not in outline.tags
    assert not re.search(r"(src|href)=\"(https?:)?//", page)
    # the XML-RPC example is shown as text, escaped once
    assert "&lt;methodName&gt;get_roster&lt;/methodName&gt;" in page
    assert "<methodName>get_roster</methodName>" in "".join(outline.text)


def test_html_escapes_catalogue_text(files: Path) -> None:
    """Text from the catalogue that looks like markup is escaped in the page."""
    from gateway.engine.catalogue import definition_from_row

    row = {
        "name": "odd",
        "version": 0,
        "args": [["who", "binary"]],
        "result": ["res", "rescode"],
        "tags": ["x"],
        "policy": "restricted",
        "args_rename": [],
        "internal": False,
    }
    catalogue = Catalogue("24.12", [definition_from_row(row, "<b>bold</b> & <script>")])
    executor = DocumentationCommands(catalogue, FilesDir(str(files)), lambda: DAY)
    run(executor, "gen_html_doc_for_commands", file="odd.html", regexp="", examples="")
    page = (files / "odd.html").read_text()
    assert "&lt;b&gt;bold&lt;/b&gt; &amp; &lt;script&gt;" in page
    assert "<script>" not in page and "<b>" not in page


# -- gen_markdown_doc_for_tags -------------------------------------------------------------------


def test_tags_document_groups_commands(files: Path) -> None:
    """Each tag gets a ``##`` section listing the public commands carrying it, sorted."""
    run(commands(files), "gen_markdown_doc_for_tags", file="tags.md")
    found = sections((files / "tags.md").read_text("utf-8"))
    tags = sorted({t for n in CATALOGUE.names() for t in CATALOGUE.newest(n).tags})
    assert list(found) == tags
    listed = re.findall(r"^- `(\w+)`", found["documentation"], flags=re.M)
    assert listed == [
        "gen_html_doc_for_commands",
        "gen_markdown_doc_for_commands",
        "gen_markdown_doc_for_tags",
        "man",
    ]
    assert f"- `register`: {CATALOGUE.newest('register').description}" in found["accounts"]


# -- man -----------------------------------------------------------------------------------------


def test_man_writes_a_roff_page(files: Path) -> None:
    """``man`` writes gatewayctl.8 (0600) in roff with every command; a second call refuses."""
    answer = run(commands(files), "man")
    path = files / "gatewayctl.8"
    assert answer == ResTuple(f"Manual page written to {path}; read it with: man -l {path}")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    page = path.read_text("utf-8")
    assert page.startswith('.TH GATEWAYCTL 8 "2024-12-19" "xmpp-api-gateway ')
    for section in ("NAME", "SYNOPSIS", "DESCRIPTION", "OPTIONS", "COMMANDS", "TAGS"):
        assert f"\n.SH {section}\n" in page
    for name in CATALOGUE.names():
        assert re.search(rf"^\\fB{name}\\fR", page, flags=re.M), name
    error = error_of(commands(files), "man")
    assert isinstance(error, CommandFailed) and "already exists" in error.message


def test_roff_escaping() -> None:
    """Catalogue text cannot start a roff request or an escape sequence."""
    from gateway.engine.docgen.manpage import escape_roff

    assert escape_roff(".SH evil\n'also\nback\\slash") == "\\&.SH evil\n\\&'also\nback\\eslash"


@pytest.mark.skipif(shutil.which("man") is None, reason="man (man-db) is not installed")
def test_man_page_renders(files: Path) -> None:
    """``man -l`` renders the page without a warning, showing commands with their arguments."""
    run(commands(files), "man")
    rendered = subprocess.run(
        ["man", "--warnings", "-l", str(files / "gatewayctl.8")],
        capture_output=True,
        text=True,
        timeout=60,
        env={"MANPAGER": "cat", "MANWIDTH": "80", "PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"},
    )
    assert rendered.returncode == 0, rendered.stderr
    assert rendered.stderr == ""
    text = rendered.stdout
    assert text.startswith("GATEWAYCTL(8)")
    assert re.search(
        r"^\s+get_roster user host\n\s+" + CATALOGUE.newest("get_roster").description, text, re.M
    )
    assert re.search(r"^\s+Result: contacts::\[contact::\{jid::string,", text, re.M)


# -- through the engine --------------------------------------------------------------------------


def test_through_the_engine(files: Path) -> None:
    """The engine routes the documentation commands to the executor with coerced arguments."""
    engine = Engine(
        CATALOGUE, CATALOGUE, FakeBackend(), commands(files), AllowAll(), standard_adapters()
    )
    results: list[Any] = []
    call = CommandCall("gen_markdown_doc_for_tags", (("file", "t.md"),), frontend=CALLER.frontend)
    engine.call(call).addBoth(results.append)
    assert results[0].value is True
    assert (files / "t.md").read_text().startswith("# xmpp-api-gateway commands")


def test_documents_are_built_through_the_offload(files: Path) -> None:
    """Building and writing go through the offload, sized so that a thread is used."""
    from twisted.internet.defer import maybeDeferred

    from gateway.offload import DEFAULT_THRESHOLD

    sizes: list[int] = []

    def offload(size: int, fn: Any, *args: Any) -> Deferred[Any]:
        sizes.append(size)
        return maybeDeferred(fn, *args)

    executor = commands(files, offload=offload)
    assert run(executor, "gen_markdown_doc_for_tags", file="t.md") is True
    assert isinstance(run(executor, "man"), ResTuple)
    assert len(sizes) == 2 and min(sizes) >= DEFAULT_THRESHOLD
