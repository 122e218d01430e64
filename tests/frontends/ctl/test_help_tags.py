"""``help tags``: every tag with the commands carrying it, like ejabberdctl's ``help tags``."""

from __future__ import annotations

import re

from gateway.engine.catalogue import Catalogue
from gateway.frontends.ctl.text import format_tags, usage_text
from tests.frontends.ctl.helpers import make, run


def _blocks(text: str) -> dict[str, list[str]]:
    """Tag -> the command names listed under it."""
    blocks: dict[str, list[str]] = {}
    for block in text.split("\n\n")[1:]:
        head, *rest = block.split("\n")
        assert re.fullmatch(r"  \S+", head), head
        assert all(line.startswith("     ") and len(line) <= 78 for line in rest), rest
        blocks[head.strip()] = " ".join(rest).replace(",", " ").split()
    return blocks


def test_every_tag_lists_its_commands() -> None:
    """Each tag of a public command is listed once, sorted, with exactly its public commands."""
    catalogue = Catalogue.load("24.12")
    text = format_tags(catalogue)
    assert text.startswith("Available tags and commands:\n\n")
    blocks = _blocks(text)
    assert list(blocks) == sorted(blocks)
    for tag, names in blocks.items():
        expected = [n for n in catalogue.names() if tag in catalogue.newest(n).tags]
        assert names == expected, tag
    assert "internal" not in blocks
    assert blocks["documentation"] == [
        "gen_html_doc_for_commands",
        "gen_markdown_doc_for_commands",
        "gen_markdown_doc_for_tags",
        "man",
    ]


def test_help_tags_through_the_processor() -> None:
    """``gatewayctl help tags`` answers the list with exit 0, in each profile's catalogue."""
    for profile in ("24.12", "23.01"):
        processor, _ = make(profile)
        text, status = run(processor, "help", "tags")
        assert status == 0
        assert text == format_tags(Catalogue.load(profile))
    assert "help tags" in usage_text()
