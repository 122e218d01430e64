"""``gen_markdown_doc_for_commands``, ``gen_html_doc_for_commands``,
``gen_markdown_doc_for_tags`` and ``man``: documentation written from the catalogue.

Each writes one new file inside the files directory (``gateway.files_dir``,
see :mod:`gateway.engine.files`): created 0600, never overwriting a file, no
path outside the directory.  ``man`` takes no argument and writes
``gatewayctl.8`` there; a second call fails until that file is moved away.

Arguments as in ejabberd: ``file`` is the path, ``regexp`` picks the
commands whose name or module it matches (empty: all; ``runtime``: those the
gateway can run with its backend), ``examples`` lists the languages of the
example calls (see :mod:`.examples`).  The documents cover the public
commands of the API profile the gateway serves, each at its newest version,
with the earlier versions whose arguments or result differ.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from twisted.internet.defer import Deferred, fail
from twisted.logger import Logger

from gateway.engine.catalogue import Catalogue
from gateway.engine.docgen.examples import parse_languages
from gateway.engine.docgen.html import commands_html
from gateway.engine.docgen.manpage import MANPAGE_NAME, manpage
from gateway.engine.docgen.markdown import commands_markdown, tags_markdown
from gateway.engine.docgen.selection import documented, select
from gateway.engine.errors import NotSupported
from gateway.engine.files import FilesDir
from gateway.engine.model import Caller, ResTuple
from gateway.offload import Offload, run_inline

__all__ = ["DOCUMENTATION_COMMANDS", "DocumentationCommands"]

log = Logger()

DOCUMENTATION_COMMANDS = frozenset(
    {
        "gen_markdown_doc_for_commands",
        "gen_html_doc_for_commands",
        "gen_markdown_doc_for_tags",
        "man",
    }
)

#: roughly how many bytes a document takes per command: decides whether
#: writing it is worth a thread (see :mod:`gateway.offload`)
_BYTES_PER_COMMAND = 1024


class DocumentationCommands:
    """Executor for the four documentation commands.

    Args:
        catalogue: the API profile documented.
        files: the directory the documents are written in.
        clock: seconds since the epoch; dates the manual page.
        runs: whether the gateway can run a command (``regexp`` ``runtime``);
            without it, ``runtime`` is an ordinary pattern.
        offload: builds and writes large documents off the event loop.
    """

    name = "gateway"

    def __init__(
        self,
        catalogue: Catalogue,
        files: FilesDir,
        clock: Callable[[], float],
        *,
        runs: Callable[[str], bool] | None = None,
        offload: Offload = run_inline,
    ) -> None:
        self._catalogue = catalogue
        self._files = files
        self._clock = clock
        self._runs = runs
        self._offload = offload

    def supports(self, command: str) -> bool:
        return command in DOCUMENTATION_COMMANDS

    def execute(self, command: str, args: Mapping[str, Any], caller: Caller) -> Deferred[Any]:
        if command not in DOCUMENTATION_COMMANDS:
            return fail(NotSupported(command, self.name))
        size = len(self._catalogue.names()) * _BYTES_PER_COMMAND
        if command == "man":
            # the date is read here, on the reactor thread
            written = self._offload(size, self._write_manpage, self._clock())
        else:
            written = self._offload(size, self._write_document, command, dict(args))
        return written.addCallback(self._written, command)

    @staticmethod
    def _written(path: str, command: str) -> bool | ResTuple:
        # logged here, back on the reactor thread, not in the thread that wrote
        log.info("{command}: documentation written to {path}", command=command, path=path)
        if command == "man":
            return ResTuple(f"Manual page written to {path}; read it with: man -l {path}")
        return True

    @property
    def _title(self) -> str:
        return f"xmpp-api-gateway commands (API profile {self._catalogue.profile})"

    def _write_document(self, command: str, args: dict[str, Any]) -> str:
        """Build the document and write it; its path (may run in a thread)."""
        if command == "gen_markdown_doc_for_tags":
            everything = documented(self._catalogue, self._catalogue.names())
            text = tags_markdown(everything, title=f"{self._title}: tags")
        else:
            languages = parse_languages(args["examples"])
            chosen = documented(
                self._catalogue, select(self._catalogue, args["regexp"], self._runs)
            )
            render = commands_html if command == "gen_html_doc_for_commands" else commands_markdown
            text = render(chosen, languages, title=self._title)
        return self._files.create(args["file"], "file", text.encode("utf-8"))

    def _write_manpage(self, seconds: float) -> str:
        """Build the manual page and write it; its path (may run in a thread)."""
        everything = documented(self._catalogue, self._catalogue.names())
        text = manpage(everything, profile=self._catalogue.profile, seconds=seconds)
        return self._files.create(MANPAGE_NAME, "file", text.encode("utf-8"))
