"""One self-contained HTML page documenting the selected commands.

No script, no external stylesheet or font: the page is read from a file.
Every text from the catalogue is escaped.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from gateway.engine.docgen.examples import example
from gateway.engine.docgen.selection import Documented, type_text
from gateway.engine.model import CommandDefinition

__all__ = ["commands_html"]

_STYLE = """
body { font-family: sans-serif; max-width: 60em; margin: 2em auto; padding: 0 1em; }
code, pre { font-family: monospace; }
pre { background: #f4f4f4; padding: .5em; overflow-x: auto; }
section { border-top: 1px solid #ccc; margin-top: 1.5em; }
dt { font-weight: bold; }
.note { font-style: italic; }
"""


def commands_html(commands: Sequence[Documented], languages: Sequence[str], *, title: str) -> str:
    """The page: a title, a linked list of the commands, then one section per command."""
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        f"<title>{escape(title)}</title>",
        f"<style>{_STYLE}</style>",
        "</head>",
        "<body>",
        f"<h1>{escape(title)}</h1>",
        "<nav><ul>",
        *(f'<li><a href="#{_anchor(c.name)}">{escape(c.name)}</a></li>' for c in commands),
        "</ul></nav>",
    ]
    for command in commands:
        parts += _command(command, languages)
    parts += ["</body>", "</html>", ""]
    return "\n".join(parts)


def _anchor(name: str) -> str:
    return escape("cmd-" + name, quote=True)


def _command(command: Documented, languages: Sequence[str]) -> list[str]:
    newest = command.newest
    parts = [f'<section id="{_anchor(command.name)}">', f"<h2>{escape(command.name)}</h2>"]
    if newest.description:
        parts.append(f"<p>{escape(newest.description)}</p>")
    if newest.note:
        parts.append(f'<p class="note">{escape(newest.note)}</p>')
    versions = ", ".join(str(d.version) for d in command.versions)
    parts += [
        "<dl>",
        f"<dt>Tags</dt><dd>{escape(', '.join(newest.tags) or 'none')}</dd>",
        f"<dt>Module</dt><dd>{escape(command.module)}</dd>",
        f"<dt>Versions</dt><dd>{versions} (this section shows version {newest.version})</dd>",
        "</dl>",
    ]
    parts += _signature(newest, "h3")
    for older in reversed(command.older):
        parts.append(f"<h3>Version {older.version}</h3>")
        parts += _signature(older, "h4")
    if languages:
        parts.append("<h3>Examples</h3>")
        for language in languages:
            shown = example(language, newest)
            parts += [
                f"<p>{escape(shown.title)}:</p>",
                f"<pre><code>{escape(shown.code)}</code></pre>",
            ]
    parts.append("</section>")
    return parts


def _signature(definition: CommandDefinition, heading: str) -> list[str]:
    parts = [f"<{heading}>Arguments</{heading}>"]
    if definition.args:
        parts += [
            "<ul>",
            *(f"<li><code>{escape(type_text(p))}</code></li>" for p in definition.args),
            "</ul>",
        ]
    else:
        parts.append("<p>None.</p>")
    parts += [
        f"<{heading}>Result</{heading}>",
        f"<ul><li><code>{escape(type_text(definition.result))}</code></li></ul>",
    ]
    return parts
