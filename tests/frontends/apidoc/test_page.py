"""The docs page: each command with its arguments, result, examples and versions; no assets."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import shlex

import lxml.html

from gateway.engine.catalogue import Catalogue
from gateway.engine.model import CommandDefinition
from gateway.engine.types import parse_param
from gateway.frontends.apidoc.page import EXAMPLE_ORIGIN, docs_page

CURRENT = Catalogue.load("24.12")


def _tree(catalogue: Catalogue = CURRENT, version: int | None = None) -> lxml.html.HtmlElement:
    return lxml.html.fromstring(docs_page(catalogue, version, "/api").body)


def _section(tree: lxml.html.HtmlElement, name: str) -> lxml.html.HtmlElement:
    [section] = tree.xpath(f'//section[@id="{name}"]')
    return section


def test_every_public_command() -> None:
    """Each public command has one section, carrying its name and tags for the search box."""
    for catalogue in (CURRENT, Catalogue.load("23.01")):
        tree = _tree(catalogue)
        sections = tree.xpath("//section[@class='command']")
        assert [s.get("data-name") for s in sections] == list(catalogue.names())
        assert tree.get_element_by_id("count").text_content() == (
            f"{len(sections)} of {len(sections)} commands"
        )
    section = _section(_tree(), "get_roster")
    assert section.get("data-tags") == "roster"


def test_arguments_result_and_examples() -> None:
    """A section lists the arguments with types, the result, and a working curl example."""
    section = _section(_tree(), "register")
    rows = [[td.text_content() for td in tr.xpath("td")] for tr in section.xpath(".//tbody/tr")]
    assert rows == [
        ["user", "binary", "yes"],
        ["host", "binary", "yes"],
        ["password", "binary", "yes"],
    ]
    assert "res::restuple" in section.text_content()
    [request, response] = section.xpath(".//pre")
    # a shell joins the lines at "\<newline>"
    words = shlex.split(request.text_content().replace("\\\n", " "))
    assert words[:6] == ["curl", "-s", "-u", "admin@localhost:secret", "-X", "POST"]
    assert words[6] == f"{EXAMPLE_ORIGIN}/api/register"
    assert words[7] == "-d"
    assert json.loads(words[8]) == {"user": "alice", "host": "localhost", "password": "s3cret"}
    assert json.loads(response.text_content()) == "Done"


def test_versions() -> None:
    """A command with several versions links each and has a section per version, the one an
    unversioned call gets first, the others called on ``/<name>/v<N>``."""
    section = _section(_tree(), "status_list")
    links = section.xpath(".//p[@class='versions']/a")
    assert [(a.text, a.get("href")) for a in links] == [
        ("0", "#status_list-v0"),
        ("3", "#status_list-v3"),
    ]
    current = section.get_element_by_id("status_list-v3")
    assert "POST /api/status_list (API version 3)" in current.text_content()
    older = section.get_element_by_id("status_list-v0")
    assert older.tag == "details"
    assert "/api/status_list/v0" in older.xpath(".//pre")[0].text_content()
    # with default_version 1 the unversioned call gets version 0, shown first
    pinned = _section(_tree(version=1), "status_list")
    assert pinned.xpath(".//div[@class='version']")[0].get("id") == "status_list-v0"


def test_version_documents_linked() -> None:
    """The header links the OpenAPI document and each version document."""
    hrefs = [a.get("href") for a in _tree().xpath("//header//a")]
    assert hrefs == ["/api/openapi.json"] + [f"/api/v{v}/openapi.json" for v in (0, 1, 2, 3)]


def test_self_contained() -> None:
    """No external assets: one inline style and script, no src or stylesheet link."""
    tree = _tree()
    assert tree.xpath("//*[@src]") == []
    assert tree.xpath("//link") == []
    assert len(tree.xpath("//style")) == 1
    assert len(tree.xpath("//script")) == 1
    assert all(href.startswith(("#", "/api/")) for href in tree.xpath("//a/@href"))


def test_csp_allows_exactly_the_inline_code() -> None:
    """The Content-Security-Policy hashes are those of the page's own style and script."""
    page = docs_page(CURRENT, None, "/api")
    tree = lxml.html.fromstring(page.body)

    def digest(text: str) -> str:
        return base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()

    policy = page.content_security_policy
    assert f"script-src 'sha256-{digest(tree.xpath('//script')[0].text)}'" in policy
    assert f"style-src 'sha256-{digest(tree.xpath('//style')[0].text)}'" in policy
    assert policy.startswith("default-src 'none';")


def test_everything_escaped() -> None:
    """Markup in names, descriptions, notes, tags and types is shown as text, never run."""
    evil = '<script>alert("x")</script>'
    definition = CommandDefinition(
        name="evil_cmd",
        version=0,
        args=(parse_param(["<b>arg</b>", "binary"]),),
        result=parse_param(["res", "rescode"]),
        tags=('"><img src=x>',),
        description=evil,
        note=evil,
    )
    page = docs_page(Catalogue("24.12", [definition]), None, "/api").body.decode()
    assert "<script>alert" not in page
    assert "<img" not in page
    assert "<b>arg" not in page
    tree = lxml.html.fromstring(page)
    section = _section(tree, "evil_cmd")
    assert section.get("data-tags") == '"><img src=x>'
    assert section.xpath(".//p")[0].text_content() == evil
    assert len(tree.xpath("//script")) == 1
    assert re.search(r"&lt;b&gt;arg&lt;/b&gt;", page)
