"""File arguments confined to ``gateway.files_dir`` (gateway.engine.files)."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from twisted.logger import capturedLogs, formatEvent

from gateway.engine.errors import CommandFailed, PathRefused
from gateway.engine.files import FilesDir, prepare_files_dir, resolve_inside


@dataclass(frozen=True)
class Tree:
    """A files directory with links leading in and out, beside a directory it must not reach."""

    root: str
    outside: str


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Tree]:
    base = tmp_path_factory.mktemp("files")
    root, outside = base / "files", base / "outside"
    (root / "sub" / "deeper").mkdir(parents=True)
    outside.mkdir()
    (outside / "secret").write_text("secret\n")
    (root / "out").symlink_to(outside)  # a directory link leading out
    (root / "up").symlink_to("..")  # a relative link to the files directory's parent
    (root / "in").symlink_to(root / "sub")  # a link that stays inside
    (root / "sub" / "back").symlink_to("../..")
    yield Tree(os.path.realpath(root), os.path.realpath(outside))


segments = st.sampled_from(
    ["a", "b.txt", "sub", "deeper", "..", ".", "", "out", "up", "in", "back"]
)
paths = st.builds(
    lambda absolute, parts: ("/" if absolute else "") + "/".join(parts),
    st.booleans(),
    st.lists(segments, max_size=6),
)


@given(paths)
def test_no_path_leads_out(tree: Tree, given_path: str) -> None:
    """Whatever the path, it is refused or names a file whose real directory is inside the root."""
    for candidate in (given_path, tree.root + "/" + given_path):
        try:
            resolved = resolve_inside(tree.root, candidate, "file")
        except PathRefused as e:
            assert "files directory" in e.message
            continue
        parent, name = os.path.split(resolved)
        assert name not in ("", ".", ".."), resolved
        real = os.path.realpath(parent)
        assert real == tree.root or real.startswith(tree.root + os.sep), (candidate, resolved)
        assert not real.startswith(tree.outside)


@given(st.lists(st.sampled_from(["a", "b.txt", "x-1", "sub"]), min_size=1, max_size=4))
def test_plain_relative_paths_land_under_the_root(tree: Tree, parts: list[str]) -> None:
    """A relative path without links or dots means the same path under the root, absolute too."""
    relative = "/".join(parts)
    expected = os.path.join(tree.root, relative)
    assert resolve_inside(tree.root, relative, "file") == expected
    assert resolve_inside(tree.root, expected, "file") == expected


@pytest.mark.parametrize(
    "given_path",
    ["", ".", "..", "sub/..", "/", "sub/", "../x", "../../etc/passwd", "/etc/passwd", "out/secret",
     "up/outside/secret", "sub/back/outside/secret", "a\0b"],
)  # fmt: skip
def test_refused(tree: Tree, given_path: str) -> None:
    """Escapes through '..', absolute paths, links out, directories and NUL bytes are refused."""
    with pytest.raises(PathRefused):
        resolve_inside(tree.root, given_path, "file")


def test_links_inside_are_followed_for_directories(tree: Tree) -> None:
    """A directory link that stays inside is resolved; the final name is kept literally."""
    assert resolve_inside(tree.root, "in/deeper/x", "out") == f"{tree.root}/sub/deeper/x"
    assert resolve_inside(tree.root, "up/files/x", "out") == f"{tree.root}/x"


def test_message_names_argument_and_path_only(tree: Tree) -> None:
    """The refusal names the argument, the path given (shortened) and the directory."""
    with pytest.raises(PathRefused) as e:
        resolve_inside(tree.root, "/etc/" + "x" * 500, "out")
    assert e.value.message.startswith("Argument 'out': '/etc/xxx")
    assert "…" in e.value.message and len(e.value.message) < 400
    assert tree.root in e.value.message


# -- reading and writing -----------------------------------------------------------------------


@pytest.fixture
def files(tmp_path: Path) -> FilesDir:
    (tmp_path / "files").mkdir()
    (tmp_path / "secret").write_text("secret line\n")
    return FilesDir(str(tmp_path / "files"))


def test_read_regular_file(files: FilesDir) -> None:
    """A regular file inside is read whole, up to the limit."""
    Path(files.root, "rooms.txt").write_bytes(b"abc")
    assert files.read("rooms.txt", "file", "rooms file", 3) == b"abc"
    with pytest.raises(CommandFailed) as e:
        files.read("rooms.txt", "file", "rooms file", 2)
    assert e.value.message == "The rooms file 'rooms.txt' is larger than 2 bytes"


def test_read_refuses_links_and_special_files(files: FilesDir, tmp_path: Path) -> None:
    """A final symbolic link (even one staying inside), a FIFO or a directory is not read."""
    Path(files.root, "inside.txt").write_text("x")
    Path(files.root, "to-inside").symlink_to(Path(files.root, "inside.txt"))
    Path(files.root, "to-secret").symlink_to(tmp_path / "secret")
    os.mkfifo(Path(files.root, "fifo"))
    Path(files.root, "dir").mkdir()
    for name, text in (
        ("to-inside", "is a symbolic link"),
        ("to-secret", "is a symbolic link"),
        ("fifo", "is not a regular file"),
        ("dir", "is not a regular file"),
    ):
        with pytest.raises(PathRefused) as e:
            files.read(name, "file", "rooms file", 100)
        assert text in e.value.message, name
        assert "secret line" not in e.value.message


def test_read_missing(files: FilesDir) -> None:
    """A missing file is a plain command failure giving the system's reason."""
    with pytest.raises(CommandFailed) as e:
        files.read("nope.txt", "file", "roster file", 10)
    assert e.value.message == "Cannot read roster file 'nope.txt': No such file or directory"


def test_create_new_owner_only_file(files: FilesDir) -> None:
    """create writes a new 0600 file even under a permissive umask, and never replaces one."""
    old = os.umask(0o022)
    try:
        path = files.create("dump.yml", "out", b"data")
    finally:
        os.umask(old)
    assert path == os.path.join(files.root, "dump.yml")
    assert Path(path).read_bytes() == b"data"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    with pytest.raises(CommandFailed, match="already exists"):
        files.create("dump.yml", "out", b"other")
    assert Path(path).read_bytes() == b"data"


def test_create_does_not_follow_a_planted_link(files: FilesDir, tmp_path: Path) -> None:
    """A dangling link at the target name is not followed: nothing is created where it points."""
    Path(files.root, "trap.yml").symlink_to(tmp_path / "planted.yml")
    with pytest.raises(CommandFailed, match="already exists"):
        files.create("trap.yml", "out", b"data")
    assert not (tmp_path / "planted.yml").exists()


def test_prepare_creates_and_tightens(tmp_path: Path) -> None:
    """prepare_files_dir creates the directory 0700, and makes a loose one 0700 with a warning."""
    made = prepare_files_dir(str(tmp_path / "var" / "files"))
    assert made.root == str(tmp_path / "var" / "files")
    assert stat.S_IMODE((tmp_path / "var" / "files").stat().st_mode) == 0o700
    assert stat.S_IMODE((tmp_path / "var").stat().st_mode) == 0o700
    (tmp_path / "var" / "files").chmod(0o755)
    with capturedLogs() as events:
        prepare_files_dir(str(tmp_path / "var" / "files"))
    assert stat.S_IMODE((tmp_path / "var" / "files").stat().st_mode) == 0o700
    texts = [formatEvent(e) for e in events]
    assert any("mode 0755" in t and "owner-only (0700)" in t for t in texts), texts
