"""The HTML docs page of one mod_http_api listener: every command, searchable, self-contained.

One static page made from the same operations as the OpenAPI document: for each command its
description, tags, arguments, result, an example ``curl`` request and answer, and a section
per API version.  CSS and script are inline (no external assets) and allowed by hash in the
``Content-Security-Policy`` the page is served with, so nothing else can run in it.  All
catalogue text is HTML-escaped.
"""

from __future__ import annotations

import base64
import hashlib
import json
import shlex
from dataclasses import dataclass
from functools import lru_cache
from html import escape

from gateway.engine.catalogue import Catalogue
from gateway.engine.dispatch import with_policy_args
from gateway.engine.names import LEGACY_PROFILE
from gateway.frontends.apidoc.examples import example_arguments, example_result
from gateway.frontends.apidoc.openapi import Operation, api_versions, operations

__all__ = ["DocsPage", "EXAMPLE_CREDENTIALS", "EXAMPLE_ORIGIN", "docs_page"]

#: what the examples show until the page's script puts in the address it was loaded from
EXAMPLE_ORIGIN = "http://127.0.0.1:5280"
EXAMPLE_CREDENTIALS = "admin@localhost:secret"

_STYLE = """
body{font:15px/1.45 system-ui,sans-serif;margin:0;color:#1d232a;background:#fafbfc}
header{position:sticky;top:0;background:#fff;border-bottom:1px solid #d8dde3;padding:.8em 2em}
h1{font-size:1.4em;margin:0 0 .3em}
main{padding:0 2em 3em;max-width:70em}
#search{font-size:1.1em;padding:.35em .6em;width:28em;max-width:90%}
#count{color:#57606a;margin:.4em 0 0}
section.command{border-bottom:1px solid #e4e8ec;padding:.6em 0 1em}
section.command h2{font:600 1.15em ui-monospace,monospace;margin:.6em 0 .2em}
h3{font-size:1em;margin:.8em 0 .3em}
h4{font-size:.95em;margin:.7em 0 .2em;color:#57606a}
a{color:#0b5cad}
.tag{display:inline-block;font-size:.8em;border:1px solid #b6c2cf;border-radius:1em;
 padding:0 .6em;margin-right:.3em;background:#eef3f8;cursor:pointer}
.note{color:#57606a;font-style:italic}
table.args{border-collapse:collapse;margin:.3em 0}
table.args td,table.args th{border:1px solid #d8dde3;padding:.15em .6em;text-align:left}
code,pre{font-family:ui-monospace,monospace;font-size:.9em}
pre{background:#f1f3f5;padding:.6em .8em;overflow-x:auto;white-space:pre-wrap;word-break:break-all}
details{margin:.5em 0}
summary{cursor:pointer;font-weight:600}
"""

_SCRIPT = """
(function () {
  var search = document.getElementById("search");
  var count = document.getElementById("count");
  var commands = Array.prototype.slice.call(document.querySelectorAll("section.command"));
  function filter() {
    var words = search.value.toLowerCase().split(/\\s+/).filter(Boolean);
    var shown = 0;
    commands.forEach(function (section) {
      var text = section.dataset.name + " " + section.dataset.tags;
      var match = words.every(function (w) { return text.indexOf(w) >= 0; });
      section.hidden = !match;
      if (match) { shown++; }
    });
    count.textContent = shown + " of " + commands.length + " commands";
  }
  search.addEventListener("input", filter);
  document.querySelectorAll("button.tag").forEach(function (button) {
    button.addEventListener("click", function () {
      search.value = button.dataset.tag;
      filter();
      window.scrollTo(0, 0);
    });
  });
  // a link to an older version opens its (closed) section
  function reveal() {
    var target = location.hash && document.getElementById(location.hash.slice(1));
    if (target && target.tagName === "DETAILS") { target.open = true; }
  }
  window.addEventListener("hashchange", reveal);
  reveal();
  if (location.protocol === "http:" || location.protocol === "https:") {
    document.querySelectorAll(".origin").forEach(function (span) {
      span.textContent = location.origin;
    });
  }
  filter();
})();
"""


def _csp_hash(source: str) -> str:
    digest = hashlib.sha256(source.encode("utf-8")).digest()
    return "'sha256-" + base64.b64encode(digest).decode("ascii") + "'"


#: allows the page's own style and script and nothing else
CONTENT_SECURITY_POLICY = (
    f"default-src 'none'; style-src {_csp_hash(_STYLE)}; script-src {_csp_hash(_SCRIPT)}; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)


@dataclass(frozen=True, slots=True)
class DocsPage:
    """The page's bytes and the headers it must be served with."""

    body: bytes
    content_security_policy: str = CONTENT_SECURITY_POLICY


@lru_cache(maxsize=16)
def docs_page(catalogue: Catalogue, default_version: int | None, mount: str) -> DocsPage:
    """The page for a handler at ``mount`` whose unversioned calls get ``default_version``."""
    main = list(operations(catalogue, default_version, in_path=False))
    title = f"ejabberd API {catalogue.profile}: commands"
    links = [f'<a href="{escape(mount)}/openapi.json">OpenAPI 3.1 document</a>']
    links += [
        f'<a href="{escape(mount)}/v{v}/openapi.json">version {v}</a>'
        for v in api_versions(catalogue)
    ]
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head><body>",
        f"<header><h1>{escape(title)}</h1>",
        f"<p>{' · '.join(links)}</p>",
        '<input id="search" type="search" autofocus autocomplete="off"'
        ' placeholder="Filter by name or tag" aria-label="Filter commands by name or tag">',
        f'<p id="count">{len(main)} of {len(main)} commands</p></header><main>',
    ]
    for operation in main:
        parts.append(_command(catalogue, operation, mount, default_version))
    parts.append(f"</main><script>{_SCRIPT}</script></body></html>")
    return DocsPage("\n".join(parts).encode("utf-8"))


def _command(
    catalogue: Catalogue, operation: Operation, mount: str, default_version: int | None
) -> str:
    definition = operation.definition
    name = definition.name
    tags = " ".join(definition.tags)
    parts = [
        f'<section class="command" id="{escape(name)}" data-name="{escape(name)}"'
        f' data-tags="{escape(tags)}">',
        f'<h2><a href="#{escape(name)}">{escape(name)}</a></h2>',
        f"<p>{escape(definition.description)}</p>",
    ]
    if definition.note:
        parts.append(f'<p class="note">{escape(definition.note)}</p>')
    if definition.tags:
        buttons = "".join(
            f'<button type="button" class="tag" data-tag="{escape(t)}">{escape(t)}</button>'
            for t in definition.tags
        )
        parts.append(f'<p class="tags">Tags: {buttons}</p>')
    version_links = ", ".join(f'<a href="#{escape(name)}-v{v}">{v}</a>' for v in operation.versions)
    parts.append(f'<p class="versions">API versions: {version_links}</p>')
    parts.append(f'<div class="version" id="{escape(name)}-v{definition.version}">')
    parts.append(_definition(operation, mount))
    parts.append("</div>")
    for version in operation.versions:
        if version == definition.version:
            continue
        other = _versioned(catalogue, name, version)
        parts.append(
            f'<details class="version" id="{escape(name)}-v{version}">'
            f"<summary>API version {version}</summary>"
            f"{_definition(other, mount)}</details>"
        )
    parts.append("</section>")
    return "\n".join(parts)


def _versioned(catalogue: Catalogue, name: str, version: int) -> Operation:
    """The operation for exactly ``version`` of ``name``, called on ``/<name>/v<N>``."""
    definition = with_policy_args(catalogue.lookup(name, version))
    legacy = catalogue.profile == LEGACY_PROFILE
    return Operation(
        definition,
        f"/{name}/v{version}",
        catalogue.versions(name),
        example_arguments(definition),
        example_result(definition, catalogue.profile, legacy=legacy, requested_version=version),
    )


def _definition(operation: Operation, mount: str) -> str:
    definition = operation.definition
    path = f"{mount}{operation.path}"
    parts = [f"<h3>POST <code>{escape(path)}</code> (API version {definition.version})</h3>"]
    if definition.args:
        rows = "".join(
            f"<tr><td><code>{escape(p.name)}</code></td><td><code>{escape(p.type.render())}"
            f"</code></td><td>{'no (default [])' if p.type.kind == 'list' else 'yes'}</td></tr>"
            for p in definition.args
        )
        parts.append(
            '<h4>Arguments</h4><table class="args"><thead><tr><th>Name</th><th>Type</th>'
            f"<th>Required</th></tr></thead><tbody>{rows}</tbody></table>"
        )
    else:
        parts.append("<h4>Arguments</h4><p>None.</p>")
    parts.append(f"<h4>Result</h4><p><code>{escape(definition.result.render())}</code></p>")
    parts.append("<h4>Example request</h4>")
    parts.append(f"<pre>{_curl(path, operation.request)}</pre>")
    parts.append("<h4>Example response</h4>")
    parts.append(
        f"<pre>{escape(json.dumps(operation.response, ensure_ascii=False, indent=2))}</pre>"
    )
    return "\n".join(parts)


def _curl(path: str, body: dict[str, object]) -> str:
    """The curl command line for ``body``, HTML-escaped, its origin in a ``.origin`` span."""
    data = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
    head = f"curl -s -u {shlex.quote(EXAMPLE_CREDENTIALS)} -X POST "
    url = f'<span class="origin">{escape(EXAMPLE_ORIGIN)}</span>{escape(shlex.quote(path))}'
    return f"{escape(head)}{url} \\\n  -d {escape(shlex.quote(data))}"
