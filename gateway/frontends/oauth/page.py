"""The authorisation page of the implicit grant: one self-contained HTML document.

The page loads nothing from anywhere (its style is inline and allowed by its
hash in the ``Content-Security-Policy``), may not be framed, and escapes every
piece of text it shows, since all of it (client name, scopes, state, the JID
typed before) comes from outside.  The form posts back to the same path
with the request's own parameters, which are checked again on arrival.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping, Sequence
from html import escape

__all__ = [
    "HTML_HEADERS",
    "PASS_THROUGH",
    "TTL_CHOICES",
    "error_page",
    "form_page",
    "redirect_page",
]

#: the request parameters the form carries back unchanged, as hidden fields
PASS_THROUGH = ("response_type", "client_id", "redirect_uri", "state")
#: the lifetimes offered, as ejabberd's page offers them; "" is oauth_expire
TTL_CHOICES: tuple[tuple[str, str], ...] = (
    ("", "Server default"),
    ("3600", "1 hour"),
    ("86400", "1 day"),
    ("2592000", "1 month"),
    ("31536000", "1 year"),
    ("315360000", "10 years"),
)

_STYLE = (
    "body{font-family:sans-serif;max-width:32em;margin:2em auto;padding:0 1em;color:#222}"
    "label{display:block;margin-top:1em}"
    "input,select{width:100%;box-sizing:border-box;padding:.4em;font-size:1em}"
    ".buttons{margin-top:1.5em;display:flex;gap:1em}"
    ".buttons button{flex:1;padding:.6em;font-size:1em}"
    ".error{color:#a00;font-weight:bold}"
    "code{word-break:break-all}"
)
_STYLE_HASH = base64.b64encode(hashlib.sha256(_STYLE.encode("utf-8")).digest()).decode("ascii")

#: headers of every page: no caching, no framing, nothing loaded from elsewhere
HTML_HEADERS: tuple[tuple[str, str], ...] = (
    ("Content-Type", "text/html; charset=utf-8"),
    ("Cache-Control", "no-store"),
    ("Pragma", "no-cache"),
    (
        "Content-Security-Policy",
        f"default-src 'none'; style-src 'sha256-{_STYLE_HASH}'; "
        "frame-ancestors 'none'; base-uri 'none'",
    ),
    ("X-Frame-Options", "DENY"),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "no-referrer"),
)


def _document(title: str, body: str) -> bytes:
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head>"
        f"<body>{body}</body></html>\n"
    ).encode()


def form_page(
    params: Mapping[str, str],
    client_name: str,
    scopes: Sequence[str],
    *,
    username: str = "",
    error: str | None = None,
) -> bytes:
    """The login form for ``params`` (the request's), with ``error`` above it if given."""
    client = params.get("client_id", "")
    shown = escape(client_name or client)
    if client_name and client_name != client:
        shown += f" (<code>{escape(client)}</code>)"
    scope = " ".join(scopes)
    hidden = "".join(
        f'<input type="hidden" name="{name}" value="{escape(params[name])}">'
        for name in PASS_THROUGH
        if name in params
    )
    chosen = params.get("ttl", "")
    options = "".join(
        f'<option value="{value}"{" selected" if value == chosen else ""}>{label}</option>'
        for value, label in TTL_CHOICES
    )
    alert = f'<p class="error" id="error">{escape(error)}</p>' if error else ""
    body = (
        "<h1>Authorization request</h1>"
        f"<p>Application <strong>{shown}</strong> asks for a token with scope "
        f"<code>{escape(scope)}</code>, to act for your account.</p>"
        f"{alert}"
        '<form method="post" action="authorization_token" autocomplete="off">'
        f"{hidden}"
        '<label for="username">User (JID)</label>'
        f'<input type="text" id="username" name="username" value="{escape(username)}"'
        ' autocomplete="username" required autofocus>'
        '<label for="password">Password</label>'
        '<input type="password" id="password" name="password"'
        ' autocomplete="current-password" required>'
        '<label for="scope">Scopes (separated by spaces)</label>'
        f'<input type="text" id="scope" name="scope" value="{escape(scope)}">'
        '<label for="ttl">Token lifetime</label>'
        f'<select id="ttl" name="ttl">{options}</select>'
        '<div class="buttons">'
        '<button type="submit" id="accept" name="action" value="accept">Accept</button>'
        '<button type="submit" id="deny" name="action" value="deny" formnovalidate>'
        "Deny</button>"
        "</div></form>"
    )
    return _document("Authorization request", body)


def error_page(heading: str, description: str) -> bytes:
    """A page saying why the request cannot go on (and nowhere is redirected to)."""
    body = (
        f"<h1>{escape(heading)}</h1>"
        f'<p class="error" id="error">{escape(description)}</p>'
        "<p>Nothing was sent back to the application.</p>"
    )
    return _document(heading, body)


def redirect_page() -> bytes:
    """The body of a redirect, for the rare browser that shows it."""
    return _document("302 Found", "<h1>302 Found</h1><p>Back to the application.</p>")
