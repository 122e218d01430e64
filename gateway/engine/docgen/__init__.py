"""The documentation commands: Markdown, HTML and a manual page from the catalogue.

:mod:`.selection` picks the commands and the facts shown, :mod:`.examples`
writes example calls, :mod:`.markdown`, :mod:`.html` and :mod:`.manpage`
render documents, and :mod:`.commands` is the executor that writes them.
"""

from gateway.engine.docgen.commands import DOCUMENTATION_COMMANDS, DocumentationCommands

__all__ = ["DOCUMENTATION_COMMANDS", "DocumentationCommands"]
