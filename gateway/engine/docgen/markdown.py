"""Markdown documents: every selected command, and the commands under each tag.

Command names and tags are the catalogue's identifiers (letters, digits,
``_``) and are written as they are; descriptions and notes are escaped.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from gateway.engine.docgen.examples import example
from gateway.engine.docgen.selection import Documented, by_tag, type_text
from gateway.engine.model import CommandDefinition

__all__ = ["commands_markdown", "escape_markdown", "tags_markdown"]

#: characters that are markup wherever they stand
_INLINE = re.compile(r"([\\`*_\[\]<>])")
#: what starts a heading, list, quote or table when it opens a line
_BLOCK_START = re.compile(r"^(\s*)([#>+|-]|\d+(?=[.)]))")


def escape_markdown(text: str) -> str:
    """``text`` as literal Markdown text: inline markup and block openers backslash-escaped.

    A numbered item's marker is escaped at its dot (``1\\.``), the others before
    the character (``\\#``).
    """
    escaped = _INLINE.sub(r"\\\1", text)
    return "\n".join(_BLOCK_START.sub(_escape_opener, line) for line in escaped.split("\n"))


def _escape_opener(match: re.Match[str]) -> str:
    indent, opener = match.group(1), match.group(2)
    return indent + (opener + "\\" if opener[0].isdigit() else "\\" + opener)


def commands_markdown(
    commands: Sequence[Documented], languages: Sequence[str], *, title: str
) -> str:
    """A Markdown document with one ``##`` section per command."""
    lines = [f"# {escape_markdown(title)}", ""]
    for command in commands:
        lines += _command(command, languages)
    return "\n".join(lines).rstrip("\n") + "\n"


def _command(command: Documented, languages: Sequence[str]) -> list[str]:
    newest = command.newest
    lines = [f"## {command.name}", ""]
    if newest.description:
        lines += [escape_markdown(newest.description), ""]
    if newest.note:
        lines += [f"*{escape_markdown(newest.note)}*", ""]
    versions = ", ".join(str(d.version) for d in command.versions)
    lines += [
        f"- **Tags:** {', '.join(newest.tags) or 'none'}",
        f"- **Module:** `{command.module}`",
        f"- **Versions:** {versions} (this section shows version {newest.version})",
        "",
    ]
    lines += _signature(newest, level="###")
    for older in reversed(command.older):
        lines += [f"### Version {older.version}", ""]
        lines += _signature(older, level="####")
    if languages:
        lines += ["### Examples", ""]
        for language in languages:
            shown = example(language, newest)
            lines += [f"{shown.title}:", "", f"```{shown.syntax}", shown.code, "```", ""]
    return lines


def _signature(definition: CommandDefinition, level: str) -> list[str]:
    lines = [f"{level} Arguments", ""]
    if definition.args:
        lines += [f"- `{type_text(p)}`" for p in definition.args]
    else:
        lines += ["None."]
    lines += ["", f"{level} Result", "", f"- `{type_text(definition.result)}`", ""]
    return lines


def tags_markdown(commands: Sequence[Documented], *, title: str) -> str:
    """A Markdown document with one ``##`` section per tag, listing its commands."""
    lines = [f"# {escape_markdown(title)}", ""]
    for tag, tagged in by_tag(commands).items():
        lines += [f"## {tag}", ""]
        for command in tagged:
            description = command.newest.description
            suffix = f": {escape_markdown(description)}" if description else ""
            lines.append(f"- `{command.name}`{suffix}")
        lines.append("")
    return "\n".join(lines).rstrip("\n") + "\n"
